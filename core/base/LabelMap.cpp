#include "LabelMap.h"

#include <algorithm>

namespace diffseg::core {

namespace {

void requireLabelType(PixelType type)
{
    if (type != PixelType::UInt8 && type != PixelType::UInt16) {
        throw Error(ErrorKind::InvalidValue, "",
                    std::string("a label map must hold uint8 or uint16 labels, not ") +
                        pixelTypeName(type));
    }
}

} // namespace

LabelMap::LabelMap(const std::array<std::int64_t, 3>& size, const Geometry& geometry,
                   PixelType type)
    : Volume((requireLabelType(type), size), 1, type, geometry)
{}

LabelMap LabelMap::like(const Volume& reference, PixelType type)
{
    return LabelMap(reference.size(), reference.geometry(), type);
}

LabelMap LabelMap::fromVolume(const Volume& volume)
{
    requireLabelType(volume.pixelType());
    if (volume.channels() != 1) {
        throw Error(ErrorKind::InvalidValue, "",
                    "a label map has one channel, not " + std::to_string(volume.channels()));
    }
    LabelMap labels;
    static_cast<Volume&>(labels) = volume;
    return labels;
}

bool LabelMap::isAlignedWith(const Volume& volume, double tolerance) const noexcept
{
    return m_size == volume.size() && m_geometry.isClose(volume.geometry(), tolerance);
}

int LabelMap::maxLabel() const
{
    if (empty()) {
        return 0;
    }
    if (m_type == PixelType::UInt8) {
        const auto* p = data<std::uint8_t>();
        return *std::max_element(p, p + voxelCount());
    }
    const auto* p = data<std::uint16_t>();
    return *std::max_element(p, p + voxelCount());
}

} // namespace diffseg::core
