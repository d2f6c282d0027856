#pragma once

// 3D inference with a Diff-UNet checkpoint: the library behind `diffseg segment3d` and the GUI's
// volume workflow. LibTorch-free header (the network lives behind a pointer to an implementation).

#include "ModelCard.h"
#include "Segmenter.h"
#include "SlidingWindow.h"
#include "VolumePrompts.h"
#include "base/CancelToken.h"
#include "base/LabelMap.h"
#include "base/Volume.h"
#include "engine/Precision.h"
#include "engine/diffunet/DiffUNetConfig.h"
#include "imaging/VolumePreparation.h"
#include "uncertainty/StepCache.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace diffseg::core {

/// What a reference Diff-UNet state_dict (`best_model_<dice>.pt`, no config inside) needs.
struct DiffUNetReferencePreset
{
    std::string name;               ///< "aiib2023" or "brats2023"
    engine::DiffUNetConfig network; ///< DiffUNetConfig::reference(in, classes)
    /// The reference's preparation when it is fully known (BraTS: crop, per-channel z-score over
    /// the box, 1 mm). None for AIIB2023, whose CT clip and z-score use statistics of its training
    /// set (data_analysis_result.txt) that the state_dict does not carry: the caller supplies them.
    std::optional<VolumePreparationConfig> preparation;
    /// AIIB2023's target spacing (0.7041, 0.7041, 0.5) mm (x, y, z) or BraTS2023's 1 mm.
    std::array<double, 3> targetSpacing{1.0, 1.0, 1.0};
    int inputSize = 128;               ///< the training patch side
    std::vector<std::string> channels; ///< the image channels in the order the network expects
    std::vector<std::string> labels;   ///< class names, index = label value

    /// "aiib2023" or "brats2023" (case-insensitive); Error(Config) naming `subject` otherwise.
    static DiffUNetReferencePreset resolve(const std::string& name,
                                           const std::string& subject = "reference config");
};

/// How a Diff-UNet checkpoint is loaded.
struct VolumeModelLoadOptions
{
    /// "cpu", "cuda" (= "cuda:0"), "cuda:N", or "auto" (cuda:0 when CUDA is usable, else cpu).
    std::string device = "cpu";
    /// Run the networks under CUDA autocast (fp16), as the reference predicts. Ignored on the CPU
    /// (VolumeModelInfo::autocast says whether it is in use).
    bool autocastFp16 = false;
    /// Arithmetic of the networks: Auto is bf16 (autocast: float32 weights, bf16 convolutions)
    /// where the device computes it natively (engine::resolvePrecision), else fp32, or the fp16
    /// autocast above when asked for on CUDA.
    engine::Precision precision = engine::Precision::Auto;
    /// Set for a reference state_dict, which stores no config (see DiffUNetReferencePreset);
    /// unset for our checkpoint format, whose header has the network and its preparation.
    std::optional<engine::DiffUNetConfig> referenceNetwork;
    std::string referenceName;    ///< the preset or description, for summaries
    int referenceInputSize = 128; ///< the window side for a reference state_dict
    /// How volumes are prepared. Required for a reference state_dict; for our checkpoints it
    /// replaces the preparation stored in the header.
    std::optional<VolumePreparationConfig> preparation;
    bool useEma = true; ///< use EMA weights when the checkpoint has them

    /// Loads a reference state_dict as `preset` says: its network, name, window side and (when
    /// the preset knows it) preparation.
    void useReferencePreset(const DiffUNetReferencePreset& preset);
};

