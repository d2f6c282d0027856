// Entry point: readVolume() on a folder holding one arbitrary DICOM file (slice scan, grouping,
// geometry, GDCM pixel decoding and rescale).
#include "FuzzSupport.h"
#include "base/Error.h"
#include "io/VolumeReader.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace diffseg::core;
    const std::string folder = diffseg::fuzz::writeScratchFolder(data, size, "slice.dcm");
    VolumeReadOptions options;
    options.maxBytes = diffseg::fuzz::kMaxBytes;
    try {
        const LoadedVolume v = readVolume(folder, options);
        if (!v.volume.geometry().isValid() || v.volume.byteSize() > v.volume.buffer().size()) {
            __builtin_trap();
        }
    } catch (const Error&) {
    }
    return 0;
}
