#include "ImageWriter.h"

#include "AtomicWrite.h"
#include "FileUtils.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <vector>

namespace diffseg::core {

namespace {

cv::Mat viewOf(const Image2D& image)
{
    const int depth = image.pixelType() == PixelType::UInt8 ? CV_8U : CV_32F;
    return cv::Mat(image.height(), image.width(), CV_MAKETYPE(depth, image.channels()),
                   const_cast<void*>(image.rawData()));
}

void encodeAndWrite(const cv::Mat& mat, const std::string& path, const std::string& extension,
                    const std::vector<int>& params)
{
    std::vector<unsigned char> encoded;
    bool ok = false;
    try {
        ok = cv::imencode(extension, mat, encoded, params);
    } catch (const cv::Exception& e) {
        throw Error(ErrorKind::InvalidValue, path, "cannot encode the image: " + e.err);
    }
    if (!ok) {
        throw Error(ErrorKind::InvalidValue, path,
                    "the " + extension + " encoder refused the image");
    }
    writeFileAtomically(path, encoded.data(), encoded.size());
}

} // namespace

void writeMaskPng(const Image2D& mask, const std::string& path)
{
    if (mask.empty() || mask.channels() != 1 || mask.pixelType() != PixelType::UInt8) {
        throw Error(ErrorKind::InvalidValue, path,
                    "a mask to write must be a 1-channel uint8 image, not " + mask.describe());
    }
    cv::Mat out(mask.height(), mask.width(), CV_8U);
    const auto* in = mask.data<std::uint8_t>();
    for (int y = 0; y < mask.height(); ++y) {
        auto* row = out.ptr<std::uint8_t>(y);
        for (int x = 0; x < mask.width(); ++x) {
            const std::uint8_t v = in[static_cast<std::size_t>(y) * mask.width() + x];
            if (v > 1) {
                throw Error(ErrorKind::InvalidValue, path,
                            "mask holds value " + std::to_string(v) + " at pixel (" +
                                std::to_string(x) + ", " + std::to_string(y) +
                                "); expected 0 or 1");
            }
            row[x] = v ? 255 : 0;
        }
    }
    encodeAndWrite(out, path, ".png", {cv::IMWRITE_PNG_COMPRESSION, 6});
}

void writeImage(const Image2D& image, const std::string& path)
{
    if (image.empty()) {
        throw Error(ErrorKind::InvalidValue, path, "cannot write an empty image");
    }
    const std::string ext = fileExtension(path);
    const bool isTiff = ext == ".tif" || ext == ".tiff";
    const bool isJpeg = ext == ".jpg" || ext == ".jpeg";
    if (ext != ".png" && ext != ".bmp" && !isTiff && !isJpeg) {
        throw Error(ErrorKind::Unsupported, path,
                    "unknown image extension '" + ext + "' (use .png, .bmp, .tif or .jpg)");
    }
    if (image.pixelType() != PixelType::UInt8 &&
        !(image.pixelType() == PixelType::Float32 && isTiff)) {
        throw Error(ErrorKind::Unsupported, path,
                    std::string("cannot store ") + pixelTypeName(image.pixelType()) +
                        " pixels in " + ext + " (float32 needs .tif)");
    }
    const cv::Mat view = viewOf(image);
    cv::Mat bgr;
    if (image.channels() == 3) {
        cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);
    } else if (image.channels() == 4) {
        cv::cvtColor(view, bgr, cv::COLOR_RGBA2BGRA);
    } else {
        bgr = view;
    }
    std::vector<int> params;
    if (isJpeg) {
        params = {cv::IMWRITE_JPEG_QUALITY, 95};
    }
    encodeAndWrite(bgr, path, isTiff ? ".tiff" : ext, params);
}

} // namespace diffseg::core
