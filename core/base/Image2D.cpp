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
    : m_width(width)
    , m_height(height)
    , m_channels(channels)
    , m_type(type)
{
    validateShape(width, height, channels);
    m_buffer = PixelBuffer::allocate(byteSize());
}

Image2D Image2D::wrap(int width, int height, int channels, PixelType type, PixelBuffer buffer)
{
    validateShape(width, height, channels);
    Image2D image;
    image.m_width = width;
    image.m_height = height;
    image.m_channels = channels;
    image.m_type = type;
    if (buffer.size() < image.byteSize()) {
        throw Error(ErrorKind::InvalidValue, "",
                    "pixel buffer of " + std::to_string(buffer.size()) +
                        " bytes is too small for " + image.describe());
    }
    image.m_buffer = std::move(buffer);
    return image;
}

Image2D Image2D::clone() const
{
    Image2D copy = *this;
    copy.m_buffer = m_buffer.clone();
    return copy;
}

std::string Image2D::describe() const
{
    static const char* kChannelNames[] = {"", "gray", "gray+alpha", "RGB", "RGBA"};
    const char* name = (m_channels >= 0 && m_channels <= 4) ? kChannelNames[m_channels] : "?";
    return std::to_string(m_width) + "x" + std::to_string(m_height) + " " + name + " " +
           pixelTypeName(m_type);
}

void Image2D::checkType(PixelType requested) const
{
    if (requested != m_type) {
        throw Error(ErrorKind::Internal, "",
                    std::string("image holds ") + pixelTypeName(m_type) + " pixels, not " +
                        pixelTypeName(requested));
    }
}

} // namespace diffseg::core
