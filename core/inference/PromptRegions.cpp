#include "PromptRegions.h"

#include "base/Error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

namespace diffseg::core {

namespace {

/// The 3 x 3 mean colour around (x, y), clamped at the border: a pixel's own noise (JPEG blocks,
/// a hair) should not stop the region.
std::array<double, 3> meanColour(const std::uint8_t* rgb, int width, int height, int x, int y)
{
    std::array<double, 3> sum{0.0, 0.0, 0.0};
    int n = 0;
    for (int yy = std::max(0, y - 1); yy <= std::min(height - 1, y + 1); ++yy) {
        for (int xx = std::max(0, x - 1); xx <= std::min(width - 1, x + 1); ++xx) {
            const std::uint8_t* p = rgb + (static_cast<std::size_t>(yy) * width + xx) * 3;
            for (int c = 0; c < 3; ++c) {
                sum[c] += p[c];
            }
            ++n;
        }
    }
    for (double& s : sum) {
        s /= n;
    }
    return sum;
}

double distance(const std::array<double, 3>& a, const std::array<double, 3>& b)
{
    return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                     (a[2] - b[2]) * (a[2] - b[2]));
}

/// The share of lesion pixels of the current mask in the ring between 1 and 2 radii around a
/// click (pixels outside the photo count as background).
double lesionAround(const std::uint8_t* lesion, int w, int h, const PromptClick& click,
                    double radius)
{
    const double outer = 2.0 * radius;
    int inRing = 0;
    int lesionPixels = 0;
    for (int y = static_cast<int>(std::floor(click.y - outer));
         y <= static_cast<int>(std::ceil(click.y + outer)); ++y) {
        for (int x = static_cast<int>(std::floor(click.x - outer));
             x <= static_cast<int>(std::ceil(click.x + outer)); ++x) {
            const double dx = x + 0.5 - click.x;
            const double dy = y + 0.5 - click.y;
            const double d2 = dx * dx + dy * dy;
            if (d2 <= radius * radius || d2 > outer * outer) {
                continue;
            }
            ++inRing;
            if (x >= 0 && y >= 0 && x < w && y < h &&
                lesion[static_cast<std::size_t>(y) * w + x] != 0) {
                ++lesionPixels;
            }
        }
    }
    return inRing > 0 ? static_cast<double>(lesionPixels) / inRing : 0.0;
}

/// How much of that ring must be lesion for the click to count as inside a region.
constexpr double kInteriorFraction = 0.9;

/// The click's depth in the current lesion: the distance from the click to the nearest pixel
/// centre that is not lesion (outside the photo counts as not lesion). Searched ring by ring
/// (square rings of growing Chebyshev radius), so it costs about depth^2, not the photo's size.
double depthInLesion(const std::uint8_t* lesion, int w, int h, const PromptClick& click)
{
    const int cx = static_cast<int>(std::floor(click.x));
    const int cy = static_cast<int>(std::floor(click.y));
    double best = std::min({click.x + 0.5, click.y + 0.5, w + 0.5 - click.x, h + 0.5 - click.y});
    const auto consider = [&](int x, int y) {
        if (x >= 0 && y >= 0 && x < w && y < h &&
            lesion[static_cast<std::size_t>(y) * w + x] != 0) {
            return;
        }
        best = std::min(best, std::hypot(x + 0.5 - click.x, y + 0.5 - click.y));
    };
    // A pixel at Chebyshev radius r lies at least r - 1 from the click (the click lies within
    // its own pixel), so once r - 1 passes the best distance, no further ring can beat it.
    for (int r = 0; r - 1 <= best; ++r) {
        for (int d = -r; d <= r; ++d) {
            consider(cx + d, cy - r);
            consider(cx + d, cy + r);
            consider(cx - r, cy + d);
            consider(cx + r, cy + d);
        }
    }
    return best;
}

/// How far a region may reach from its click, in multiples of the click's depth in the lesion. A
/// click at depth d says "this blob is not lesion", and a blob that deep rarely reaches past 2 d;
/// a region that runs on (a pale lesion of nearly the skin's colour, beside the skin the model
/// took in) would take the lesion with it. Measured on the ISIC 2018 val photos where regions hurt
/// (ISIC_0012417: the region at tolerance 30 held 121k lesion pixels, 5k with this bound).
constexpr double kReachInDepths = 2.0;

} // namespace

