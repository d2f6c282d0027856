// Entry point: readVolume() and readLabelMap() on an arbitrary MetaImage file.
#include "FuzzSupport.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    diffseg::fuzz::readVolumeChecked(diffseg::fuzz::writeScratchFile(data, size, "input.mha"),
                                     true);
    return 0;
}
