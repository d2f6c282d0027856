#pragma once

// Confusion counts of two masks or label maps taken as foreground (non-zero) against background,
// straight from their pixels: the one overlap count behind every live Dice in the studio and the
// tools' comparisons. (computeCaseMetrics() adds surface distances and label selections.)

#include "SegmentationMetrics.h"
#include "base/Image2D.h"
#include "base/Volume.h"

namespace diffseg::core {

/// Counts of `prediction` against `reference`: 1-channel uint8 or uint16 images of one size,
/// non-zero = foreground. Throws Error(Mismatch) naming `subject` (what the reference is, e.g.
/// "ground truth") when the sizes differ, Error(InvalidValue) for another pixel type or channels.
ConfusionCounts foregroundCounts(const Image2D& prediction, const Image2D& reference,
                                 const std::string& subject = "reference mask");

/// The same for label maps (or 1-channel uint8/uint16 volumes) on one grid of voxels.
ConfusionCounts foregroundCounts(const Volume& prediction, const Volume& reference,
                                 const std::string& subject = "reference labels");

/// Dice of the foregrounds: overlapMetrics(foregroundCounts(...)).dice (1 for two empty masks).
double foregroundDice(const Image2D& prediction, const Image2D& reference);
double foregroundDice(const Volume& prediction, const Volume& reference);

} // namespace diffseg::core
