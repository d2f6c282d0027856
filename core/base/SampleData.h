#pragma once

#include "Image2D.h"
#include "LabelMap.h"
#include "Volume.h"

#include <cstdint>

namespace diffseg::core {

/// A procedural dermoscopy-like photo and its lesion mask.
struct SampleLesion
{
    Image2D image; ///< RGB uint8
    Image2D mask;  ///< 1 channel uint8 in {0, 1}
};

/// A procedural CT-like phantom (int16 HU) with a lesion label map on the same grid.
struct SamplePhantom
{
    Volume volume;
    LabelMap labels; ///< 0 background, 1 lesion
};

/// Generates a skin-textured image with an irregular pigmented lesion and a few hairs.
/// Deterministic for a given (size, seed) on one platform. Throws Error(InvalidValue) if size < 16.
SampleLesion makeSampleLesion(int size, std::uint32_t seed);

/// Generates an abdomen-like CT phantom: air, fat, soft tissue, lungs, a vertebra and a lesion,
/// with spacing `spacingMm` and an identity (LPS) direction.
SamplePhantom makeSamplePhantom(int size, double spacingMm, std::uint32_t seed);

} // namespace diffseg::core
