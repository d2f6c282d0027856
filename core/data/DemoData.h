#pragma once

#include "base/Image2D.h"
#include "base/LabelMap.h"
#include "base/Volume.h"

#include <array>
#include <cstdint>

namespace diffseg::core {

/// A procedural dermoscopy-like photo with its ground truth, as `generateDermoscopyDemo` makes it.
///
/// The lesion mask is the lesion's extent: hairs are not part of it and do not cut holes into it
/// (as in ISIC ground truth, where a hair crossing a lesion stays inside its outline).
struct DermoscopyDemo
{
    Image2D image; ///< RGB UInt8, width x height
    Image2D mask;  ///< 1 channel UInt8 {0, 1}: the lesion
    Image2D hair;  ///< 1 channel UInt8 {0, 1}: pixels mostly covered by a hair (for tests, tools)
    bool blueWhiteVeil = false; ///< whether this lesion has a blue-white veil
};

/// Generates a dermoscopy-like RGB photo of `width` x `height` pixels: skin with low-frequency
/// colour variation, furrows, pores and sensor noise, an optional dark lens border, an irregular
/// pigmented lesion (fractal outline, darker core, colour variegation, a pigment network, dots,
/// sometimes a blue-white veil) and dark thin curved hairs, some of them over the lesion.
///
/// Every feature is laid out in units of min(width, height), so that sizes differ in resolution,
/// not in content. Deterministic: the same (width, height, seed) gives the same bytes; the random
/// numbers come from PortableRandom and integer hashes (no std:: distributions), so they do not
/// depend on the standard library. Thread-safe (no shared state). Throws Error(InvalidValue) when
/// a side is below 16 or above Image2D::kMaxSide.
DermoscopyDemo generateDermoscopyDemo(int width, int height, std::uint64_t seed);

/// Tissue classes of the CT phantom (for tests and tools; the label map has only liver/lesion).
enum class CtTissue : std::uint8_t
{
    Air = 0,
    Fat = 1,               ///< subcutaneous and visceral fat, about -100 HU
    SoftTissue = 2,        ///< muscle, bowel and other soft tissue, 20..60 HU
    Liver = 3,             ///< contrast-enhanced (portal venous) liver, about 105 HU
    Lesion = 4,            ///< a hypodense liver lesion, about 60 HU
    Vessel = 5,            ///< contrast-filled aorta (about 190 HU) and inferior vena cava
    Bone = 6,              ///< vertebrae (cortical shell, cancellous core) and ribs, 200..800 HU
    Lung = 7,              ///< aerated lung, about -850 HU
    Organ = 8,             ///< spleen, kidneys, heart: enhancing soft tissue, 90..180 HU
    IntervertebralDisc = 9 ///< discs between vertebral bodies, about 90 HU
};

/// A procedural abdominal CT phantom, as `generateCtPhantomDemo` makes it.
struct CtPhantomDemo
{
    static constexpr std::uint8_t kLiverLabel = 1;
    static constexpr std::uint8_t kLesionLabel = 2;

    Volume volume;    ///< Int16 Hounsfield units, 1 channel, LPS geometry
    LabelMap labels;  ///< UInt8: 0 background, 1 liver (without the lesion), 2 lesion
    LabelMap tissues; ///< UInt8 CtTissue of every voxel (on the same grid)
};

/// Generates an abdominal CT-like volume of `size` voxels (x, y, z): the body outline with
/// subcutaneous fat and a muscle wall, paraspinal muscles, the liver on the patient's right with a
/// lobulated hypodense lesion inside it, the spleen, kidneys, aorta and inferior vena cava, the
/// spine (vertebral bodies with a cortical shell, discs, posterior arches), ribs, and the lung
/// bases with the heart above the diaphragm's domes; Gaussian-like noise of about 12 HU.
///
/// Geometry: identity direction (LPS: i towards the patient's left, j posterior, k superior), the
/// volume centred on the origin, a field of view of 400 x 400 mm in-plane and 200 mm along z, so
/// the spacing is 400/size[0] x 400/size[1] x 200/size[2] mm (0.78 x 0.78 x 2.5 mm for 512 x 512 x
/// 80). Deterministic for (size, seed) (PortableRandom and integer hashes). Thread-safe.
/// Throws Error(InvalidValue) when a side is below 16 or above 1024.
CtPhantomDemo generateCtPhantomDemo(const std::array<std::int64_t, 3>& size, std::uint64_t seed);

} // namespace diffseg::core
