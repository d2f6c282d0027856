// Entry point: readVolume() on a folder holding one arbitrary DICOM file (slice scan, grouping,
// geometry, GDCM pixel decoding and rescale).
#include "FuzzSupport.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    diffseg::fuzz::readVolumeChecked(diffseg::fuzz::writeScratchFolder(data, size, "slice.dcm"),
                                     false);
    return 0;
}