/// What was loaded, for summaries and the GUI.
struct VolumeModelInfo
{
    std::string path;
    std::string format;          ///< "diffseg" (our checkpoint) or "reference" (a state_dict)
    std::string referenceConfig; ///< the preset / description of a reference state_dict
    /// "dun-" + 16 hex digits: a 64-bit hash of the names, shapes and bytes of the weights in use.
    std::string id;
    std::string source; ///< CheckpointInfo::source
    engine::DiffUNetConfig network;
    /// The label value written for each class (the training's dataset.label_values); empty when
    /// the checkpoint does not say (a reference state_dict, an older file): class index.
    std::vector<int> labelValues;
    /// A name per class and per input channel, as the checkpoint records them (empty when it
    /// does not: a reference state_dict, an older file).
    std::vector<std::string> labelNames;
    std::vector<std::string> channelNames;
    VolumePreparationConfig preparation;
    std::string preparationSource; ///< "checkpoint" or "caller"
    int inputSize = 128;           ///< the training patch side: the default window side
    bool usesEma = false;
    std::optional<std::int64_t> step;
    std::optional<std::int64_t> epoch;
    std::int64_t parameterCount = 0;
    std::string device;    ///< "cpu" or "cuda:N"
    bool autocast = false; ///< networks run under CUDA fp16 autocast
    std::string precision; ///< "fp32", "bf16" or "fp16-autocast"
    double loadSeconds = 0.0;
    ModelCard card; ///< the checkpoint's card (empty for a reference state_dict)
};

/// How the step logits are fused into the prediction (PURE, seed spec §B7.4 and §B7.6).
enum class StepFusionMethod
{
    Mean,       ///< the released code: the uniform mean of the step logits (+ the edge logits)
    Uncertainty ///< SUF-style weights w_i = exp(sigmoid((i+1)/S) (1 - u_i)), u_i the step entropy
};
const char* stepFusionName(StepFusionMethod method) noexcept;
/// "mean" or "uncertainty" (case-insensitive); Error(Config) naming `subject` otherwise.
StepFusionMethod parseStepFusion(const std::string& name, const std::string& subject = "fusion");

/// Which uncertainty map Segment3DResult::uncertainty shows (all available ones are computed).
enum class VolumeUncertainty
{
    FusedEntropy,  ///< "entropy": entropy of the fused prediction's softmax
    StepEntropy,   ///< "steps": entropy of the mean of the step predictions' softmax (default)
    MirrorVariance ///< "mirror": variance over the 8 mirror passes (needs mirrorTta)
};
const char* volumeUncertaintyName(VolumeUncertainty source) noexcept;
/// "entropy", "steps" or "mirror"; Error(Config) naming `subject` otherwise.
VolumeUncertainty parseVolumeUncertainty(const std::string& name,
                                         const std::string& subject = "uncertainty");

struct Segment3DOptions
{
    int steps = 3; ///< denoiser steps per window (ddim_steps of the reference), 1..1000
    StepFusionMethod fusion = StepFusionMethod::Mean;
    /// The noise of window batch b, mirror pass f comes from a generator seeded with a hash of
    /// (seed, b, f): equal seeds and settings give equal results on one device.
    std::uint64_t seed = 0;
    double overlap = 0.5;   ///< window overlap in [0, 1) (the reference: 0.5)
    int windowBatch = 1;    ///< windows per network call (the reference: 2)
    bool mirrorTta = false; ///< the identity + 7 flips over x, y, z, averaged in logit space
    /// Window side in voxels; 0 uses the checkpoint's input size. A multiple of 2^(stages-1).
    int roi = 0;
    /// The reference feeds λ(τ) to the time embedding while sampling (§B3); false feeds τ.
    bool timeAsLogSnr = true;
    /// Keep per-step whole-volume predictions (the step cache, the step callbacks' volumes and
    /// the step entropy). Costs 4 bytes per class per prepared voxel per step while the windows
    /// run (the fused blend costs 8, the weights 8 per voxel); turn off for very large volumes.
    bool stepPredictions = true;
    /// Memory for the 8-bit per-step probabilities (StepCache's policy drops steps beyond it).
    std::size_t stepCacheBudget = StepCacheConfig::kDefaultBudget3D;
    VolumeUncertainty uncertainty = VolumeUncertainty::StepEntropy;
    /// Keep only the largest 26-connected component of each label in the result's label map
    /// (keepLargestComponents; nnU-Net's post-processing for structures in one piece). The
    /// probabilities, uncertainty maps and step predictions stay as the network made them;
    /// prompted voxels are never changed.
    bool largestComponent = false;
};

