#include "Image2D.h"

namespace diffseg::core {

namespace {

void validateShape(int width, int height, int channels)
{
    if (width <= 0 || height <= 0 || width > Image2D::kMaxSide || height > Image2D::kMaxSide) {
        throw Error(ErrorKind::InvalidValue, "",
                    "image size " + std::to_string(width) + "x" + std::to_string(height) +
                        " is outside 1.." + std::to_string(Image2D::kMaxSide));
    }
    if (channels <= 0 || channels > Image2D::kMaxChannels) {
        throw Error(ErrorKind::InvalidValue, "",
                    "an image must have 1.." + std::to_string(Image2D::kMaxChannels) +
                        " channels, not " + std::to_string(channels));
    }
}

} // namespace

Image2D::Image2D(int width, int height, int channels, PixelType type)
    : Image2D(width, height, channels, type, std::nullopt)
{}

Image2D::Image2D(int width, int height, int channels, PixelType type,
                 std::optional<PixelBuffer> pixels)
    : PixelStorage(type)
    , m_width(width)
    , m_height(height)
    , m_channels(channels)
{
    validateShape(width, height, channels);
    store(std::move(pixels));
}

Image2D Image2D::wrap(int width, int height, int channels, PixelType type, PixelBuffer buffer)
{
    return Image2D(width, height, channels, type, std::move(buffer));
}

std::string Image2D::describe() const
{
    static const char* kChannelNames[] = {"", "gray", "gray+alpha", "RGB", "RGBA"};
    const char* name = (m_channels >= 0 && m_channels <= 4) ? kChannelNames[m_channels] : "?";
    return std::to_string(m_width) + "x" + std::to_string(m_height) + " " + name + " " +
           pixelTypeName(m_type);
}

} // namespace diffseg::core
