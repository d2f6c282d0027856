#include "Volume.h"

#include <cstdio>

namespace diffseg::core {

namespace {

void validateShape(const std::array<std::int64_t, 3>& size, int channels)
{
    for (std::int64_t s : size) {
        if (s <= 0 || s > Volume::kMaxSide) {
            throw Error(ErrorKind::InvalidValue, "",
                        "volume size " + std::to_string(size[0]) + "x" + std::to_string(size[1]) +
                            "x" + std::to_string(size[2]) + " is outside 1.." +
                            std::to_string(Volume::kMaxSide) + " per axis");
        }
    }
    if (size[0] * size[1] * size[2] > Volume::kMaxVoxels) {
        throw Error(ErrorKind::InvalidValue, "", "volume has too many voxels");
    }
    if (channels <= 0 || channels > Volume::kMaxChannels) {
        throw Error(ErrorKind::InvalidValue, "",
                    "a volume must have 1.." + std::to_string(Volume::kMaxChannels) +
                        " channels, not " + std::to_string(channels));
    }
}

void validateGeometry(const Geometry& geometry)
{
    if (!geometry.isValid()) {
        throw Error(ErrorKind::InvalidValue, "",
                    "invalid geometry: spacing must be positive and finite and the direction "
                    "matrix orthonormal");
    }
}

} // namespace

Volume::Volume(const std::array<std::int64_t, 3>& size, int channels, PixelType type,
               const Geometry& geometry)
    : Volume(size, channels, type, geometry, std::nullopt)
{}

Volume::Volume(const std::array<std::int64_t, 3>& size, int channels, PixelType type,
               const Geometry& geometry, std::optional<PixelBuffer> voxels)
    : PixelStorage(type)
    , m_size(size)
    , m_channels(channels)
    , m_geometry(geometry)
{
    validateShape(size, channels);
    validateGeometry(geometry);
    store(std::move(voxels));
}

Volume Volume::wrap(const std::array<std::int64_t, 3>& size, int channels, PixelType type,
                    const Geometry& geometry, PixelBuffer buffer)
{
    return Volume(size, channels, type, geometry, std::move(buffer));
}

void Volume::setGeometry(const Geometry& geometry)
{
    validateGeometry(geometry);
    m_geometry = geometry;
}

Volume Volume::channel(int c) const
{
    if (c < 0 || c >= m_channels) {
        throw Error(ErrorKind::InvalidValue, "",
                    "channel " + std::to_string(c) + " does not exist (volume has " +
                        std::to_string(m_channels) + ")");
    }
    const std::size_t bytes = voxelCount() * pixelTypeSize(m_type);
    auto* base = static_cast<unsigned char*>(const_cast<void*>(m_buffer.data()));
    // The channel view keeps the whole parent buffer alive through a copy of it.
    auto parent = std::make_shared<PixelBuffer>(m_buffer);
    PixelBuffer view = PixelBuffer::wrap(base + static_cast<std::size_t>(c) * bytes, bytes, parent);
    return wrap(m_size, 1, m_type, m_geometry, std::move(view));
}

std::string Volume::describe() const
{
    char spacing[96];
    std::snprintf(spacing, sizeof spacing, "%gx%gx%g mm", m_geometry.spacing[0],
                  m_geometry.spacing[1], m_geometry.spacing[2]);
    std::string s = std::to_string(m_size[0]) + "x" + std::to_string(m_size[1]) + "x" +
                    std::to_string(m_size[2]);
    if (m_channels > 1) {
        s += " x" + std::to_string(m_channels);
    }
    return s + " " + pixelTypeName(m_type) + ", spacing " + spacing + ", " +
           m_geometry.orientationCode();
}

} // namespace diffseg::core
