#pragma once

// 2D inference with a DermoSegDiff checkpoint: the library behind `diffseg segment` and the GUI.
// LibTorch-free header (the network lives behind a pointer to an implementation).

#include "ModelCard.h"
#include "ReferenceModelConfig.h"
#include "RefinePrompts.h"
#include "Segmenter.h"
#include "base/CancelToken.h"
#include "base/Image2D.h"
#include "engine/Precision.h"
#include "engine/diffusion/NoiseSchedule.h"
#include "engine/model/DermoSegDiffConfig.h"
#include "uncertainty/StepCache.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace diffseg::core {

/// The reverse sampler of a run.
enum class SamplerMethod
{
    Ddpm, ///< ancestral sampling over all T steps, exactly the reference (seed spec §A7)
    Ddim  ///< DDIM over a subsequence of the timesteps (fewer denoiser calls), stochasticity eta
};

const char* samplerMethodName(SamplerMethod method) noexcept;
/// "ddpm" or "ddim" (case-insensitive); throws Error(Config) naming `subject` otherwise.
SamplerMethod parseSamplerMethod(const std::string& name, const std::string& subject = "sampler");

/// How a checkpoint is loaded.
struct ModelLoadOptions
{
    /// "cpu", "cuda" (= "cuda:0"), "cuda:N", or "auto" (cuda:0 when CUDA is usable, else cpu).
    std::string device = "cpu";
    /// Set for a checkpoint saved by the reference's training script (.pth), which stores no
    /// config; unset for our own checkpoint format, whose header has everything.
    std::optional<ReferenceModelConfig> reference;
    /// Use the EMA weights when the checkpoint has them (what the reference tests with).
    bool useEma = true;
    /// Arithmetic of the network: Auto is bf16 where the device computes it natively
    /// (engine::resolvePrecision), fp32 elsewhere. Parity checks ask for Fp32.
    engine::Precision precision = engine::Precision::Auto;
};

/// What was loaded, for summaries and the GUI's model panel.
struct ModelInfo
{
    std::string path;
    std::string format;          ///< "diffseg" (our checkpoint) or "reference" (an imported .pth)
    std::string referenceConfig; ///< the preset or config file of a reference .pth, else empty
    /// "dsd-" + 16 hex digits: a 64-bit hash of the names, shapes and bytes of the weights in use,
    /// so two files with the same weights have the same id.
    std::string id;
    std::string source; ///< CheckpointInfo::source (who wrote the weights)
    engine::DermoSegDiffConfig model;
    engine::ScheduleConfig schedule;
    int inputSize = 128;  ///< side of the square network input, pixels
    bool usesEma = false; ///< the EMA weights are the ones in use
    std::optional<std::int64_t> step;
    std::optional<std::int64_t> epoch;
    std::int64_t parameterCount = 0;
    std::string device;       ///< where the network runs: "cpu" or "cuda:N"
    std::string precision;    ///< the arithmetic it runs in: "fp32" or "bf16"
    ModelCard card;           ///< the checkpoint's card (empty for a reference .pth)
    double loadSeconds = 0.0; ///< reading the file, building the network, moving it to the device
};

struct SegmentOptions
{
    SamplerMethod sampler = SamplerMethod::Ddpm;
    /// DDIM: denoiser calls (0 = all T). DDPM: 0 or T (it always runs every timestep).
    int steps = 0;
    double eta = 0.0; ///< DDIM stochasticity in [0, 1] (0: deterministic given the start noise)
    int ensemble = 5; ///< K chains, sampled as one batch (the reference's testing.ensemble)
    std::uint64_t seed = 0; ///< chain k draws from generator seed + k (device-independent)
    /// Memory for the 8-bit per-step x0 cache (StepCache's policy decides what is dropped beyond
    /// it); the default holds 250 steps x 5 members at 128 x 128 several times over.
    std::size_t stepCacheBudget = StepCacheConfig::kDefaultBudget2D;
    /// The step-instability map looks at the last N steps (fewer when the run is shorter).
    int instabilitySteps = 10;
    /// Also keep each step's noisy sample x_t (the state the denoiser saw) in the step cache as
    /// FrameKind::Noisy, for the GUI's step browser; doubles the cache's memory per step, so the
    /// same budget keeps fewer steps.
    bool storeNoisy = false;
    /// A first look for a viewer: the first step runs member 0 alone before the other members
    /// (engine::sampleEnsemble's firstLook), and the callback first sees that member's estimate as
    /// a SegmentStep with `firstLook` set (a K-th of a step's cost: with the ISIC model on a 2-core
    /// CPU in fp32, median 0.085 s instead of 0.56 s with 5 members). The same result up to
    /// rounding (engine::sampleEnsemble), for one more network call.
    bool firstLook = false;
    /// > 0: start from the Otsu baseline's mask (metrics/OtsuBaseline.h) noised to this strength
    /// in (0, 1] instead of from pure noise (SDEdit: the model redraws the outline from timestep
    /// round(strength (T - 1)), the steps spread over that span). The model card's validated
    /// "start_from_otsu"; 0 samples from noise.
    double startFromOtsu = 0.0;
    /// > 0: start from the model's own draft noised to this strength (SDEdit, as startFromOtsu):
    /// the draft is the ensemble's mean x0 > 0 after `draftSteps` deterministic DDIM steps from
    /// noise (one network call per step for all members). It puts the members on the lesion as
    /// the Otsu outline does, without the threshold's failures (a frame's dark corners, a ruler,
    /// the whole skin). Takes precedence over startFromOtsu. The card's "start_from_draft".
    double startFromDraft = 0.0;
    int draftSteps = 1; ///< DDIM steps of the draft (>= 1); the card's "draft_steps"
};

