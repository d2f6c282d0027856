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
    : m_size(size)
    , m_channels(channels)
    , m_type(type)
    , m_geometry(geometry)
{
    validateShape(size, channels);
    validateGeometry(geometry);
    m_buffer = PixelBuffer::allocate(byteSize());
}

Volume Volume::wrap(const std::array<std::int64_t, 3>& size, int channels, PixelType type,
                    const Geometry& geometry, PixelBuffer buffer)
{
    validateShape(size, channels);
    validateGeometry(geometry);
    Volume v;
    v.m_size = size;
    v.m_channels = channels;
    v.m_type = type;
    v.m_geometry = geometry;
    if (buffer.size() < v.byteSize()) {
        throw Error(ErrorKind::InvalidValue, "",
                    "voxel buffer of " + std::to_string(buffer.size()) +
                        " bytes is too small for " + v.describe());
    }
    v.m_buffer = std::move(buffer);
    return v;
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

Volume Volume::clone() const
{
    Volume copy = *this;
    copy.m_buffer = m_buffer.clone();
    return copy;
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

void Volume::checkType(PixelType requested) const
{
    if (requested != m_type) {
        throw Error(ErrorKind::Internal, "",
                    std::string("volume holds ") + pixelTypeName(m_type) + " voxels, not " +
                        pixelTypeName(requested));
    }
}

} // namespace diffseg::core
