#include "Segmenter2D.h"

#include "PromptRegions.h"
#include "SegmenterSupport.h"
#include "base/EnumNames.h"
#include "base/Error.h"
#include "engine/ComputeDevice.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/diffusion/DiffusionSampler.h"
#include "engine/model/DermoSegDiff.h"
#include "engine/model/EnsembleSampling.h"
#include "imaging/Resize2D.h"
#include "metrics/OtsuBaseline.h"
#include "uncertainty/UncertaintyMaps.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <mutex>

namespace diffseg::core {

namespace {

using detail::Clock;
using detail::secondsSince;

constexpr int kMaxEnsemble = 1024;
constexpr EnumName<SamplerMethod> kSamplerNames[] = {{SamplerMethod::Ddpm, "ddpm"},
                                                     {SamplerMethod::Ddim, "ddim"}};
/// What lowers a photo run's device memory, for the out-of-memory error.
constexpr const char* kMemoryAdvice = "a smaller ensemble or the CPU";

engine::SamplerOptions samplerOptions(const SegmentOptions& options)
{
    engine::SamplerOptions s;
    s.kind = options.sampler == SamplerMethod::Ddpm ? engine::SamplerKind::Ddpm
                                                    : engine::SamplerKind::Ddim;
    s.steps = options.steps;
    s.eta = options.eta;
    s.seed = options.seed;
    return s;
}

/// Converts the channel count, keeping the pixel type: gray is replicated to RGB, a gray+alpha
/// image keeps its gray, RGBA drops alpha; RGB to gray uses Rec. 601 luma.
Image2D adaptChannels(const Image2D& image, int channels)
{
    const int in = image.channels();
    if (in == channels) {
        return image;
    }
    Image2D out(image.width(), image.height(), channels, image.pixelType());
    out.setSpacing(image.spacing());
    dispatchPixelType(image.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        const T* src = image.data<T>();
        T* dst = out.data<T>();
        const std::size_t n = image.pixelCount();
        for (std::size_t i = 0; i < n; ++i) {
            const T* p = src + i * static_cast<std::size_t>(in);
            T* q = dst + i * static_cast<std::size_t>(channels);
            if (channels == 1) {
                if (in >= 3) {
                    const double luma =
                        0.299 * double(p[0]) + 0.587 * double(p[1]) + 0.114 * double(p[2]);
                    q[0] = std::is_floating_point<T>::value ? static_cast<T>(luma)
                                                            : static_cast<T>(std::lround(luma));
                } else {
                    q[0] = p[0];
                }
            } else {
                for (int c = 0; c < channels; ++c) {
                    q[c] = in >= 3 ? p[c] : p[0];
                }
            }
        }
    });
    return out;
}

Image2D zeros(int width, int height, const std::array<double, 2>& spacing)
{
    Image2D out(width, height, 1, PixelType::Float32);
    out.setSpacing(spacing);
    return out;
}

Image2D threshold(const Image2D& values)
{
    Image2D mask(values.width(), values.height(), 1, PixelType::UInt8);
    mask.setSpacing(values.spacing());
    const float* v = values.data<float>();
    std::uint8_t* m = mask.data<std::uint8_t>();
    for (std::size_t i = 0; i < values.pixelCount(); ++i) {
        m[i] = v[i] > 0.0f ? 1 : 0;
    }
    return mask;
}

} // namespace

const char* samplerMethodName(SamplerMethod method) noexcept
{
    return enumName(kSamplerNames, method, "ddim");
}

SamplerMethod parseSamplerMethod(const std::string& name, const std::string& subject)
{
    if (const auto method = enumFromName(kSamplerNames, name)) {
        return *method;
    }
    throw Error(ErrorKind::Config, subject,
                "'" + name + "' is not a sampler (" + enumChoices(kSamplerNames) + ")");
}

struct Segmenter2D::Impl : detail::LoadedModel<ModelInfo, engine::DermoSegDiff>
{
    engine::NoiseSchedule schedule;
};

