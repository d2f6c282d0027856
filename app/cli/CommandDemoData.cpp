// diffseg demo-data --out DIR: writes the procedural demo data (core/data/DemoData.h) as files a
// user or `diffseg train` can open: a dermoscopy images/ + masks/ dataset (PNG) and, with
// --volume, CT phantoms with their label maps (NIfTI) in DIR/ct/images + DIR/ct/masks.

#include "CliCommand.h"
#include "base/Error.h"
#include "data/DemoData.h"
#include "io/AtomicWrite.h"
#include "io/ImageWriter.h"
#include "io/VolumeWriter.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using diffseg::core::Error;
using diffseg::core::ErrorKind;
using Json = nlohmann::ordered_json;

namespace {

struct DemoDataOptions
{
    std::string out;
    int count = 16;
    std::string size = "256x256";
    std::uint64_t seed = 0;
    bool volume = false;
    int volumeCount = 1;
    std::string volumeSize = "256x256x80";
    bool quiet = false;
};

/// Parses "WxH" (or "XxYxZ" with `parts` = 3) into positive integers; throws Error(InvalidValue)
/// naming the option.
std::array<std::int64_t, 3> parseSize(const std::string& text, int parts, const char* option)
{
    std::array<std::int64_t, 3> size{1, 1, 1};
    std::size_t pos = 0;
    for (int p = 0; p < parts; ++p) {
        const std::size_t end = p + 1 < parts ? text.find_first_of("xX", pos) : text.size();
        const std::string piece =
            end == std::string::npos ? std::string() : text.substr(pos, end - pos);
        std::size_t used = 0;
        long long v = 0;
        try {
            v = piece.empty() ? 0 : std::stoll(piece, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (piece.empty() || used != piece.size() || v <= 0) {
            throw Error(ErrorKind::InvalidValue, option,
                        "'" + text + "' is not a size like " +
                            (parts == 2 ? "256x256" : "96x96x40"));
        }
        size[static_cast<std::size_t>(p)] = v;
        pos = end + 1;
    }
    return size;
}

std::string caseName(const char* prefix, int index)
{
    char name[32];
    std::snprintf(name, sizeof name, "%s_%04d", prefix, index);
    return name;
}

void run(const DemoDataOptions& o)
{
    using namespace diffseg::core;
    if (o.count < 0 || o.count > 100000) {
        throw Error(ErrorKind::InvalidValue, "--count", "must lie in [0, 100000]");
    }
    if (o.volumeCount < 1 || o.volumeCount > 1000) {
        throw Error(ErrorKind::InvalidValue, "--volume-count", "must lie in [1, 1000]");
    }
    if (o.count == 0 && !o.volume) {
        throw Error(ErrorKind::InvalidValue, "--count",
                    "0 images and no --volume: there is nothing to write");
    }
    const auto size2d = parseSize(o.size, 2, "--size");
    const auto size3d = parseSize(o.volumeSize, 3, "--volume-size");
    const auto started = std::chrono::steady_clock::now();
    // A counter on a terminal; nothing in logs.
    const bool counter = !o.quiet && isatty(fileno(stderr));

    Json manifest;
    manifest["generator"] = "diffseg demo-data";
    manifest["seed"] = o.seed;
    if (o.count > 0) {
        const fs::path images = fs::path(o.out) / "images";
        const fs::path masks = fs::path(o.out) / "masks";
        std::error_code ec;
        fs::create_directories(images, ec);
        fs::create_directories(masks, ec);
        if (!fs::is_directory(images) || !fs::is_directory(masks)) {
            throw Error(ErrorKind::Io, o.out, "cannot create the images/ and masks/ folders");
        }
        Json cases = Json::array();
        for (int i = 0; i < o.count; ++i) {
            const std::uint64_t seed = o.seed + static_cast<std::uint64_t>(i);
            const DermoscopyDemo demo = generateDermoscopyDemo(static_cast<int>(size2d[0]),
                                                               static_cast<int>(size2d[1]), seed);
            const std::string name = caseName("demo", i);
            writeImage(demo.image, (images / (name + ".png")).string());
            writeMaskPng(demo.mask, (masks / (name + "_segmentation.png")).string());
            std::size_t area = 0;
            for (std::size_t p = 0; p < demo.mask.pixelCount(); ++p) {
                area += demo.mask.data<std::uint8_t>()[p];
            }
            const double fraction = double(area) / double(demo.mask.pixelCount());
            cases.push_back({{"id", name},
                             {"seed", seed},
                             {"lesion_fraction", fraction},
                             {"blue_white_veil", demo.blueWhiteVeil}});
            if (counter) {
                std::fprintf(stderr, "\rdermoscopy %d/%d", i + 1, o.count);
            }
        }
        if (counter) {
            std::fprintf(stderr, "\n");
        }
        manifest["dermoscopy"] = {
            {"width", size2d[0]},
            {"height", size2d[1]},
            {"images", "images/<id>.png"},
            {"masks", "masks/<id>_segmentation.png (0 background, 255 lesion)"},
            {"cases", cases}};
    }
    if (o.volume) {
        const fs::path images = fs::path(o.out) / "ct" / "images";
        const fs::path masks = fs::path(o.out) / "ct" / "masks";
        std::error_code ec;
        fs::create_directories(images, ec);
        fs::create_directories(masks, ec);
        if (!fs::is_directory(images) || !fs::is_directory(masks)) {
            throw Error(ErrorKind::Io, o.out, "cannot create the ct/images/ and ct/masks/ folders");
        }
        Json cases = Json::array();
        std::array<double, 3> spacing{};
        for (int i = 0; i < o.volumeCount; ++i) {
            const std::uint64_t seed = o.seed + static_cast<std::uint64_t>(i);
            const CtPhantomDemo demo = generateCtPhantomDemo(size3d, seed);
            spacing = demo.volume.geometry().spacing;
            const std::string name = caseName("ct", i);
            writeVolume(demo.volume, (images / (name + ".nii.gz")).string());
            writeLabelMap(demo.labels, (masks / (name + ".nii.gz")).string());
            cases.push_back({{"id", name}, {"seed", seed}});
            if (counter) {
                std::fprintf(stderr, "\rCT phantom %d/%d", i + 1, o.volumeCount);
            }
        }
        if (counter) {
            std::fprintf(stderr, "\n");
        }
        manifest["ct"] = {{"size", size3d},
                          {"spacing_mm", spacing},
                          {"images", "ct/images/<id>.nii.gz (int16 Hounsfield units, LPS)"},
                          {"masks", "ct/masks/<id>.nii.gz"},
                          {"labels", {{"0", "background"}, {"1", "liver"}, {"2", "lesion"}}},
                          {"cases", cases}};
    }
    const std::string text = manifest.dump(2) + "\n";
    writeFileAtomically((fs::path(o.out) / "demo-data.json").string(), text.data(), text.size());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!o.quiet) {
        std::printf("wrote %d dermoscopy image(s)%s to %s in %.1f s\n", o.count,
                    o.volume ? (" and " + std::to_string(o.volumeCount) + " CT phantom(s)").c_str()
                             : "",
                    o.out.c_str(), seconds);
    }
}

} // namespace

DIFFSEG_CLI_COMMAND(demo_data, [](CLI::App& root, diffseg::app::CliResult& result) {
    auto* cmd = root.add_subcommand(
        "demo-data",
        "Write procedural demo data: dermoscopy-like photos with lesion masks (DIR/images, "
        "DIR/masks, PNG) and, with --volume, abdominal CT phantoms with liver/lesion label maps "
        "(DIR/ct/images, DIR/ct/masks, NIfTI). Deterministic for a seed");
    auto o = std::make_shared<DemoDataOptions>();
    cmd->add_option("--out", o->out, "Output folder (created; existing files are replaced)")
        ->required();
    cmd->add_option("--count", o->count, "Number of dermoscopy images (image k uses seed S + k)")
        ->capture_default_str();
    cmd->add_option("--size", o->size, "Dermoscopy image size WxH in pixels")
        ->capture_default_str();
    cmd->add_option("--seed", o->seed, "First seed S")->capture_default_str();
    cmd->add_flag("--volume", o->volume,
                  "Also write CT phantoms (int16 HU) and label maps (1 liver, 2 lesion)");
    cmd->add_option("--volume-count", o->volumeCount, "Number of CT phantoms (seeds S, S + 1, ...)")
        ->capture_default_str();
    cmd->add_option("--volume-size", o->volumeSize,
                    "CT phantom size XxYxZ in voxels (field of view 400 x 400 x 200 mm)")
        ->capture_default_str();
    cmd->add_flag("--quiet", o->quiet, "Print nothing but errors");
    cmd->callback([o, &result] {
        run(*o);
        result.exitCode = diffseg::app::kExitOk;
    });
})
