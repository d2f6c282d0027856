#pragma once

#include "base/Volume.h"

#include <cstddef>
#include <vector>

namespace diffseg::widgets {

/// The finite values of every stride-th voxel of `channel`, in voxel order, the stride chosen so
/// that about `samples` voxels are read (every voxel of a smaller volume): what the colour maps'
/// and windows' percentiles are taken from, cheaply. Any thread.
std::vector<float> sampleVoxels(const core::Volume& volume, int channel, std::size_t samples);

} // namespace diffseg::widgets
