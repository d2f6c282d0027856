#pragma once

#include "IndexBox.h"
#include "base/Image2D.h"
#include "base/Volume.h"

#include <array>
#include <cstddef>
#include <vector>

namespace diffseg::core {

/// A connected region where an uncertainty map exceeds a threshold: what "Next uncertain region"
/// walks through, largest first. Centroids are in voxel index coordinates (continuous; pixel
/// centres at +0.5).
struct UncertainRegion
{
    IndexBox box;
    std::array<double, 3> centroid{0.0, 0.0, 0.0};
    std::size_t voxels = 0;
    double meanValue = 0.0;
    double maxValue = 0.0;
};

/// Connected components (4-connected in 2D, 6-connected in 3D) of `map > threshold` with at least
/// `minVoxels` voxels, sorted by size, largest first. `map` must be a 1-channel Float32 image or
/// volume; non-finite values count as uncertain. Throws Error(InvalidValue) otherwise.
std::vector<UncertainRegion> findUncertainRegions(const Image2D& map, float threshold,
                                                  std::size_t minVoxels = 1);
std::vector<UncertainRegion> findUncertainRegions(const Volume& map, float threshold,
                                                  std::size_t minVoxels = 1);

} // namespace diffseg::core
