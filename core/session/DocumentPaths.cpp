#include "DocumentPaths.h"

#include "base/Error.h"
#include "base/Text.h"
#include "data/DatasetLayout.h"
#include "io/FileUtils.h"
#include "io/VolumeReader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

namespace diffseg::core {

namespace fs = std::filesystem;

namespace {

bool endsWith(const std::string& text, const std::string& tail)
{
    return text.size() >= tail.size() &&
           text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

/// Regular files of `folder` whose names start with `prefix`, sorted by name.
std::vector<fs::path> filesStartingWith(const fs::path& folder, const std::string& prefix)
{
    std::vector<fs::path> out;
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        return out;
    }
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.rfind(prefix, 0) == 0 && it->is_regular_file(ec)) {
            out.push_back(it->path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

bool hasImageExtension(const std::string& path)
{
    const std::string ext = fileExtension(path);
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tif" ||
           ext == ".tiff";
}

bool hasVolumeExtension(const std::string& path)
{
    const std::string name = asciiLower(fs::path(path).filename().string());
    for (const char* ext : {".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm"}) {
        if (endsWith(name, ext)) {
            return true;
        }
    }
    return false;
}

bool isVolumePath(const std::string& path)
{
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        return true;
    }
    if (hasVolumeExtension(path)) {
        return true;
    }
    if (!fs::is_regular_file(path, ec) || hasImageExtension(path)) {
        return false;
    }
    try {
        return detectVolumeFormat(path) != VolumeFormat::Unknown;
    } catch (const Error&) {
        return false;
    }
}

std::string volumeStem(const std::string& path)
{
    std::string name = fs::path(path).filename().string();
    const std::string low = asciiLower(name);
    for (const char* ext : {".seg.nrrd", ".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"}) {
        if (endsWith(low, ext)) {
            name.resize(name.size() - std::string(ext).size());
            break;
        }
    }
    return name;
}

bool looksLikeLabelFile(const std::string& path)
{
    const std::string name = asciiLower(fs::path(path).filename().string());
    if (endsWith(name, ".seg.nrrd")) {
        return true;
    }
    for (const char* word : {"seg", "label", "mask", "_gt", "-gt", "truth"}) {
        if (name.find(word) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string findPhotoGroundTruth(const std::string& imagePath)
{
    const fs::path image = fs::absolute(imagePath).lexically_normal();
    const std::string stem = image.stem().string();
    const fs::path dir = image.parent_path();
    for (const fs::path& folder :
         {dir, dir / "masks", dir.parent_path() / "masks", dir.parent_path() / "ground_truth"}) {
        for (const fs::path& f : filesStartingWith(folder, stem)) {
            const fs::path file = fs::absolute(f).lexically_normal();
            if (file == image || !hasImageExtension(file.string()) || file.stem() == stem) {
                continue;
            }
            // Only names that differ from the photo's by a known mask suffix.
            if (pairingStem(file.filename().string()) == stem) {
                return file.string();
            }
        }
    }
    return {};
}

std::string findVolumeGroundTruth(const std::string& volumePath)
{
    std::error_code ec;
    if (!fs::is_regular_file(volumePath, ec)) {
        return {};
    }
    const fs::path volume = fs::absolute(volumePath).lexically_normal();
    for (const fs::path& f :
         filesStartingWith(volume.parent_path(), volumeStem(volumePath) + "_")) {
        if (f != volume && hasVolumeExtension(f.string()) && looksLikeLabelFile(f.string())) {
            return f.string();
        }
    }
    return {};
}

} // namespace diffseg::core