RefinePrompts withBackgroundRegions(const RefinePrompts& prompts, const Image2D& photo,
                                    const Image2D& currentMask, double tolerance)
{
    if (tolerance < 0.0) {
        throw Error(ErrorKind::InvalidValue, "background region tolerance",
                    std::to_string(tolerance) + " is negative");
    }
    if (tolerance == 0.0 || currentMask.empty() ||
        std::none_of(prompts.clicks.begin(), prompts.clicks.end(),
                     [](const PromptClick& c) { return !c.lesion; })) {
        return prompts;
    }
    const int w = photo.width();
    const int h = photo.height();
    if (photo.channels() != 3 || photo.pixelType() != PixelType::UInt8) {
        throw Error(ErrorKind::Mismatch, "photo", "background regions need an RGB uint8 photo");
    }
    if (currentMask.width() != w || currentMask.height() != h || currentMask.channels() != 1 ||
        currentMask.pixelType() != PixelType::UInt8) {
        throw Error(ErrorKind::Mismatch, "current mask",
                    "must be a 1-channel uint8 mask of the photo's size");
    }
    const std::uint8_t* rgb = photo.data<std::uint8_t>();
    const std::uint8_t* lesion = currentMask.data<std::uint8_t>();
    const double radius = prompts.radiusFor(w, h);
    // Allocated when a click first grows a region, and cleared pixel by pixel between clicks: most
    // clicks grow none, and then a refinement pays nothing at the photo's size here (nor, with no
    // strokes added, in rasterizePrompts).
    std::vector<std::uint8_t> seen;
    std::vector<int> touched;
    std::vector<int> background; ///< every grown region's pixels
    std::vector<int> queue;
    for (const PromptClick& click : prompts.clicks) {
        if (click.lesion) {
            continue;
        }
        // The disk's lesion pixels: the seeds, and their mean colour the region's colour.
        const int x0 = std::max(0, static_cast<int>(std::floor(click.x - radius)));
        const int x1 = std::min(w - 1, static_cast<int>(std::ceil(click.x + radius)));
        const int y0 = std::max(0, static_cast<int>(std::floor(click.y - radius)));
        const int y1 = std::min(h - 1, static_cast<int>(std::ceil(click.y + radius)));
        std::array<double, 3> reference{0.0, 0.0, 0.0};
        queue.clear();
        for (int y = y0; y <= y1; ++y) {
            for (int x = x0; x <= x1; ++x) {
                const double dx = x + 0.5 - click.x;
                const double dy = y + 0.5 - click.y;
                const std::size_t i = static_cast<std::size_t>(y) * w + x;
                if (dx * dx + dy * dy <= radius * radius && lesion[i] != 0) {
                    const std::uint8_t* p = rgb + i * 3;
                    for (int c = 0; c < 3; ++c) {
                        reference[c] += p[c];
                    }
                    queue.push_back(static_cast<int>(i));
                }
            }
        }
        if (queue.empty()) {
            continue; // the click lies outside the current lesion: its disk says it all
        }
        // Only a click inside a region the model drew, not one on the region's edge: there the
        // click corrects the outline, which the model follows without help, and growing by colour
        // would run along the lesion's own pale rim.
        if (lesionAround(lesion, w, h, click, radius) < kInteriorFraction) {
            continue;
        }
        for (double& r : reference) {
            r /= static_cast<double>(queue.size());
        }
        const double reach = kReachInDepths * depthInLesion(lesion, w, h, click);
        const double reach2 = reach * reach;
        // Breadth-first over the current lesion, 4-neighbours, while the colour stays close.
        if (seen.empty()) {
            seen.assign(static_cast<std::size_t>(w) * h, 0);
        }
        for (const int i : queue) {
            seen[static_cast<std::size_t>(i)] = 1;
            touched.push_back(i);
        }
        while (!queue.empty()) {
            const int i = queue.back();
            queue.pop_back();
            background.push_back(i);
            const int x = i % w;
            const int y = i / w;
            const std::array<std::array<int, 2>, 4> next{
                {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}}};
            for (const auto& [nx, ny] : next) {
                if (nx < 0 || ny < 0 || nx >= w || ny >= h) {
                    continue;
                }
                const std::size_t j = static_cast<std::size_t>(ny) * w + nx;
                const double dx = nx + 0.5 - click.x;
                const double dy = ny + 0.5 - click.y;
                if (seen[j] != 0 || lesion[j] == 0 || dx * dx + dy * dy > reach2) {
                    continue;
                }
                seen[j] = 1;
                touched.push_back(static_cast<int>(j));
                // Its own colour or its 3 x 3 mean: the mean carries the region over noise, the
                // pixel's own colour to the region's rim, where the mean mixes in the neighbour.
                const std::uint8_t* own = rgb + j * 3;
                const std::array<double, 3> ownColour{double(own[0]), double(own[1]),
                                                      double(own[2])};
                if (distance(ownColour, reference) <= tolerance ||
                    distance(meanColour(rgb, w, h, nx, ny), reference) <= tolerance) {
                    queue.push_back(static_cast<int>(j));
                }
            }
        }
        // Another click may grow over pixels this one tested and refused: test them again.
        for (const int i : touched) {
            seen[static_cast<std::size_t>(i)] = 0;
        }
        touched.clear();
    }
    if (background.empty()) {
        return prompts;
    }
    RefinePrompts out = prompts;
    if (out.strokes.empty()) {
        out.strokes = Image2D(w, h, 1, PixelType::UInt8);
        std::fill_n(out.strokes.data<std::uint8_t>(), out.strokes.pixelCount(),
                    std::uint8_t{kPromptUnknown});
    } else {
        if (out.strokes.width() != w || out.strokes.height() != h) {
            throw Error(ErrorKind::Mismatch, "prompt strokes", "must be of the photo's size");
        }
        out.strokes = out.strokes.clone();
    }
    std::uint8_t* strokes = out.strokes.data<std::uint8_t>();
    for (const int i : background) {
        std::uint8_t& stroke = strokes[static_cast<std::size_t>(i)];
        if (stroke == kPromptUnknown) {
            stroke = kPromptBackground;
        }
    }
    return out;
}

} // namespace diffseg::core
