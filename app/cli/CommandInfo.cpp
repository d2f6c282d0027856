// diffseg info FILE_OR_FOLDER: what a newcomer needs to know about an image, mask, volume, DICOM
// folder or dataset folder before training or segmenting with it.

#include "CheckpointDescription.h"
#include "CliCommand.h"
#include "base/Error.h"
#include "data/DatasetLayout.h"
#include "data/Samples.h"
#include "io/FileUtils.h"
#include "io/ImageReader.h"
#include "io/VolumeReader.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>

namespace fs = std::filesystem;
using diffseg::core::Error;
using diffseg::core::ErrorKind;
using Json = nlohmann::ordered_json;

namespace {

std::string num(double v)
{
    char text[64];
    std::snprintf(text, sizeof text, "%.6g", v == 0.0 ? 0.0 : v); // no "-0"
    return text;
}

/// Distinct values of an integer-valued buffer, or empty when there are more than `limit` or any
/// value is not an integer (so that label maps show their labels and images do not).
template <class T>
std::vector<double> fewDistinctValues(const T* p, std::size_t n, std::size_t limit)
{
    std::set<double> values;
    for (std::size_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(p[i]);
        if (std::floor(v) != v) {
            return {};
        }
        values.insert(v);
        if (values.size() > limit) {
            return {};
        }
    }
    return {values.begin(), values.end()};
}

struct Range
{
    double min = 0.0;
    double max = 0.0;
    double mean = 0.0;
};

template <class T>
Range rangeOf(const T* p, std::size_t n, std::size_t stride = 1)
{
    Range r{static_cast<double>(p[0]), static_cast<double>(p[0]), 0.0};
    double sum = 0.0;
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; i += stride, ++count) {
        const double v = static_cast<double>(p[i]);
        r.min = std::min(r.min, v);
        r.max = std::max(r.max, v);
        sum += v;
    }
    r.mean = count ? sum / double(count) : 0.0;
    return r;
}

Json imageInfo(const std::string& path, const diffseg::core::ImageHeader& header)
{
    using namespace diffseg::core;
    const Image2D image = readImage(path);
    Json j;
    j["path"] = path;
    j["kind"] = "image";
    j["format"] = imageFormatName(header.format);
    j["width"] = image.width();
    j["height"] = image.height();
    j["channels"] = image.channels();
    static const char* kNames[] = {"", "gray", "gray+alpha", "RGB", "RGBA"};
    j["channel_names"] = kNames[std::clamp(image.channels(), 0, 4)];
    j["pixel_type"] = pixelTypeName(image.pixelType());
    j["bits_per_sample"] = header.bitsPerSample;
    Json ranges = Json::array();
    dispatchPixelType(image.pixelType(), [&](auto t) {
        using T = decltype(t);
        const T* p = image.data<T>();
        for (int c = 0; c < image.channels(); ++c) {
            const Range r = rangeOf(p + c, image.pixelCount() * std::size_t(image.channels()),
                                    std::size_t(image.channels()));
            ranges.push_back({{"min", r.min}, {"max", r.max}, {"mean", r.mean}});
        }
        if (image.channels() == 1) {
            const std::vector<double> values = fewDistinctValues(p, image.pixelCount(), 16);
            if (!values.empty()) {
                j["distinct_values"] = values;
            }
        }
    });
    j["intensity"] = ranges;
    if (image.channels() == 1 || image.channels() == 3) {
        try {
            readMask(path);
            j["binary_mask"] = true;
        } catch (const Error&) {
            j["binary_mask"] = false;
        }
    }
    return j;
}

Json geometryJson(const diffseg::core::Geometry& g)
{
    Json j;
    j["spacing_mm"] = g.spacing;
    j["origin_mm"] = g.origin;
    j["direction"] = {{g.direction[0], g.direction[1], g.direction[2]},
                      {g.direction[3], g.direction[4], g.direction[5]},
                      {g.direction[6], g.direction[7], g.direction[8]}};
    j["orientation"] = g.orientationCode();
    return j;
}

