#pragma once

// The model-family seam: one interface for every network that segments (DermoSegDiff on photos,
// Diff-UNet on volumes), with a description of what a model can do, so that the session layer,
// the CLI and the studio drive any family the same way. LibTorch-free header.

#include "base/CancelToken.h"
#include "base/Error.h"
#include "base/Image2D.h"
#include "base/LabelMap.h"
#include "base/Volume.h"
#include "uncertainty/StepCache.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace diffseg::core {

struct SegmentResult;
struct Segment3DResult;
struct SegmentStep;
struct Segment3DStep;

/// What a model reads: a 2D RGB photo or a 3D volume (CT/MRI, one or more channels).
enum class InputKind
{
    Photo,
    Volume
};

/// "photo" or "volume".
const char* inputKindName(InputKind kind) noexcept;

/// Options of one run, for any family. Zero (or empty) means "the model's default" (its card's
/// validated settings where it has them); an option the model cannot use must keep its neutral
/// value, else validate() throws.
struct SegmentationRequest
{
    std::string sampler;     ///< "ddpm" or "ddim" (photos); empty: the default
    int steps = 0;           ///< denoiser steps (DDIM calls; per window for volumes)
    int ensemble = 0;        ///< chains sampled as one batch (photos)
    double eta = -1.0;       ///< DDIM stochasticity in [0, 1]; negative: the default
    std::uint64_t seed = 0;  ///< equal seeds and settings give equal results on one device
    std::string fusion;      ///< "mean" or "uncertainty" (volumes: PURE step fusion)
    bool mirrorTta = false;  ///< the 8 mirror passes (volumes)
    double overlap = -1.0;   ///< sliding-window overlap in [0, 1) (volumes); negative: default
    int windowBatch = 0;     ///< windows per network call (volumes)
    int roi = 0;             ///< window side in voxels (volumes); 0: the checkpoint's input size
    std::string uncertainty; ///< which map a volume result calls "the" uncertainty
    bool storeNoisy = false; ///< keep each step's noisy sample x_t too (photos)
    /// Photos: start from the threshold's outline noised to this fraction of the schedule (0:
    /// from noise); negative: as the model's card says.
    double startFromOtsu = -1.0;
    /// Photos with an ensemble: hand member 0's estimate of the first step to the step callback
    /// before the other members have it (a preview for people; the result is the same).
    bool firstLook = false;
    /// Keep every step of the run in its step cache when that takes at most this many bytes, else
    /// the family's default budget (0: the default budget). Photos.
    std::size_t keepEveryStepUpTo = 0;
};

/// What a model can do: what the option widgets offer, what the step browser shows, what the
/// command line accepts.
struct ModelCapabilities
{
    std::string family; ///< "DermoSegDiff" or "Diff-UNet"
    InputKind input = InputKind::Photo;
    int channels = 3;                ///< image channels the network reads
    std::vector<std::string> labels; ///< class names, index = class, background first
    /// Each class's value in label files, by class index (empty: the class index itself).
    std::vector<int> labelValues;
    /// The class names are the model's own (its training data's), not made up from their values.
    bool labelsNamed = false;
    std::string preprocessing;         ///< one line for people: resize, normalisation, windows
    std::vector<std::string> samplers; ///< "ddpm", "ddim" (photos); empty: fixed-step sampling
    int maxSteps = 0;                  ///< the most denoiser steps a run can take
    bool ensemble = false;             ///< several chains, their spread as the uncertainty
    bool stepFusion = false;           ///< PURE fusion of the per-step predictions
    bool mirrorTta = false;            ///< mirror test-time augmentation
    bool slidingWindow = false;        ///< windows over a larger input
    bool prompts = false;              ///< refinement from clicks, strokes and a box
    /// The uncertainty maps a result carries, by name, the one shown first at the front.
    std::vector<std::string> uncertaintyMaps;
    SegmentationRequest defaults; ///< what a run uses unless told otherwise

    /// Throws Error(Config) naming the option when `request` sets one this model cannot use or a
    /// value outside its range ("sampler", "steps", "ensemble", "eta", "fusion", "mirror",
    /// "overlap", "window batch", "roi", "uncertainty").
    void validate(const SegmentationRequest& request) const;
};