/// How a refinement treats the current mask.
struct RefineOptions
{
    /// How far back the current mask is noised before the model redraws it, as a fraction of
    /// the schedule: the run starts at timestep round(strength (T - 1)). 1 redraws from pure
    /// noise (the prompts alone guide it); small values keep the mask and move only its edges.
    double strength = 0.5;
    /// RePaint resampling jumps per step (engine::SamplerGuidance): known and unknown pixels
    /// agree better, at one more network call each.
    int resampleJumps = 1;
    /// DDIM steps of the refinement, at most the run's SegmentOptions::steps (0: as the run). A
    /// click redraws from an outline the model already drew, so it may take fewer steps than a
    /// run from noise.
    int steps = 0;
    /// > 0: a background click on the current lesion also holds, as background, the part of the
    /// lesion around it whose colour lies within this distance (RGB, 0..255) of the colour under
    /// the click (withBackgroundRegions()); 0: the click's disk alone.
    double backgroundRegionTolerance = 0.0;

    /// The settings of a run that refines with these options: `options` with `steps` applied
    /// (DDIM only; DDPM visits every timestep below the start).
    SegmentOptions applyTo(SegmentOptions options) const;

    /// What a click in the studio and `eval-interactive` use, chosen on ISIC 2018 val photos with
    /// the packaged model (README, "Interactive segmentation"): redraw from 0.9 of the schedule
    /// without jumps (1.3 s per click on 2 cores instead of 2.5 s, and no worse), in 3 DDIM steps
    /// (the same Dice after 3 and 10 clicks as the card's 5 steps, in 3/5 of the time); a
    /// background click inside a region the model drew clears that region's colour within 30
    /// (on the 20 + 20 val photos it changes only the photos where the model took a sticker or a
    /// frame for the lesion, which clicks could not fix before).
    static RefineOptions interactive() { return RefineOptions{0.9, 0, 3, 30.0}; }
};

/// One reverse step, as it happens. Everything here is only valid during the call; the images in
/// `x0` own their pixels and may be kept.
struct SegmentStep
{
    int index;              ///< 0 .. count-1 in sampling order
    int count;              ///< steps of the run
    int t;                  ///< the timestep the denoiser saw
    double elapsedSeconds;  ///< since segment() was called
    double samplingSeconds; ///< since sampling started (the first denoiser call)
    bool cached;            ///< the step cache kept this step (its policy may drop some)
    /// Member k's x0 estimate (x_t - sqrt(1 - alpha_bar_t) eps_hat) / sqrt(alpha_bar_t):
    /// 1-channel float32 at the input size, mask space (x0 > 0 is foreground), not clamped.
    const std::vector<Image2D>& x0;
    /// The run's step cache (the same object as SegmentResult::steps), readable from any thread.
    const std::shared_ptr<StepCache>& cache;
    /// SegmentOptions::firstLook: member 0's estimate of step `index` 0 before the other
    /// members have it (clipped as the sampler clips it). `x0` then holds that one member, and
    /// the cache does not hold the step yet; the step itself follows as usual.
    bool firstLook = false;
};

/// Called on the sampling thread after every step; an exception thrown here ends the run.
using SegmentStepCallback = std::function<void(const SegmentStep&)>;

