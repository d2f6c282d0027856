#include "RunDisplay.h"

#include "MaskOps.h"
#include "inference/Segmenter2D.h"
#include "inference/Segmenter3D.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace diffseg::app {

namespace {

/// 1 - p(background) of a softmax volume (Float32, one channel per class), clamped to [0, 1].
core::Volume foregroundOf(const core::Volume& probabilities)
{
    core::Volume out(probabilities.size(), 1, core::PixelType::Float32, probabilities.geometry());
    const float* background = probabilities.channelData<float>(0);
    float* p = out.data<float>();
    for (std::size_t i = 0; i < out.voxelCount(); ++i) {
        p[i] = std::clamp(1.0f - background[i], 0.0f, 1.0f);
    }
    return out;
}

/// The same as 8-bit codes (p = code / 255), for step frames.
core::Volume foregroundCodes(const core::Volume& probabilities)
{
    const core::Volume p = foregroundOf(probabilities);
    core::Volume out(p.size(), 1, core::PixelType::UInt8, p.geometry());
    std::transform(p.data<float>(), p.data<float>() + p.voxelCount(), out.data<std::uint8_t>(),
                   [](float v) { return static_cast<std::uint8_t>(v * 255.0f + 0.5f); });
    return out;
}

} // namespace

SegmentationProgress progressOf(const core::SegmentationStepEvent& event)
{
    SegmentationProgress p;
    p.done = event.done;
    p.total = event.total;
    p.elapsedSeconds = event.elapsedSeconds;
    if (const core::SegmentStep* s = event.photo) {
        p.cache = s->cache;
        p.index = s->index;
        p.t = s->t;
        p.samplingSeconds = s->samplingSeconds;
        p.x0 = s->x0;
        p.firstLook = s->firstLook;
    }
    if (const core::Segment3DStep* s = event.volume) {
        p.cache = s->cache;
        p.etaSeconds = s->etaSeconds;
        p.batch = s->batch;
        p.batchCount = s->batchCount;
        p.firstWindow = s->firstWindow;
        p.windows = s->windows;
        p.windowCount = s->windowCount;
        p.flip = s->flip;
        p.flips = s->flips;
        p.step = s->step;
        p.steps = s->steps;
    }
    return p;
}

std::optional<VolumeStepFrame> stepFrameOf(const core::SegmentationStepEvent& event)
{
    const core::Segment3DStep* s = event.volume;
    if (s == nullptr || s->stepLabels == nullptr || s->stepProbabilities == nullptr) {
        return std::nullopt;
    }
    // The volumes are valid only during this call: copy what the GUI shows, compactly.
    return VolumeStepFrame{s->step, core::LabelMap::fromVolume(s->stepLabels->clone()),
                           foregroundCodes(*s->stepProbabilities)};
}

void addDisplay(SegmentationOutput& output, const SegmentationJob& job,
                const core::CancelToken& cancel)
{
    if (const auto& volume = output.outcome.volume) {
        // For two classes the foreground shares the voxels of the probabilities' channel 1.
        output.foreground = volume->probabilities.channels() == 2
                                ? volume->probabilities.channel(1)
                                : foregroundOf(volume->probabilities);
        return;
    }
    const auto& r = output.outcome.photo;
    if (!r) {
        return;
    }
    const int w = r->originalWidth;
    const int h = r->originalHeight;
    output.uncertaintyDisplay = {
        upsampleMap(r->uncertaintyStd, w, h, 2.0f),
        upsampleMap(r->uncertaintyEntropy, w, h, static_cast<float>(1.0 / std::log(2.0))),
        upsampleMap(r->uncertaintyInstability, w, h, 1.0f)};
    cancel.throwIfCancelled("segmentation");
    for (const core::Image2D& x0 : r->memberX0) {
        output.memberMasks.push_back(upsampleToMask(x0, w, h));
    }
    output.galleryImage = downscaleImage(job.input.photo, job.galleryMaxSide);
    for (const core::Image2D& x0 : r->memberX0) {
        output.galleryMasks.push_back(
            upsampleToMask(x0, output.galleryImage.width(), output.galleryImage.height()));
    }
}

} // namespace diffseg::app
