#pragma once

#include "base/Image2D.h"

namespace diffseg::core {

enum class ResizeFilter
{
    Bilinear, ///< half-pixel centres, no antialiasing (torchvision Resize on tensors, cv
              ///< INTER_LINEAR)
    Area,     ///< pixel-area average: better for strong downsampling of photos
    Nearest   ///< source pixel floor(dst * scale), as torch's 'nearest' mode: for masks
};

/// Resizes an image to width x height (OpenCV), keeping channels and pixel type; spacing scales
/// with the size. Throws Error(InvalidValue) for sizes outside 1..Image2D::kMaxSide.
Image2D resizeImage(const Image2D& image, int width, int height,
                    ResizeFilter filter = ResizeFilter::Bilinear);

/// Nearest-neighbour resize of a mask or label image: never creates new values.
Image2D resizeMask(const Image2D& mask, int width, int height);

} // namespace diffseg::core
