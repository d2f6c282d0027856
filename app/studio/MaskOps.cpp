#include "MaskOps.h"

#include "base/Error.h"
#include "image/MaskOutline.h"
#include "imaging/Resize2D.h"

#include <QTransform>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace diffseg::app {

QImage frameToImage(const float* values, int width, int height, FrameStyle style)
{
    QImage out(width, height, QImage::Format_Grayscale8);
    const float lo = style == FrameStyle::Noisy ? -2.5f : -1.0f;
    const float hi = -lo;
    for (int y = 0; y < height; ++y) {
        uchar* line = out.scanLine(y);
        const float* in = values + static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
        for (int x = 0; x < width; ++x) {
            if (style == FrameStyle::Mask) {
                line[x] = in[x] > 0.0f ? 255 : 0;
            } else {
                const float t = (std::clamp(in[x], lo, hi) - lo) / (hi - lo);
                line[x] = static_cast<uchar>(std::lround(t * 255.0f));
            }
        }
    }
    return out;
}

QPainterPath maskOutline(const core::Image2D& mask)
{
    // The view's outline, unsimplified: the same contours and path the view draws at tolerance 0.
    return widgets::MaskOutline::fromMask(mask, 0.0).toPath();
}

QPainterPath stepOutline(const core::Image2D& x0, int width, int height, int maxSide)
{
    const double f =
        std::min(1.0, static_cast<double>(maxSide) / std::max(1, std::max(width, height)));
    const int w = std::max(1, static_cast<int>(std::lround(width * f)));
    const int h = std::max(1, static_cast<int>(std::lround(height * f)));
    const core::Image2D mask = upsampleToMask(x0, w, h);
    const QPainterPath path = widgets::MaskOutline::fromMask(mask, 0.5).toPath();
    return QTransform::fromScale(static_cast<double>(width) / w, static_cast<double>(height) / h)
        .map(path);
}

} // namespace diffseg::app
