#pragma once

#include "SegmentationRunner.h"

#include <optional>

namespace diffseg::app {

// What the studio shows of a model family's steps and results, made on SegmentationRunner's
// worker (plain data, no widgets): the one place where the runner reads a family's own step
// record and result. A third family adds its case here.

/// The event's step as the GUI's progress (the family's record is valid during the call only).
SegmentationProgress progressOf(const core::SegmentationStepEvent& event);

/// A volume step's whole prediction as a frame for the step browser, when the event completes
/// one; nullopt otherwise (and for photos, whose steps live in the step cache).
std::optional<VolumeStepFrame> stepFrameOf(const core::SegmentationStepEvent& event);

/// Adds what the screen shows of `output.outcome` (photos: the uncertainty heatmaps at the
/// photo's size, the member masks and the gallery; volumes: the foreground probability).
/// Polls `cancel` between the larger pieces.
void addDisplay(SegmentationOutput& output, const SegmentationJob& job,
                const core::CancelToken& cancel);

} // namespace diffseg::app