/// Wall-clock seconds per stage of one segment() call.
struct SegmentTimings
{
    double load = 0.0;        ///< the model's load time (ModelInfo::loadSeconds), once per model
    double preprocess = 0.0;  ///< checks, resize to the input size, min-max, upload
    double draft = 0.0;       ///< the draft a run starts from (SegmentOptions::startFromDraft)
    double sampling = 0.0;    ///< all reverse steps of all members, including the step cache
    double postprocess = 0.0; ///< mean, probability, uncertainty, resizing to the original size
    /// From the call until the first estimate reached the callback (the first look, with
    /// SegmentOptions::firstLook and an ensemble; else the first whole step).
    double firstPreview = 0.0;
    double total = 0.0; ///< the whole call (load not included)
};

/// Everything one segmentation produces. "Input size" maps are S x S (S = ModelInfo::inputSize),
/// where the network works; "original size" maps have the input image's width and height.
struct SegmentResult
{
    int originalWidth = 0;
    int originalHeight = 0;
    int inputSize = 0;
    int members = 0;
    std::vector<int> timesteps; ///< the timestep of each step, in sampling order

    /// 1-channel UInt8 {0, 1} at the original size: the ensemble mean of the final x0 estimates,
    /// upsampled bilinearly (half-pixel centres) to the original size, then > 0. Upsampling the
    /// mean rather than the binary mask gives a smooth outline instead of S x S staircase steps.
    Image2D mask;
    /// The reference's prediction (seed spec §A7/§A8): mean x0 > 0 at the input size.
    Image2D maskInput;
    Image2D meanX0;                ///< float32, input size: (1/K) sum_k x0_k
    std::vector<Image2D> memberX0; ///< float32, input size: each member's final x0
    /// Foreground probability p = (1/K) sum_k clamp((x0_k + 1) / 2, 0, 1), float32 in [0, 1]
    /// at the input size. Where members leave [-1, 1] it can differ from the mask's mean-x0 rule.
    Image2D probability;
    Image2D probabilityOriginal; ///< `probability` upsampled bilinearly to the original size
    /// Uncertainty at the input size (formulas in uncertainty/UncertaintyMaps.h):
    Image2D uncertaintyStd;     ///< population std of the members' p_k, in [0, 0.5]
    Image2D uncertaintyEntropy; ///< binary entropy of p, nats, in [0, ln 2]
    /// Fraction of the last N transitions (SegmentOptions::instabilitySteps, fewer in shorter
    /// runs) in which a member's x0 > 0 flips, averaged over members, in [0, 1]; computed from
    /// the unquantised estimates, so it does not depend on what the step cache keeps.
    Image2D uncertaintyInstability;
    std::vector<int> instabilitySteps; ///< the consecutive steps it used (empty: a 1-step run)
    SegmentTimings timings;
    /// Every step's x0 estimate for every member (8-bit, within the budget).
    std::shared_ptr<StepCache> steps;
};

/// A loaded DermoSegDiff model that segments 2D RGB images (dermoscopy photos).
///
/// Pipeline of segment(), as the reference (seed spec §A2, §A7): the image is resized bilinearly
/// (no antialiasing) to S x S, then min-max normalised over all channels together to [0, 1]; K
/// chains run as one batch from seeded noise; the final x0 of each chain gives the mean, the mask
/// (mean > 0), the probability and the uncertainty maps. A 1-channel image is replicated to RGB
/// and an alpha channel is dropped.
///
/// Ownership: owns its network (on the chosen device); movable, not copyable. Threads: segment()
/// calls are serialised by an internal mutex (the network runs one forward at a time); info() may
/// be read from any thread. Units: images in pixels, times in seconds, memory in bytes.
/// Errors: every failure is an Error naming the file or option: NotFound/Io/Format for the
/// checkpoint, Mismatch when the weights do not fit the config, Config for bad options
/// ("sampler.steps", "ensemble", ...), Unsupported for CUDA without CUDA, InvalidValue for an
/// unusable image ("image": empty, wrong channel count, non-finite values), Cancelled when
/// `cancel` fires.
class Segmenter2D : public SegmenterFamily<Segmenter2D, SegmentResult, SegmentStepCallback>
{
public:
    /// Loads `checkpointPath` (ours, or a reference .pth with options.reference set) onto the
    /// device. Movable, not copyable (declaring the move deletes the copy).
    explicit Segmenter2D(const std::string& checkpointPath, const ModelLoadOptions& options = {});
    ~Segmenter2D();
    Segmenter2D(Segmenter2D&&) noexcept;
    Segmenter2D& operator=(Segmenter2D&&) noexcept;

    const ModelInfo& info() const noexcept;

