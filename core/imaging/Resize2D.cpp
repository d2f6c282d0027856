#include "Resize2D.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <memory>

namespace diffseg::core {

Image2D resizeImage(const Image2D& image, int width, int height, ResizeFilter filter)
{
    if (image.empty()) {
        throw Error(ErrorKind::InvalidValue, "", "cannot resize an empty image");
    }
    if (width <= 0 || height <= 0 || width > Image2D::kMaxSide || height > Image2D::kMaxSide) {
        throw Error(ErrorKind::InvalidValue, "",
                    "resize target " + std::to_string(width) + "x" + std::to_string(height) +
                        " is outside 1.." + std::to_string(Image2D::kMaxSide));
    }
    if (image.pixelType() != PixelType::UInt8 && image.pixelType() != PixelType::Float32 &&
        image.pixelType() != PixelType::UInt16 && image.pixelType() != PixelType::Int16) {
        throw Error(ErrorKind::Unsupported, "", "cannot resize this pixel type");
    }
    static const int kDepth[] = {CV_8U, CV_16S, CV_16U, CV_32F};
    const int type = CV_MAKETYPE(kDepth[static_cast<int>(image.pixelType())], image.channels());
    const cv::Mat src(image.height(), image.width(), type, const_cast<void*>(image.rawData()));
    auto dst = std::make_shared<cv::Mat>();
    const int interpolation = filter == ResizeFilter::Nearest ? cv::INTER_NEAREST
                              : filter == ResizeFilter::Area  ? cv::INTER_AREA
                                                              : cv::INTER_LINEAR;
    cv::resize(src, *dst, cv::Size(width, height), 0, 0, interpolation);
    Image2D out = Image2D::wrap(width, height, image.channels(), image.pixelType(),
                                PixelBuffer::wrap(dst->data, dst->total() * dst->elemSize(), dst));
    out.setSpacing(
        {image.spacing()[0] * image.width() / width, image.spacing()[1] * image.height() / height});
    return out;
}

Image2D resizeMask(const Image2D& mask, int width, int height)
{
    return resizeImage(mask, width, height, ResizeFilter::Nearest);
}

} // namespace diffseg::core
