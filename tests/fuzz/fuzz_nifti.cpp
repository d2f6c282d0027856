// Entry point: readVolume() and readLabelMap() on an arbitrary NIfTI file.
#include "FuzzSupport.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // A gzip stream is stored as .nii.gz, anything else as .nii: both paths get exercised.
    const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    diffseg::fuzz::readVolumeChecked(
        diffseg::fuzz::writeScratchFile(data, size, gz ? "input.nii.gz" : "input.nii"), true);
    return 0;
}
