#include "OtsuBaseline.h"

#include "base/Error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace diffseg::core {

namespace {

void validate(const Image2D& image, const OtsuBaselineOptions& options)
{
    if (image.empty()) {
        throw Error(ErrorKind::InvalidValue, "image", "image is empty");
    }
    if (image.pixelType() != PixelType::UInt8 || image.channels() == 2) {
        throw Error(ErrorKind::InvalidValue, "image",
                    "the Otsu baseline needs an RGB, RGBA or grey uint8 image, not " +
                        image.describe());
    }
    if (options.workingSide < 0 || (options.workingSide > 0 && options.workingSide < 16)) {
        throw Error(ErrorKind::Config, "workingSide",
                    "must be 0 (full resolution) or at least 16, got " +
                        std::to_string(options.workingSide));
    }
    if (!(options.blurFraction >= 0.0 && options.blurFraction <= 0.1)) {
        throw Error(ErrorKind::Config, "blurFraction",
                    "must be in [0, 0.1], got " + std::to_string(options.blurFraction));
    }
}

cv::Mat greyChannel(const Image2D& image, OtsuChannel channel)
{
    // Image2D's pixels are interleaved exactly like a cv::Mat of CV_8UC<channels>: wrap, no copy.
    const cv::Mat all(image.height(), image.width(), CV_8UC(image.channels()),
                      const_cast<void*>(image.rawData()));
    if (image.channels() == 1) {
        return all.clone();
    }
    cv::Mat out;
    switch (channel) {
    case OtsuChannel::Blue:
        cv::extractChannel(all, out, 2);
        break;
    case OtsuChannel::Luminance:
        cv::cvtColor(all, out, image.channels() == 4 ? cv::COLOR_RGBA2GRAY : cv::COLOR_RGB2GRAY);
        break;
    case OtsuChannel::MinRgb: {
        cv::Mat r, g, b;
        cv::extractChannel(all, r, 0);
        cv::extractChannel(all, g, 1);
        cv::extractChannel(all, b, 2);
        out = cv::min(cv::min(r, g), b);
        break;
    }
    }
    return out;
}

void fillHoles(cv::Mat& binary)
{
    // Background reachable from outside the image stays background; everything else is a hole.
    cv::Mat padded;
    cv::copyMakeBorder(binary, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
    cv::floodFill(padded, cv::Point(0, 0), 2);
    cv::Mat inner = padded(cv::Rect(1, 1, binary.cols, binary.rows));
    binary.setTo(1, inner == 0);
}

void keepOneComponent(cv::Mat& binary, ComponentChoice choice)
{
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8, CV_32S);
    int best = 0;
    double bestScore = -1.0;
    for (int i = 1; i < n; ++i) {
        double score = stats.at<int>(i, cv::CC_STAT_AREA);
        if (choice == ComponentChoice::CentreWeighted) {
            const double cx = centroids.at<double>(i, 0) / binary.cols - 0.5;
            const double cy = centroids.at<double>(i, 1) / binary.rows - 0.5;
            score *= std::exp(-4.0 * (cx * cx + cy * cy));
        }
        if (score > bestScore) {
            bestScore = score;
            best = i;
        }
    }
    binary.setTo(0);
    if (best > 0) {
        binary.setTo(1, labels == best);
    }
}

} // namespace

OtsuBaselineResult otsuBaseline(const Image2D& image, const OtsuBaselineOptions& options)
{
    validate(image, options);
    OtsuBaselineResult result;
    result.mask = Image2D(image.width(), image.height(), 1, PixelType::UInt8);
    result.mask.setSpacing(image.spacing());
    result.lesionFraction = 0.0;

    cv::Mat work = greyChannel(image, options.channel);
    const int longest = std::max(work.cols, work.rows);
    if (options.workingSide > 0 && longest > options.workingSide) {
        const double scale = static_cast<double>(options.workingSide) / longest;
        cv::resize(work, work, cv::Size(), scale, scale, cv::INTER_AREA);
    }
    const double sigma = options.blurFraction * std::max(work.cols, work.rows);
    if (sigma > 0.0) {
        cv::GaussianBlur(work, work, cv::Size(0, 0), sigma);
    }
    double lo = 0.0, hi = 0.0;
    cv::minMaxLoc(work, &lo, &hi);
    if (lo == hi) {
        return result; // nothing to separate
    }
    cv::Mat binary;
    // Lesions are darker than skin: values at or below the threshold are foreground.
    result.threshold = static_cast<int>(
        cv::threshold(work, binary, 0, 1, cv::THRESH_BINARY_INV | cv::THRESH_OTSU));
    if (options.fillHoles) {
        fillHoles(binary);
    }
    keepOneComponent(binary, options.component);

    cv::Mat out(image.height(), image.width(), CV_8UC1, result.mask.rawData());
    if (binary.size() == out.size()) {
        binary.copyTo(out);
    } else {
        // Linear interpolation of the 0/1 mask, cut at 0.5, gives a smoother outline than
        // nearest-neighbour blocks at the original resolution.
        cv::Mat smooth;
        binary.convertTo(smooth, CV_32F);
        cv::resize(smooth, smooth, out.size(), 0, 0, cv::INTER_LINEAR);
        cv::Mat full = smooth >= 0.5f;
        full.convertTo(out, CV_8U, 1.0 / 255.0);
    }
    result.lesionFraction =
        static_cast<double>(cv::countNonZero(out)) / static_cast<double>(out.total());
    return result;
}

Image2D otsuLesionMask(const Image2D& image, const OtsuBaselineOptions& options)
{
    return otsuBaseline(image, options).mask;
}

} // namespace diffseg::core
