#include "ImageConversion.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace diffseg::widgets {

namespace {

void releaseBuffer(void* info)
{
    delete static_cast<core::PixelBuffer*>(info);
}

} // namespace

QImage toQImage(const core::Image2D& image)
{
    if (image.empty()) {
        return {};
    }
    const int w = image.width();
    const int h = image.height();
    const int c = image.channels();
    QImage::Format format = QImage::Format_Invalid;
    if (c == 1) {
        format = QImage::Format_Grayscale8;
    } else if (c == 3) {
        format = QImage::Format_RGB888;
    } else if (c == 4) {
        format = QImage::Format_RGBA8888;
    } else {
        throw core::Error(core::ErrorKind::Unsupported, "",
                          "cannot display an image with " + std::to_string(c) + " channels");
    }
    if (image.pixelType() == core::PixelType::UInt8) {
        auto* keeper = new core::PixelBuffer(image.buffer());
        return QImage(static_cast<const uchar*>(image.rawData()), w, h, w * c, format,
                      releaseBuffer, keeper);
    }
    if (image.pixelType() != core::PixelType::Float32) {
        throw core::Error(core::ErrorKind::Unsupported, "",
                          std::string("cannot display ") + core::pixelTypeName(image.pixelType()) +
                              " images");
    }
    const float* src = image.data<float>();
    const std::size_t n = image.pixelCount() * static_cast<std::size_t>(c);
    float lo = std::numeric_limits<float>::max();
    float hi = std::numeric_limits<float>::lowest();
    for (std::size_t i = 0; i < n; ++i) {
        if (std::isfinite(src[i])) {
            lo = std::min(lo, src[i]);
            hi = std::max(hi, src[i]);
        }
    }
    const float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
    QImage out(w, h, format);
    for (int y = 0; y < h; ++y) {
        uchar* row = out.scanLine(y);
        const float* in = src + static_cast<std::size_t>(y) * w * c;
        for (int i = 0; i < w * c; ++i) {
            const float v = std::isfinite(in[i]) ? (in[i] - lo) * scale : 0.0f;
            row[i] = static_cast<uchar>(std::clamp(v, 0.0f, 255.0f));
        }
    }
    return out;
}

core::Image2D fromQImage(const QImage& image)
{
    const bool gray = image.isGrayscale();
    const QImage converted =
        image.convertToFormat(gray ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
    const int c = gray ? 1 : 3;
    core::Image2D out(converted.width(), converted.height(), c, core::PixelType::UInt8);
    for (int y = 0; y < converted.height(); ++y) {
        std::memcpy(&out.at<std::uint8_t>(0, y), converted.constScanLine(y),
                    static_cast<std::size_t>(converted.width()) * c);
    }
    return out;
}

} // namespace diffseg::widgets
