#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace diffseg::core {

/// Reads a whole file into memory. Throws Error(NotFound) when it does not exist or is a folder,
/// Error(Io) when the OS refuses the read, Error(InvalidValue) when it is larger than `maxBytes`.
std::vector<unsigned char> readFileBytes(const std::string& path,
                                         std::uint64_t maxBytes = std::uint64_t(1) << 31);

/// Size of a regular file in bytes; throws Error(NotFound) when `path` is not a regular file.
std::uint64_t fileSize(const std::string& path);

/// Lower-case file name suffix including compound ones: ".nii.gz", ".seg.nrrd", ".png", "".
std::string fileExtension(const std::string& path);

/// File name without folder and without fileExtension(): "a/b/IMD002_lesion.bmp" ->
/// "IMD002_lesion".
std::string fileStem(const std::string& path);

} // namespace diffseg::core
