// Segmenter3D as a model family behind the Segmenter seam.

#include "Segmenter3D.h"
#include "base/Error.h"

namespace diffseg::core {

ModelCapabilities Segmenter3D::capabilities() const
{
    const VolumeModelInfo& i = info();
    ModelCapabilities c;
    c.family = "Diff-UNet";
    c.input = InputKind::Volume;
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
    c.maxSteps = 1000;
    c.stepFusion = true;
    c.mirrorTta = true;
    c.slidingWindow = true;
    c.uncertaintyMaps = {"entropy", "steps", "mirror"};
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

} // namespace diffseg::core
