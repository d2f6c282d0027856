#pragma once

#include "base/LabelMap.h"
#include "base/Volume.h"

#include <array>
#include <cstdint>

namespace diffseg::core {

enum class Interpolation
{
    Nearest,
    Linear, ///< trilinear, for intensities
    Label   ///< label-aware: per-label trilinear weights, the label with the largest weight wins
};

/// nnU-Net's new grid size for a target spacing: round(size * spacing / target), at least 1.
std::array<std::int64_t, 3> resampledSize(const std::array<std::int64_t, 3>& size,
                                          const std::array<double, 3>& spacing,
                                          const std::array<double, 3>& targetSpacing);

/// The grid a volume is resampled onto for `targetSpacing`: resampledSize() voxels covering the
/// same field of view (the outer voxel faces stay where they were, as skimage/nnU-Net resize does).
/// The actual spacing is spacing * size / newSize, which equals the target whenever the field of
/// view is a whole number of target voxels; the origin moves by half the spacing change.
Geometry resampledGeometry(const Volume& volume, const std::array<std::int64_t, 3>& newSize);

/// Resamples onto the grid (`size`, `geometry`), which may have any spacing, origin and direction:
/// each output voxel samples the input at the same physical point. Points up to half a voxel
/// outside the input's field of view take the edge value; further out they get `outsideValue`.
/// Keeps the pixel type (Linear rounds for integer types) and the channels.
Volume resampleToGrid(const Volume& volume, const std::array<std::int64_t, 3>& size,
                      const Geometry& geometry, Interpolation interpolation,
                      double outsideValue = 0.0);

/// resampleToGrid() onto resampledGeometry() for a target spacing (mm); Linear for images.
Volume resampleToSpacing(const Volume& volume, const std::array<double, 3>& targetSpacing,
                         Interpolation interpolation = Interpolation::Linear);

/// Label maps: label-aware interpolation; no label appears that was not in the input.
LabelMap resampleLabelMapToSpacing(const LabelMap& labels,
                                   const std::array<double, 3>& targetSpacing);
/// E.g. a prediction made on a resampled grid put back on the source image's grid.
LabelMap resampleLabelMapToGrid(const LabelMap& labels, const std::array<std::int64_t, 3>& size,
                                const Geometry& geometry);

} // namespace diffseg::core