/// Sets in `options` each setting that a model card says the model was validated with ("steps",
/// "fusion", "overlap", "mirror_tta", "largest_component"), except those named in `keep` (what a
/// caller was told explicitly). A value this build cannot read is left as it is. Returns the names
/// set, in that order.
std::vector<std::string> applyValidatedSettings(const ModelCard& card, Segment3DOptions& options,
                                                const std::set<std::string>& keep = {});

/// One denoiser step of one window batch (and mirror pass), as it happens. The volumes are only
/// valid during the call (copy what you keep); `cache` may be kept.
struct Segment3DStep
{
    int batch; ///< window batch, 0 .. batchCount-1
    int batchCount;
    int firstWindow; ///< the batch's first window, 0 .. windowCount-1
    int windows;     ///< windows in this batch
    int windowCount;
    int flip;  ///< mirror pass 0..7 (0 = identity; always 0 without TTA)
    int flips; ///< 8 with mirror TTA, else 1
    int step;  ///< 0 .. steps-1
    int steps;
    int done; ///< denoiser steps finished so far (batches x flips x steps in all)
    int total;
    double elapsedSeconds; ///< since segment() was called
    double etaSeconds;     ///< from the mean time per step so far
    /// Non-null when step `step`'s whole-volume prediction has just become complete (in the last
    /// window batch's last mirror pass): the argmax of the blended step logits on the source grid
    /// with the source geometry, and their softmax (Float32, one channel per class).
    const LabelMap* stepLabels;
    const Volume* stepProbabilities;
    /// The run's step cache (the same object as Segment3DResult::steps); null without
    /// stepPredictions.
    const std::shared_ptr<StepCache>& cache;
};

/// Called on the segmenting thread; an exception thrown here ends the run.
using Segment3DCallback = std::function<void(const Segment3DStep&)>;

/// Wall-clock seconds per stage of one segment() call.
struct Segment3DTimings
{
    double load = 0.0;            ///< the model's load time (VolumeModelInfo::loadSeconds)
    double prepare = 0.0;         ///< crop, normalisation, resampling, window plan
    double windows = 0.0;         ///< every window batch: networks, blending, step volumes
    double steps = 0.0;           ///< of `windows`: step volumes (restore, softmax, step cache)
    double postprocess = 0.0;     ///< restoring the fused result, probabilities, uncertainty
    double firstStepVolume = 0.0; ///< from the call until step 0's volume reached the callback
    double perPass = 0.0;         ///< windows / (batches x mirror passes)
    double total = 0.0;
};

/// Everything one volume segmentation produces. "Source grid" = the input volume's size and
/// geometry exactly (spacing, origin, direction); "prepared grid" = where the network worked
/// (cropped to the non-zero box and resampled to the target spacing).
struct Segment3DResult
{
    int classes = 0;
    int steps = 0;
    int windowCount = 0;
    int batchCount = 0;
    int flips = 1;
    std::array<std::int64_t, 3> roi{0, 0, 0};
    std::array<std::int64_t, 3> preparedSize{0, 0, 0};
    Geometry preparedGeometry;
    BoundingBox cropBox; ///< on the source grid

