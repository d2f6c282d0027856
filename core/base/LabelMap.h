#pragma once

#include "Volume.h"

namespace diffseg::core {

/// A 3D label map: one channel of UInt8 or UInt16 labels (0 = background) on the grid of the
/// volume it segments, with that volume's geometry. Same layout and sharing rules as Volume.
class LabelMap : public Volume
{
public:
    LabelMap() = default;
    /// Allocates an all-background label map. Throws Error(InvalidValue) for a non-label type.
    LabelMap(const std::array<std::int64_t, 3>& size, const Geometry& geometry,
             PixelType type = PixelType::UInt8);
    /// An empty label map on the grid of `reference`.
    static LabelMap like(const Volume& reference, PixelType type = PixelType::UInt8);
    /// Adopts a 1-channel UInt8/UInt16 volume; throws Error(InvalidValue) otherwise.
    static LabelMap fromVolume(const Volume& volume);

    /// True when the label map has the size and (within `tolerance`) the geometry of `volume`.
    bool isAlignedWith(const Volume& volume, double tolerance = 1e-4) const noexcept;
    /// Largest label value present.
    int maxLabel() const;
};

} // namespace diffseg::core
