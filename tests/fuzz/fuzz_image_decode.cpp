// Entry point: decodeImage() on arbitrary bytes (PNG, JPEG, BMP, TIFF headers and OpenCV decoders).
#include "base/Error.h"
#include "io/ImageReader.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace diffseg::core;
    ImageReadOptions options;
    options.maxPixels = std::int64_t(1) << 22; // keep decodes small and fast
    try {
        const Image2D image = decodeImage(data, size, "fuzz-input", options);
        // A decoded image must be what its header says.
        const ImageHeader header = peekImageHeader(data, size, "fuzz-input");
        if (image.width() != header.width || image.height() != header.height) {
            __builtin_trap();
        }
        options.color = ImageColor::Rgb;
        if (decodeImage(data, size, "fuzz-input", options).channels() != 3) {
            __builtin_trap();
        }
    } catch (const Error&) {
        // Expected for bad input: the reader refused it with a message.
    }
    return 0;
}
