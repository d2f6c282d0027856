#pragma once

#include "base/Image2D.h"

#include <QImage>

namespace diffseg::widgets {

/// Shows a core::Image2D as a QImage. UInt8 gray/RGB/RGBA images are wrapped without copying
/// (the QImage keeps the pixels alive); float images are min-max scaled to 8 bits (a copy).
/// Throws core::Error(Unsupported) for 2-channel or 16-bit images.
QImage toQImage(const core::Image2D& image);

/// Copies a QImage into an RGB (or gray) uint8 core::Image2D.
core::Image2D fromQImage(const QImage& image);

} // namespace diffseg::widgets
