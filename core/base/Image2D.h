#pragma once

#include "Error.h"
#include "PixelBuffer.h"
#include "PixelStorage.h"
#include "PixelType.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string>

namespace diffseg::core {

/// A 2D image with 1..4 interleaved channels (dermoscopy photos are RGB, masks 1 channel).
///
/// Memory layout: row-major, channels interleaved, no padding:
/// `data[(y * width + x) * channels + c]`, y = 0 at the top row. Colour images are RGB (never
/// OpenCV's BGR). The layout is what cv::Mat(height, width, CV_8UC3) and a multi-component
/// vtkImageData use, and a tensor view is `from_blob(data, {H, W, C}).permute({2, 0, 1})`.
/// Binary masks are UInt8 with values {0, 1} in memory (writers store 0/255).
///
/// Copies share the pixels (see PixelBuffer); clone() copies them. Not thread-safe for writes.
/// `spacing` is the pixel size in mm (x, y) when known, else 1: metrics in "mm" are then pixels.
/// Typed access (data<T>(), rawData()) and clone() come from PixelStorage.
class Image2D : public PixelStorage<Image2D, PixelType::UInt8>
{
public:
    static constexpr int kMaxSide = 1 << 16;
    static constexpr int kMaxChannels = 4;

    Image2D() = default;
    /// Allocates zero-filled pixels. Throws Error(InvalidValue) for zero, negative or absurd sizes.
    Image2D(int width, int height, int channels, PixelType type);
    /// Views existing pixels; throws Error(InvalidValue) if the buffer is too small.
    static Image2D wrap(int width, int height, int channels, PixelType type, PixelBuffer buffer);

    int width() const noexcept { return m_width; }
    int height() const noexcept { return m_height; }
    int channels() const noexcept { return m_channels; }
    bool empty() const noexcept { return m_width == 0 || m_height == 0; }
    std::size_t pixelCount() const noexcept
    {
        return static_cast<std::size_t>(m_width) * static_cast<std::size_t>(m_height);
    }
    std::size_t byteSize() const noexcept
    {
        return pixelCount() * static_cast<std::size_t>(m_channels) * pixelTypeSize(m_type);
    }
    std::array<double, 2> spacing() const noexcept { return m_spacing; }
    void setSpacing(const std::array<double, 2>& spacing) noexcept { m_spacing = spacing; }

    /// Unchecked element access (x, y, channel) for typed code that already checked the type.
    template <class T>
    T& at(int x, int y, int c = 0) noexcept
    {
        return static_cast<T*>(m_buffer.data())[index(x, y, c)];
    }
    template <class T>
    const T& at(int x, int y, int c = 0) const noexcept
    {
        return static_cast<const T*>(m_buffer.data())[index(x, y, c)];
    }

    /// "1024x768 RGB uint8" style summary for logs and `diffseg info`.
    std::string describe() const;

private:
    /// The one way in: checks the shape, then views `pixels` or allocates zero-filled ones.
    Image2D(int width, int height, int channels, PixelType type, std::optional<PixelBuffer> pixels);

    friend class PixelStorage<Image2D, PixelType::UInt8>;
    static constexpr const char* kNoun = "image";
    static constexpr const char* kElementNoun = "pixel";

    std::size_t index(int x, int y, int c) const noexcept
    {
        return (static_cast<std::size_t>(y) * static_cast<std::size_t>(m_width) +
                static_cast<std::size_t>(x)) *
                   static_cast<std::size_t>(m_channels) +
               static_cast<std::size_t>(c);
    }

    int m_width = 0;
    int m_height = 0;
    int m_channels = 0;
    std::array<double, 2> m_spacing{1.0, 1.0};
};

} // namespace diffseg::core
