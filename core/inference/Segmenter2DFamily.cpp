// Segmenter2D as a model family behind the Segmenter seam.

#include "Segmenter2D.h"
#include "base/Error.h"

namespace diffseg::core {

ModelCapabilities Segmenter2D::capabilities() const
{
    const ModelInfo& i = info();
    ModelCapabilities c;
    c.family = "DermoSegDiff";
    c.input = InputKind::Photo;
    c.channels = i.model.channelsG;
    c.labels = {"background", "lesion"};
    c.preprocessing = "resized to " + std::to_string(i.inputSize) + " x " +
                      std::to_string(i.inputSize) +
                      " (bilinear), min-max normalised to [0, 1]; the mask comes back at the "
                      "photo's size";
    c.samplers = {"ddpm", "ddim"};
    c.maxSteps = i.schedule.timesteps;
    c.ensemble = true;
    c.prompts = true;
    c.uncertaintyMaps = {"std", "entropy", "instability"};
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
    return o;
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

} // namespace diffseg::core