Json volumeInfo(const std::string& path)
{
    using namespace diffseg::core;
    const LoadedVolume loaded = readVolume(path);
    const Volume& v = loaded.volume;
    Json j;
    j["path"] = path;
    j["kind"] = "volume";
    j["format"] = volumeFormatName(loaded.source.format);
    j["size"] = v.size();
    j["channels"] = v.channels();
    j["stored_type"] = loaded.source.storedType;
    j["pixel_type"] = pixelTypeName(v.pixelType());
    j["geometry"] = geometryJson(v.geometry());
    Json ranges = Json::array();
    dispatchPixelType(v.pixelType(), [&](auto t) {
        using T = decltype(t);
        for (int c = 0; c < v.channels(); ++c) {
            const T* p = v.channelData<T>(c);
            const Range r = rangeOf(p, v.voxelCount());
            ranges.push_back({{"min", r.min}, {"max", r.max}, {"mean", r.mean}});
        }
        if (v.channels() == 1) {
            const std::vector<double> values = fewDistinctValues(v.data<T>(), v.voxelCount(), 256);
            if (!values.empty()) {
                j["distinct_values"] = values;
            }
        }
    });
    j["intensity"] = ranges;
    j["notes"] = loaded.source.notes;
    if (!loaded.source.dicomSeries.empty()) {
        Json series = Json::array();
        for (std::size_t i = 0; i < loaded.source.dicomSeries.size(); ++i) {
            const DicomSeriesInfo& s = loaded.source.dicomSeries[i];
            series.push_back({{"uid", s.seriesUid},
                              {"description", s.description},
                              {"modality", s.modality},
                              {"number", s.seriesNumber},
                              {"columns", s.columns},
                              {"rows", s.rows},
                              {"slices", s.files.size()},
                              {"chosen", int(i) == loaded.source.chosenSeries}});
        }
        j["dicom_series"] = series;
    }
    return j;
}

Json datasetInfo(const std::string& path, bool check)
{
    using namespace diffseg::core;
    const DatasetScan scan = scanDataset(path);
    Json j;
    j["path"] = path;
    j["kind"] = "dataset";
    j["layout"] = datasetLayoutName(scan.layout);
    j["pairs"] = scan.samples.size();
    j["unpaired_images"] = scan.unpairedImages;
    j["unpaired_masks"] = scan.unpairedMasks;
    j["problems"] = scan.problems;
    if (!scan.name.empty() || !scan.labelNames.empty() || !scan.channelNames.empty()) {
        Json labels = Json::object();
        for (const auto& [value, name] : scan.labelNames) {
            labels[std::to_string(value)] = name;
        }
        j["described"] = {{"name", scan.name},
                          {"licence", scan.licence},
                          {"channels", scan.channelNames},
                          {"labels", labels}};
    }
    if (!scan.samples.empty()) {
        const DatasetSample& first = scan.samples.front();
        j["first_sample"] = {{"id", first.id}, {"images", first.images}, {"mask", first.mask}};
    }
    if (check) {
        const bool volumes =
            scan.layout == DatasetLayout::Brats2023 || scan.layout == DatasetLayout::Aiib2023 ||
            scan.layout == DatasetLayout::Decathlon ||
            (!scan.samples.empty() &&
             detectVolumeFormat(scan.samples.front().images.front()) != VolumeFormat::Unknown);
        Json failures = Json::array();
        for (const DatasetSample& s : scan.samples) {
            try {
                if (volumes) {
                    loadVolumeCase(s);
                } else {
                    loadImageMaskPair(s.images.front(), s.mask);
                }
            } catch (const Error& e) {
                failures.push_back({{"id", s.id}, {"error", e.what()}});
            }
        }
        j["checked"] = scan.samples.size();
        j["failures"] = failures;
    }
    return j;
}

void printList(const char* title, const Json& list)
{
    std::printf("%-18s%zu\n", title, list.size());
    std::size_t shown = 0;
    for (const auto& item : list) {
        if (shown++ == 20) {
            std::printf("                    ... and %zu more\n", list.size() - 20);
            break;
        }
        std::printf("                    %s\n",
                    item.is_string() ? item.get<std::string>().c_str() : item.dump().c_str());
    }
}

std::string rangeText(const Json& r)
{
    return num(r["min"].get<double>()) + " .. " + num(r["max"].get<double>()) + " (mean " +
           num(r["mean"].get<double>()) + ")";
}