Segmenter2D::Segmenter2D(const std::string& checkpointPath, const ModelLoadOptions& options)
    : m_impl(std::make_unique<Impl>())
{
    Impl& impl = *m_impl;
    ModelInfo& info = impl.info;
    impl.load(checkpointPath, options.device, kMemoryAdvice, [&] {
        engine::Checkpoint checkpoint;
        if (options.reference) {
            options.reference->validate();
            checkpoint = engine::importReferenceCheckpoint(checkpointPath, options.reference->model,
                                                           options.reference->schedule);
            info.format = "reference";
            info.referenceConfig = options.reference->name;
            info.inputSize = options.reference->inputSize;
        } else {
            checkpoint = engine::loadCheckpoint(checkpointPath);
            info.format = "diffseg";
            info.inputSize = checkpoint.info.inputSize;
        }
        info.model = checkpoint.info.model;
        info.schedule = checkpoint.info.schedule;
        impl.describe(checkpoint, options.useEma);
        try {
            info.card = ModelCard::fromJson(checkpoint.info.cardJson, checkpointPath);
        } catch (const Error&) {
            // A malformed card is no reason to refuse the weights; the model has no card then.
        }
        impl.schedule = engine::NoiseSchedule(info.schedule);
        impl.model = engine::DermoSegDiff(info.model, engine::WeightInit::None);
        impl.install(checkpoint, "dsd-");
        const engine::Precision precision =
            engine::resolvePrecision(options.precision, info.device);
        impl.model->setBf16(precision == engine::Precision::Bf16);
        info.precision = engine::precisionName(precision);
    });
}

Segmenter2D::~Segmenter2D() = default;
Segmenter2D::Segmenter2D(Segmenter2D&&) noexcept = default;
Segmenter2D& Segmenter2D::operator=(Segmenter2D&&) noexcept = default;

const ModelInfo& Segmenter2D::info() const noexcept
{
    return m_impl->info;
}

SegmentOptions Segmenter2D::defaultOptions() const
{
    SegmentOptions options;
    const ModelCard& card = m_impl->info.card;
    if (const auto sampler = card.validatedText("sampler")) {
        try {
            options.sampler = parseSamplerMethod(*sampler, "card.validated.sampler");
        } catch (const Error&) {
            return SegmentOptions{}; // a card this build cannot follow: the plain defaults
        }
    }
    if (const auto steps = card.validatedNumber("steps")) {
        options.steps = static_cast<int>(*steps);
    }
    if (const auto ensemble = card.validatedNumber("ensemble")) {
        options.ensemble = std::max(1, static_cast<int>(*ensemble));
    }
    if (const auto eta = card.validatedNumber("eta")) {
        options.eta = *eta;
    }
    if (const auto start = card.validatedNumber("start_from_otsu")) {
        options.startFromOtsu = std::clamp(*start, 0.0, 1.0);
    }
    if (const auto start = card.validatedNumber("start_from_draft")) {
        options.startFromDraft = std::clamp(*start, 0.0, 1.0);
    }
    if (const auto steps = card.validatedNumber("draft_steps")) {
        options.draftSteps = std::max(1, static_cast<int>(*steps));
    }
    return options;
}

std::vector<int> Segmenter2D::plannedTimesteps(const SegmentOptions& options) const
{
    engine::SamplerOptions settings = samplerOptions(options);
    if (const double strength = startStrength(options); strength > 0.0) {
        settings.startTimestep = startTimestepFor(strength);
    }
    return engine::DiffusionSampler(m_impl->schedule, settings).timesteps();
}

std::vector<int> Segmenter2D::plannedRefineTimesteps(const SegmentOptions& options,
                                                     const RefineOptions& refine) const
{
    engine::SamplerOptions settings = samplerOptions(refine.applyTo(options));
    settings.startTimestep = startTimestepFor(refine.strength);
    return engine::DiffusionSampler(m_impl->schedule, settings).timesteps();
}

