// Entry point: readVolume() and readLabelMap() on an arbitrary MetaImage file.
#include "FuzzSupport.h"
#include "base/Error.h"
#include "io/VolumeReader.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace diffseg::core;
    const std::string path = diffseg::fuzz::writeScratchFile(data, size, "input.mha");
    VolumeReadOptions options;
    options.maxBytes = diffseg::fuzz::kMaxBytes;
    try {
        const LoadedVolume v = readVolume(path, options);
        if (!v.volume.geometry().isValid() || v.volume.byteSize() > v.volume.buffer().size()) {
            __builtin_trap();
        }
        readVolumeHeader(path);
        readLabelMap(path, options);
    } catch (const Error&) {
    }
    return 0;
}
