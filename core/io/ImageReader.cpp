#include "ImageReader.h"

#include "FileUtils.h"
#include "base/EnumNames.h"

#include <climits>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <vector>

namespace diffseg::core {

namespace {

// --- Header parsing. Every read is bounds-checked: these bytes come from untrusted files. -------

class ByteView
{
public:
    ByteView(const void* data, std::size_t size, const std::string& name)
        : m_data(static_cast<const unsigned char*>(data))
        , m_size(data ? size : 0)
        , m_name(name)
    {}

    std::size_t size() const noexcept { return m_size; }
    bool has(std::size_t pos, std::size_t n) const noexcept
    {
        return pos <= m_size && n <= m_size - pos;
    }
    unsigned u8(std::size_t pos) const
    {
        need(pos, 1);
        return m_data[pos];
    }
    std::uint32_t be16(std::size_t pos) const
    {
        need(pos, 2);
        return (std::uint32_t(m_data[pos]) << 8) | m_data[pos + 1];
    }
    std::uint32_t be32(std::size_t pos) const
    {
        need(pos, 4);
        return (std::uint32_t(m_data[pos]) << 24) | (std::uint32_t(m_data[pos + 1]) << 16) |
               (std::uint32_t(m_data[pos + 2]) << 8) | m_data[pos + 3];
    }
    std::uint32_t le16(std::size_t pos) const
    {
        need(pos, 2);
        return std::uint32_t(m_data[pos]) | (std::uint32_t(m_data[pos + 1]) << 8);
    }
    std::uint32_t le32(std::size_t pos) const
    {
        need(pos, 4);
        return std::uint32_t(m_data[pos]) | (std::uint32_t(m_data[pos + 1]) << 8) |
               (std::uint32_t(m_data[pos + 2]) << 16) | (std::uint32_t(m_data[pos + 3]) << 24);
    }
    bool startsWith(const char* magic, std::size_t n) const noexcept
    {
        return has(0, n) &&
               std::equal(m_data, m_data + n, reinterpret_cast<const unsigned char*>(magic));
    }
    [[noreturn]] void truncated(const char* format) const
    {
        throw Error(ErrorKind::Format, m_name,
                    std::string("truncated ") + format + " file (" + std::to_string(m_size) +
                        " bytes)");
    }

private:
    void need(std::size_t pos, std::size_t n) const
    {
        if (!has(pos, n)) {
            throw Error(ErrorKind::Format, m_name,
                        "truncated or corrupt header (needs byte " + std::to_string(pos + n) +
                            ", file has " + std::to_string(m_size) + ")");
        }
    }

