#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace diffseg::core {

/// Exact squared Euclidean distance transform with anisotropic spacing.
///
/// For every voxel centre of an (nx, ny, nz) grid (x fastest), the squared distance in mm^2 to the
/// nearest voxel centre whose `sites` byte is non-zero, with physical coordinates
/// (i * spacing[0], j * spacing[1], k * spacing[2]). Voxels are +infinity when there is no site.
///
/// Algorithm: Felzenszwalb & Huttenlocher's separable lower envelope of parabolas ("Distance
/// transforms of sampled functions", Theory of Computing 8, 2012), one 1D pass per axis in
/// physical units; exact (no chamfer or propagation approximation), O(voxels) time, 8 bytes per
/// voxel of output plus one line of scratch. Computed in double precision, so the result equals a
/// brute-force minimum up to rounding. Pure function, thread-safe. Throws Error(InvalidValue) for a
/// size below 1, a null `sites` pointer, or non-positive / non-finite spacing.
std::vector<double> squaredDistanceTransform(const std::uint8_t* sites,
                                             const std::array<std::int64_t, 3>& size,
                                             const std::array<double, 3>& spacing);

} // namespace diffseg::core
