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
                       const std::vector<PromptClick>& clicks, double radius, int iterations,
                       int maxSide)
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
    RefinePrompts prompts;
    prompts.clickRadius = radius;
    const double r = prompts.radiusFor(w, h);
    // The cut's scale: at most maxSide pixels along the longer side.
    const double f = maxSide > 0 && std::max(w, h) > maxSide
                         ? static_cast<double>(maxSide) / std::max(w, h)
                         : 1.0;
    const int cw = std::max(1, static_cast<int>(std::lround(w * f)));
    const int ch = std::max(1, static_cast<int>(std::lround(h * f)));
    // OpenCV wants BGR; the colour models do not care about the order, but keep its convention.
    const cv::Mat rgb(h, w, CV_8UC3, const_cast<std::uint8_t*>(photo.data<std::uint8_t>()));
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    if (f < 1.0) {
        cv::resize(bgr, bgr, cv::Size(cw, ch), 0.0, 0.0, cv::INTER_AREA);
    }
    cv::Mat mask(ch, cw, CV_8UC1, cv::Scalar(cv::GC_BGD));
    const cv::Rect inside(
        cv::Point(static_cast<int>(std::lround(x0 * f)), static_cast<int>(std::lround(y0 * f))),
        cv::Point(std::max(static_cast<int>(std::lround(x1 * f)),
                           static_cast<int>(std::lround(x0 * f)) + 1),
                  std::max(static_cast<int>(std::lround(y1 * f)),
                           static_cast<int>(std::lround(y0 * f)) + 1)));
    mask(inside & cv::Rect(0, 0, cw, ch)).setTo(cv::GC_PR_FGD);
    for (const PromptClick& c : clicks) {
        cv::circle(mask, cv::Point(static_cast<int>(c.x * f), static_cast<int>(c.y * f)),
                   std::max(1, static_cast<int>(std::lround(r * f))),
                   cv::Scalar(c.lesion ? cv::GC_FGD : cv::GC_BGD), cv::FILLED);
    }
    cv::Mat background;
    cv::Mat foreground;
    cv::theRNG().state = 0x12345678; // the colour models start from k-means: fix its seed
    cv::grabCut(bgr, mask, cv::Rect(), background, foreground, std::max(1, iterations),
                cv::GC_INIT_WITH_MASK);
    cv::Mat lesion = (mask == cv::GC_FGD) | (mask == cv::GC_PR_FGD); // 0 / 255
    if (f < 1.0) {
        cv::resize(lesion, lesion, cv::Size(w, h), 0.0, 0.0, cv::INTER_LINEAR);
    }
    Image2D out(w, h, 1, PixelType::UInt8);
    std::uint8_t* o = out.data<std::uint8_t>();
    for (int y = 0; y < h; ++y) {
        const std::uint8_t* m = lesion.ptr<std::uint8_t>(y);
        for (int x = 0; x < w; ++x) {
            o[static_cast<std::size_t>(y) * w + x] = m[x] >= 128 ? 1 : 0;
        }
    }
    return out;
}

} // namespace diffseg::core