void printText(const Json& j)
{
    const std::string kind = j["kind"];
    std::printf("%-18s%s\n",
                kind == "dataset" ? "folder:" : "file:", j["path"].get<std::string>().c_str());
    if (kind == "dataset") {
        std::printf("%-18s%s\n", "layout:", j["layout"].get<std::string>().c_str());
        std::printf("%-18s%zu\n", "pairs:", j["pairs"].get<std::size_t>());
        if (j.contains("described")) {
            const Json& d = j["described"];
            std::printf("%-18s%s\n", "name:", d["name"].get<std::string>().c_str());
            std::printf("%-18s%s\n", "licence:", d["licence"].get<std::string>().c_str());
            std::string channels;
            for (const auto& c : d["channels"]) {
                channels += (channels.empty() ? "" : ", ") + c.get<std::string>();
            }
            std::printf("%-18s%s\n", "channels:", channels.c_str());
            std::string labels;
            for (const auto& [value, name] : d["labels"].items()) {
                labels += (labels.empty() ? "" : ", ") + value + " " + name.get<std::string>();
            }
            std::printf("%-18s%s\n", "labels:", labels.c_str());
        }
        printList("unpaired images:", j["unpaired_images"]);
        printList("unpaired masks:", j["unpaired_masks"]);
        printList("problems:", j["problems"]);
        if (j.contains("first_sample")) {
            const Json& s = j["first_sample"];
            std::printf("%-18s%s: %s -> %s\n", "first sample:", s["id"].get<std::string>().c_str(),
                        s["images"][0].get<std::string>().c_str(),
                        s["mask"].get<std::string>().c_str());
        }
        if (j.contains("checked")) {
            std::printf("%-18s%zu loaded, %zu failed\n", "check:", j["checked"].get<std::size_t>(),
                        j["failures"].size());
            for (const auto& f : j["failures"]) {
                std::printf("                    %s\n", f["error"].get<std::string>().c_str());
            }
        }
        return;
    }
    std::printf("%-18s%s\n", "format:", j["format"].get<std::string>().c_str());
    if (kind == "image") {
        std::printf("%-18s%d x %d pixels\n", "size:", j["width"].get<int>(),
                    j["height"].get<int>());
        std::printf("%-18s%d (%s)\n", "channels:", j["channels"].get<int>(),
                    j["channel_names"].get<std::string>().c_str());
        std::printf("%-18s%s\n", "pixel type:", j["pixel_type"].get<std::string>().c_str());
        const std::string names = j["channels"].get<int>() >= 3 ? "RGBA" : "G";
        for (std::size_t c = 0; c < j["intensity"].size(); ++c) {
            std::printf("%-18s%c %s\n", c == 0 ? "intensity:" : "",
                        names[std::min(c, names.size() - 1)], rangeText(j["intensity"][c]).c_str());
        }
        if (j.contains("binary_mask")) {
            std::printf("%-18s%s\n", "binary mask:", j["binary_mask"].get<bool>() ? "yes" : "no");
        }
    } else {
        const auto& s = j["size"];
        std::printf("%-18s%lld x %lld x %lld voxels, %d channel(s)\n",
                    "size:", s[0].get<long long>(), s[1].get<long long>(), s[2].get<long long>(),
                    j["channels"].get<int>());
        std::printf("%-18s%s (stored as %s)\n",
                    "pixel type:", j["pixel_type"].get<std::string>().c_str(),
                    j["stored_type"].get<std::string>().c_str());
        const Json& g = j["geometry"];
        std::printf("%-18s%s x %s x %s mm\n", "spacing:", num(g["spacing_mm"][0]).c_str(),
                    num(g["spacing_mm"][1]).c_str(), num(g["spacing_mm"][2]).c_str());
        std::printf("%-18s(%s, %s, %s) mm, LPS\n", "origin:", num(g["origin_mm"][0]).c_str(),
                    num(g["origin_mm"][1]).c_str(), num(g["origin_mm"][2]).c_str());
        for (int r = 0; r < 3; ++r) {
            std::printf("%-18s[%10s %10s %10s]%s\n", r == 0 ? "direction:" : "",
                        num(g["direction"][r][0]).c_str(), num(g["direction"][r][1]).c_str(),
                        num(g["direction"][r][2]).c_str(),
                        r == 0 ? ("  columns: i, j, k axes in LPS; orientation " +
                                  g["orientation"].get<std::string>())
                                     .c_str()
                               : "");
        }
        for (std::size_t c = 0; c < j["intensity"].size(); ++c) {
            std::printf("%-18s%s%s\n", c == 0 ? "intensity:" : "",
                        j["intensity"].size() > 1 ? ("channel " + std::to_string(c) + ": ").c_str()
                                                  : "",
                        rangeText(j["intensity"][c]).c_str());
        }
        if (j.contains("dicom_series")) {
            std::printf("%-18s%zu found\n", "DICOM series:", j["dicom_series"].size());
            for (const auto& s : j["dicom_series"]) {
                const std::string number = s["number"].get<std::string>();
                const std::string description = s["description"].get<std::string>();
                const std::string uid = s["uid"].get<std::string>();
                std::printf("  %s '%s'%s, %s, %dx%d, %zu slice(s), UID %s%s\n",
                            s["chosen"].get<bool>() ? "*" : " ",
                            description.empty() ? "(no description)" : description.c_str(),
                            number.empty() ? "" : (" #" + number).c_str(),
                            s["modality"].get<std::string>().c_str(), s["columns"].get<int>(),
                            s["rows"].get<int>(), s["slices"].get<std::size_t>(),
                            uid.empty() ? "(empty)" : uid.c_str(),
                            s["chosen"].get<bool>() ? "  <- read" : "");
            }
        }
    }
    if (j.contains("distinct_values")) {
        std::string values;
        for (const auto& v : j["distinct_values"]) {
            values += (values.empty() ? "" : " ") + num(v.get<double>());
        }
        std::printf("%-18s%zu: %s\n", "values:", j["distinct_values"].size(), values.c_str());
    }
    if (j.contains("notes")) {
        for (const auto& n : j["notes"]) {
            std::printf("%-18s%s\n", "note:", n.get<std::string>().c_str());
        }
    }
}

