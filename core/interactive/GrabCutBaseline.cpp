#include "GrabCutBaseline.h"

#include "base/Error.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace diffseg::core {

std::array<int, 4> insetBox(int width, int height, double inset)
{
    const int dx = static_cast<int>(std::lround(width * inset));
    const int dy = static_cast<int>(std::lround(height * inset));
    return {dx, dy, width - dx, height - dy};
}

Image2D grabCutSegment(const Image2D& photo, const std::array<int, 4>& box,
                       const std::vector<PromptClick>& clicks, double radius, int iterations)
{
    if (photo.empty() || photo.channels() != 3 || photo.pixelType() != PixelType::UInt8) {
        throw Error(ErrorKind::InvalidValue, "photo", "GrabCut needs a 3-channel uint8 photo");
    }
    const int w = photo.width();
    const int h = photo.height();
    const int x0 = std::clamp(box[0], 0, w);
    const int y0 = std::clamp(box[1], 0, h);
    const int x1 = std::clamp(box[2], 0, w);
    const int y1 = std::clamp(box[3], 0, h);
    if (x1 <= x0 || y1 <= y0) {
        throw Error(ErrorKind::InvalidValue, "box", "is empty inside the photo");
    }
    // OpenCV wants BGR; the colour models do not care about the order, but keep its convention.
    const cv::Mat rgb(h, w, CV_8UC3, const_cast<std::uint8_t*>(photo.data<std::uint8_t>()));
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    cv::Mat mask(h, w, CV_8UC1, cv::Scalar(cv::GC_BGD));
    mask(cv::Rect(x0, y0, x1 - x0, y1 - y0)).setTo(cv::GC_PR_FGD);
    RefinePrompts prompts;
    prompts.clickRadius = radius;
    const double r = prompts.radiusFor(w, h);
    for (const PromptClick& c : clicks) {
        cv::circle(mask, cv::Point(static_cast<int>(c.x), static_cast<int>(c.y)),
                   std::max(1, static_cast<int>(std::lround(r))),
                   cv::Scalar(c.lesion ? cv::GC_FGD : cv::GC_BGD), cv::FILLED);
    }
    cv::Mat background;
    cv::Mat foreground;
    cv::theRNG().state = 0x12345678; // the colour models start from k-means: fix its seed
    cv::grabCut(bgr, mask, cv::Rect(), background, foreground, std::max(1, iterations),
                cv::GC_INIT_WITH_MASK);
    Image2D out(w, h, 1, PixelType::UInt8);
    std::uint8_t* o = out.data<std::uint8_t>();
    for (int y = 0; y < h; ++y) {
        const std::uint8_t* m = mask.ptr<std::uint8_t>(y);
        for (int x = 0; x < w; ++x) {
            o[static_cast<std::size_t>(y) * w + x] = (m[x] == cv::GC_FGD || m[x] == cv::GC_PR_FGD);
        }
    }
    return out;
}

} // namespace diffseg::core
