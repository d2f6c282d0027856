#include "RunDisplay.h"

#include "MaskOps.h"
#include "inference/Segmenter2D.h"
#include "inference/Segmenter3D.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace diffseg::app {

namespace {

/// 1 - p(background) of a softmax volume (Float32, one channel per class), clamped to [0, 1] and
/// stored as `encode` makes it: one pass over the voxels.
template <typename T, typename Encode>
core::Volume foregroundAs(const core::Volume& probabilities, core::PixelType type, Encode encode)
{
    core::Volume out(probabilities.size(), 1, type, probabilities.geometry());
    const float* background = probabilities.channelData<float>(0);
    T* values = out.data<T>();
    for (std::size_t i = 0; i < out.voxelCount(); ++i) {
        values[i] = encode(std::clamp(1.0f - background[i], 0.0f, 1.0f));
    }
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
    // The volumes are valid only during this call: copy what the GUI shows, compactly (the
    // foreground as 8-bit codes, p = code / 255).
    return VolumeStepFrame{
        s->step, core::LabelMap::fromVolume(s->stepLabels->clone()),
        foregroundAs<std::uint8_t>(*s->stepProbabilities, core::PixelType::UInt8, [](float p) {
            return static_cast<std::uint8_t>(p * 255.0f + 0.5f);
        })};
}

void addDisplay(SegmentationOutput& output, const SegmentationJob& job,
                const core::CancelToken& cancel)
{
    if (const auto& volume = output.outcome.volume) {
        // For two classes the foreground shares the voxels of the probabilities' channel 1.
        output.foreground =
            volume->probabilities.channels() == 2
                ? volume->probabilities.channel(1)
                : foregroundAs<float>(volume->probabilities, core::PixelType::Float32,
                                      [](float p) { return p; });
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
