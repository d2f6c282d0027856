#pragma once

#include <QString>

namespace diffseg::test {

/// Writes a freshly initialised tiny DermoSegDiff (3 levels, 8 channels, ~0.3 M parameters) as
/// one of our checkpoints: `inputSize` x `inputSize` input, a linear schedule of `timesteps`
/// steps, weights drawn from `seed`. Fast enough that a GUI test samples in well under a second.
/// Returns `path`. Throws core::Error when the file cannot be written.
QString writeTinyCheckpoint(const QString& path, int inputSize = 64, int timesteps = 50,
                            unsigned seed = 1);

} // namespace diffseg::test
