#pragma once

// Small pixel operations of the studio: turning the model's input-size maps into image-size masks
// and heatmaps, overlap with a ground truth, and step frames as pictures. Pure functions on
// core::Image2D (thread-safe); errors are core::Error from the resizers.

#include "base/Image2D.h"

#include <QImage>
#include <QPainterPath>

#include <cstddef>
#include <vector>

namespace diffseg::app {

/// `x0` (1-channel float32, any size) resized bilinearly to width x height, then > 0: uint8 {0,1}.
/// Upsampling the values before thresholding gives smooth outlines (as `diffseg segment` does).
core::Image2D upsampleToMask(const core::Image2D& x0, int width, int height);

/// `map` resized bilinearly to width x height, multiplied by `scale` and clamped to [0, 1].
core::Image2D upsampleMap(const core::Image2D& map, int width, int height, float scale);

/// `image` shrunk (area filter) so that its longer side is at most `maxSide`; itself otherwise.
core::Image2D downscaleImage(const core::Image2D& image, int maxSide);

/// Strict majority vote of uint8 {0,1} masks of one size.
core::Image2D majorityMask(const std::vector<core::Image2D>& masks);

/// Number of nonzero pixels.
std::size_t countNonZero(const core::Image2D& mask);

/// How a step frame is drawn.
enum class FrameStyle
{
    Estimate, ///< x0 in [-1, 1] as gray (black background, white lesion)
    Noisy,    ///< x_t on a fixed scale [-2.5, 2.5], so that the noise visibly settles
    Mask      ///< x0 > 0 as black and white
};
/// A 1-channel float32 frame as an 8-bit gray picture.
QImage frameToImage(const float* values, int width, int height, FrameStyle style);

/// Outlines of a uint8 mask through the centres of its boundary pixels, in image pixels.
QPainterPath maskOutline(const core::Image2D& mask);

/// The outline of `x0` > 0 upsampled to width x height, worked out at most `maxSide` pixels
/// large and scaled to image pixels: a step's mask on a 12-megapixel photo costs a few
/// milliseconds instead of a full-size resize and contour search.
QPainterPath stepOutline(const core::Image2D& x0, int width, int height, int maxSide = 1024);

} // namespace diffseg::app
