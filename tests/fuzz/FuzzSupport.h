#pragma once

// Shared by the fuzz targets: inputs reach readers that take a path through a scratch file.

#include <cstddef>
#include <cstdint>
#include <string>

namespace diffseg::fuzz {

/// Writes the input to `name` inside this process's scratch folder and returns its path.
std::string writeScratchFile(const std::uint8_t* data, std::size_t size, const std::string& name);

/// A scratch sub-folder holding only the input, as `name` (for folder readers: DICOM).
std::string writeScratchFolder(const std::uint8_t* data, std::size_t size, const std::string& name);

/// Memory limit handed to the readers: far below libFuzzer's RSS limit, so that a header that
/// announces gigabytes is refused (the behaviour under test) instead of exhausting memory.
constexpr std::uint64_t kMaxBytes = std::uint64_t(64) << 20;

/// Reads `path` as a volume (a file or a DICOM folder) within kMaxBytes and traps on a result
/// that breaks the reader's promises (invalid geometry, fewer bytes than the size says); with
/// `labelsToo` also its header alone and the path as a label map. core::Error is the expected
/// answer to bad input and is swallowed.
void readVolumeChecked(const std::string& path, bool labelsToo);

} // namespace diffseg::fuzz
