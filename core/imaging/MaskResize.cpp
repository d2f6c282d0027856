#include "MaskResize.h"

#include "base/Error.h"
#include "imaging/Resize2D.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace diffseg::core {

namespace {

void requireFloatMap(const Image2D& map, const char* what)
{
    if (map.empty() || map.channels() != 1 || map.pixelType() != PixelType::Float32) {
        throw Error(ErrorKind::InvalidValue, what, "must be a 1-channel float32 map");
    }
}

} // namespace

Image2D upsampleToMask(const Image2D& x0, int width, int height)
{
    requireFloatMap(x0, "x0 estimate");
    const Image2D values =
        x0.width() == width && x0.height() == height ? x0 : resizeImage(x0, width, height);
    Image2D mask(width, height, 1, PixelType::UInt8);
    const float* v = values.data<float>();
    std::uint8_t* m = mask.data<std::uint8_t>();
    const std::size_t n = mask.pixelCount();
    for (std::size_t i = 0; i < n; ++i) {
        m[i] = v[i] > 0.0f ? 1 : 0;
    }
    return mask;
}

Image2D upsampleMap(const Image2D& map, int width, int height, float scale)
{
    requireFloatMap(map, "map");
    Image2D out = map.width() == width && map.height() == height ? map.clone()
                                                                 : resizeImage(map, width, height);
    float* v = out.data<float>();
    const std::size_t n = out.pixelCount();
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = std::clamp(v[i] * scale, 0.0f, 1.0f);
    }
    return out;
}

Image2D downscaleImage(const Image2D& image, int maxSide)
{
    const int side = std::max(image.width(), image.height());
    if (image.empty() || side <= maxSide) {
        return image;
    }
    const double f = static_cast<double>(maxSide) / side;
    const int w = std::max(1, static_cast<int>(std::lround(image.width() * f)));
    const int h = std::max(1, static_cast<int>(std::lround(image.height() * f)));
    return resizeImage(image, w, h, ResizeFilter::Area);
}

Image2D majorityMask(const std::vector<Image2D>& masks)
{
    if (masks.empty()) {
        return {};
    }
    Image2D out(masks[0].width(), masks[0].height(), 1, PixelType::UInt8);
    const std::size_t n = out.pixelCount();
    std::uint8_t* o = out.data<std::uint8_t>();
    std::vector<const std::uint8_t*> in;
    for (const Image2D& m : masks) {
        if (m.width() != out.width() || m.height() != out.height()) {
            throw Error(ErrorKind::Mismatch, "ensemble masks", "differ in size");
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

std::size_t countNonZero(const Image2D& mask)
{
    if (mask.empty()) {
        return 0;
    }
    const std::uint8_t* p = mask.data<std::uint8_t>();
    return static_cast<std::size_t>(
        std::count_if(p, p + mask.pixelCount(), [](std::uint8_t v) { return v != 0; }));
}

} // namespace diffseg::core
