#pragma once

#include "base/LabelMap.h"
#include "base/Volume.h"

#include <array>
#include <cstdint>
#include <optional>

namespace diffseg::core {

/// A box of voxel indices, half-open: begin <= index < end on each axis (x, y, z).
struct BoundingBox
{
    std::array<std::int64_t, 3> begin{0, 0, 0};
    std::array<std::int64_t, 3> end{0, 0, 0};

    std::array<std::int64_t, 3> size() const noexcept
    {
        return {end[0] - begin[0], end[1] - begin[1], end[2] - begin[2]};
    }
    bool operator==(const BoundingBox& other) const noexcept
    {
        return begin == other.begin && end == other.end;
    }
};

/// Smallest box holding every voxel that is non-zero in any channel; nullopt for an all-zero
/// volume.
std::optional<BoundingBox> nonZeroBoundingBox(const Volume& volume);

/// The voxels inside `box`, copied, with the origin moved so that every voxel keeps its physical
/// position. Throws Error(InvalidValue) for a box that is empty or leaves the grid.
Volume cropVolume(const Volume& volume, const BoundingBox& box);
LabelMap cropLabelMap(const LabelMap& labels, const BoundingBox& box);

/// What crop-to-non-zero did, so that results can be put back on the original grid.
struct CroppedVolume
{
    Volume volume;
    BoundingBox box;
    std::array<std::int64_t, 3> originalSize{0, 0, 0};
    Geometry originalGeometry;
};

/// nnU-Net's first preprocessing step: crop to the non-zero box (the whole volume when it is all
/// zero). Keep the result's box and original grid for uncrop().
CroppedVolume cropToNonZero(const Volume& volume);

/// The inverse of a crop: a volume of `originalSize`/`originalGeometry` holding `cropped` inside
/// `box` and `fill` elsewhere. Throws Error(Mismatch) if `cropped` does not have the box's size.
Volume uncropVolume(const Volume& cropped, const BoundingBox& box,
                    const std::array<std::int64_t, 3>& originalSize,
                    const Geometry& originalGeometry, double fill = 0.0);
LabelMap uncropLabelMap(const LabelMap& cropped, const BoundingBox& box,
                        const std::array<std::int64_t, 3>& originalSize,
                        const Geometry& originalGeometry);

} // namespace diffseg::core
