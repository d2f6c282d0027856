// Entry point: decodeMask() (binary check, colour/alpha handling) on arbitrary bytes.
#include "base/Error.h"
#include "io/ImageReader.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace diffseg::core;
    try {
        const Image2D mask = decodeMask(data, size, "fuzz-mask");
        const auto* p = mask.data<std::uint8_t>();
        for (std::size_t i = 0; i < mask.pixelCount(); ++i) {
            if (p[i] > 1) {
                __builtin_trap(); // a mask is {0, 1} or an error, never anything else
            }
        }
    } catch (const Error&) {
    }
    return 0;
}
