// Segmenter3D as a model family behind the Segmenter seam.

#include "Segmenter3D.h"
#include "base/Error.h"

#include <string>

namespace diffseg::core {

ModelCapabilities Segmenter3D::familyCapabilities()
{
    ModelCapabilities c;
    c.family = "Diff-UNet";
    c.input = InputKind::Volume;
    c.maxSteps = 1000;
    c.stepFusion = true;
    c.mirrorTta = true;
    c.slidingWindow = true;
    c.prompts = true; // refine(): spheres and strokes of a class (no box)
    c.uncertaintyMaps = {"entropy", "steps", "mirror"};
    return c;
}

ModelCapabilities Segmenter3D::capabilities() const
{
    const VolumeModelInfo& i = info();
    ModelCapabilities c = familyCapabilities();
    c.channels = i.network.inChannels;
    if (static_cast<int>(i.labelNames.size()) == i.network.numClasses) {
        c.labels = i.labelNames;
    } else {
        c.labels = {"background"};
        for (int k = 1; k < i.network.numClasses; ++k) {
            const int value = k < static_cast<int>(i.labelValues.size())
                                  ? i.labelValues[static_cast<std::size_t>(k)]
                                  : k;
            c.labels.push_back("label " + std::to_string(value));
        }
    }
    c.preprocessing = "cropped to the non-zero box, normalised and resampled as the checkpoint "
                      "says; sliding windows of " +
                      std::to_string(i.inputSize) + "^3 voxels; results on the volume's grid";
    c.labelsNamed = static_cast<int>(i.labelNames.size()) == i.network.numClasses;
    c.labelValues = i.labelValues;
    const Segment3DOptions d = defaultOptions();
    c.defaults.steps = d.steps;
    c.defaults.fusion = stepFusionName(d.fusion);
    c.defaults.overlap = d.overlap;
    c.defaults.windowBatch = d.windowBatch;
    c.defaults.uncertainty = volumeUncertaintyName(d.uncertainty);
    return c;
}

Segment3DOptions Segmenter3D::defaultOptions() const
{
    Segment3DOptions options;
    applyValidatedSettings(info().card, options);
    return options;
}

Segment3DOptions Segmenter3D::optionsFor(const SegmentationRequest& request) const
{
    capabilities().validate(request);
    Segment3DOptions o = defaultOptions();
    if (request.steps > 0) {
        o.steps = request.steps;
    }
    if (!request.fusion.empty()) {
        o.fusion = parseStepFusion(request.fusion);
    }
    o.seed = request.seed;
    if (request.overlap >= 0.0) {
        o.overlap = request.overlap;
    }
    if (request.windowBatch > 0) {
        o.windowBatch = request.windowBatch;
    }
    o.mirrorTta = request.mirrorTta;
    o.roi = request.roi;
    if (!request.uncertainty.empty()) {
        o.uncertainty = parseVolumeUncertainty(request.uncertainty);
    }
    return o;
}

SegmentationRequest Segmenter3D::settingsOf(const Segment3DOptions& options)
{
    SegmentationRequest r;
    r.steps = options.steps;
    r.seed = options.seed;
    r.fusion = stepFusionName(options.fusion);
    r.mirrorTta = options.mirrorTta;
    r.overlap = options.overlap;
    r.windowBatch = options.windowBatch;
    r.roi = options.roi;
    r.uncertainty = volumeUncertaintyName(options.uncertainty);
    return r;
}

void Segmenter3D::completeIdentity(ModelIdentity& identity) const
{
    identity.diffusionSteps = familyCapabilities().maxSteps;
    identity.normalization = normalizationName(info().preparation.normalization);
}

std::vector<int> Segmenter3D::plannedTimesteps(const SegmentationRequest& request,
                                               const SegmentationPrompts* /*refinement*/) const
{
    capabilities().validate(request);
    return {};
}

SegmentationStepEvent Segmenter3D::stepEvent(const Segment3DStep& step)
{
    SegmentationStepEvent event;
    event.done = step.done;
    event.total = step.total;
    event.elapsedSeconds = step.elapsedSeconds;
    event.completedStep = step.stepLabels ? step.step : -1;
    event.volume = &step;
    return event;
}

Segment3DResult Segmenter3D::refineWith(const Volume& image, const SegmentationLabels& current,
                                        const SegmentationPrompts& prompts,
                                        const Segment3DOptions& options,
                                        const Segment3DCallback& callback,
                                        const CancelToken& cancel)
{
    if (prompts.box) {
        throw Error(ErrorKind::InvalidValue, "prompt box",
                    "a box is a photo prompt; click in a slice to refine a volume");
    }
    VolumePrompts own;
    const int classes = info().network.numClasses;
    for (const PromptPoint& click : prompts.clicks) {
        if (click.label < 0 || click.label >= classes) {
            throw Error(ErrorKind::InvalidValue, "prompt click",
                        "class " + std::to_string(click.label) + ": the model knows classes 0.." +
                            std::to_string(classes - 1));
        }
        own.clicks.push_back({click.index, click.label});
    }
    own.radiusMm = prompts.radius;
    own.strokes = prompts.strokes.volume; // the seam's code is VolumePrompts' own
    return refine(image, current.volume, own, options,
                  prompts.strength > 0.0 ? prompts.strength : kInteractiveStrength, callback,
                  cancel);
}

} // namespace diffseg::core
