#include "MaskOps.h"

#include "base/Error.h"
#include "image/MaskOutline.h"
#include "imaging/Resize2D.h"

#include <QTransform>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace diffseg::app {

namespace {

void requireFloatMap(const core::Image2D& map, const char* what)
{
    if (map.empty() || map.channels() != 1 || map.pixelType() != core::PixelType::Float32) {
        throw core::Error(core::ErrorKind::InvalidValue, what, "must be a 1-channel float32 map");
    }
}

} // namespace

core::Image2D upsampleToMask(const core::Image2D& x0, int width, int height)
{
    requireFloatMap(x0, "x0 estimate");
    const core::Image2D values =
        x0.width() == width && x0.height() == height ? x0 : core::resizeImage(x0, width, height);
    core::Image2D mask(width, height, 1, core::PixelType::UInt8);
    const float* v = values.data<float>();
    std::uint8_t* m = mask.data<std::uint8_t>();
    const std::size_t n = mask.pixelCount();
    for (std::size_t i = 0; i < n; ++i) {
        m[i] = v[i] > 0.0f ? 1 : 0;
    }
    return mask;
}

core::Image2D upsampleMap(const core::Image2D& map, int width, int height, float scale)
{
    requireFloatMap(map, "map");
    core::Image2D out = map.width() == width && map.height() == height
                            ? map.clone()
                            : core::resizeImage(map, width, height);
    float* v = out.data<float>();
    const std::size_t n = out.pixelCount();
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = std::clamp(v[i] * scale, 0.0f, 1.0f);
    }
    return out;
}

core::Image2D downscaleImage(const core::Image2D& image, int maxSide)
{
    const int side = std::max(image.width(), image.height());
    if (image.empty() || side <= maxSide) {
        return image;
    }
    const double f = static_cast<double>(maxSide) / side;
    const int w = std::max(1, static_cast<int>(std::lround(image.width() * f)));
    const int h = std::max(1, static_cast<int>(std::lround(image.height() * f)));
    return core::resizeImage(image, w, h, core::ResizeFilter::Area);
}

core::Image2D majorityMask(const std::vector<core::Image2D>& masks)
{
    if (masks.empty()) {
        return {};
    }
    core::Image2D out(masks[0].width(), masks[0].height(), 1, core::PixelType::UInt8);
    const std::size_t n = out.pixelCount();
    std::uint8_t* o = out.data<std::uint8_t>();
    std::vector<const std::uint8_t*> in;
    for (const core::Image2D& m : masks) {
        if (m.width() != out.width() || m.height() != out.height()) {
            throw core::Error(core::ErrorKind::Mismatch, "ensemble masks", "differ in size");
        }
        in.push_back(m.data<std::uint8_t>());
    }
    const std::size_t k = masks.size();
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t votes = 0;
        for (const std::uint8_t* p : in) {
            votes += p[i] != 0;
        }
        o[i] = 2 * votes > k ? 1 : 0;
    }
    return out;
}

std::size_t countNonZero(const core::Image2D& mask)
{
    if (mask.empty()) {
        return 0;
    }
    const std::uint8_t* p = mask.data<std::uint8_t>();
    return static_cast<std::size_t>(
        std::count_if(p, p + mask.pixelCount(), [](std::uint8_t v) { return v != 0; }));
}

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
    QPainterPath path;
    if (mask.empty()) {
        return path;
    }
    const cv::Mat m(mask.height(), mask.width(), CV_8UC1, const_cast<void*>(mask.rawData()));
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(m, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
    for (const auto& c : contours) {
        if (c.empty()) {
            continue;
        }
        path.moveTo(c[0].x + 0.5, c[0].y + 0.5);
        for (std::size_t i = 1; i < c.size(); ++i) {
            path.lineTo(c[i].x + 0.5, c[i].y + 0.5);
        }
        path.closeSubpath();
    }
    return path;
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
