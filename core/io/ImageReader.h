#pragma once

#include "base/Image2D.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace diffseg::core {

/// Encoded 2D formats, recognised by their first bytes (never by the file extension).
enum class ImageFormat
{
    Unknown,
    Png,
    Jpeg,
    Bmp,
    Tiff
};

const char* imageFormatName(ImageFormat format) noexcept;

/// What an encoded image's header says, read without decoding any pixel.
struct ImageHeader
{
    ImageFormat format = ImageFormat::Unknown;
    int width = 0;
    int height = 0;
    int bitsPerSample = 0; ///< 0 when the header does not say (palette BMP)
};

/// How many channels the decoded image should have.
enum class ImageColor
{
    Native, ///< as stored: gray 1, RGB 3, RGBA 4 (palettes are expanded to RGB)
    Rgb,    ///< always 3 channels: gray is replicated, alpha dropped (dermoscopy photos)
    Gray    ///< always 1 channel (ITU-R BT.601 luma for colour images)
};

struct ImageReadOptions
{
    ImageColor color = ImageColor::Native;
    /// Images with more pixels are refused before decoding, so that a hostile header cannot make
    /// the decoder allocate gigabytes. The default (2^28) is far above any dermoscopy photo.
    std::int64_t maxPixels = std::int64_t(1) << 28;
};

/// Reads the format and size from the first bytes of an encoded image. `name` is only used in
/// error messages. Throws Error(Format) for unknown or corrupt headers and Error(InvalidValue) for
/// zero or absurd dimensions.
ImageHeader peekImageHeader(const void* data, std::size_t size, const std::string& name);
ImageHeader readImageHeader(const std::string& path);

/// Decodes a PNG, JPEG, BMP or TIFF image held in memory (OpenCV decoders). 8-bit images become
/// UInt8; 16-bit, signed and floating-point images become Float32 holding the stored values.
/// Channels are RGB(A), never BGR. EXIF orientation is ignored, as in the reference loaders and
/// the masks drawn on the stored pixels. The pixels are OpenCV's buffer, handed over without copy.
/// Throws Error naming `name` for unknown formats, truncated or corrupt data (including a JPEG
/// without its end marker), zero or absurd sizes and non-finite values.
Image2D decodeImage(const void* data, std::size_t size, const std::string& name,
                    const ImageReadOptions& options = {});
/// decodeImage() on a file; also throws Error(NotFound) / Error(Io).
Image2D readImage(const std::string& path, const ImageReadOptions& options = {});

/// Decodes a binary lesion mask into 1 channel UInt8 {0, 1}. Accepted: 8- or 16-bit gray, palette
/// or colour images whose colour channels are equal (and alpha, if any, opaque), holding {0, 255}
/// or {0, 1} (or {0, 65535} for 16-bit); 1-bit BMPs decode as {0, 255}. Anything else is "not
/// binary": Error(InvalidValue) naming `name` and the values found.
Image2D decodeMask(const void* data, std::size_t size, const std::string& name);
Image2D readMask(const std::string& path);

} // namespace diffseg::core
