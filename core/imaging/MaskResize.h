#pragma once

// Turning a network's input-size maps into image-size masks and heat maps, and small mask
// arithmetic, for the session layer, the studio and the CLI. Pure functions on Image2D
// (thread-safe); errors are Error from the checks and the resizers.

#include "base/Image2D.h"

#include <cstddef>
#include <vector>

namespace diffseg::core {

/// `x0` (1-channel float32, any size) resized bilinearly to width x height, then > 0: uint8 {0,1}.
/// Upsampling the values before thresholding gives smooth outlines (as `diffseg segment` does).
/// Throws Error(InvalidValue) for anything but a 1-channel float32 map.
Image2D upsampleToMask(const Image2D& x0, int width, int height);

/// `map` (1-channel float32) resized bilinearly to width x height, multiplied by `scale` and
/// clamped to [0, 1].
Image2D upsampleMap(const Image2D& map, int width, int height, float scale);

/// `image` shrunk (area filter) so that its longer side is at most `maxSide`; itself otherwise.
Image2D downscaleImage(const Image2D& image, int maxSide);

/// Strict majority vote of uint8 {0,1} masks of one size; Error(Mismatch) when sizes differ.
Image2D majorityMask(const std::vector<Image2D>& masks);

/// Number of nonzero pixels of a uint8 mask (0 for an empty one).
std::size_t countNonZero(const Image2D& mask);

} // namespace diffseg::core