Image2D Segmenter2D::preprocess(const Image2D& image, int size, int channels)
{
    if (image.empty()) {
        throw Error(ErrorKind::InvalidValue, "image", "is empty");
    }
    if (size < 1 || size > 4096) {
        throw Error(ErrorKind::InvalidValue, "input size",
                    std::to_string(size) + " is outside 1..4096");
    }
    if (channels != 1 && channels != 3) {
        throw Error(ErrorKind::Unsupported, "model channels_g",
                    "only 1- or 3-channel image inputs are supported, the model has " +
                        std::to_string(channels));
    }
    const Image2D adapted = adaptChannels(image, channels);
    const Image2D resized = adapted.width() == size && adapted.height() == size
                                ? adapted
                                : resizeImage(adapted, size, size, ResizeFilter::Bilinear);
    Image2D out(size, size, channels, PixelType::Float32);
    out.setSpacing(resized.spacing());
    float* dst = out.data<float>();
    const std::size_t n = resized.pixelCount() * static_cast<std::size_t>(channels);
    double lo = 0.0;
    double hi = 0.0;
    dispatchPixelType(resized.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        const T* src = resized.data<T>();
        lo = hi = static_cast<double>(src[0]);
        for (std::size_t i = 0; i < n; ++i) {
            const double v = static_cast<double>(src[i]);
            if (!std::isfinite(v)) {
                throw Error(ErrorKind::InvalidValue, "image", "contains NaN or infinite values");
            }
            lo = std::min(lo, v);
            hi = std::max(hi, v);
            dst[i] = static_cast<float>(v);
        }
    });
    // The reference divides 0/0 for a flat image and its NaN guard then sets 0.5 (spec §A2.3).
    const double range = hi - lo;
    for (std::size_t i = 0; i < n; ++i) {
        dst[i] =
            range > 0.0 ? static_cast<float>((static_cast<double>(dst[i]) - lo) / range) : 0.5f;
    }
    return out;
}

/// A refinement's inputs at the network's size (and its prompts at the photo's).
struct Segmenter2D::Guidance
{
    int startTimestep = -1;
    Image2D start;        ///< S x S float32 in {-1, 1}, or empty: from noise
    Image2D promptsInput; ///< S x S PromptLabel
    Image2D promptsPhoto; ///< the photo's size, PromptLabel
    int resampleJumps = 0;
};

SegmentResult Segmenter2D::segment(const Image2D& image, const SegmentOptions& options,
                                   const SegmentStepCallback& callback, const CancelToken& cancel)
{
    const double strength = startStrength(options);
    if (strength <= 0.0) {
        return run(image, options, nullptr, callback, cancel);
    }
    // SDEdit from a first outline: the model keeps what it agrees with and redraws the rest (its
    // ensemble still gives the uncertainty).
    SegmentOptions plain = options;
    plain.startFromOtsu = 0.0;
    plain.startFromDraft = 0.0;
    RefineOptions start;
    start.strength = strength;
    if (options.startFromDraft <= 0.0) {
        return refine(image, otsuBaseline(image).mask, {}, plain, start, callback, cancel);
    }
    // The draft: a few deterministic DDIM steps from noise. A model that learned to read the
    // mask left in the schedule's last step (sqrt(alpha_bar_T) of it) over-grows the lesion from
    // pure noise; its draft still says where the lesion is, which is all the start needs.
    SegmentOptions draftOptions = plain;
    draftOptions.sampler = SamplerMethod::Ddim;
    draftOptions.steps = std::max(1, options.draftSteps);
    draftOptions.eta = 0.0;
    draftOptions.storeNoisy = false;
    draftOptions.firstLook = false; // nobody sees the draft's steps
    const SegmentResult draft = run(image, draftOptions, nullptr, {}, cancel);
    SegmentResult out = refine(image, draft.mask, {}, plain, start, callback, cancel);
    out.timings.draft = draft.timings.total;
    out.timings.firstPreview += draft.timings.total;
    out.timings.total += draft.timings.total;
    return out;
}

double Segmenter2D::startStrength(const SegmentOptions& options)
{
    return options.startFromDraft > 0.0 ? options.startFromDraft : options.startFromOtsu;
}

int Segmenter2D::startTimestepFor(double strength) const
{
    return static_cast<int>(std::lround(strength * (m_impl->schedule.timesteps() - 1)));
}

