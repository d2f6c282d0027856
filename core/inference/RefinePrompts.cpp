#include "RefinePrompts.h"

#include "base/Error.h"
#include "imaging/Resize2D.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace diffseg::core {

double RefinePrompts::radiusFor(int width, int height) const
{
    return clickRadius > 0.0 ? clickRadius : 0.015 * std::max(width, height);
}

Image2D rasterizePrompts(const RefinePrompts& prompts, int photoWidth, int photoHeight, int width,
                         int height)
{
    if (photoWidth < 1 || photoHeight < 1 || width < 1 || height < 1) {
        throw Error(ErrorKind::InvalidValue, "prompts", "need a non-empty photo and grid");
    }
    Image2D map(width, height, 1, PixelType::UInt8);
    std::uint8_t* out = map.data<std::uint8_t>();
    std::fill(out, out + map.pixelCount(), std::uint8_t{kPromptUnknown});
    const double sx = static_cast<double>(width) / photoWidth;
    const double sy = static_cast<double>(height) / photoHeight;
    if (prompts.box) {
        const auto& b = *prompts.box;
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                // The cell's centre in photo pixels.
                const double px = (x + 0.5) / sx;
                const double py = (y + 0.5) / sy;
                if (px < b[0] || px >= b[2] || py < b[1] || py >= b[3]) {
                    out[static_cast<std::size_t>(y) * width + x] = kPromptBackground;
                }
            }
        }
    }
    if (!prompts.strokes.empty()) {
        if (prompts.strokes.width() != photoWidth || prompts.strokes.height() != photoHeight ||
            prompts.strokes.channels() != 1 || prompts.strokes.pixelType() != PixelType::UInt8) {
            throw Error(ErrorKind::Mismatch, "prompt strokes",
                        "must be a 1-channel uint8 map of the photo's size " +
                            std::to_string(photoWidth) + "x" + std::to_string(photoHeight));
        }
        const std::uint8_t* s = prompts.strokes.data<std::uint8_t>();
        for (const std::uint8_t label : {kPromptLesion, kPromptBackground}) {
            Image2D one(photoWidth, photoHeight, 1, PixelType::Float32);
            float* f = one.data<float>();
            for (std::size_t i = 0; i < one.pixelCount(); ++i) {
                f[i] = s[i] == label ? 1.0f : 0.0f;
            }
            const Image2D cover = width == photoWidth && height == photoHeight
                                      ? one
                                      : resizeImage(one, width, height, ResizeFilter::Area);
            const float* c = cover.data<float>();
            for (std::size_t i = 0; i < map.pixelCount(); ++i) {
                if (c[i] >= 0.25f) {
                    out[i] = label;
                }
            }
        }
    }
    const double radius = prompts.radiusFor(photoWidth, photoHeight);
    for (const PromptClick& click : prompts.clicks) {
        const double cx = click.x * sx;
        const double cy = click.y * sy;
        const double r = std::max(1.0, radius * std::min(sx, sy));
        const int x0 = std::max(0, static_cast<int>(std::floor(cx - r)));
        const int x1 = std::min(width - 1, static_cast<int>(std::ceil(cx + r)));
        const int y0 = std::max(0, static_cast<int>(std::floor(cy - r)));
        const int y1 = std::min(height - 1, static_cast<int>(std::ceil(cy + r)));
        for (int y = y0; y <= y1; ++y) {
            for (int x = x0; x <= x1; ++x) {
                const double dx = x + 0.5 - cx;
                const double dy = y + 0.5 - cy;
                if (dx * dx + dy * dy <= r * r) {
                    out[static_cast<std::size_t>(y) * width + x] =
                        click.lesion ? kPromptLesion : kPromptBackground;
                }
            }
        }
    }
    return map;
}

void applyPrompts(const Image2D& promptMap, Image2D& mask)
{
    if (promptMap.width() != mask.width() || promptMap.height() != mask.height()) {
        throw Error(ErrorKind::Mismatch, "prompts", "are not of the mask's size");
    }
    const std::uint8_t* p = promptMap.data<std::uint8_t>();
    std::uint8_t* m = mask.data<std::uint8_t>();
    for (std::size_t i = 0; i < mask.pixelCount(); ++i) {
        if (p[i] == kPromptLesion) {
            m[i] = 1;
        } else if (p[i] == kPromptBackground) {
            m[i] = 0;
        }
    }
}

SegmentationPrompts seamPrompts(const RefinePrompts& prompts)
{
    SegmentationPrompts out;
    for (const PromptClick& click : prompts.clicks) {
        out.clicks.push_back({{click.x, click.y, 0.0}, click.lesion ? 1 : 0});
    }
    out.radius = prompts.clickRadius;
    out.box = prompts.box;
    if (!prompts.strokes.empty()) {
        const Image2D& strokes = prompts.strokes;
        Image2D codes(strokes.width(), strokes.height(), 1, PixelType::UInt8);
        const std::uint8_t* in = strokes.data<std::uint8_t>();
        std::uint8_t* seam = codes.data<std::uint8_t>();
        for (std::size_t i = 0; i < codes.pixelCount(); ++i) {
            seam[i] = in[i] == kPromptLesion ? 2 : in[i] == kPromptBackground ? 1 : 0;
        }
        out.strokes = SegmentationLabels::ofPhoto(std::move(codes));
    }
    return out;
}

} // namespace diffseg::core