    // The model-family seam (Segmenter.h): sampler, steps, ensemble and eta are this family's
    // options; segmentInput() (SegmenterFamily) runs segment() on a photo.
    static constexpr InputKind kInput = InputKind::Photo;
    /// What every DermoSegDiff model can do (no model's own size, steps or defaults).
    static ModelCapabilities familyCapabilities();
    ModelCapabilities capabilities() const override;
    /// The seam's request as this family's options: defaultOptions() with what it sets (a
    /// sampler chosen without steps runs that sampler's full length). Throws Error(Config).
    SegmentOptions optionsFor(const SegmentationRequest& request) const;
    /// The seam's event for one step: every step completes a prediction (valid during the call).
    static SegmentationStepEvent stepEvent(const SegmentStep& step);
    /// The seam's description of `options` (what a run with them says it used).
    static SegmentationRequest settingsOf(const SegmentOptions& options);
    /// The identity's diffusion steps (SegmenterFamily fills in what info() says of every family).
    void completeIdentity(ModelIdentity& identity) const;
    /// The seam's planned timesteps: plannedTimesteps() or, for a refinement,
    /// plannedRefineTimesteps() with RefineOptions::interactive() (refinement->strength, when
    /// set, as its strength).
    std::vector<int> plannedTimesteps(const SegmentationRequest& request,
                                      const SegmentationPrompts* refinement) const override;
    /// The seam's refinement as refine() with RefineOptions::interactive() (the studio's and
    /// eval-interactive's click settings; prompts.strength, when set, replaces its strength):
    /// classes 0 and 1 only, strokes as the seam codes them, the click radius in pixels.
    SegmentResult refineWith(const Image2D& image, const SegmentationLabels& current,
                             const SegmentationPrompts& prompts, const SegmentOptions& options,
                             const SegmentStepCallback& callback, const CancelToken& cancel);

    /// The options a run uses unless told otherwise: SegmentOptions' defaults with the sampler,
    /// steps, ensemble and eta the model card says the model was validated with.
    SegmentOptions defaultOptions() const;

    /// Timesteps the options visit in sampling order (their count is the number of steps and of
    /// callbacks); throws Error(Config) for invalid sampler options.
    std::vector<int> plannedTimesteps(const SegmentOptions& options) const;
    /// The same for refine() with `refine` (its span starts at the refinement's strength).
    std::vector<int> plannedRefineTimesteps(const SegmentOptions& options,
                                            const RefineOptions& refine) const;

    /// Segments one image (RGB UInt8 as readImage(..., Rgb) gives, or Float32/UInt16; 1 or 4
    /// channels are adapted). `callback` sees every step; `cancel` is polled before every step.
    SegmentResult segment(const Image2D& image, const SegmentOptions& options = {},
                          const SegmentStepCallback& callback = {}, const CancelToken& cancel = {});

    /// Refines a segmentation with prompts (guided diffusion: the prompted pixels are held to
    /// their values at every step, and the model redraws the rest from `currentMask`, a uint8
    /// {0, 1} mask of the image's size, noised to the start step; an empty mask starts from
    /// noise). `options` as for segment() (sampler, steps over the refined span, ensemble, seed;
    /// uncertainty is computed as usual). The result honours every prompt: lesion prompts are 1
    /// and background prompts 0 in its masks, whatever the model says. Deterministic for a seed;
    /// cancellable; streams its steps like segment(). Throws Error(Config) for a strength
    /// outside (0, 1] and Error(Mismatch) for a mask or strokes of another size.
    SegmentResult refine(const Image2D& image, const Image2D& currentMask,
                         const RefinePrompts& prompts, const SegmentOptions& options,
                         const RefineOptions& refine = {}, const SegmentStepCallback& callback = {},
                         const CancelToken& cancel = {});

    /// The network input for `image`: `channels` channels (1 -> 3 replicated, alpha dropped),
    /// bilinear resize to size x size, then one global min-max over all channels to [0, 1]
    /// (a flat image becomes 0.5, the reference's NaN guard). Float32, interleaved channels.
    static Image2D preprocess(const Image2D& image, int size, int channels = 3);

private:
    struct Guidance;
    /// The timestep a run that starts at `strength` of the schedule begins at.
    int startTimestepFor(double strength) const;
    /// How far back a run with `options` starts (the draft's or Otsu's strength; 0: noise).
    static double startStrength(const SegmentOptions& options);
    SegmentResult run(const Image2D& image, const SegmentOptions& options, const Guidance* guidance,
                      const SegmentStepCallback& callback, const CancelToken& cancel);

    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace diffseg::core