/// Which weights a loaded model holds and how it runs, for people (model panels, reports).
struct ModelIdentity
{
    std::string path;      ///< the checkpoint it was loaded from
    std::string id;        ///< its weights' id
    std::string device;    ///< where it runs ("cpu", "cuda:0")
    std::string precision; ///< "fp32" or "bf16"
    std::int64_t parameterCount = 0;
    int inputSize = 0; ///< the network's input side: pixels (photos) or a window's voxels (volumes)
    bool emaWeights = false;   ///< the EMA weights rather than the online ones
    int diffusionSteps = 0;    ///< the timesteps T its diffusion schedule has
    std::string normalization; ///< volumes: the intensity normalisation; photos: empty
};

/// A photo's or a volume's data, as `kind` says: the image of a run (SegmentationInput) or the
/// labels of a refinement (SegmentationLabels). Copies share the pixels, as Image2D and Volume do.
template <class Photo, class VolumeData>
struct PhotoOrVolume
{
    InputKind kind = InputKind::Photo;
    Photo photo;
    VolumeData volume;

    static PhotoOrVolume ofPhoto(Photo data) { return {InputKind::Photo, std::move(data), {}}; }
    static PhotoOrVolume ofVolume(VolumeData data)
    {
        return {InputKind::Volume, {}, std::move(data)};
    }
    bool empty() const noexcept
    {
        return kind == InputKind::Photo ? photo.empty() : volume.empty();
    }
};

/// The image of one run: a photo (Image2D, RGB) or a volume (every channel).
using SegmentationInput = PhotoOrVolume<Image2D, Volume>;
/// Labels on a document's grid: a photo's mask (uint8 {0, 1}, the photo's size) or a volume's
/// LabelMap (label values). Empty: none.
using SegmentationLabels = PhotoOrVolume<Image2D, LabelMap>;

/// One click of a refinement: where (continuous index coordinates, pixel or voxel centres at
/// +0.5; a photo's z is ignored) and the class the user says is there (0: background).
struct PromptPoint
{
    std::array<double, 3> index{0.0, 0.0, 0.0};
    int label = 1;
};

/// What a user tells any model when correcting a result, in one form for photos and volumes
/// (each family turns it into its own: RefinePrompts, VolumePrompts).
struct SegmentationPrompts
{
    std::vector<PromptPoint> clicks; ///< later clicks win where they overlap
    /// A click's radius: photo pixels (0: kInteractiveClickRadius of the longer side) or
    /// millimetres for volumes (0: 2.5 times the finest spacing).
    double radius = 0.0;
    /// Painted strokes on the document's grid: 0 unknown, v > 0 class v - 1 (the brush paints
    /// class 1, the eraser class 0). Empty: none.
    SegmentationLabels strokes;
    /// Photos: a box {x0, y0, x1, y1} (inclusive-exclusive pixels) outside which is background.
    std::optional<std::array<int, 4>> box;
    /// How far back the current labels are noised, as a fraction of the run (0: the family's
    /// interactive default).
    double strength = 0.0;
};

/// One step of a run as it happens (on the segmenting thread). `photo` or `volume` points at the
/// family's own step record, valid during the call only.
struct SegmentationStepEvent
{
    int done = 0;  ///< denoiser steps finished so far
    int total = 0; ///< denoiser steps of the whole run
    double elapsedSeconds = 0.0;
    /// The step whose whole prediction just became available (photos: every step; volumes: when
    /// the last window batch finishes it), else -1.
    int completedStep = -1;
    const SegmentStep* photo = nullptr;
    const Segment3DStep* volume = nullptr;
};
using SegmentationStepCallback = std::function<void(const SegmentationStepEvent&)>;

/// What a run produced: the family's own result (exactly one of `photo`, `volume` is set),
/// shared and immutable, so that views on other threads may keep it.
struct SegmentationOutcome
{
    InputKind kind = InputKind::Photo;
    std::shared_ptr<const SegmentResult> photo;
    std::shared_ptr<const Segment3DResult> volume;
    /// The options the run used, the model's defaults filled in (what a report says of it).
    SegmentationRequest settings;

