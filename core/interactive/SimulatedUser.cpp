#include "SimulatedUser.h"

#include "SimulatedCourse.h"
#include "base/Error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace diffseg::core {

namespace {

void requireMask(const Image2D& mask, const char* what)
{
    if (mask.empty() || mask.channels() != 1 || mask.pixelType() != PixelType::UInt8) {
        throw Error(ErrorKind::InvalidValue, what, "must be a 1-channel uint8 mask");
    }
}

cv::Mat wrap(const Image2D& mask)
{
    return cv::Mat(mask.height(), mask.width(), CV_8UC1,
                   const_cast<std::uint8_t*>(mask.data<std::uint8_t>()));
}

/// The largest 8-connected component of `errors` (0/1): its label image and area.
struct Largest
{
    cv::Mat region; ///< CV_8U, 1 inside the component
    int area = 0;
};

Largest largestRegion(const cv::Mat& errors)
{
    Largest out;
    cv::Mat labels;
    cv::Mat stats;
    cv::Mat centroids;
    const int n = cv::connectedComponentsWithStats(errors, labels, stats, centroids, 8, CV_32S);
    int best = 0;
    for (int i = 1; i < n; ++i) {
        if (stats.at<int>(i, cv::CC_STAT_AREA) > out.area) {
            out.area = stats.at<int>(i, cv::CC_STAT_AREA);
            best = i;
        }
    }
    if (best > 0) {
        out.region = labels == best;
    }
    return out;
}

} // namespace

std::optional<PromptClick> nextSimulatedClick(const Image2D& prediction, const Image2D& groundTruth)
{
    requireMask(prediction, "prediction");
    requireMask(groundTruth, "ground truth");
    if (prediction.width() != groundTruth.width() || prediction.height() != groundTruth.height()) {
        throw Error(ErrorKind::Mismatch, "prediction", "has another size than the ground truth");
    }
    const cv::Mat pred = wrap(prediction) != 0;
    const cv::Mat gt = wrap(groundTruth) != 0;
    const Largest misses = largestRegion(gt & ~pred);
    const Largest additions = largestRegion(pred & ~gt);
    if (misses.area == 0 && additions.area == 0) {
        return std::nullopt;
    }
    const bool lesion = misses.area >= additions.area;
    const cv::Mat& region = lesion ? misses.region : additions.region;
    // A one-pixel frame of background, so that the photo's border counts as boundary.
    cv::Mat padded;
    cv::copyMakeBorder(region, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
    cv::Mat distance;
    cv::distanceTransform(padded, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
    float best = -1.0f;
    int bx = 0;
    int by = 0;
    for (int y = 0; y < region.rows; ++y) {
        const float* row = distance.ptr<float>(y + 1) + 1;
        for (int x = 0; x < region.cols; ++x) {
            if (row[x] > best) {
                best = row[x];
                bx = x;
                by = y;
            }
        }
    }
    return PromptClick{bx + 0.5, by + 0.5, lesion};
}

int clicksToReach(const std::vector<double>& dice, double target)
{
    for (std::size_t k = 0; k < dice.size(); ++k) {
        if (dice[k] >= target) {
            return static_cast<int>(k);
        }
    }
    return dice.empty() ? 0 : static_cast<int>(dice.size()) - 1;
}

int InteractiveCourse::clicksTo(double target) const
{
    return clicksToReach(dice, target);
}

InteractiveCourse playSimulatedUser(const Image2D& photo, const Image2D& groundTruth, int maxClicks,
                                    const InteractiveMethod& method)
{
    return detail::playCourse<InteractiveCourse>(photo, groundTruth, maxClicks, method,
                                                 nextSimulatedClick,
                                                 "returned a mask of another size than the photo");
}

Image2D clickDiskMask(int width, int height, const std::vector<PromptClick>& clicks, double radius)
{
    RefinePrompts prompts;
    prompts.clicks = clicks;
    prompts.clickRadius = radius;
    Image2D mask(width, height, 1, PixelType::UInt8);
    applyPrompts(rasterizePrompts(prompts, width, height, width, height), mask);
    return mask;
}

} // namespace diffseg::core
