#pragma once

#include "base/LabelMap.h"

#include <cstddef>

namespace diffseg::core {

/// Keeps, for every label value > 0, only its largest 26-connected component, and sets that
/// label's other voxels to `fill` (0, the background): the post-processing nnU-Net applies to
/// structures that come in one piece (e.g. the hippocampus), which removes stray islands far from
/// the structure (they dominate HD95). Works in place on UInt8 and UInt16 maps; voxels where
/// `keep` (same grid, may be empty) is non-zero are never changed. Returns the voxels changed.
/// Any thread; O(voxels).
std::size_t keepLargestComponents(LabelMap& labels, const LabelMap& keep = {}, int fill = 0);

} // namespace diffseg::core