    bool empty() const noexcept { return !photo && !volume; }
    /// The per-step cache of the run (null when the run kept none).
    std::shared_ptr<StepCache> steps() const;
    /// Steps a user can browse (0 when none were kept).
    int stepCount() const;
    double totalSeconds() const;
};

/// A loaded model of any family: the seam between the engine's networks and everything above.
///
/// Ownership: implementations own their network. Threads: segment() calls are serialised inside
/// the implementation; capabilities() may be read from any thread. Errors: Error naming the
/// option or the input; Mismatch when the input's kind is not the model's; Cancelled.
class Segmenter
{
public:
    virtual ~Segmenter() = default;

    virtual ModelCapabilities capabilities() const = 0;
    /// Which weights it holds and how it runs.
    virtual ModelIdentity identity() const = 0;
    /// The checkpoint it was loaded from, its weights' id and where it runs.
    virtual std::string path() const = 0;
    virtual std::string modelId() const = 0;
    virtual std::string device() const = 0;

    /// The diffusion timestep each denoiser step of a run with `request` visits, in order (a
    /// refinement's with `refinement`'s strength when it is given); empty when the family numbers
    /// its steps instead (Diff-UNet's steps per window). Throws as segmentInput() for options.
    virtual std::vector<int>
    plannedTimesteps(const SegmentationRequest& request,
                     const SegmentationPrompts* refinement = nullptr) const = 0;

    /// Segments `input` with `request` (validated against capabilities() first).
    virtual SegmentationOutcome segmentInput(const SegmentationInput& input,
                                             const SegmentationRequest& request = {},
                                             const SegmentationStepCallback& callback = {},
                                             const CancelToken& cancel = {}) = 0;

    /// Refines `current` (the labels the user has, on the input's grid) with `prompts` by guided
    /// sampling: the labels noised back prompts.strength, redrawn with the prompted pixels or
    /// voxels held to their classes at every step; the result honours every prompt. Options as
    /// segmentInput(). Throws Error(Mismatch) for an input or labels of the other kind or grid,
    /// Error(InvalidValue) for a class the model does not know or a box on a volume, and
    /// Error(Config) for a strength outside [0, 1].
    virtual SegmentationOutcome
    refineInput(const SegmentationInput& input, const SegmentationLabels& current,
                const SegmentationPrompts& prompts, const SegmentationRequest& request = {},
                const SegmentationStepCallback& callback = {}, const CancelToken& cancel = {}) = 0;

protected:
    Segmenter() = default;
    Segmenter(const Segmenter&) = default;
    Segmenter(Segmenter&&) = default;
    Segmenter& operator=(const Segmenter&) = default;
    Segmenter& operator=(Segmenter&&) = default;
};

/// What both families implement alike, written once (CRTP): path(), modelId() and device() read
/// Family::info(), and segmentInput() refuses the other kind of input, passes each of the
/// family's steps on as Family::stepEvent() describes it, and runs Family::segment() on the
/// input with Family::optionsFor(request) (the outcome's settings are Family::settingsOf() them);
/// refineInput() does the same with Family::refineWith() and the current labels; identity() reads
/// Family::info() and Family::completeIdentity() adds the rest. Family declares `static constexpr
/// InputKind kInput` and those seven functions; Result and StepCallback are its segment()'s result
/// and callback.
template <class Family, class Result, class StepCallback>
class SegmenterFamily : public Segmenter
{
public:
    ModelIdentity identity() const override
    {
        const auto& i = family().info();
        ModelIdentity id{i.path,      i.id,      i.device, i.precision,  i.parameterCount,
                         i.inputSize, i.usesEma, 0,        std::string()};
        family().completeIdentity(id);
        return id;
    }
    std::string path() const override { return family().info().path; }
    std::string modelId() const override { return family().info().id; }
    std::string device() const override { return family().info().device; }

