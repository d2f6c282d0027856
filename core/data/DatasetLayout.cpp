#include "DatasetLayout.h"

#include "base/EnumNames.h"
#include "base/Error.h"
#include "base/Text.h"
#include "io/FileUtils.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace diffseg::core {

namespace {

const char* const kMaskSuffixes[] = {"_segmentation", "_lesion", "_mask", "_seg", "_gt"};

constexpr EnumName<DatasetLayout> kDatasetLayoutNames[] = {
    {DatasetLayout::Isic2018, "isic2018"},
    {DatasetLayout::Ph2, "ph2"},
    {DatasetLayout::ImagesMasks, "images-masks"},
    {DatasetLayout::Brats2023, "brats2023"},
    {DatasetLayout::Aiib2023, "aiib2023"}};

bool isImageFile(const std::string& path)
{
    static const std::set<std::string> kExtensions = {".png",  ".jpg",      ".jpeg", ".bmp",
                                                      ".tif",  ".tiff",     ".nii",  ".nii.gz",
                                                      ".nrrd", ".seg.nrrd", ".mha",  ".mhd"};
    return kExtensions.count(fileExtension(path)) > 0;
}

bool isDirectory(const fs::path& p)
{
    std::error_code ec;
    return fs::is_directory(p, ec);
}

/// Regular files of a folder, sorted by name (directory order is never relied on).
std::vector<std::string> filesIn(const fs::path& folder)
{
    std::vector<std::string> files;
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
        if (e.is_regular_file(ec) && e.path().filename().string().front() != '.') {
            files.push_back(e.path().string());
        }
    }
    if (ec) {
        throw Error(ErrorKind::Io, folder.string(), "cannot list the folder: " + ec.message());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<fs::path> subfoldersOf(const fs::path& folder)
{
    std::vector<fs::path> folders;
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
        if (e.is_directory(ec) && e.path().filename().string().front() != '.') {
            folders.push_back(e.path());
        }
    }
    std::sort(folders.begin(), folders.end());
    return folders;
}

void requireFolder(const fs::path& folder, DatasetLayout layout)
{
    if (!isDirectory(folder)) {
        throw Error(ErrorKind::NotFound, folder.string(),
                    std::string("folder missing: the ") + datasetLayoutName(layout) +
                        " layout needs it");
    }
}

/// Pairs images and masks by id; `imageId`/`maskId` return "" for files that do not follow the
/// layout's naming (reported as problems).
template <class ImageId, class MaskId>
void pairById(DatasetScan& scan, const fs::path& imageFolder, const fs::path& maskFolder,
              ImageId imageId, MaskId maskId)
{
    std::map<std::string, std::vector<std::string>> images;
    std::map<std::string, std::vector<std::string>> masks;
    for (const std::string& f : filesIn(imageFolder)) {
        if (!isImageFile(f)) {
            continue; // LICENSE.txt, ATTRIBUTION.txt, ...
        }
        const std::string id = imageId(f);
        if (id.empty()) {
            scan.problems.push_back(f + ": name does not follow the layout");
        } else {
            images[id].push_back(f);
        }
    }
    for (const std::string& f : filesIn(maskFolder)) {
        if (!isImageFile(f)) {
            continue;
        }
        const std::string id = maskId(f);
        if (id.empty()) {
            scan.problems.push_back(f + ": name does not follow the layout");
        } else {
            masks[id].push_back(f);
        }
    }
    for (const auto& [id, files] : images) {
        const auto m = masks.find(id);
        if (files.size() > 1 || (m != masks.end() && m->second.size() > 1)) {
            std::string list;
            for (const std::string& f : files) {
                list += " " + fs::path(f).filename().string();
            }
            if (m != masks.end()) {
                for (const std::string& f : m->second) {
                    list += " " + fs::path(f).filename().string();
                }
            }
            scan.problems.push_back("id '" + id + "' is ambiguous:" + list);
            continue;
        }
        if (m == masks.end()) {
            scan.unpairedImages.push_back(files.front());
        } else {
            scan.samples.push_back({id, {files.front()}, m->second.front()});
        }
    }
    for (const auto& [id, files] : masks) {
        if (!images.count(id)) {
            scan.unpairedMasks.insert(scan.unpairedMasks.end(), files.begin(), files.end());
        }
    }
}

/// Text between `prefix` and `suffix` in the file name, or "" if the name does not fit.
std::string between(const std::string& path, const std::string& prefix, const std::string& suffix)
{
    const std::string name = fs::path(path).filename().string();
    if (name.size() <= prefix.size() + suffix.size() ||
        name.compare(0, prefix.size(), prefix) != 0 ||
        asciiLower(name.substr(name.size() - suffix.size())) != asciiLower(suffix)) {
        return {};
    }
    return name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
}

/// BraTS files are "<case>-t1c.nii.gz" in the release and "t1c.nii.gz" after the reference's
/// renaming step: the modality is the text after the last '-'.
std::string bratsModality(const std::string& path)
{
    const std::string stem = asciiLower(fileStem(path));
    const std::size_t dash = stem.find_last_of('-');
    return dash == std::string::npos ? stem : stem.substr(dash + 1);
}

void scanBrats(DatasetScan& scan, const fs::path& root)
{
    static const char* const kChannels[] = {"t2w", "t2f", "t1n", "t1c"};
    for (const fs::path& folder : subfoldersOf(root)) {
        std::map<std::string, std::string> byModality;
        for (const std::string& f : filesIn(folder)) {
            if (fileExtension(f) == ".nii.gz" || fileExtension(f) == ".nii") {
                byModality[bratsModality(f)] = f;
            }
        }
        if (byModality.empty()) {
            continue; // not a case folder
        }
        DatasetSample sample;
        sample.id = folder.filename().string();
        std::string missing;
        for (const char* channel : kChannels) {
            const auto it = byModality.find(channel);
            if (it == byModality.end()) {
                missing += std::string(missing.empty() ? "" : ", ") + channel;
            } else {
                sample.images.push_back(it->second);
            }
        }
        if (!missing.empty()) {
            scan.problems.push_back(folder.string() + ": case lacks " + missing);
            continue;
        }
        const auto seg = byModality.find("seg");
        if (seg == byModality.end()) {
            scan.unpairedImages.push_back(folder.string());
            continue;
        }
        sample.mask = seg->second;
        scan.samples.push_back(std::move(sample));
    }
}

bool looksLikeBrats(const fs::path& root)
{
    for (const fs::path& folder : subfoldersOf(root)) {
        for (const std::string& f : filesIn(folder)) {
            const std::string m = bratsModality(f);
            if (m == "t1c" || m == "t2f" || m == "t2w" || m == "t1n") {
                return true;
            }
        }
    }
    return false;
}

} // namespace

