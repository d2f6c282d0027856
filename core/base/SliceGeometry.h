#pragma once

#include "Geometry.h"

#include <array>
#include <cstdint>

namespace diffseg::core {

enum class SliceOrientation
{
    Axial,
    Coronal,
    Sagittal
};

/// How a voxel grid is shown in an orthogonal slice view, in radiological convention: axial and
/// coronal views put the patient's right on the screen's left; axial has anterior at the top,
/// coronal and sagittal superior at the top, and sagittal anterior on the left.
///
/// Each view uses the voxel axes whose directions are closest to the view's anatomical axes
/// (nearest-orthogonal reslicing, as ITK-SNAP does for oblique scans), flipped where needed, so a
/// RAS-stored NIfTI, a sagittal PSR acquisition and an axial LPS CT all look the same. Screen
/// coordinates (x, y) are in slice pixels, x to the right and y down; one slice pixel is one
/// voxel, `pixelSpacing` gives its size in mm for the aspect ratio.
class SliceGeometry
{
public:
    SliceGeometry(const Geometry& geometry, const std::array<std::int64_t, 3>& size,
                  SliceOrientation orientation);

    SliceOrientation orientation() const noexcept { return m_orientation; }
    /// The voxel axis orthogonal to the view and the number of slices along it.
    int sliceAxis() const noexcept { return m_axes[2]; }
    std::int64_t sliceCount() const noexcept { return m_size[m_axes[2]]; }
    /// Slice size in pixels (width, height) and pixel size in mm.
    std::array<std::int64_t, 2> sliceSize() const noexcept
    {
        return {m_size[m_axes[0]], m_size[m_axes[1]]};
    }
    std::array<double, 2> pixelSpacing() const noexcept
    {
        return {m_spacing[m_axes[0]], m_spacing[m_axes[1]]};
    }
    /// Voxel index shown at screen pixel (x, y) of `slice`.
    std::array<std::int64_t, 3> voxelAt(std::int64_t x, std::int64_t y,
                                        std::int64_t slice) const noexcept;
    /// Screen pixel (x, y) and slice showing voxel (i, j, k).
    std::array<std::int64_t, 3> screenOf(const std::array<std::int64_t, 3>& voxel) const noexcept;
    /// Continuous versions (pixel centres at +0.5) for cursors and brushes.
    std::array<double, 3> voxelAtPoint(double x, double y, std::int64_t slice) const noexcept;
    std::array<double, 2> screenOf(const std::array<double, 3>& voxel) const noexcept;
    /// The voxel axis shown horizontally (0), vertically (1), and whether each is flipped.
    int axis(int which) const noexcept { return m_axes[which]; }
    bool flipped(int which) const noexcept { return m_flip[which]; }
    /// Anatomical letters at the screen's left, right, top and bottom edges (e.g. "R","L","A","P").
    std::array<char, 4> edgeLabels() const noexcept { return m_labels; }

private:
    SliceOrientation m_orientation;
    std::array<std::int64_t, 3> m_size;
    std::array<double, 3> m_spacing;
    std::array<int, 3> m_axes{0, 1, 2}; ///< screen x, screen y, slice normal
    std::array<bool, 3> m_flip{false, false, false};
    std::array<char, 4> m_labels{'R', 'L', 'A', 'P'};
};

} // namespace diffseg::core