    SegmentationOutcome segmentInput(const SegmentationInput& input,
                                     const SegmentationRequest& request = {},
                                     const SegmentationStepCallback& callback = {},
                                     const CancelToken& cancel = {}) override
    {
        Family& self = static_cast<Family&>(*this);
        checkKind(input.kind, "segments");
        const auto options = self.optionsFor(request);
        return outcome(self.segment(imageOf(input), options, stepCallback(callback), cancel),
                       Family::settingsOf(options));
    }

    SegmentationOutcome refineInput(const SegmentationInput& input,
                                    const SegmentationLabels& current,
                                    const SegmentationPrompts& prompts,
                                    const SegmentationRequest& request = {},
                                    const SegmentationStepCallback& callback = {},
                                    const CancelToken& cancel = {}) override
    {
        Family& self = static_cast<Family&>(*this);
        checkKind(input.kind, "refines");
        checkKind(current.kind, "refines labels of");
        if (prompts.strength < 0.0 || prompts.strength > 1.0) {
            throw Error(ErrorKind::Config, "refine strength",
                        std::to_string(prompts.strength) + " is outside [0, 1]");
        }
        const auto options = self.optionsFor(request);
        return outcome(self.refineWith(imageOf(input), current, prompts, options,
                                       stepCallback(callback), cancel),
                       Family::settingsOf(options));
    }

protected:
    SegmenterFamily() = default;

private:
    const Family& family() const { return static_cast<const Family&>(*this); }
    void checkKind(InputKind kind, const char* verb) const
    {
        constexpr InputKind kOther =
            Family::kInput == InputKind::Photo ? InputKind::Volume : InputKind::Photo;
        if (kind != Family::kInput) {
            throw Error(ErrorKind::Mismatch, family().info().path,
                        "a " + family().capabilities().family + " model " + verb + " " +
                            inputKindName(Family::kInput) + "s, not " + inputKindName(kOther) +
                            "s");
        }
    }
    static StepCallback stepCallback(const SegmentationStepCallback& callback)
    {
        StepCallback onStep;
        if (callback) {
            onStep = [&callback](const auto& step) {
                callback(Family::stepEvent(step));
            };
        }
        return onStep;
    }
    static SegmentationOutcome outcome(Result&& result, SegmentationRequest settings)
    {
        SegmentationOutcome out;
        out.kind = Family::kInput;
        out.settings = std::move(settings);
        auto shared = std::make_shared<const Result>(std::move(result));
        if constexpr (Family::kInput == InputKind::Photo) {
            out.photo = std::move(shared);
        } else {
            out.volume = std::move(shared);
        }
        return out;
    }
    static const auto& imageOf(const SegmentationInput& input)
    {
        if constexpr (Family::kInput == InputKind::Photo) {
            return input.photo;
        } else {
            return input.volume;
        }
    }
};

/// The kind of input a checkpoint's network reads, from the first bytes of the file (our header's
/// network name, or a reference state_dict's key names) without loading it; nullopt when the
/// file says neither (Error(NotFound) when it does not exist).
std::optional<InputKind> checkpointInputKind(const std::string& path);

/// How openSegmenter() loads a checkpoint of either family.
struct SegmenterLoadOptions
{
    std::string device = "cpu";     ///< "cpu", "cuda", "cuda:N" or "auto"
    std::string precision = "auto"; ///< "auto", "fp32" or "bf16"
    bool useEma = true;
    /// For a reference file (a .pth or state_dict, which carries no config): the preset or config
    /// file of its family ("isic2018", "ph2", "ham10000", a YAML; "brats2023", "aiib2023").
    /// Empty: the file is one of our checkpoints.
    std::string reference;
};

/// Loads one of our checkpoints as the family it holds (Segmenter2D or Segmenter3D), or a
/// reference file with options.reference. Throws Error naming the file: NotFound, Format when it
/// holds no known network, Config for a reference Diff-UNet whose preset lacks its training set's
/// CT statistics, and the family's load errors.
std::unique_ptr<Segmenter> openSegmenter(const std::string& path,
                                         const SegmenterLoadOptions& options = {});

} // namespace diffseg::core
