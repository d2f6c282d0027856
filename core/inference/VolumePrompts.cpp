#include "VolumePrompts.h"

#include "base/Error.h"

#include <algorithm>
#include <cmath>

namespace diffseg::core {

LabelMap rasterizeVolumePrompts(const VolumePrompts& prompts, const Volume& reference)
{
    int maxClass = 0;
    for (const VolumeClick& c : prompts.clicks) {
        if (c.label < 0) {
            throw Error(ErrorKind::InvalidValue, "volume click", "has a negative class");
        }
        maxClass = std::max(maxClass, c.label);
    }
    if (!prompts.strokes.empty()) {
        if (prompts.strokes.size() != reference.size()) {
            throw Error(ErrorKind::Mismatch, "strokes", "are not on the volume's grid");
        }
        maxClass = std::max(maxClass, prompts.strokes.maxLabel() - 1);
    }
    const PixelType type = maxClass + 1 <= 255 ? PixelType::UInt8 : PixelType::UInt16;
    LabelMap known(reference.size(), reference.geometry(), type);
    const std::size_t n = known.voxelCount();
    const auto set = [&](std::size_t v, int value) {
        if (type == PixelType::UInt8) {
            known.data<std::uint8_t>()[v] = static_cast<std::uint8_t>(value);
        } else {
            known.data<std::uint16_t>()[v] = static_cast<std::uint16_t>(value);
        }
    };
    if (!prompts.strokes.empty()) {
        for (std::size_t v = 0; v < n; ++v) {
            const int s = prompts.strokes.pixelType() == PixelType::UInt8
                              ? prompts.strokes.data<std::uint8_t>()[v]
                              : prompts.strokes.data<std::uint16_t>()[v];
            set(v, s);
        }
    }
    const auto& size = reference.size();
    const auto& spacing = reference.geometry().spacing;
    const double radius = prompts.radiusMm > 0.0
                              ? prompts.radiusMm
                              : 2.5 * std::min({spacing[0], spacing[1], spacing[2]});
    for (const VolumeClick& c : prompts.clicks) {
        std::array<std::int64_t, 3> lo{};
        std::array<std::int64_t, 3> hi{};
        for (int a = 0; a < 3; ++a) {
            const double reach = radius / spacing[a];
            lo[a] = std::max<std::int64_t>(
                0, static_cast<std::int64_t>(std::floor(c.index[a] - reach)));
            hi[a] = std::min<std::int64_t>(
                size[a], static_cast<std::int64_t>(std::ceil(c.index[a] + reach)));
        }
        for (std::int64_t k = lo[2]; k < hi[2]; ++k) {
            for (std::int64_t j = lo[1]; j < hi[1]; ++j) {
                for (std::int64_t i = lo[0]; i < hi[0]; ++i) {
                    const double dx = (i + 0.5 - c.index[0]) * spacing[0];
                    const double dy = (j + 0.5 - c.index[1]) * spacing[1];
                    const double dz = (k + 0.5 - c.index[2]) * spacing[2];
                    // At least the clicked voxel, however small the radius.
                    const bool own = i == static_cast<std::int64_t>(std::floor(c.index[0])) &&
                                     j == static_cast<std::int64_t>(std::floor(c.index[1])) &&
                                     k == static_cast<std::int64_t>(std::floor(c.index[2]));
                    if (own || dx * dx + dy * dy + dz * dz <= radius * radius) {
                        set(static_cast<std::size_t>((k * size[1] + j) * size[0] + i), c.label + 1);
                    }
                }
            }
        }
    }
    return known;
}

} // namespace diffseg::core
