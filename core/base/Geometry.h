#pragma once

#include <array>
#include <string>

namespace diffseg::core {

/// Physical placement of a 3D voxel grid, as ITK defines it, in LPS millimetres:
/// physical = origin + direction * (spacing .* index), with index = (i, j, k) along x, y, z.
/// `direction` is row-major 3x3; its columns are the unit directions of the i, j, k axes in LPS.
struct Geometry
{
    std::array<double, 3> spacing{1.0, 1.0, 1.0};
    std::array<double, 3> origin{0.0, 0.0, 0.0};
    std::array<double, 9> direction{1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0};

    std::array<double, 3> indexToPhysical(const std::array<double, 3>& index) const noexcept;
    std::array<double, 3> physicalToIndex(const std::array<double, 3>& point) const noexcept;
    /// True when spacing, origin and direction agree within `tolerance` (absolute, mm / cosine).
    bool isClose(const Geometry& other, double tolerance = 1e-4) const noexcept;
    /// Spacing > 0 and finite, origin finite, direction orthonormal within 1e-3.
    bool isValid() const noexcept;
    /// Three-letter orientation code in DICOM/LPS naming (the letter each axis points *to*),
    /// e.g. "LPS" for an identity direction, "RAS" for a flipped NIfTI-style one.
    std::string orientationCode() const;
};

} // namespace diffseg::core