SegmentResult Segmenter2D::refine(const Image2D& image, const Image2D& currentMask,
                                  const RefinePrompts& prompts, const SegmentOptions& options,
                                  const RefineOptions& refine, const SegmentStepCallback& callback,
                                  const CancelToken& cancel)
{
    if (!(refine.strength > 0.0 && refine.strength <= 1.0)) {
        throw Error(ErrorKind::Config, "refine strength",
                    std::to_string(refine.strength) + " is outside (0, 1]");
    }
    if (image.empty()) {
        throw Error(ErrorKind::InvalidValue, "image", "is empty");
    }
    const int size = m_impl->info.inputSize;
    const int width = image.width();
    const int height = image.height();
    Guidance g;
    g.startTimestep = startTimestepFor(refine.strength);
    g.resampleJumps = std::max(0, refine.resampleJumps);
    const RefinePrompts held =
        withBackgroundRegions(prompts, image, currentMask, refine.backgroundRegionTolerance);
    g.promptsPhoto = rasterizePrompts(held, width, height, width, height);
    g.promptsInput = rasterizePrompts(held, width, height, size, size);
    if (!currentMask.empty()) {
        if (currentMask.width() != width || currentMask.height() != height ||
            currentMask.channels() != 1 || currentMask.pixelType() != PixelType::UInt8) {
            throw Error(ErrorKind::Mismatch, "current mask",
                        "must be a 1-channel uint8 mask of the image's size");
        }
        // The mask at the network's size: the area average of {0, 1}, then > 1/2, as +-1.
        Image2D values(width, height, 1, PixelType::Float32);
        const std::uint8_t* m = currentMask.data<std::uint8_t>();
        float* v = values.data<float>();
        for (std::size_t i = 0; i < values.pixelCount(); ++i) {
            v[i] = m[i] != 0 ? 1.0f : 0.0f;
        }
        g.start = resizeImage(values, size, size, ResizeFilter::Area);
        float* s = g.start.data<float>();
        for (std::size_t i = 0; i < g.start.pixelCount(); ++i) {
            s[i] = s[i] > 0.5f ? 1.0f : -1.0f;
        }
    }
    return run(image, refine.applyTo(options), &g, callback, cancel);
}

SegmentOptions RefineOptions::applyTo(SegmentOptions options) const
{
    if (steps < 0) {
        throw Error(ErrorKind::Config, "refine steps", std::to_string(steps) + " is negative");
    }
    if (steps > 0 && options.sampler == SamplerMethod::Ddim) {
        options.steps = options.steps > 0 ? std::min(options.steps, steps) : steps;
    }
    return options;
}

