#pragma once

#include "base/Image2D.h"
#include "base/Volume.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace diffseg::core {

/// Which values of a label map count as foreground when it is turned into a binary mask.
struct LabelSelection
{
    bool anyNonZero = true; ///< true: every non-zero label; false: only `label`
    int label = 1;

    static LabelSelection any() { return LabelSelection{true, 1}; }
    static LabelSelection only(int value) { return LabelSelection{false, value}; }
    /// "any non-zero label" or "label 3", for messages and reports.
    std::string describe() const;
};

/// A binary mask on a 2D or 3D voxel grid with its spacing in mm: what the metrics compare.
///
/// Layout: one byte per voxel, 0 or 1, x fastest: `data[(k * ny + j) * nx + i]` (a 2D image is
/// nz = 1, row-major like Image2D). `dimensions()` is 2 for masks made from an Image2D and 3 for
/// masks made from a Volume; it decides the neighbourhood of the surface definition (4 or 6 face
/// neighbours), so a one-slice volume stays a 3D slab whose voxels are all on its surface.
/// Spacing: mm per voxel along x, y, z (2D: Image2D::spacing(), z = 1). The direction matrix of a
/// volume is ignored because it does not change distances.
///
/// Owns its bytes (a deep copy of the input); not synchronised: share it read-only across threads.
class BinaryMask
{
public:
    BinaryMask() = default;
    /// An all-background mask. Throws Error(InvalidValue) for a size below 1 or above
    /// Volume::kMaxSide on any axis, non-positive or non-finite spacing, or dimensions not 2 or 3
    /// (2D needs size[2] == 1).
    BinaryMask(const std::array<std::int64_t, 3>& size, const std::array<double, 3>& spacing,
               int dimensions);

    /// A 1-channel UInt8 image with values {0, 1} (the Image2D mask convention). Throws
    /// Error(InvalidValue) naming `name` for an empty image, another type or channel count, or any
    /// value other than 0 and 1 (0/255 masks must be converted by their reader first).
    static BinaryMask fromImage(const Image2D& mask, const std::string& name);
    /// A 1-channel UInt8, UInt16 or Int16 volume (e.g. a LabelMap); `selection` picks the
    /// foreground labels. Throws Error(InvalidValue) naming `name` for an empty volume, several
    /// channels or a float type.
    static BinaryMask fromVolume(const Volume& labels, const LabelSelection& selection,
                                 const std::string& name);

    const std::array<std::int64_t, 3>& size() const noexcept { return m_size; }
    const std::array<double, 3>& spacing() const noexcept { return m_spacing; }
    /// Throws Error(InvalidValue) for non-positive or non-finite spacing.
    void setSpacing(const std::array<double, 3>& spacing);
    int dimensions() const noexcept { return m_dimensions; }
    bool empty() const noexcept { return m_data.empty(); }
    std::size_t voxelCount() const noexcept { return m_data.size(); }
    std::uint8_t* data() noexcept { return m_data.data(); }
    const std::uint8_t* data() const noexcept { return m_data.data(); }
    std::uint8_t& at(std::int64_t i, std::int64_t j, std::int64_t k = 0) noexcept
    {
        return m_data[index(i, j, k)];
    }
    std::uint8_t at(std::int64_t i, std::int64_t j, std::int64_t k = 0) const noexcept
    {
        return m_data[index(i, j, k)];
    }
    std::size_t foregroundCount() const noexcept;
    /// "512x512" or "128x128x64" for messages.
    std::string describeSize() const;

private:
    std::size_t index(std::int64_t i, std::int64_t j, std::int64_t k) const noexcept
    {
        return static_cast<std::size_t>((k * m_size[1] + j) * m_size[0] + i);
    }

    std::array<std::int64_t, 3> m_size{0, 0, 0};
    std::array<double, 3> m_spacing{1.0, 1.0, 1.0};
    int m_dimensions = 0;
    std::vector<std::uint8_t> m_data;
};

} // namespace diffseg::core