    /// argmax_c of the fused logits (the step fusion + the edge logits), blended over windows and
    /// restored to the source grid trilinearly as the reference resizes logits; label = class
    /// index. Background (0) outside the crop box. UInt8.
    LabelMap labels;
    /// softmax of the restored fused logits, Float32, one channel per class, source grid; labels
    /// is exactly their argmax (first maximum on ties).
    Volume probabilities;
    /// H = −Σ_c p_c ln p_c of `probabilities`, nats in [0, ln C] (0 outside the crop box).
    Volume entropy;
    /// H(p̄) with p̄ = (1/S) Σ_s softmax(L_s), L_s the blended logits of denoiser step s (without
    /// the edge logits, as the step predictions of §B10) restored to the source grid; nats in
    /// [0, ln C]. High where the steps disagree or all hesitate. Empty without stepPredictions.
    Volume stepEntropy;
    /// With mirror TTA: V = (1/C) Σ_c (1/8) Σ_f (p_{f,c} − p̄_c)², p_f = softmax of mirror pass
    /// f's logits (flipped back), computed per window and blended like the logits; in [0, 0.25]
    /// (for 2 classes the variance of the foreground probability). Empty without TTA.
    Volume mirrorVariance;
    /// The map chosen by Segment3DOptions::uncertainty (shares voxels with it).
    Volume uncertainty;
    VolumeUncertainty uncertaintySource = VolumeUncertainty::StepEntropy;
    /// Per step s, for every foreground class c = 1..C-1 (member c-1), softmax(L_s)_c on the
    /// source grid stored as x0 = 2p - 1 (8 bits, p within 1/510; x0 > 0 ⇔ p > 0.5). Read it back
    /// with stepLabelsFromCache / stepForegroundFromCache. Null without stepPredictions.
    std::shared_ptr<StepCache> stepCache;
    Segment3DTimings timings;
};

/// Class-index labels (0..C-1) written as `values[index]`, UInt8 when every value fits, else
/// UInt16; `values` empty: returned unchanged. Error(InvalidValue) for an index without a value.
LabelMap withLabelValues(LabelMap classIndices, const std::vector<int>& values);

/// A loaded Diff-UNet that segments CT/MRI volumes.
///
/// Pipeline of segment() (seed spec §B2.2, §B7): the volume is prepared as the checkpoint says
/// (crop to non-zero, normalisation, resampling; VolumePreparation.h); MONAI-style sliding windows
/// (SlidingWindow.h) run, per window batch, the edge branch once and S denoiser steps; the step
/// logits and the fused logits are blended over windows (Gaussian importance) for the whole
/// volume; results are restored to the source grid and geometry (restoreScores) so that they
/// overlay the input exactly.
///
/// Ownership: owns its network (on the chosen device); movable, not copyable. Threads: segment()
/// calls are serialised by an internal mutex; info() may be read from any thread. Units: voxels,
/// millimetres (LPS geometry carried from the input), seconds, bytes. Errors: every failure is an
/// Error naming the file or option: NotFound/Io/Format for the checkpoint, Mismatch when it is
/// not a Diff-UNet checkpoint or its weights do not fit the config, Config for bad options
/// ("roi", "steps", ...), Unsupported for CUDA without CUDA, Mismatch for a volume whose channel
/// count differs from the network's ("volume"), InvalidValue for an unusable volume, Cancelled
/// when `cancel` fires (polled before every window batch, mirror pass and step).
class Segmenter3D : public SegmenterFamily<Segmenter3D, Segment3DResult, Segment3DCallback>
{
public:
    /// Movable, not copyable (declaring the move deletes the copy).
    explicit Segmenter3D(const std::string& checkpointPath,
                         const VolumeModelLoadOptions& options = {});
    ~Segmenter3D();
    Segmenter3D(Segmenter3D&&) noexcept;
    Segmenter3D& operator=(Segmenter3D&&) noexcept;

    const VolumeModelInfo& info() const noexcept;