SegmentResult Segmenter2D::run(const Image2D& image, const SegmentOptions& options,
                               const Guidance* guidance, const SegmentStepCallback& callback,
                               const CancelToken& cancel)
{
    Impl& impl = *m_impl;
    std::lock_guard<std::mutex> lock(impl.mutex);
    const auto start = Clock::now();
    const ModelInfo& info = impl.info;
    if (options.ensemble < 1 || options.ensemble > kMaxEnsemble) {
        throw Error(ErrorKind::Config, "ensemble",
                    std::to_string(options.ensemble) + " is outside 1.." +
                        std::to_string(kMaxEnsemble));
    }
    if (options.instabilitySteps < 1) {
        throw Error(ErrorKind::Config, "instability steps",
                    "must be at least 1, got " + std::to_string(options.instabilitySteps));
    }
    engine::SamplerOptions samplerSettings = samplerOptions(options);
    if (guidance != nullptr) {
        samplerSettings.startTimestep = guidance->startTimestep;
    }
    const engine::DiffusionSampler sampler(impl.schedule, samplerSettings);
    if (image.empty()) {
        throw Error(ErrorKind::InvalidValue, "image", "is empty");
    }
    cancel.throwIfCancelled("segmentation");

    const int size = info.inputSize;
    const int members = options.ensemble;
    const int width = image.width();
    const int height = image.height();
    const std::array<double, 2> originalSpacing = image.spacing();
    const std::array<double, 2> inputSpacing{originalSpacing[0] * width / size,
                                             originalSpacing[1] * height / size};

    SegmentResult result;
    result.originalWidth = width;
    result.originalHeight = height;
    result.inputSize = size;
    result.members = members;
    result.timesteps = sampler.timesteps();
    result.timings.load = info.loadSeconds;

    const Image2D input = preprocess(image, size, info.model.channelsG);
    const at::Tensor batch = detail::translated(kMemoryAdvice, "image upload", [&] {
        return at::from_blob(const_cast<void*>(input.rawData()), {size, size, info.model.channelsG},
                             at::kFloat)
            .permute({2, 0, 1})
            .unsqueeze(0)
            .clone()
            .to(impl.device);
    });

    StepCacheConfig cacheConfig =
        StepCacheConfig::forImage(size, size, members, sampler.stepCount());
    cacheConfig.budgetBytes = options.stepCacheBudget;
    cacheConfig.storeNoisy = options.storeNoisy;
    cacheConfig.timesteps = result.timesteps;
    cacheConfig.geometry.spacing = {inputSpacing[0], inputSpacing[1], 1.0};
    result.steps = std::make_shared<StepCache>(cacheConfig);
    const std::shared_ptr<StepCache>& cache = result.steps;
    result.timings.preprocess = secondsSince(start);

    const auto samplingStart = Clock::now();
    const auto pixels = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
    bool previewed = false;
    std::vector<Image2D> frames;
    // The x0 estimates of the last N + 1 steps, unquantised and whatever the cache budget drops,
    // for the step-instability map (the frames' pixels are shared, not copied).
    const int instabilityWindow = std::min(options.instabilitySteps, sampler.stepCount() - 1) + 1;
    std::deque<std::vector<Image2D>> recent;
    const engine::SamplerCallback onStep = [&](const engine::SamplerStep& step) {
        const at::Tensor x0 = step.x0Hat.detach().to(at::kCPU, at::kFloat).contiguous();
        const float* values = x0.data_ptr<float>();
        frames.clear();
        bool cached = false;
        for (int k = 0; k < members; ++k) {
            Image2D frame(size, size, 1, PixelType::Float32);
            frame.setSpacing(inputSpacing);
            std::memcpy(frame.data<float>(), values + static_cast<std::size_t>(k) * pixels,
                        pixels * sizeof(float));
            cached = cache->put(k, step.index, frame) || cached;
            frames.push_back(std::move(frame));
        }
        if (options.storeNoisy && cache->isKept(step.index)) {
            const at::Tensor xT = step.xT.detach().to(at::kCPU, at::kFloat).contiguous();
            const float* noisy = xT.data_ptr<float>();
            for (int k = 0; k < members; ++k) {
                cache->put(k, step.index, noisy + static_cast<std::size_t>(k) * pixels, pixels,
                           FrameKind::Noisy);
            }
        }
        recent.push_back(frames);
        if (static_cast<int>(recent.size()) > instabilityWindow) {
            recent.pop_front();
        }
        if (!previewed) {
            previewed = true;
            result.timings.firstPreview = secondsSince(start);
        }
        if (callback) {
            callback(SegmentStep{step.index, step.count, step.t, secondsSince(start),
                                 secondsSince(samplingStart), cached, frames, cache});
        }
    };
    engine::FirstLookCallback onFirstLook;
    if (options.firstLook && members > 1) {
        onFirstLook = [&](const at::Tensor& x0Hat) {
            const at::Tensor x0 = x0Hat.detach().to(at::kCPU, at::kFloat).contiguous();
            Image2D frame(size, size, 1, PixelType::Float32);
            frame.setSpacing(inputSpacing);
            std::memcpy(frame.data<float>(), x0.data_ptr<float>(), pixels * sizeof(float));
            const std::vector<Image2D> look{std::move(frame)};
            previewed = true;
            result.timings.firstPreview = secondsSince(start);
            if (callback) {
                SegmentStep step{0,
                                 sampler.stepCount(),
                                 result.timesteps.front(),
                                 secondsSince(start),
                                 secondsSince(samplingStart),
                                 false,
                                 look,
                                 cache};
                step.firstLook = true;
                callback(step);
            }
        };
    }
    const engine::EnsembleResult sampled = detail::translated(kMemoryAdvice, "sampling", [&] {
        if (guidance == nullptr) {
            return engine::sampleEnsemble(impl.model, sampler, batch, members, onStep, cancel,
                                          nullptr, onFirstLook);
        }
        // The refinement's start and prompts as (1, 1, S, S) tensors on the device.
        const auto plane = [&](const Image2D& values) {
            return at::from_blob(const_cast<void*>(values.rawData()), {1, 1, size, size},
                                 values.pixelType() == PixelType::UInt8 ? at::kByte : at::kFloat)
                .clone()
                .to(impl.device);
        };
        engine::SamplerGuidance g;
        if (!guidance->start.empty()) {
            g.start = plane(guidance->start);
        }
        const at::Tensor labels = plane(guidance->promptsInput);
        const at::Tensor known = labels != kPromptUnknown;
        if (known.any().item<bool>()) {
            // Without a prompt nothing is held: the sampler then skips the per-step noising of
            // the known values (a start from the Otsu outline has no prompts).
            g.known = known;
            g.values = at::where(labels == kPromptLesion, 1.0, -1.0).to(at::kFloat);
        }
        g.resampleJumps = guidance->resampleJumps;
        return engine::sampleEnsemble(impl.model, sampler, batch, members, onStep, cancel, &g,
                                      onFirstLook);
    });
    frames.clear();
    const at::Tensor samples = sampled.samples.detach().to(at::kCPU, at::kFloat).contiguous();
    const at::Tensor mean = sampled.mean.detach().to(at::kCPU, at::kFloat).contiguous();
    result.timings.sampling = secondsSince(samplingStart);

    cancel.throwIfCancelled("segmentation");
    const auto postStart = Clock::now();
    for (int k = 0; k < members; ++k) {
        Image2D x0(size, size, 1, PixelType::Float32);
        x0.setSpacing(inputSpacing);
        std::memcpy(x0.data<float>(),
                    samples.data_ptr<float>() + static_cast<std::size_t>(k) * pixels,
                    pixels * sizeof(float));
        result.memberX0.push_back(std::move(x0));
    }
    result.meanX0 = Image2D(size, size, 1, PixelType::Float32);
    result.meanX0.setSpacing(inputSpacing);
    std::memcpy(result.meanX0.data<float>(), mean.data_ptr<float>(), pixels * sizeof(float));
    result.maskInput = threshold(result.meanX0);
    if (guidance != nullptr) {
        applyPrompts(guidance->promptsInput, result.maskInput);
    }

    std::vector<Image2D> probabilities;
    probabilities.reserve(result.memberX0.size());
    for (const Image2D& x0 : result.memberX0) {
        probabilities.push_back(probabilityFromX0(x0));
    }
    result.probability = ensembleMean(probabilities);
    result.uncertaintyStd = ensembleStd(probabilities);
    result.uncertaintyEntropy = binaryEntropy(result.probability, EntropyScale::Nats);
    if (recent.size() >= 2) {
        std::vector<std::vector<Image2D>> trajectories(static_cast<std::size_t>(members));
        for (const std::vector<Image2D>& step : recent) {
            for (int k = 0; k < members; ++k) {
                trajectories[static_cast<std::size_t>(k)].push_back(
                    step[static_cast<std::size_t>(k)]);
            }
        }
        result.uncertaintyInstability = stepInstability(trajectories);
        result.uncertaintyInstability.setSpacing(inputSpacing);
        for (int i = sampler.stepCount() - static_cast<int>(recent.size()); i < sampler.stepCount();
             ++i) {
            result.instabilitySteps.push_back(i);
        }
    } else {
        result.uncertaintyInstability = zeros(size, size, inputSpacing);
    }

    // Upsample the mean x0 (not the binary mask) so that the outline is smooth at full size.
    const Image2D meanOriginal = resizeImage(result.meanX0, width, height, ResizeFilter::Bilinear);
    result.mask = threshold(meanOriginal);
    if (guidance != nullptr) {
        // The prompts at the photo's own size win over the upsampled outline.
        applyPrompts(guidance->promptsPhoto, result.mask);
    }
    result.mask.setSpacing(originalSpacing);
    result.probabilityOriginal =
        resizeImage(result.probability, width, height, ResizeFilter::Bilinear);
    result.probabilityOriginal.setSpacing(originalSpacing);
    float* p = result.probabilityOriginal.data<float>();
    for (std::size_t i = 0; i < result.probabilityOriginal.pixelCount(); ++i) {
        p[i] = std::min(1.0f, std::max(0.0f, p[i]));
    }
    result.timings.postprocess = secondsSince(postStart);
    result.timings.total = secondsSince(start);
    return result;
}

} // namespace diffseg::core