/// Describes `path`, choosing by what it is: dataset folder, DICOM folder, 2D image or volume.
Json describe(const std::string& path, bool check)
{
    using namespace diffseg::core;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        throw Error(ErrorKind::NotFound, path, "file or folder not found");
    }
    if (fs::is_directory(path, ec)) {
        if (detectDatasetLayout(path)) {
            return datasetInfo(path, check);
        }
        try {
            return volumeInfo(path);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::NotFound) {
                throw;
            }
            throw Error(ErrorKind::Format, path,
                        "neither a dataset folder (ISIC2018, PH2, images/+masks/, BraTS, AIIB) nor "
                        "a folder of DICOM slices");
        }
    }
    if (diffseg::app::looksLikeTorchFile(path)) {
        return diffseg::app::describeCheckpoint(path);
    }
    // 2D formats are recognised by their first bytes; anything else must be a volume.
    std::vector<char> head(64, 0);
    std::ifstream(path, std::ios::binary).read(head.data(), std::streamsize(head.size()));
    const bool looks2d = std::memcmp(head.data(), "\x89PNG", 4) == 0 ||
                         std::memcmp(head.data(), "\xFF\xD8\xFF", 3) == 0 ||
                         std::memcmp(head.data(), "BM", 2) == 0 ||
                         std::memcmp(head.data(), "II*", 4) == 0 ||
                         std::memcmp(head.data(), "MM\0*", 4) == 0;
    if (looks2d) {
        return imageInfo(path, readImageHeader(path));
    }
    return volumeInfo(path);
}

} // namespace

DIFFSEG_CLI_COMMAND(info, [](CLI::App& root, diffseg::app::CliResult& result) {
    auto* cmd = root.add_subcommand(
        "info", "Describe an image, mask, volume, DICOM folder, dataset folder or model file: "
                "format, size, channels, pixel type, geometry, intensity range; for datasets the "
                "layout, pairs and unpaired files; for models the network, input and model card");
    auto path = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    auto check = std::make_shared<bool>(false);
    cmd->add_option("path", *path,
                    "Image, mask, volume file, DICOM folder, dataset folder or checkpoint")
        ->required();
    cmd->add_flag("--json", *json, "Print one JSON object instead of text");
    cmd->add_flag("--check", *check,
                  "Dataset folders: load every pair and report the ones that fail");
    cmd->callback([path, json, check, &result] {
        const Json j = describe(*path, *check);
        if (*json) {
            std::printf("%s\n", j.dump(2).c_str());
        } else if (j.value("kind", std::string()) == "checkpoint" ||
                   j.value("kind", std::string()) == "torch file") {
            diffseg::app::printCheckpoint(j);
        } else {
            printText(j);
        }
        if (j.contains("failures") && !j["failures"].empty()) {
            result.exitCode = diffseg::app::kExitError;
        }
    });
})
