#include "DatasetLayout.h"

#include "base/EnumNames.h"
#include "base/Error.h"
#include "base/Text.h"
#include "io/FileUtils.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace diffseg::core {

namespace {

const char* const kMaskSuffixes[] = {"_segmentation", "_lesion", "_mask", "_seg", "_gt"};

constexpr EnumName<DatasetLayout> kDatasetLayoutNames[] = {
    {DatasetLayout::Isic2018, "isic2018"},        {DatasetLayout::Ph2, "ph2"},
    {DatasetLayout::ImagesMasks, "images-masks"}, {DatasetLayout::Brats2023, "brats2023"},
    {DatasetLayout::Aiib2023, "aiib2023"},        {DatasetLayout::Decathlon, "decathlon"}};

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

/// A whole non-negative decimal number, or nothing.
std::optional<int> parseInt(const std::string& text)
{
    int value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return value;
}

/// dataset.json, parsed; Error(Format) naming the file when it is not a JSON object.
nlohmann::json readDatasetJson(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::Io, file.string(), "cannot read the file");
    }
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Format, file.string(), std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object()) {
        throw Error(ErrorKind::Format, file.string(), "is not a JSON object");
    }
    return j;
}

/// A dataset.json string field, or "" when absent or not a string.
std::string textField(const nlohmann::json& j, const char* key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// The Decathlon's "modality" ({"0": "MRI"}) or nnU-Net v2's "channel_names": names in channel
/// order.
void readChannelNames(DatasetScan& scan, const nlohmann::json& j, const fs::path& file)
{
    const char* key = j.contains("channel_names") ? "channel_names" : "modality";
    const auto it = j.find(key);
    if (it == j.end()) {
        return;
    }
    std::map<int, std::string> byIndex;
    for (const auto& [index, name] : it->items()) {
        const std::optional<int> i = parseInt(index);
        if (!i || *i < 0 || !name.is_string()) {
            scan.problems.push_back(file.string() + ": " + key + " entry '" + index +
                                    "' is not <channel index>: <name>");
            continue;
        }
        byIndex[*i] = name.get<std::string>();
    }
    for (const auto& [index, name] : byIndex) {
        if (index != static_cast<int>(scan.channelNames.size())) {
            scan.problems.push_back(file.string() + ": " + key + " skips channel " +
                                    std::to_string(scan.channelNames.size()));
            break;
        }
        scan.channelNames.push_back(name);
    }
}

/// "labels": {"1": "Anterior"} (Decathlon) or {"Anterior": 1} (nnU-Net v2; region labels, whose
/// value is a list, are reported as problems).
void readLabelNames(DatasetScan& scan, const nlohmann::json& j, const fs::path& file)
{
    const auto it = j.find("labels");
    if (it == j.end() || !it->is_object()) {
        return;
    }
    std::map<int, std::string> byValue;
    for (const auto& [key, value] : it->items()) {
        if (const std::optional<int> v = parseInt(key); v && value.is_string()) {
            byValue[*v] = value.get<std::string>();
        } else if (value.is_number_integer()) {
            byValue[value.get<int>()] = key;
        } else {
            scan.problems.push_back(file.string() + ": label '" + key +
                                    "' is neither <value>: <name> nor <name>: <value> (region "
                                    "labels are not supported)");
        }
    }
    scan.labelNames.assign(byValue.begin(), byValue.end());
}

/// A path of dataset.json ("./imagesTr/x.nii.gz") under the dataset's root.
std::string underRoot(const fs::path& root, const std::string& relative)
{
    return (root / fs::path(relative).lexically_normal()).lexically_normal().string();
}

bool fileExists(const std::string& path)
{
    std::error_code ec;
    return fs::is_regular_file(path, ec);
}

/// The Decathlon's pairs, as dataset.json's "training" list names them.
void scanDecathlonList(DatasetScan& scan, const fs::path& root, const nlohmann::json& list,
                       const fs::path& file)
{
    std::set<std::string> ids;
    for (const nlohmann::json& entry : list) {
        const std::string image = entry.is_object() ? textField(entry, "image") : std::string();
        const std::string label = entry.is_object() ? textField(entry, "label") : std::string();
        if (image.empty()) {
            scan.problems.push_back(file.string() + ": a training entry has no \"image\"");
            continue;
        }
        const std::string imagePath = underRoot(root, image);
        const std::string labelPath = label.empty() ? std::string() : underRoot(root, label);
        const std::string id = fileStem(imagePath);
        if (!fileExists(imagePath)) {
            scan.problems.push_back(imagePath + ": listed in dataset.json but missing");
        } else if (!ids.insert(id).second) {
            scan.problems.push_back(imagePath + ": listed twice in dataset.json");
        } else if (labelPath.empty() || !fileExists(labelPath)) {
            scan.unpairedImages.push_back(imagePath);
        } else {
            scan.samples.push_back({id, {imagePath}, labelPath});
        }
    }
}

/// nnU-Net v2: labelsTr/<case><ending> with one imagesTr/<case>_<XXXX><ending> per channel.
void scanNnunetChannels(DatasetScan& scan, const fs::path& root, const std::string& ending)
{
    const std::size_t channels = std::max<std::size_t>(scan.channelNames.size(), 1);
    std::map<std::string, std::map<int, std::string>> images;
    for (const std::string& f : filesIn(root / "imagesTr")) {
        const std::string stem = between(f, "", ending);
        const std::size_t underscore = stem.find_last_of('_');
        const std::optional<int> channel =
            underscore == std::string::npos ? std::nullopt : parseInt(stem.substr(underscore + 1));
        if (stem.empty() || !channel || *channel < 0) {
            if (isImageFile(f)) {
                scan.problems.push_back(f + ": name is not <case>_<channel>" + ending);
            }
            continue;
        }
        images[stem.substr(0, underscore)][*channel] = f;
    }
    std::set<std::string> labelled;
    for (const std::string& f : filesIn(root / "labelsTr")) {
        const std::string id = between(f, "", ending);
        if (id.empty()) {
            continue;
        }
        labelled.insert(id);
        const auto it = images.find(id);
        if (it == images.end()) {
            scan.unpairedMasks.push_back(f);
            continue;
        }
        DatasetSample sample{id, {}, f};
        for (std::size_t c = 0; c < channels; ++c) {
            const auto file = it->second.find(static_cast<int>(c));
            if (file == it->second.end()) {
                break;
            }
            sample.images.push_back(file->second);
        }
        if (sample.images.size() != channels || it->second.size() != channels) {
            scan.problems.push_back(id + ": case has " + std::to_string(it->second.size()) +
                                    " channel files, dataset.json names " +
                                    std::to_string(channels));
            continue;
        }
        scan.samples.push_back(std::move(sample));
    }
    for (const auto& [id, files] : images) {
        if (!labelled.count(id)) {
            scan.unpairedImages.push_back(files.begin()->second);
        }
    }
}

void scanDecathlon(DatasetScan& scan, const fs::path& root)
{
    const fs::path file = root / "dataset.json";
    if (!fileExists(file.string())) {
        throw Error(ErrorKind::NotFound, file.string(),
                    "file missing: the decathlon layout needs it");
    }
    requireFolder(root / "imagesTr", DatasetLayout::Decathlon);
    const nlohmann::json j = readDatasetJson(file);
    scan.name = textField(j, "name");
    scan.licence = j.contains("licence") ? textField(j, "licence") : textField(j, "license");
    readChannelNames(scan, j, file);
    readLabelNames(scan, j, file);
    if (const auto list = j.find("training"); list != j.end() && list->is_array()) {
        scanDecathlonList(scan, root, *list, file);
    } else {
        requireFolder(root / "labelsTr", DatasetLayout::Decathlon);
        const std::string ending = textField(j, "file_ending");
        scanNnunetChannels(scan, root, ending.empty() ? ".nii.gz" : ending);
    }
}

} // namespace

std::string DatasetScan::labelName(int value) const
{
    for (const auto& [v, name] : labelNames) {
        if (v == value) {
            return name;
        }
    }
    return {};
}

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
    if (isDirectory(r / "imagesTr") && fileExists((r / "dataset.json").string())) {
        return DatasetLayout::Decathlon;
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
                    "img/ + gt/, dataset.json + imagesTr/ (Decathlon), or BraTS case folders");
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
    case DatasetLayout::Decathlon:
        scanDecathlon(scan, r);
        break;
    }
    std::sort(scan.samples.begin(), scan.samples.end(),
              [](const DatasetSample& a, const DatasetSample& b) { return a.id < b.id; });
    return scan;
}

} // namespace diffseg::core
