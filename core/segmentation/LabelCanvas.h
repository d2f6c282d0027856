#pragma once

#include "IndexBox.h"
#include "base/Image2D.h"
#include "base/LabelMap.h"

#include <array>
#include <cstdint>

namespace diffseg::core {

/// A plane of a label grid in which 2D editing gestures happen: the slice `index` orthogonal to
/// `axis` (0 = i/sagittal, 1 = j/coronal, 2 = k/axial). Plane coordinates (u, v) are
/// (i, j) for axis 2, (i, k) for axis 1 and (j, k) for axis 0. A 2D mask is the plane {2, 0}.
struct EditPlane
{
    int axis = 2;
    std::int64_t index = 0;
};

/// The two components of `xyz` (a size, a spacing, an index) that lie in the plane orthogonal to
/// `axis`, in the plane's (u, v) order as EditPlane defines it.
template <class T>
constexpr std::array<T, 2> inPlane(const std::array<T, 3>& xyz, int axis) noexcept
{
    switch (axis) {
    case 0:
        return {xyz[1], xyz[2]};
    case 1:
        return {xyz[0], xyz[2]};
    default:
        return {xyz[0], xyz[1]};
    }
}

/// A mutable, non-owning view of the labels an editor changes: a 2D mask (Image2D, 1 channel
/// UInt8) or a 3D label map (UInt8 or UInt16), with the memory layout of core::Volume (x fastest).
/// The viewed image must outlive the canvas. Label values are written as int and stored in the
/// grid's type (values above the type's maximum are rejected with Error(InvalidValue)).
/// Not thread-safe: edit on one thread (the GUI thread).
class LabelCanvas
{
public:
    LabelCanvas() = default;
    /// Throws Error(InvalidValue) unless `mask` is a 1-channel UInt8 image.
    explicit LabelCanvas(Image2D& mask);
    explicit LabelCanvas(LabelMap& labels);

    const std::array<std::int64_t, 3>& size() const noexcept { return m_size; }
    /// Pixel spacing in mm along i, j, k (for brush radii in mm).
    const std::array<double, 3>& spacing() const noexcept { return m_spacing; }
    PixelType pixelType() const noexcept { return m_type; }
    bool valid() const noexcept { return m_data != nullptr; }
    int maxLabel() const noexcept { return m_type == PixelType::UInt8 ? 255 : 65535; }

    int get(std::int64_t i, std::int64_t j, std::int64_t k) const noexcept
    {
        const std::size_t n = linear(i, j, k);
        return m_type == PixelType::UInt8 ? static_cast<const std::uint8_t*>(m_data)[n]
                                          : static_cast<const std::uint16_t*>(m_data)[n];
    }
    void set(std::int64_t i, std::int64_t j, std::int64_t k, int value) noexcept
    {
        const std::size_t n = linear(i, j, k);
        if (m_type == PixelType::UInt8) {
            static_cast<std::uint8_t*>(m_data)[n] = static_cast<std::uint8_t>(value);
        } else {
            static_cast<std::uint16_t*>(m_data)[n] = static_cast<std::uint16_t>(value);
        }
    }
    std::size_t linear(std::int64_t i, std::int64_t j, std::int64_t k) const noexcept
    {
        return static_cast<std::size_t>((k * m_size[1] + j) * m_size[0] + i);
    }
    bool contains(std::int64_t i, std::int64_t j, std::int64_t k) const noexcept
    {
        return i >= 0 && j >= 0 && k >= 0 && i < m_size[0] && j < m_size[1] && k < m_size[2];
    }

    /// Size of `plane` in (u, v) and the spacing along u and v.
    std::array<std::int64_t, 2> planeSize(const EditPlane& plane) const noexcept;
    std::array<double, 2> planeSpacing(const EditPlane& plane) const noexcept;
    /// Voxel index of plane point (u, v).
    std::array<std::int64_t, 3> toIndex(const EditPlane& plane, std::int64_t u,
                                        std::int64_t v) const noexcept;
    /// The whole plane as a box; throws Error(InvalidValue) for a bad axis or slice.
    IndexBox planeBox(const EditPlane& plane) const;
    void checkValue(int value) const;

private:
    void* m_data = nullptr;
    std::array<std::int64_t, 3> m_size{0, 0, 0};
    std::array<double, 3> m_spacing{1.0, 1.0, 1.0};
    PixelType m_type = PixelType::UInt8;
};

} // namespace diffseg::core
