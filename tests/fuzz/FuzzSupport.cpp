#include "FuzzSupport.h"

#include "base/Error.h"
#include "io/VolumeReader.h"

#include <itkObject.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace diffseg::fuzz {

namespace {

const std::string& scratch()
{
    static const std::string dir = [] {
        // ITK warns on stderr about every odd header; the readers' errors are what is tested.
        itk::Object::GlobalWarningDisplayOff();
        std::string pattern =
            std::filesystem::temp_directory_path().string() + "/diffseg-fuzz-XXXXXX";
        if (!mkdtemp(pattern.data())) {
            std::abort();
        }
        return pattern;
    }();
    return dir;
}

void write(const std::string& path, const std::uint8_t* data, std::size_t size)
{
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        std::abort();
    }
    if (size) {
        std::fwrite(data, 1, size, f);
    }
    std::fclose(f);
}

} // namespace

std::string writeScratchFile(const std::uint8_t* data, std::size_t size, const std::string& name)
{
    const std::string path = scratch() + "/" + name;
    write(path, data, size);
    return path;
}

std::string writeScratchFolder(const std::uint8_t* data, std::size_t size, const std::string& name)
{
    const std::string folder = scratch() + "/folder";
    std::filesystem::create_directories(folder);
    write(folder + "/" + name, data, size);
    return folder;
}

void readVolumeChecked(const std::string& path, bool labelsToo)
{
    using namespace diffseg::core;
    VolumeReadOptions options;
    options.maxBytes = kMaxBytes;
    try {
        const LoadedVolume v = readVolume(path, options);
        if (!v.volume.geometry().isValid() || v.volume.byteSize() > v.volume.buffer().size()) {
            __builtin_trap();
        }
        if (labelsToo) {
            readVolumeHeader(path);
            readLabelMap(path, options);
        }
    } catch (const Error&) {
    }
}

} // namespace diffseg::fuzz
