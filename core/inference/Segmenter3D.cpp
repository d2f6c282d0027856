#include "Segmenter3D.h"

#include "SegmenterSupport.h"
#include "base/Error.h"
#include "engine/AutocastScope.h"
#include "engine/ComputeDevice.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/diffunet/DiffUNet.h"
#include "imaging/Components.h"
#include "uncertainty/UncertaintyMaps.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>

namespace diffseg::core {

namespace {

using detail::Clock;
using detail::secondsSince;

/// What lowers a volume run's device memory, for the out-of-memory error.
constexpr const char* kMemoryAdvice = "--window-batch 1, a smaller roi or the CPU";

std::uint64_t splitMix64(std::uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/// Noise seed of window batch `batch`, mirror pass `flip`: independent streams per pass.
std::uint64_t passSeed(std::uint64_t seed, int batch, int flip)
{
    return splitMix64(seed ^ splitMix64(static_cast<std::uint64_t>(batch) * 8u +
                                        static_cast<std::uint64_t>(flip) + 1u));
}

/// Tensor dims of mirror pass `flip` (bit 0 x = W = dim 4, bit 1 y = H = 3, bit 2 z = D = 2).
std::vector<std::int64_t> flipDims(int flip)
{
    std::vector<std::int64_t> dims;
    if ((flip & 4) != 0) {
        dims.push_back(2);
    }
    if ((flip & 2) != 0) {
        dims.push_back(3);
    }
    if ((flip & 1) != 0) {
        dims.push_back(4);
    }
    return dims;
}

/// softmax over the channels of planar logits, per voxel (max subtracted first).
Volume softmaxChannels(const Volume& logits)
{
    const int classes = logits.channels();
    const std::size_t n = logits.voxelCount();
    Volume out(logits.size(), classes, PixelType::Float32, logits.geometry());
    const float* in = logits.data<float>();
    float* o = out.data<float>();
    std::vector<double> e(static_cast<std::size_t>(classes));
    for (std::size_t v = 0; v < n; ++v) {
        double peak = in[v];
        for (int c = 1; c < classes; ++c) {
            peak = std::max(peak, static_cast<double>(in[static_cast<std::size_t>(c) * n + v]));
        }
        double sum = 0.0;
        for (int c = 0; c < classes; ++c) {
            e[static_cast<std::size_t>(c)] =
                std::exp(static_cast<double>(in[static_cast<std::size_t>(c) * n + v]) - peak);
            sum += e[static_cast<std::size_t>(c)];
        }
        for (int c = 0; c < classes; ++c) {
            o[static_cast<std::size_t>(c) * n + v] =
                static_cast<float>(e[static_cast<std::size_t>(c)] / sum);
        }
    }
    return out;
}

/// argmax over the channels (the first maximum on ties), as class-index labels.
LabelMap argmaxLabels(const Volume& scores);

} // namespace

namespace {

LabelMap argmaxLabels(const Volume& scores)
{
    const int classes = scores.channels();
    LabelMap labels(scores.size(), scores.geometry(),
                    classes <= 256 ? PixelType::UInt8 : PixelType::UInt16);
    const std::size_t n = scores.voxelCount();
    const float* s = scores.data<float>();
    for (std::size_t v = 0; v < n; ++v) {
        int best = 0;
        float bestValue = s[v];
        for (int c = 1; c < classes; ++c) {
            const float value = s[static_cast<std::size_t>(c) * n + v];
            if (value > bestValue) {
                best = c;
                bestValue = value;
            }
        }
        if (classes <= 256) {
            labels.data<std::uint8_t>()[v] = static_cast<std::uint8_t>(best);
        } else {
            labels.data<std::uint16_t>()[v] = static_cast<std::uint16_t>(best);
        }
    }
    return labels;
}

/// Logits outside the crop box: background certain (softmax ≈ 1 - (C-1) e^-30).
std::vector<double> backgroundLogits(int classes)
{
    std::vector<double> fill(static_cast<std::size_t>(classes), -30.0);
    fill[0] = 0.0;
    return fill;
}

} // namespace

// --- names and presets ---------------------------------------------------------------------------

struct Segmenter3D::Impl : detail::LoadedModel<VolumeModelInfo, engine::DiffUNet>
{};

Segmenter3D::Segmenter3D(const std::string& checkpointPath, const VolumeModelLoadOptions& options)
    : m_impl(std::make_unique<Impl>())
{
    Impl& impl = *m_impl;
    VolumeModelInfo& info = impl.info;
    impl.load(checkpointPath, options.device, kMemoryAdvice, [&] {
        const engine::Precision precision =
            engine::resolvePrecision(options.precision, info.device);
        info.autocast =
            precision != engine::Precision::Bf16 && options.autocastFp16 && impl.device.is_cuda();
        info.precision = precision == engine::Precision::Bf16 ? "bf16"
                         : info.autocast                      ? "fp16-autocast"
                                                              : "fp32";
        engine::Checkpoint checkpoint;
        if (options.referenceNetwork) {
            options.referenceNetwork->validate("reference network");
            if (!options.preparation) {
                throw Error(ErrorKind::Config, "preprocessing",
                            "a reference Diff-UNet state_dict (" + checkpointPath +
                                ") stores no preprocessing; give one (crop, normalisation, "
                                "target spacing and for CT the dataset statistics)");
            }
            const int multiple = options.referenceNetwork->sizeMultiple();
            if (options.referenceInputSize < multiple || options.referenceInputSize > 1024 ||
                options.referenceInputSize % multiple != 0) {
                throw Error(ErrorKind::Config, "input size",
                            std::to_string(options.referenceInputSize) + " is not a multiple of " +
                                std::to_string(multiple) + " up to 1024");
            }
            checkpoint = engine::importReferenceDiffUNet(checkpointPath, *options.referenceNetwork);
            info.format = "reference";
            info.referenceConfig = options.referenceName;
            info.network = *options.referenceNetwork;
            info.inputSize = options.referenceInputSize;
        } else {
            checkpoint = engine::loadCheckpoint(checkpointPath);
            if (checkpoint.info.network != "diffunet") {
                throw Error(ErrorKind::Mismatch, checkpointPath,
                            "is a " + checkpoint.info.network +
                                " (2D) checkpoint, not a Diff-UNet (3D) one: it segments 2D "
                                "images (diffseg segment --input IMAGE)");
            }
            info.format = "diffseg";
            info.network = checkpoint.info.diffunet;
            info.inputSize = checkpoint.info.inputSize;
            info.preparation = VolumePreparationConfig::fromJson(
                checkpoint.info.preprocessingJson, checkpointPath + ": header.preprocessing");
            info.preparationSource = "checkpoint";
            info.labelValues = checkpoint.info.labelValues;
            info.labelNames = checkpoint.info.labelNames;
            info.channelNames = checkpoint.info.channelNames;
            try {
                info.card = ModelCard::fromJson(checkpoint.info.cardJson, checkpointPath);
            } catch (const Error&) {
                // A malformed card is no reason to refuse the weights; the model has no card then.
            }
        }
        if (options.preparation) {
            options.preparation->validate("preprocessing");
            info.preparation = *options.preparation;
            info.preparationSource = "caller";
        }
        impl.describe(checkpoint, options.useEma);
        impl.model = engine::DiffUNet(info.network);
        impl.install(checkpoint, "dun-");
    });
}

Segmenter3D::~Segmenter3D() = default;
Segmenter3D::Segmenter3D(Segmenter3D&&) noexcept = default;
Segmenter3D& Segmenter3D::operator=(Segmenter3D&&) noexcept = default;

const VolumeModelInfo& Segmenter3D::info() const noexcept
{
    return m_impl->info;
}

SlidingWindowOptions Segmenter3D::windowOptions(const Segment3DOptions& options) const
{
    const VolumeModelInfo& info = m_impl->info;
    const int roi = options.roi == 0 ? info.inputSize : options.roi;
    const int multiple = info.network.sizeMultiple();
    if (roi < multiple || roi > 1024 || roi % multiple != 0) {
        throw Error(ErrorKind::Config, "roi",
                    std::to_string(roi) + " is not a multiple of " + std::to_string(multiple) +
                        " (2^(stages-1) of this network) up to 1024");
    }
    SlidingWindowOptions w;
    w.roi = {roi, roi, roi};
    w.overlap = options.overlap;
    w.windowBatch = options.windowBatch;
    w.blend = BlendMode::Gaussian;
    w.sigmaScale = 0.125;
    w.mirror = options.mirrorTta;
    w.validate("sliding window");
    return w;
}

namespace {

/// A label map as a Float32 volume (for the window extractor); `offset` is added to each value.
Volume labelsAsFloat(const LabelMap& labels)
{
    Volume out(labels.size(), 1, PixelType::Float32, labels.geometry());
    float* o = out.data<float>();
    for (std::size_t v = 0; v < labels.voxelCount(); ++v) {
        o[v] = labels.pixelType() == PixelType::UInt8 ? labels.data<std::uint8_t>()[v]
                                                      : labels.data<std::uint16_t>()[v];
    }
    return out;
}

/// Window `w` of a prepared label volume (`asFloat`) as int64 (count, D, H, W) after `offset`.
at::Tensor labelWindows(const SlidingWindowPlan& plan, const Volume& asFloat, int first, int count,
                        double offset, const c10::Device& device)
{
    const auto& roi = plan.roi();
    const auto voxels = static_cast<std::size_t>(plan.roiVoxels());
    std::vector<float> values(voxels * static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        plan.extractWindow(asFloat, first + i,
                           values.data() + voxels * static_cast<std::size_t>(i));
    }
    return (at::from_blob(values.data(), {count, roi[2], roi[1], roi[0]}, at::kFloat).round() +
            offset)
        .to(at::kLong)
        .to(device);
}

std::vector<std::int64_t> labelDims(const std::vector<std::int64_t>& imageDims)
{
    std::vector<std::int64_t> dims;
    for (std::int64_t d : imageDims) {
        dims.push_back(d - 1); // (B, D, H, W) has no channel axis
    }
    return dims;
}

} // namespace

Segment3DResult Segmenter3D::segment(const Volume& image, const Segment3DOptions& options,
                                     const Segment3DCallback& callback, const CancelToken& cancel)
{
    return run(image, options, nullptr, callback, cancel);
}

Segment3DResult Segmenter3D::run(const Volume& image, const Segment3DOptions& options,
                                 const Guidance* guidance, const Segment3DCallback& callback,
                                 const CancelToken& cancel)
{
    Impl& impl = *m_impl;
    std::lock_guard<std::mutex> lock(impl.mutex);
    const auto start = Clock::now();
    const VolumeModelInfo& info = impl.info;
    const int classes = info.network.numClasses;
    const int steps = options.steps;
    if (steps < 1 || steps > 1000) {
        throw Error(ErrorKind::Config, "steps",
                    "must lie in 1..1000, got " + std::to_string(steps));
    }
    const SlidingWindowOptions windowing = windowOptions(options);
    if (options.uncertainty == VolumeUncertainty::MirrorVariance && !options.mirrorTta) {
        throw Error(ErrorKind::Config, "uncertainty",
                    "'mirror' needs mirror TTA (the variance over the 8 flips)");
    }
    if (options.uncertainty == VolumeUncertainty::StepEntropy && !options.stepPredictions) {
        throw Error(ErrorKind::Config, "uncertainty",
                    "'steps' needs the step predictions (stepPredictions)");
    }
    if (image.empty()) {
        throw Error(ErrorKind::InvalidValue, "volume", "is empty");
    }
    if (image.channels() != info.network.inChannels) {
        throw Error(ErrorKind::Mismatch, "volume",
                    "has " + std::to_string(image.channels()) + " channel(s) but the model " +
                        info.path + " expects " + std::to_string(info.network.inChannels));
    }
    cancel.throwIfCancelled("volume segmentation");
    // A refinement skips the first steps: everything per step counts the steps that run.
    const int runSteps = guidance ? steps - guidance->startStep : steps;

    Segment3DResult result;
    result.classes = classes;
    result.steps = runSteps;
    result.timings.load = info.loadSeconds;
    const PreparedVolume prepared = prepareVolume(image, info.preparation, "volume");
    const SlidingWindowPlan plan(prepared.image.size(), windowing);
    result.windowCount = plan.windowCount();
    result.batchCount = plan.batchCount();
    result.flips = mirrorCount(options.mirrorTta);
    result.roi = plan.roi();
    result.preparedSize = prepared.image.size();
    result.preparedGeometry = prepared.image.geometry();
    result.cropBox = prepared.box;

    const bool keepSteps = options.stepPredictions;
    if (keepSteps) {
        // Built before the windows run, so that a budget too small fails at once.
        StepCacheConfig cacheConfig = StepCacheConfig::forVolume(
            image.size(), image.geometry(), std::max(1, classes - 1), runSteps);
        cacheConfig.budgetBytes = options.stepCacheBudget;
        result.stepCache = std::make_shared<StepCache>(cacheConfig);
    }
    const std::shared_ptr<StepCache>& cache = result.stepCache;
    WindowBlender fused(plan, classes);
    std::vector<std::unique_ptr<WindowBlender>> stepBlenders;
    if (keepSteps) {
        for (int s = 0; s < runSteps; ++s) {
            // Float sums: the step volumes are previews and inputs of the step entropy, and float
            // halves their memory (they all live until the last window batch).
            stepBlenders.push_back(
                std::make_unique<WindowBlender>(plan, classes, BlendPrecision::Float));
        }
    }
    std::optional<WindowBlender> variance;
    if (options.mirrorTta) {
        variance.emplace(plan, 1);
    }
    Volume meanStepProbability;
    if (keepSteps) {
        meanStepProbability = Volume(image.size(), classes, PixelType::Float32, image.geometry());
    }
    const std::vector<double> fill = backgroundLogits(classes);
    // A refinement's start and prompts, prepared like the image (label-aware).
    Volume preparedStart;
    Volume preparedKnown;
    if (guidance) {
        preparedKnown = labelsAsFloat(prepareLabels(guidance->known, prepared));
        if (!guidance->start.empty()) {
            preparedStart = labelsAsFloat(prepareLabels(guidance->start, prepared));
        }
    }
    result.timings.prepare = secondsSince(start);

    // Step s's whole-volume prediction, once the last window batch has added its logits.
    LabelMap stepLabels;
    Volume stepProbabilities;
    const auto completeStep = [&](int s) {
        const auto t0 = Clock::now();
        WindowBlender& blender = *stepBlenders[static_cast<std::size_t>(s)];
        const Volume logits = blender.result(prepared.image.geometry());
        blender.release();
        stepProbabilities = softmaxChannels(restoreScores(logits, prepared, fill));
        stepLabels = withLabelValues(argmaxLabels(stepProbabilities), m_impl->info.labelValues);
        const std::size_t n = stepProbabilities.voxelCount();
        float* mean = meanStepProbability.data<float>();
        const float* p = stepProbabilities.data<float>();
        for (std::size_t i = 0; i < n * static_cast<std::size_t>(classes); ++i) {
            mean[i] += p[i] / static_cast<float>(runSteps);
        }
        std::vector<float> x0(n);
        for (int c = 1; c < classes; ++c) {
            const float* pc = stepProbabilities.channelData<float>(c);
            for (std::size_t i = 0; i < n; ++i) {
                x0[i] = 2.0f * pc[i] - 1.0f;
            }
            cache->put(c - 1, s, x0.data(), n);
        }
        result.timings.steps += secondsSince(t0);
    };

    const c10::InferenceMode inferenceMode;
    // bf16 where asked or native (float32 weights, lowered convolutions), else the reference's
    // CUDA fp16 when asked for.
    const engine::AutocastScope autocast(
        impl.device, info.precision == "bf16"            ? std::optional(at::kBFloat16)
                     : info.precision == "fp16-autocast" ? std::optional(at::kHalf)
                                                         : std::nullopt);
    const auto windowsStart = Clock::now();
    const int flips = result.flips;
    const int total = plan.batchCount() * flips * runSteps;
    const auto roiVoxels = static_cast<std::size_t>(plan.roiVoxels());
    const std::size_t inStride = roiVoxels * static_cast<std::size_t>(image.channels());
    const std::size_t outStride = roiVoxels * static_cast<std::size_t>(classes);
    const auto& roi = plan.roi();
    int done = 0;
    std::vector<float> windows;
    detail::translated(kMemoryAdvice, "volume segmentation", [&] {
        for (int b = 0; b < plan.batchCount(); ++b) {
            cancel.throwIfCancelled("volume segmentation");
            // Plain ints, not structured bindings: the step lambda captures them (C++17).
            const std::pair<int, int> span = plan.batch(b);
            const int first = span.first;
            const int count = span.second;
            windows.resize(inStride * static_cast<std::size_t>(count));
            for (int i = 0; i < count; ++i) {
                plan.extractWindow(prepared.image, first + i,
                                   windows.data() + inStride * static_cast<std::size_t>(i));
            }
            const at::Tensor input =
                at::from_blob(windows.data(), {count, image.channels(), roi[2], roi[1], roi[0]},
                              at::kFloat)
                    .to(impl.device);
            at::Tensor fusedSum;
            at::Tensor probabilitySum;
            at::Tensor probabilitySquares;
            std::vector<at::Tensor> stepSum(static_cast<std::size_t>(runSteps));
            at::Tensor startLabels;
            at::Tensor knownLabels;
            if (guidance) {
                knownLabels = labelWindows(plan, preparedKnown, first, count, -1.0, impl.device);
                if (!guidance->start.empty()) {
                    startLabels = labelWindows(plan, preparedStart, first, count, 0.0, impl.device);
                }
            }
            for (int f = 0; f < flips; ++f) {
                cancel.throwIfCancelled("volume segmentation");
                const std::vector<std::int64_t> dims = flipDims(f);
                const at::Tensor x = dims.empty() ? input : at::flip(input, dims);
                engine::DiffUNetSampleOptions sampling;
                sampling.steps = steps;
                sampling.fusion = options.fusion == StepFusionMethod::Mean
                                      ? engine::StepFusion::Mean
                                      : engine::StepFusion::Uncertainty;
                sampling.timeAsLogSnr = options.timeAsLogSnr;
                sampling.seed = passSeed(options.seed, b, f);
                if (guidance) {
                    const std::vector<std::int64_t> ldims = labelDims(dims);
                    sampling.knownLabels =
                        ldims.empty() ? knownLabels : at::flip(knownLabels, ldims);
                    if (startLabels.defined()) {
                        sampling.startLabels =
                            ldims.empty() ? startLabels : at::flip(startLabels, ldims);
                        sampling.startStep = guidance->startStep;
                    }
                }
                const auto onStep = [&](const engine::DiffUNetStep& s) {
                    bool completed = false;
                    if (keepSteps) {
                        at::Tensor logits = s.logits.to(at::kFloat);
                        if (!dims.empty()) {
                            logits = at::flip(logits, dims);
                        }
                        at::Tensor& sum = stepSum[static_cast<std::size_t>(s.index)];
                        sum = f == 0 ? logits : sum + logits;
                        if (f == flips - 1) {
                            const at::Tensor mean =
                                (flips > 1 ? sum / static_cast<double>(flips) : sum)
                                    .to(at::kCPU)
                                    .contiguous();
                            sum = at::Tensor();
                            const float* values = mean.data_ptr<float>();
                            for (int i = 0; i < count; ++i) {
                                stepBlenders[static_cast<std::size_t>(s.index)]->add(
                                    first + i, values + outStride * static_cast<std::size_t>(i));
                            }
                            if (b == plan.batchCount() - 1) {
                                completeStep(s.index);
                                completed = true;
                            }
                        }
                    }
                    ++done;
                    const double elapsed = secondsSince(windowsStart);
                    if (completed && s.index == 0) {
                        result.timings.firstStepVolume = secondsSince(start);
                    }
                    if (callback) {
                        callback(Segment3DStep{
                            b, plan.batchCount(), first, count, plan.windowCount(), f, flips,
                            s.index, runSteps, done, total, secondsSince(start),
                            elapsed / done * (total - done), completed ? &stepLabels : nullptr,
                            completed ? &stepProbabilities : nullptr, cache});
                    }
                };
                const engine::DiffUNetSample sample =
                    impl.model->sample(x, sampling, onStep, cancel);
                at::Tensor logits = sample.logits.to(at::kFloat);
                if (!dims.empty()) {
                    logits = at::flip(logits, dims);
                }
                fusedSum = f == 0 ? logits : fusedSum + logits;
                if (variance) {
                    const at::Tensor p = at::softmax(logits, 1);
                    probabilitySum = f == 0 ? p : probabilitySum + p;
                    probabilitySquares = f == 0 ? p * p : probabilitySquares + p * p;
                }
            }
            const at::Tensor mean = (flips > 1 ? fusedSum / static_cast<double>(flips) : fusedSum)
                                        .to(at::kCPU)
                                        .contiguous();
            for (int i = 0; i < count; ++i) {
                fused.add(first + i,
                          mean.data_ptr<float>() + outStride * static_cast<std::size_t>(i));
            }
            if (variance) {
                const at::Tensor p = probabilitySum / static_cast<double>(flips);
                const at::Tensor v = (probabilitySquares / static_cast<double>(flips) - p * p)
                                         .clamp_min(0.0)
                                         .mean(1)
                                         .to(at::kCPU)
                                         .contiguous();
                for (int i = 0; i < count; ++i) {
                    variance->add(first + i,
                                  v.data_ptr<float>() + roiVoxels * static_cast<std::size_t>(i));
                }
            }
        }
        return 0;
    });
    stepLabels = LabelMap();
    stepProbabilities = Volume();
    result.timings.windows = secondsSince(windowsStart);
    result.timings.perPass =
        result.timings.windows / static_cast<double>(plan.batchCount() * flips);

    cancel.throwIfCancelled("volume segmentation");
    const auto postStart = Clock::now();
    const Volume logits = fused.result(prepared.image.geometry());
    fused.release();
    result.probabilities = softmaxChannels(restoreScores(logits, prepared, fill));
    if (guidance) {
        // Every prompt is honoured on the source grid, whatever the resampling did: certain of
        // the class the user gave.
        for (std::size_t v = 0; v < result.probabilities.voxelCount(); ++v) {
            const int k = guidance->known.pixelType() == PixelType::UInt8
                              ? guidance->known.data<std::uint8_t>()[v]
                              : guidance->known.data<std::uint16_t>()[v];
            if (k > 0 && k <= classes) {
                for (int c = 0; c < classes; ++c) {
                    result.probabilities.channelData<float>(c)[v] = c == k - 1 ? 1.0f : 0.0f;
                }
            }
        }
    }
    LabelMap classes0 = argmaxLabels(result.probabilities);
    if (options.largestComponent) {
        keepLargestComponents(classes0, guidance ? guidance->known : LabelMap());
    }
    result.labels = withLabelValues(std::move(classes0), m_impl->info.labelValues);
    result.entropy = multiClassEntropy(result.probabilities, EntropyScale::Nats);
    if (keepSteps) {
        result.stepEntropy = multiClassEntropy(meanStepProbability, EntropyScale::Nats);
    }
    if (variance) {
        result.mirrorVariance =
            restoreScores(variance->result(prepared.image.geometry()), prepared, {0.0});
    }
    result.uncertaintySource = options.uncertainty;
    switch (options.uncertainty) {
    case VolumeUncertainty::FusedEntropy:
        result.uncertainty = result.entropy;
        break;
    case VolumeUncertainty::StepEntropy:
        result.uncertainty = result.stepEntropy;
        break;
    case VolumeUncertainty::MirrorVariance:
        result.uncertainty = result.mirrorVariance;
        break;
    }
    result.timings.postprocess = secondsSince(postStart);
    result.timings.total = secondsSince(start);
    return result;
}

} // namespace diffseg::core
