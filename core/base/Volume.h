#pragma once

#include "Error.h"
#include "Geometry.h"
#include "PixelBuffer.h"
#include "PixelStorage.h"
#include "PixelType.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace diffseg::core {

/// A 3D scalar volume with one or several channels (e.g. four MRI modalities) on one grid, placed
/// in LPS space by `geometry()` exactly as ITK does.
///
/// Memory layout: channels are *planar*, each channel a contiguous x-fastest block:
/// `data[((c * nz + k) * ny + j) * nx + i]` for voxel index (i, j, k). One channel is exactly an
/// ITK image buffer and a single-component vtkImageData scalar array (zero-copy), and the whole
/// volume is a contiguous (C, Z, Y, X) tensor.
///
/// Copies share the voxels (see PixelBuffer); clone() copies them. Not thread-safe for writes.
/// Typed access (data<T>(), rawData()) and clone() come from PixelStorage.
class Volume : public PixelStorage<Volume, PixelType::Float32>
{
public:
    static constexpr std::int64_t kMaxSide = 1 << 14;
    static constexpr std::int64_t kMaxVoxels = std::int64_t(1) << 33;
    static constexpr int kMaxChannels = 16;

    Volume() = default;
    /// Allocates zero-filled voxels. Throws Error(InvalidValue) for zero/absurd sizes or an invalid
    /// geometry (non-positive spacing, non-orthonormal direction).
    Volume(const std::array<std::int64_t, 3>& size, int channels, PixelType type,
           const Geometry& geometry = {});
    /// Views existing voxels (e.g. an ITK buffer); throws if the buffer is too small.
    static Volume wrap(const std::array<std::int64_t, 3>& size, int channels, PixelType type,
                       const Geometry& geometry, PixelBuffer buffer);

    const std::array<std::int64_t, 3>& size() const noexcept { return m_size; }
    int channels() const noexcept { return m_channels; }
    const Geometry& geometry() const noexcept { return m_geometry; }
    /// Throws Error(InvalidValue) if `geometry` is not valid.
    void setGeometry(const Geometry& geometry);
    bool empty() const noexcept { return voxelCount() == 0; }
    std::size_t voxelCount() const noexcept
    {
        return static_cast<std::size_t>(m_size[0] * m_size[1] * m_size[2]);
    }
    std::size_t byteSize() const noexcept
    {
        return voxelCount() * static_cast<std::size_t>(m_channels) * pixelTypeSize(m_type);
    }

    /// Typed pointer to the first voxel of channel `c`.
    template <class T>
    T* channelData(int c)
    {
        return data<T>() + static_cast<std::size_t>(c) * voxelCount();
    }
    template <class T>
    const T* channelData(int c) const
    {
        return data<T>() + static_cast<std::size_t>(c) * voxelCount();
    }
    std::size_t linearIndex(std::int64_t i, std::int64_t j, std::int64_t k,
                            int c = 0) const noexcept
    {
        return static_cast<std::size_t>(((c * m_size[2] + k) * m_size[1] + j) * m_size[0] + i);
    }

    /// A volume sharing channel `c` only (zero-copy, same geometry).
    Volume channel(int c) const;
    /// "240x240x155 x2 float32, spacing 1x1x1 mm, LPS" style summary.
    std::string describe() const;

protected:
    std::array<std::int64_t, 3> m_size{0, 0, 0};
    int m_channels = 0;
    Geometry m_geometry;

private:
    /// The one way in: checks the shape and geometry, then views `voxels` or allocates
    /// zero-filled ones.
    Volume(const std::array<std::int64_t, 3>& size, int channels, PixelType type,
           const Geometry& geometry, std::optional<PixelBuffer> voxels);

    friend class PixelStorage<Volume, PixelType::Float32>;
    static constexpr const char* kNoun = "volume";
    static constexpr const char* kElementNoun = "voxel";
};

} // namespace diffseg::core
