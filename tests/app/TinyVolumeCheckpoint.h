#pragma once

#include <QString>

#include <array>

namespace diffseg::test {

/// Writes a freshly initialised tiny Diff-UNet (1 channel in, 2 classes, 3 stages of 4..8
/// features) as one of our checkpoints, with a 16^3 training patch and a preparation that z-scores
/// CT over [-1000, 1000] HU and resamples to `spacingMm` (coarse, so that a GUI test segments a
/// volume in seconds). Weights drawn from `seed`. Returns `path`. Throws core::Error when the file
/// cannot be written.
QString writeTinyDiffUNetCheckpoint(const QString& path, double spacingMm = 8.0, unsigned seed = 1);

} // namespace diffseg::test
