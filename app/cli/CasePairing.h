#pragma once

// Finding images, masks and label maps in folders and pairing them by stem, shared by `segment`
// (--input / --gt folders) and `eval` (--pred / --gt folders). Header-only: the CLI builds its
// Command*.cpp files and nothing else.

#include "base/Error.h"
#include "data/DatasetLayout.h"
#include "io/FileUtils.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace diffseg::app {

/// 2D formats the image readers decode.
inline bool hasImageExtension(const std::string& path)
{
    const std::string ext = core::fileExtension(path);
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tif" ||
           ext == ".tiff";
}

/// Volume and label-map files (DICOM folders are not accepted as masks).
inline bool hasVolumeExtension(const std::string& path)
{
    const std::string ext = core::fileExtension(path);
    return ext == ".nii" || ext == ".nii.gz" || ext == ".nrrd" || ext == ".nhdr" ||
           ext == ".seg.nrrd" || ext == ".mha" || ext == ".mhd";
}

/// Regular, non-hidden files directly in `folder` that `accept`, sorted by name so that results
/// never depend on directory order. Throws Error(NotFound) naming `folder` when it is not a folder.
inline std::vector<std::string> listFiles(const std::string& folder,
                                          const std::function<bool(const std::string&)>& accept)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        throw core::Error(core::ErrorKind::NotFound, folder, "folder not found");
    }
    std::vector<std::string> files;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.empty() || name[0] == '.' || !it->is_regular_file(ec)) {
            continue;
        }
        if (accept(it->path().string())) {
            files.push_back(it->path().string());
        }
    }
    if (ec) {
        throw core::Error(core::ErrorKind::Io, folder, "cannot list the folder: " + ec.message());
    }
    std::sort(files.begin(), files.end());
    return files;
}

/// Files by pairing stem (the file stem without a mask suffix such as _segmentation); two files
/// with one stem are an Error(Config) naming both.
inline std::map<std::string, std::string> indexByStem(const std::vector<std::string>& files)
{
    std::map<std::string, std::string> byStem;
    for (const std::string& file : files) {
        const std::string stem = core::pairingStem(file);
        const auto [it, inserted] = byStem.emplace(stem, file);
        if (!inserted) {
            throw core::Error(core::ErrorKind::Config, file,
                              "has the same stem '" + stem + "' as " + it->second +
                                  ": cannot tell which one to pair");
        }
    }
    return byStem;
}

} // namespace diffseg::app