    const unsigned char* m_data;
    std::size_t m_size;
    const std::string& m_name;
};

ImageHeader parsePng(const ByteView& b, const std::string& name)
{
    // Signature, then the IHDR chunk must come first.
    if (b.be32(8) != 13 || b.be32(12) != 0x49484452u) {
        throw Error(ErrorKind::Format, name, "corrupt PNG: the first chunk is not IHDR");
    }
    ImageHeader h;
    h.format = ImageFormat::Png;
    const std::uint32_t w = b.be32(16);
    const std::uint32_t hgt = b.be32(20);
    h.width = w > INT_MAX ? -1 : static_cast<int>(w);
    h.height = hgt > INT_MAX ? -1 : static_cast<int>(hgt);
    h.bitsPerSample = static_cast<int>(b.u8(24));
    return h;
}

bool isSofMarker(unsigned marker)
{
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

/// Walks the JPEG marker segments. With `untilEnd`, also walks the entropy-coded data after each
/// scan and requires the end-of-image marker: libjpeg pads a truncated stream with grey and only
/// warns, which OpenCV does not report, so without this a cut-off file would load "successfully".
ImageHeader walkJpeg(const ByteView& b, const std::string& name, bool untilEnd)
{
    ImageHeader h;
    h.format = ImageFormat::Jpeg;
    bool sawFrame = false;
    std::size_t pos = 2;
    while (true) {
        if (!b.has(pos, 1)) {
            b.truncated("JPEG");
        }
        if (b.u8(pos) != 0xFF) {
            throw Error(ErrorKind::Format, name,
                        "corrupt JPEG: expected a marker at byte " + std::to_string(pos));
        }
        while (b.has(pos, 1) && b.u8(pos) == 0xFF) {
            ++pos;
        }
        if (!b.has(pos, 1)) {
            b.truncated("JPEG");
        }
        const unsigned marker = b.u8(pos++);
        if (marker == 0xD9) {
            if (!sawFrame) {
                throw Error(ErrorKind::Format, name,
                            "corrupt JPEG: no frame header before the end");
            }
            return h;
        }
        if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
            continue; // standalone markers carry no length
        }
        if (!b.has(pos, 2)) {
            b.truncated("JPEG");
        }
        const std::size_t length = b.be16(pos);
        if (length < 2) {
            throw Error(ErrorKind::Format, name, "corrupt JPEG: segment length below 2");
        }
        if (!b.has(pos, length)) {
            b.truncated("JPEG");
        }
        if (isSofMarker(marker)) {
            if (length < 8) {
                throw Error(ErrorKind::Format, name, "corrupt JPEG: frame header too short");
            }
            h.bitsPerSample = static_cast<int>(b.u8(pos + 2));
            h.height = static_cast<int>(b.be16(pos + 3));
            h.width = static_cast<int>(b.be16(pos + 5));
            sawFrame = true;
            if (!untilEnd) {
                return h;
            }
        }
        pos += length;
        if (marker == 0xDA) {
            if (!sawFrame) {
                throw Error(ErrorKind::Format, name, "corrupt JPEG: scan before the frame header");
            }
            // Entropy-coded data: 0xFF00 is a stuffed byte, 0xFFD0..D7 restart markers, runs of
            // 0xFF are fill; any other 0xFFxx starts the next segment.
            while (true) {
                if (!b.has(pos, 2)) {
                    b.truncated("JPEG");
                }
                if (b.u8(pos) != 0xFF) {
                    ++pos;
                    continue;
                }
                const unsigned next = b.u8(pos + 1);
                if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
                    pos += 2;
                } else if (next == 0xFF) {
                    ++pos;
                } else {
                    break;
                }
            }
        }
    }
}

ImageHeader parseBmp(const ByteView& b, const std::string& name)
{
    ImageHeader h;
    h.format = ImageFormat::Bmp;
    const std::uint32_t dibSize = b.le32(14);
    std::int64_t width = 0;
    std::int64_t height = 0;
    if (dibSize == 12) {
        width = b.le16(18);
        height = b.le16(20);
        h.bitsPerSample = static_cast<int>(b.le16(24));
    } else if (dibSize >= 16) {
        width = static_cast<std::int32_t>(b.le32(18));
        height = static_cast<std::int32_t>(b.le32(22));
        h.bitsPerSample = static_cast<int>(b.le16(28));
    } else {
        throw Error(ErrorKind::Format, name,
                    "corrupt BMP: unknown info header size " + std::to_string(dibSize));
    }
    // A negative height means rows are stored top-down.
    height = height < 0 ? -height : height;
    h.width = width > INT_MAX || width < 0 ? -1 : static_cast<int>(width);
    h.height = height > INT_MAX ? -1 : static_cast<int>(height);
    return h;
}

ImageHeader parseTiff(const ByteView& b, const std::string& name)
{
    const bool little = b.u8(0) == 'I';
    auto u16 = [&](std::size_t p) {
        return little ? b.le16(p) : b.be16(p);
    };
    auto u32 = [&](std::size_t p) {
        return little ? b.le32(p) : b.be32(p);
    };
    ImageHeader h;
    h.format = ImageFormat::Tiff;
    const std::size_t ifd = u32(4);
    const std::uint32_t count = u16(ifd);
    bool haveWidth = false;
    bool haveHeight = false;
    for (std::uint32_t e = 0; e < count; ++e) {
        const std::size_t entry = ifd + 2 + std::size_t(e) * 12;
        const std::uint32_t tag = u16(entry);
        const std::uint32_t type = u16(entry + 2);
        // SHORT values are left-justified in the 4-byte value field in both byte orders.
        const std::uint32_t value = type == 3 ? u16(entry + 8) : u32(entry + 8);
        if (tag == 256) {
            h.width = value > INT_MAX ? -1 : static_cast<int>(value);
            haveWidth = true;
        } else if (tag == 257) {
            h.height = value > INT_MAX ? -1 : static_cast<int>(value);
            haveHeight = true;
        } else if (tag == 258 && u32(entry + 4) == 1) {
            h.bitsPerSample = static_cast<int>(value);
        }
    }
    if (!haveWidth || !haveHeight) {
        throw Error(ErrorKind::Format, name,
                    "corrupt TIFF: the first image has no width or height");
    }
    return h;
}

constexpr EnumName<ImageFormat> kImageFormatNames[] = {{ImageFormat::Png, "PNG"},
                                                       {ImageFormat::Jpeg, "JPEG"},
                                                       {ImageFormat::Bmp, "BMP"},
                                                       {ImageFormat::Tiff, "TIFF"}};

void checkDimensions(const ImageHeader& h, const std::string& name)
{
    if (h.width <= 0 || h.height <= 0 || h.width > Image2D::kMaxSide ||
        h.height > Image2D::kMaxSide) {
        throw Error(ErrorKind::InvalidValue, name,
                    std::string(imageFormatName(h.format)) + " header gives an image size of " +
                        std::to_string(h.width) + "x" + std::to_string(h.height) + ", outside 1.." +
                        std::to_string(Image2D::kMaxSide));
    }
}

void checkPixelLimit(const ImageHeader& h, std::int64_t maxPixels, const std::string& name)
{
    const std::int64_t pixels = std::int64_t(h.width) * h.height;
    if (pixels > maxPixels) {
        throw Error(ErrorKind::InvalidValue, name,
                    "image is " + std::to_string(h.width) + "x" + std::to_string(h.height) + " (" +
                        std::to_string(pixels) + " pixels), above the limit of " +
                        std::to_string(maxPixels));
    }
}

/// Validates the header (and a JPEG's structure), then lets OpenCV decode; never returns empty.
cv::Mat decodeChecked(const void* data, std::size_t size, const std::string& name,
                      std::int64_t maxPixels)
{
    const ImageHeader h = peekImageHeader(data, size, name);
    checkPixelLimit(h, maxPixels, name);
    if (h.format == ImageFormat::Jpeg) {
        walkJpeg(ByteView(data, size, name), name, true);
    }
    if (size > static_cast<std::size_t>(INT_MAX)) {
        throw Error(ErrorKind::InvalidValue, name, "encoded image is larger than 2 GiB");
    }
    const cv::Mat encoded(1, static_cast<int>(size), CV_8U, const_cast<void*>(data));
    cv::Mat decoded;
    try {
        decoded = cv::imdecode(encoded, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
        throw Error(ErrorKind::Format, name,
                    std::string("cannot decode the ") + imageFormatName(h.format) +
                        " data: " + e.err);
    }
    if (decoded.empty()) {
        throw Error(ErrorKind::Format, name,
                    std::string("corrupt or truncated ") + imageFormatName(h.format) +
                        " data (the decoder refused it)");
    }
    if (decoded.dims != 2 || decoded.cols != h.width || decoded.rows != h.height) {
        throw Error(ErrorKind::Format, name,
                    "decoded " + std::to_string(decoded.cols) + "x" + std::to_string(decoded.rows) +
                        " pixels but the header says " + std::to_string(h.width) + "x" +
                        std::to_string(h.height));
    }
    return decoded;
}

Image2D wrapMat(cv::Mat mat)
{
    if (!mat.isContinuous()) {
        mat = mat.clone();
    }
    const PixelType type = mat.depth() == CV_8U ? PixelType::UInt8 : PixelType::Float32;
    auto owner = std::make_shared<cv::Mat>(std::move(mat));
    const std::size_t bytes = owner->total() * owner->elemSize();
    return Image2D::wrap(owner->cols, owner->rows, owner->channels(), type,
                         PixelBuffer::wrap(owner->data, bytes, owner));
}

} // namespace

const char* imageFormatName(ImageFormat format) noexcept
{
    return enumName(kImageFormatNames, format, "unknown");
}

ImageHeader peekImageHeader(const void* data, std::size_t size, const std::string& name)
{
    const ByteView b(data, size, name);
    ImageHeader h;
    if (b.startsWith("\x89PNG\r\n\x1a\n", 8)) {
        h = parsePng(b, name);
    } else if (b.startsWith("\xFF\xD8\xFF", 3)) {
        h = walkJpeg(b, name, false);
    } else if (b.startsWith("BM", 2)) {
        h = parseBmp(b, name);
    } else if (b.startsWith("II*\0", 4) || b.startsWith("MM\0*", 4)) {
        h = parseTiff(b, name);
    } else if (b.startsWith("II+\0", 4) || b.startsWith("MM\0+", 4)) {
        throw Error(ErrorKind::Unsupported, name, "BigTIFF images are not supported");
    } else if (size == 0) {
        throw Error(ErrorKind::Format, name, "empty file");
    } else {
        throw Error(ErrorKind::Format, name,
                    "unknown image format (expected PNG, JPEG, BMP or TIFF data)");
    }
    checkDimensions(h, name);
    return h;
}

ImageHeader readImageHeader(const std::string& path)
{
    // Headers are small, but a JPEG's frame header may follow large EXIF/ICC segments: try the
    // first 256 KiB and read the whole file only when that was not enough.
    constexpr std::size_t kPrefix = 256 * 1024;
    const std::uint64_t size = fileSize(path);
    if (size > kPrefix) {
        std::ifstream in(path, std::ios::binary);
        std::vector<unsigned char> prefix(kPrefix);
        if (in.read(reinterpret_cast<char*>(prefix.data()), kPrefix)) {
            try {
                return peekImageHeader(prefix.data(), prefix.size(), path);
            } catch (const Error&) {
                // Fall through to the whole file, which gives the definitive answer.
            }
        }
    }
    const std::vector<unsigned char> bytes = readFileBytes(path);
    return peekImageHeader(bytes.data(), bytes.size(), path);
}

namespace {

/// Runs a decoding step, turning library exceptions into our errors naming `name`.
template <class Fn>
Image2D guarded(const std::string& name, Fn&& fn)
{
    try {
        return fn();
    } catch (const Error&) {
        throw;
    } catch (const cv::Exception& e) {
        throw Error(ErrorKind::Format, name, "cannot decode the image: " + e.err);
    } catch (const std::bad_alloc&) {
        throw Error(ErrorKind::InvalidValue, name, "out of memory while decoding the image");
    }
}

Image2D decodeImageUnguarded(const void* data, std::size_t size, const std::string& name,
                             const ImageReadOptions& options)
{
    cv::Mat m = decodeChecked(data, size, name, options.maxPixels);
    if (m.depth() != CV_8U) {
        cv::Mat f;
        m.convertTo(f, CV_32F);
        m = f;
        cv::Point where;
        if (!cv::checkRange(m, true, &where)) {
            throw Error(ErrorKind::InvalidValue, name,
                        "image holds a non-finite value (NaN or Inf) at pixel (" +
                            std::to_string(where.x) + ", " + std::to_string(where.y) + ")");
        }
    }
    const int channels = m.channels();
    if (channels != 1 && channels != 3 && channels != 4) {
        // Two-channel (gray + alpha) data: keep the gray plane.
        cv::Mat gray;
        cv::extractChannel(m, gray, 0);
        m = gray;
    }
    cv::Mat out;
    switch (options.color) {
    case ImageColor::Native:
        if (m.channels() == 3) {
            cv::cvtColor(m, out, cv::COLOR_BGR2RGB);
        } else if (m.channels() == 4) {
            cv::cvtColor(m, out, cv::COLOR_BGRA2RGBA);
        } else {
            out = m;
        }
        break;
    case ImageColor::Rgb:
        cv::cvtColor(m, out,
                     m.channels() == 1   ? cv::COLOR_GRAY2RGB
                     : m.channels() == 3 ? cv::COLOR_BGR2RGB
                                         : cv::COLOR_BGRA2RGB);
        break;
    case ImageColor::Gray:
        if (m.channels() == 1) {
            out = m;
        } else {
            cv::cvtColor(m, out, m.channels() == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
        }
        break;
    }
    return wrapMat(std::move(out));
}

} // namespace

Image2D decodeImage(const void* data, std::size_t size, const std::string& name,
                    const ImageReadOptions& options)
{
    return guarded(name, [&] { return decodeImageUnguarded(data, size, name, options); });
}

Image2D readImage(const std::string& path, const ImageReadOptions& options)
{
    const std::vector<unsigned char> bytes = readFileBytes(path);
    return decodeImage(bytes.data(), bytes.size(), path, options);
}

namespace {

Image2D decodeMaskUnguarded(const void* data, std::size_t size, const std::string& name)
{
    const cv::Mat m = decodeChecked(data, size, name, ImageReadOptions{}.maxPixels);
    if (m.depth() != CV_8U && m.depth() != CV_16U) {
        throw Error(ErrorKind::InvalidValue, name,
                    "a mask must hold 8- or 16-bit unsigned integers, not " +
                        cv::typeToString(m.type()));
    }
    std::vector<cv::Mat> planes;
    cv::split(m, planes);
    if (planes.size() >= 3) {
        // Colour masks are accepted only when they are gray in disguise.
        for (int c = 1; c < 3; ++c) {
            cv::Mat differs = planes[0] != planes[static_cast<std::size_t>(c)];
            std::vector<cv::Point> where;
            if (cv::countNonZero(differs) > 0) {
                cv::findNonZero(differs, where);
                const cv::Point p = where.front();
                throw Error(ErrorKind::InvalidValue, name,
                            "mask is not binary: its colour channels differ (first at pixel (" +
                                std::to_string(p.x) + ", " + std::to_string(p.y) + "))");
            }
        }
        if (planes.size() == 4) {
            double lo = 0.0;
            double hi = 0.0;
            cv::minMaxLoc(planes[3], &lo, &hi);
            const double opaque = m.depth() == CV_8U ? 255.0 : 65535.0;
            if (lo != opaque) {
                throw Error(ErrorKind::InvalidValue, name,
                            "mask is not binary: it has transparent pixels (alpha down to " +
                                std::to_string(static_cast<int>(lo)) + ")");
            }
        }
    } else if (planes.size() == 2) {
        planes.resize(1); // gray + alpha: the alpha plane carries no label
    }
    const cv::Mat& gray = planes[0];

    // Histogram of the stored values, to name them in the error message.
    const int levels = gray.depth() == CV_8U ? 256 : 65536;
    std::vector<std::uint64_t> histogram(static_cast<std::size_t>(levels), 0);
    for (int y = 0; y < gray.rows; ++y) {
        if (gray.depth() == CV_8U) {
            const auto* row = gray.ptr<std::uint8_t>(y);
            for (int x = 0; x < gray.cols; ++x) {
                ++histogram[row[x]];
            }
        } else {
            const auto* row = gray.ptr<std::uint16_t>(y);
            for (int x = 0; x < gray.cols; ++x) {
                ++histogram[row[x]];
            }
        }
    }
    std::vector<int> values;
    for (int v = 0; v < levels; ++v) {
        if (histogram[static_cast<std::size_t>(v)] > 0) {
            values.push_back(v);
        }
    }
    const int full = levels - 1;
    int foreground = -1;
    if (values.size() == 1) {
        foreground = values[0] == 0 ? full : values[0];
    } else if (values.size() == 2 && values[0] == 0) {
        foreground = values[1];
    }
    if (foreground != 1 && foreground != full) {
        std::string list;
        const std::size_t shown = std::min<std::size_t>(values.size(), 8);
        for (std::size_t i = 0; i < shown; ++i) {
            list += (i ? ", " : "") + std::to_string(values[i]);
        }
        if (values.size() > shown) {
            list += ", ... " + std::to_string(values.back());
        }
        throw Error(ErrorKind::InvalidValue, name,
                    "mask is not binary: it holds " + std::to_string(values.size()) +
                        " distinct values (" + list + "); expected {0, " + std::to_string(full) +
                        "} or {0, 1}");
    }
    Image2D mask(gray.cols, gray.rows, 1, PixelType::UInt8);
    auto* out = mask.data<std::uint8_t>();
    for (int y = 0; y < gray.rows; ++y) {
        for (int x = 0; x < gray.cols; ++x) {
            const int v =
                gray.depth() == CV_8U ? gray.at<std::uint8_t>(y, x) : gray.at<std::uint16_t>(y, x);
            *out++ = v == foreground ? 1 : 0;
        }
    }
    return mask;
}

} // namespace

Image2D decodeMask(const void* data, std::size_t size, const std::string& name)
{
    return guarded(name, [&] { return decodeMaskUnguarded(data, size, name); });
}

Image2D readMask(const std::string& path)
{
    const std::vector<unsigned char> bytes = readFileBytes(path);
    return decodeMask(bytes.data(), bytes.size(), path);
}

} // namespace diffseg::core