    // The model-family seam (Segmenter.h): steps, fusion, mirror TTA and windows are this
    // family's options; segmentInput() (SegmenterFamily) runs segment() on a volume.
    static constexpr InputKind kInput = InputKind::Volume;
    /// What every Diff-UNet model can do (no model's own channels, classes or defaults).
    static ModelCapabilities familyCapabilities();
    ModelCapabilities capabilities() const override;
    /// The options the model was validated with: Segment3DOptions' defaults with what its card
    /// says (applyValidatedSettings()).
    Segment3DOptions defaultOptions() const;
    /// The seam's request as this family's options (defaultOptions() with what it sets). Throws
    /// Error(Config).
    Segment3DOptions optionsFor(const SegmentationRequest& request) const;
    /// The seam's event for one step: a step's prediction completes with the last window batch.
    static SegmentationStepEvent stepEvent(const Segment3DStep& step);
    /// The seam's description of `options` (what a run with them says it used).
    static SegmentationRequest settingsOf(const Segment3DOptions& options);
    /// The identity's diffusion steps and normalisation (SegmenterFamily fills in the rest).
    void completeIdentity(ModelIdentity& identity) const;
    /// Empty: Diff-UNet's steps are numbered per window, not named by a timestep.
    std::vector<int> plannedTimesteps(const SegmentationRequest& request,
                                      const SegmentationPrompts* refinement) const override;
    /// The seam's refinement as refine() (strength 0: kInteractiveStrength; no box; the radius in
    /// mm).
    Segment3DResult refineWith(const Volume& image, const SegmentationLabels& current,
                               const SegmentationPrompts& prompts, const Segment3DOptions& options,
                               const Segment3DCallback& callback, const CancelToken& cancel);
    /// How far back a click refines a volume by default (the studio's volume workspace and
    /// eval-interactive on a volume).
    static constexpr double kInteractiveStrength = 0.5;

    /// The window options segment() uses for `options` (roi resolved); throws Error(Config).
    SlidingWindowOptions windowOptions(const Segment3DOptions& options) const;

    /// Segments one volume (any pixel type; channels as the network expects, e.g. BraTS's t2w,
    /// t2f, t1n, t1c). `callback` sees every denoiser step of every window batch.
    Segment3DResult segment(const Volume& image, const Segment3DOptions& options = {},
                            const Segment3DCallback& callback = {}, const CancelToken& cancel = {});

    /// Refines a segmentation with prompts (guided sampling, as Segmenter2D::refine in 3D):
    /// `current` (label values, on the volume's grid; empty: start from noise) is noised to the
    /// step `round((1 - strength) x steps)` and the remaining steps run with the prompted voxels
    /// held to their classes at every step, in every window. The result honours every prompt.
    /// Uncertainty and step volumes as segment() (over the steps that ran). Deterministic for a
    /// seed; cancellable. Throws Error(Config) for a strength outside (0, 1] and
    /// Error(Mismatch) for labels or strokes on another grid.
    Segment3DResult refine(const Volume& image, const LabelMap& current,
                           const VolumePrompts& prompts, const Segment3DOptions& options,
                           double strength = 0.5, const Segment3DCallback& callback = {},
                           const CancelToken& cancel = {});

    /// Step `step`'s label map from a result's step cache (argmax over the background 1 − Σ p_c
    /// and the cached p_c; the nearest stored step when the budget dropped it). Source grid.
    static LabelMap stepLabelsFromCache(const StepCache& cache, int step);
    /// The same with class indices written as `labelValues[index]` (VolumeModelInfo::labelValues).
    static LabelMap stepLabelsFromCache(const StepCache& cache, int step,
                                        const std::vector<int>& labelValues)
    {
        return withLabelValues(stepLabelsFromCache(cache, step), labelValues);
    }
    /// Step `step`'s foreground probability Σ_{c≥1} p_c from the cache, Float32, source grid.
    static Volume stepForegroundFromCache(const StepCache& cache, int step);

private:
    /// A refinement's start and prompts, on the source grid.
    struct Guidance
    {
        LabelMap start; ///< class indices; empty: start from noise
        LabelMap known; ///< 0 unknown, class + 1 known
        int startStep = 0;
    };
    Segment3DResult run(const Volume& image, const Segment3DOptions& options,
                        const Guidance* guidance, const Segment3DCallback& callback,
                        const CancelToken& cancel);

    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace diffseg::core
