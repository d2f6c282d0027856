// Refining a volume segmentation from prompts: the guidance that Segmenter3D::run applies in every
// window.

#include "Segmenter3D.h"
#include "base/Error.h"

#include <algorithm>
#include <cmath>

namespace diffseg::core {

namespace {

/// Label values (VolumeModelInfo::labelValues) back to class indices; unknown values are 0.
LabelMap classIndices(const LabelMap& labels, const std::vector<int>& values, int classes)
{
    LabelMap out(labels.size(), labels.geometry(), PixelType::UInt8);
    for (std::size_t v = 0; v < labels.voxelCount(); ++v) {
        const int value = labels.pixelType() == PixelType::UInt8 ? labels.data<std::uint8_t>()[v]
                                                                 : labels.data<std::uint16_t>()[v];
        int index = values.empty() && value < classes ? value : 0;
        for (std::size_t c = 0; c < values.size(); ++c) {
            if (values[c] == value) {
                index = static_cast<int>(c);
            }
        }
        out.data<std::uint8_t>()[v] = static_cast<std::uint8_t>(index);
    }
    return out;
}

} // namespace

Segment3DResult Segmenter3D::refine(const Volume& image, const LabelMap& current,
                                    const VolumePrompts& prompts, const Segment3DOptions& options,
                                    double strength, const Segment3DCallback& callback,
                                    const CancelToken& cancel)
{
    if (!(strength > 0.0 && strength <= 1.0)) {
        throw Error(ErrorKind::Config, "strength", "must lie in (0, 1]");
    }
    if (!current.empty() && current.size() != image.size()) {
        throw Error(ErrorKind::Mismatch, "current labels", "are not on the volume's grid");
    }
    Guidance guidance;
    guidance.known = rasterizeVolumePrompts(prompts, image);
    if (!current.empty()) {
        guidance.start = classIndices(current, info().labelValues, info().network.numClasses);
        guidance.startStep = std::clamp(
            static_cast<int>(std::lround((1.0 - strength) * options.steps)), 0, options.steps - 1);
    }
    return run(image, options, &guidance, callback, cancel);
}

} // namespace diffseg::core
