#include "FileUtils.h"

#include "base/Error.h"
#include "base/Text.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace diffseg::core {

std::uint64_t fileSize(const std::string& path)
{
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
        throw Error(ErrorKind::NotFound, path, "file not found");
    }
    if (!fs::is_regular_file(status)) {
        throw Error(ErrorKind::NotFound, path, "not a regular file");
    }
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) {
        throw Error(ErrorKind::Io, path, "cannot read the file size: " + ec.message());
    }
    return size;
}

std::vector<unsigned char> readFileBytes(const std::string& path, std::uint64_t maxBytes)
{
    const std::uint64_t size = fileSize(path);
    if (size > maxBytes) {
        throw Error(ErrorKind::InvalidValue, path,
                    "file is " + std::to_string(size) + " bytes, more than the limit of " +
                        std::to_string(maxBytes));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::Io, path,
                    std::string("cannot open for reading: ") + std::strerror(errno));
    }
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    if (size > 0 &&
        !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
        throw Error(ErrorKind::Io, path,
                    "read only " + std::to_string(in.gcount()) + " of " + std::to_string(size) +
                        " bytes");
    }
    return bytes;
}

std::string fileExtension(const std::string& path)
{
    const std::string name = asciiLower(fs::path(path).filename().string());
    // Compound suffixes first: a ".gz" alone says nothing about the content.
    for (const char* compound : {".nii.gz", ".seg.nrrd", ".img.gz"}) {
        const std::size_t n = std::strlen(compound);
        if (name.size() > n && name.compare(name.size() - n, n, compound) == 0) {
            return compound;
        }
    }
    const std::size_t dot = name.find_last_of('.');
    if (dot == std::string::npos || dot == 0) {
        return {};
    }
    return name.substr(dot);
}

std::string fileStem(const std::string& path)
{
    const std::string name = fs::path(path).filename().string();
    const std::size_t extLength = fileExtension(path).size();
    return name.substr(0, name.size() - extLength);
}

} // namespace diffseg::core
