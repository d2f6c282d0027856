#pragma once

#include "BinaryMask.h"

#include <cstddef>
#include <limits>
#include <vector>

namespace diffseg::core {

/// Surface voxels of a mask: foreground voxels with at least one face neighbour (4 in 2D, 6 in 3D)
/// that is background, where neighbours outside the grid count as background. This is medpy's
/// `mask ^ binary_erosion(mask, generate_binary_structure(ndim, 1))` (scipy's erosion pads with
/// background), so our surface distances match medpy.metric.binary's voxel for voxel.
/// Returns a mask of the same grid with 1 on surface voxels.
BinaryMask surfaceVoxels(const BinaryMask& mask);

/// Distances between the surfaces of a prediction P and a reference R, in mm.
///
/// Directed sets: d(p, R) for every surface voxel p of P (distance from its centre to the nearest
/// surface-voxel centre of R, exact Euclidean with the spacing), and d(r, P) for every surface
/// voxel r of R. The symmetric set S is their concatenation (|P_s| + |R_s| values).
/// - hausdorff = max(S)
/// - hd95      = 95th percentile of S with linear interpolation between order statistics
///               (numpy.percentile's default): medpy.metric.binary.hd95's definition. MONAI's
///               compute_hausdorff_distance(percentile=95) instead takes the max of the two
///               directed 95th percentiles, which is >= ours.
/// - assd      = mean(S) = (sum d(p, R) + sum d(r, P)) / (|P_s| + |R_s|) (Heimann et al. 2009;
///               MONAI's symmetric average surface distance). medpy's assd is the mean of the two
///               directed means, (asdPredictionToReference + asdReferenceToPrediction) / 2, which
///               differs when the surfaces have different sizes; both directed means are kept.
/// All values are NaN and `defined` is false when either mask is empty (no surface).
struct SurfaceDistanceStats
{
    static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

    bool defined = false;
    double hausdorffMm = kNaN;
    double hd95Mm = kNaN;
    double assdMm = kNaN;
    double asdPredictionToReferenceMm = kNaN;
    double asdReferenceToPredictionMm = kNaN;
    std::size_t predictionSurfaceVoxels = 0;
    std::size_t referenceSurfaceVoxels = 0;
};

/// The directed surface distance sets themselves (for tests and plots).
struct SurfaceDistanceSets
{
    std::vector<double> predictionToReference; ///< d(p, R) for each surface voxel p of P, mm
    std::vector<double> referenceToPrediction; ///< d(r, P) for each surface voxel r of R, mm
};

/// Computes both directed sets. Work is limited to the bounding box of both foregrounds (plus one
/// voxel), so a small lesion in a large image costs little. Empty sets when either mask is empty.
/// Throws Error(Mismatch) when the grids differ in size, dimensions or spacing (relative 1e-6).
SurfaceDistanceSets surfaceDistanceSets(const BinaryMask& prediction, const BinaryMask& reference);

/// The statistics above; throws like surfaceDistanceSets.
SurfaceDistanceStats surfaceDistanceStats(const BinaryMask& prediction,
                                          const BinaryMask& reference);

/// q-th percentile (q in [0, 100]) of `values` with numpy's default linear interpolation:
/// rank = q/100 * (n - 1), interpolated between the neighbouring order statistics. NaN for an
/// empty set. Reorders `values`. Throws Error(InvalidValue) for q outside [0, 100].
double percentileLinear(std::vector<double>& values, double q);

/// Throws Error(Mismatch), naming both inputs, when two masks do not share a grid.
void requireSameGrid(const BinaryMask& prediction, const BinaryMask& reference);

} // namespace diffseg::core