const char* datasetLayoutName(DatasetLayout layout) noexcept
{
    return enumName(kDatasetLayoutNames, layout, "unknown");
}

std::optional<DatasetLayout> datasetLayoutFromName(const std::string& name)
{
    return enumFromName(kDatasetLayoutNames, name);
}

std::string pairingStem(const std::string& path)
{
    std::string stem = fileStem(path);
    const std::string low = asciiLower(stem);
    for (const char* suffix : kMaskSuffixes) {
        const std::string s(suffix);
        if (low.size() > s.size() && low.compare(low.size() - s.size(), s.size(), s) == 0) {
            return stem.substr(0, stem.size() - s.size());
        }
    }
    return stem;
}

std::optional<DatasetLayout> detectDatasetLayout(const std::string& root)
{
    const fs::path r(root);
    if (!isDirectory(r)) {
        throw Error(ErrorKind::NotFound, root, "not a folder");
    }
    if (isDirectory(r / "ISIC2018_Task1-2_Training_Input") &&
        isDirectory(r / "ISIC2018_Task1_Training_GroundTruth")) {
        return DatasetLayout::Isic2018;
    }
    if (isDirectory(r / "trainx") && isDirectory(r / "trainy")) {
        return DatasetLayout::Ph2;
    }
    if (isDirectory(r / "img") && isDirectory(r / "gt")) {
        return DatasetLayout::Aiib2023;
    }
    if (isDirectory(r / "images") && isDirectory(r / "masks")) {
        return DatasetLayout::ImagesMasks;
    }
    if (looksLikeBrats(r)) {
        return DatasetLayout::Brats2023;
    }
    return std::nullopt;
}

DatasetScan scanDataset(const std::string& root)
{
    const std::optional<DatasetLayout> layout = detectDatasetLayout(root);
    if (!layout) {
        throw Error(ErrorKind::Format, root,
                    "no known dataset layout: expected ISIC2018_Task1-2_Training_Input/ + "
                    "ISIC2018_Task1_Training_GroundTruth/, trainx/ + trainy/, images/ + masks/, "
                    "img/ + gt/, or BraTS case folders");
    }
    return scanDataset(root, *layout);
}

DatasetScan scanDataset(const std::string& root, DatasetLayout layout)
{
    DatasetScan scan;
    scan.layout = layout;
    scan.root = root;
    const fs::path r(root);
    if (!isDirectory(r)) {
        throw Error(ErrorKind::NotFound, root, "not a folder");
    }
    switch (layout) {
    case DatasetLayout::Isic2018: {
        const fs::path images = r / "ISIC2018_Task1-2_Training_Input";
        const fs::path masks = r / "ISIC2018_Task1_Training_GroundTruth";
        requireFolder(images, layout);
        requireFolder(masks, layout);
        pairById(
            scan, images, masks, [](const std::string& f) { return between(f, "ISIC_", ".jpg"); },
            [](const std::string& f) { return between(f, "ISIC_", "_segmentation.png"); });
        break;
    }
    case DatasetLayout::Ph2: {
        requireFolder(r / "trainx", layout);
        requireFolder(r / "trainy", layout);
        pairById(
            scan, r / "trainx", r / "trainy",
            [](const std::string& f) { return between(f, "IMD", ".bmp"); },
            [](const std::string& f) { return between(f, "IMD", "_lesion.bmp"); });
        break;
    }
    case DatasetLayout::ImagesMasks:
        requireFolder(r / "images", layout);
        requireFolder(r / "masks", layout);
        pairById(
            scan, r / "images", r / "masks", [](const std::string& f) { return fileStem(f); },
            [](const std::string& f) { return pairingStem(f); });
        break;
    case DatasetLayout::Aiib2023: {
        // The case name is the file name up to the first dot.
        auto caseName = [](const std::string& f) {
            const std::string name = fs::path(f).filename().string();
            return name.substr(0, name.find('.'));
        };
        requireFolder(r / "img", layout);
        requireFolder(r / "gt", layout);
        pairById(scan, r / "img", r / "gt", caseName, caseName);
        break;
    }
    case DatasetLayout::Brats2023:
        scanBrats(scan, r);
        break;
    }
    std::sort(scan.samples.begin(), scan.samples.end(),
              [](const DatasetSample& a, const DatasetSample& b) { return a.id < b.id; });
    return scan;
}

} // namespace diffseg::core
