#pragma once

// The studio's pictures of masks and steps (Qt images and outlines); the mask resizing it
// re-exports is core's (imaging/MaskResize.h). Pure functions on
// core::Image2D (thread-safe); errors are core::Error from the resizers.

#include "base/Image2D.h"
#include "imaging/MaskResize.h"

#include <QImage>
#include <QPainterPath>

#include <cstddef>
#include <vector>

namespace diffseg::app {

// The pixel math itself lives in core/imaging (the session layer uses it too).
using core::countNonZero;
using core::downscaleImage;
using core::majorityMask;
using core::upsampleMap;
using core::upsampleToMask;

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
