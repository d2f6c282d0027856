// Segmenter2D as a model family behind the Segmenter seam.

#include "Segmenter2D.h"
#include "base/Error.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace diffseg::core {

namespace {

/// The seam's refinement strength over the interactive settings (0: theirs).
RefineOptions interactiveRefinement(const SegmentationPrompts& prompts)
{
    RefineOptions refine = RefineOptions::interactive();
    if (prompts.strength > 0.0) {
        refine.strength = prompts.strength;
    }
    return refine;
}

} // namespace

ModelCapabilities Segmenter2D::familyCapabilities()
{
    ModelCapabilities c;
    c.family = "DermoSegDiff";
    c.input = InputKind::Photo;
    c.labels = {"background", "lesion"};
    c.labelsNamed = true;
    c.samplers = {"ddpm", "ddim"};
    c.ensemble = true;
    c.prompts = true;
    c.uncertaintyMaps = {"std", "entropy", "instability"};
    return c;
}

ModelCapabilities Segmenter2D::capabilities() const
{
    const ModelInfo& i = info();
    ModelCapabilities c = familyCapabilities();
    c.channels = i.model.channelsG;
    c.preprocessing = "resized to " + std::to_string(i.inputSize) + " x " +
                      std::to_string(i.inputSize) +
                      " (bilinear), min-max normalised to [0, 1]; the mask comes back at the "
                      "photo's size";
    c.maxSteps = i.schedule.timesteps;
    const SegmentOptions d = defaultOptions();
    c.defaults.sampler = samplerMethodName(d.sampler);
    c.defaults.steps = d.steps;
    c.defaults.ensemble = d.ensemble;
    c.defaults.eta = d.eta;
    c.defaults.uncertainty = "entropy";
    return c;
}

SegmentOptions Segmenter2D::optionsFor(const SegmentationRequest& request) const
{
    capabilities().validate(request);
    SegmentOptions o = defaultOptions();
    if (!request.sampler.empty()) {
        const SamplerMethod chosen = parseSamplerMethod(request.sampler);
        if (chosen != o.sampler && request.steps == 0) {
            o.steps = 0; // another sampler than the validated one: its full length
        }
        o.sampler = chosen;
    }
    if (request.steps > 0) {
        o.steps = request.steps;
    }
    if (request.ensemble > 0) {
        o.ensemble = request.ensemble;
    }
    if (request.eta >= 0.0) {
        o.eta = request.eta;
    }
    o.seed = request.seed;
    o.storeNoisy = request.storeNoisy;
    if (request.startFromOtsu >= 0.0) {
        o.startFromOtsu = request.startFromOtsu;
    }
    o.firstLook = request.firstLook;
    if (request.keepEveryStepUpTo > 0) {
        // Every step of every member (x0, and x_t when kept) at one byte a pixel, when it fits.
        const auto side = static_cast<std::size_t>(info().inputSize);
        const std::size_t needed = side * side * plannedTimesteps(o).size() *
                                   static_cast<std::size_t>(o.ensemble) * (o.storeNoisy ? 2u : 1u);
        o.stepCacheBudget =
            std::clamp(needed + (std::size_t(1) << 20), StepCacheConfig::kDefaultBudget2D,
                       std::max(request.keepEveryStepUpTo, StepCacheConfig::kDefaultBudget2D));
    }
    return o;
}

SegmentationRequest Segmenter2D::settingsOf(const SegmentOptions& options)
{
    SegmentationRequest r;
    r.sampler = samplerMethodName(options.sampler);
    r.steps = options.steps;
    r.ensemble = options.ensemble;
    r.eta = options.eta;
    r.seed = options.seed;
    r.storeNoisy = options.storeNoisy;
    r.startFromOtsu = options.startFromOtsu;
    r.firstLook = options.firstLook;
    r.uncertainty = "entropy";
    return r;
}

void Segmenter2D::completeIdentity(ModelIdentity& identity) const
{
    identity.diffusionSteps = info().schedule.timesteps;
}

std::vector<int> Segmenter2D::plannedTimesteps(const SegmentationRequest& request,
                                               const SegmentationPrompts* refinement) const
{
    const SegmentOptions options = optionsFor(request);
    if (refinement == nullptr) {
        return plannedTimesteps(options);
    }
    return plannedRefineTimesteps(options, interactiveRefinement(*refinement));
}

SegmentationStepEvent Segmenter2D::stepEvent(const SegmentStep& step)
{
    SegmentationStepEvent event;
    // A first look (one member's estimate) completes no step.
    event.done = step.firstLook ? step.index : step.index + 1;
    event.total = step.count;
    event.elapsedSeconds = step.elapsedSeconds;
    event.completedStep = step.firstLook ? -1 : step.index;
    event.photo = &step;
    return event;
}

SegmentResult Segmenter2D::refineWith(const Image2D& image, const SegmentationLabels& current,
                                      const SegmentationPrompts& prompts,
                                      const SegmentOptions& options,
                                      const SegmentStepCallback& callback,
                                      const CancelToken& cancel)
{
    RefinePrompts own;
    for (const PromptPoint& click : prompts.clicks) {
        if (click.label != 0 && click.label != 1) {
            throw Error(ErrorKind::InvalidValue, "prompt click",
                        "class " + std::to_string(click.label) +
                            ": a photo model knows background (0) and lesion (1)");
        }
        own.clicks.push_back({click.index[0], click.index[1], click.label == 1});
    }
    own.clickRadius = prompts.radius > 0.0
                          ? prompts.radius
                          : kInteractiveClickRadius * std::max(image.width(), image.height());
    own.box = prompts.box;
    if (!prompts.strokes.empty()) {
        // The seam's code (0 unknown, class + 1) in RefinePrompts' labels.
        const Image2D& strokes = prompts.strokes.photo;
        if (strokes.channels() != 1 || strokes.pixelType() != PixelType::UInt8) {
            throw Error(ErrorKind::Mismatch, "prompt strokes", "must be a 1-channel uint8 map");
        }
        own.strokes = Image2D(strokes.width(), strokes.height(), 1, PixelType::UInt8);
        const std::uint8_t* in = strokes.data<std::uint8_t>();
        std::uint8_t* out = own.strokes.data<std::uint8_t>();
        for (std::size_t i = 0; i < strokes.pixelCount(); ++i) {
            if (in[i] > 2) {
                throw Error(ErrorKind::InvalidValue, "prompt strokes",
                            "code " + std::to_string(in[i]) +
                                ": a photo model knows background (1) and lesion (2)");
            }
            out[i] = in[i] == 0 ? kPromptUnknown : in[i] == 1 ? kPromptBackground : kPromptLesion;
        }
    }
    return refine(image, current.photo, own, options, interactiveRefinement(prompts), callback,
                  cancel);
}

} // namespace diffseg::core
