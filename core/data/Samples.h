#pragma once

#include "DatasetLayout.h"
#include "base/Image2D.h"
#include "base/LabelMap.h"
#include "base/Volume.h"

#include <string>

namespace diffseg::core {

/// A dermoscopy photo (RGB UInt8) and its lesion mask (1 channel UInt8 {0, 1}), same size.
struct ImageMaskPair
{
    Image2D image;
    Image2D mask;
};

/// Reads a photo and its mask (readImage as RGB, readMask) and checks that they have the same
/// size: Error(Mismatch) naming both files otherwise. Mask errors name the mask file.
ImageMaskPair loadImageMaskPair(const std::string& imagePath, const std::string& maskPath);

/// A volume case: the image channels (readVolumeChannels) and its label map on the same grid.
struct VolumeCase
{
    Volume image;
    LabelMap labels;
};

/// Reads the sample's images as channels and its label map; Error(Mismatch) naming the label map
/// and the first image when their grids (size, spacing, origin, direction within 1e-3) differ.
VolumeCase loadVolumeCase(const DatasetSample& sample);

} // namespace diffseg::core
