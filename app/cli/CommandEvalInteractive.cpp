// diffseg eval-interactive: interactive segmentation measured as the papers measure it. A
// simulated user clicks the centre of the largest error region after each result; the diffusion
// model refines from its clicks (guided sampling), against OpenCV's GrabCut and the click disks
// alone with the same clicks. Mean Dice after each click, NoC@85/90, seconds per click; JSON, a
// printed table and a plot.

#include "CasePairing.h"
#include "CliCommand.h"
#include "CliSupport.h"
#include "SegmentDispatch.h"
#include "base/Error.h"
#include "engine/Precision.h"
#include "inference/Segmenter2D.h"
#include "inference/Segmenter3D.h"
#include "interactive/GrabCutBaseline.h"
#include "interactive/SimulatedUser.h"
#include "interactive/SimulatedUser3D.h"
#include "io/AtomicWrite.h"
#include "io/ImageReader.h"
#include "io/VolumeReader.h"
#include "runtime/ResourcePaths.h"
#include "runtime/Runtime.h"
#include "session/DocumentPaths.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;
namespace app = diffseg::app;
using namespace diffseg::core;

namespace {

struct InteractiveArgs
{
    std::string model;
    std::string input;
    std::string gt;
    int maxClicks = 10;
    std::string methods = "diffusion,grabcut,clicks-only";
    int threads = 0;
    std::string json;
    std::string plot;
    int limit = 0;
    /// Unset: RefineOptions::interactive() for photos, Segmenter3D::kInteractiveStrength for
    /// volumes.
    std::optional<double> strength;
    /// A fraction of the photo's longer side. Volumes: set by --click-radius, a fraction of the
    /// volume's longer extent in mm; else VolumeClick's own (2.5 times the finest spacing).
    double clickRadius = kInteractiveClickRadius;
    bool clickRadiusGiven = false;
    int jumps = RefineOptions::interactive().resampleJumps;
    /// DDIM steps of each click's refinement (0: --steps, else the model card's).
    int refineSteps = RefineOptions::interactive().steps;
    /// RefineOptions::backgroundRegionTolerance (photos; 0: a background click's disk alone).
    double backgroundRegions = RefineOptions::interactive().backgroundRegionTolerance;
    std::string precision = "auto";
    std::uint64_t seed = 0;
    std::optional<std::string> sampler;
    std::optional<int> steps;
    std::optional<int> ensemble;
};

struct MethodTotals
{
    std::vector<double> diceSum;
    double noc85 = 0.0;
    double noc90 = 0.0;
    double clickSeconds = 0.0;
    int clicks = 0;
    int photos = 0;
};

std::vector<std::string> splitList(const std::string& text)
{
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        if (!item.empty()) {
            out.push_back(item);
        }
    }
    return out;
}

/// Mean Dice against clicks, one line per method, as a PNG (OpenCV drawing: no plotting library).
void writePlot(const std::string& path, const std::map<std::string, std::vector<double>>& curves,
               int maxClicks)
{
    const int w = 720;
    const int h = 480;
    const int left = 70;
    const int right = 180;
    const int top = 30;
    const int bottom = 60;
    cv::Mat img(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
    double lo = 1.0;
    for (const auto& [name, dice] : curves) {
        for (double d : dice) {
            lo = std::min(lo, d);
        }
    }
    lo = std::max(0.0, std::floor(lo * 10.0) / 10.0);
    const auto px = [&](double k) {
        return left + static_cast<int>(k / std::max(1, maxClicks) * (w - left - right));
    };
    const auto py = [&](double d) {
        return top + static_cast<int>((1.0 - d) / std::max(1e-6, 1.0 - lo) * (h - top - bottom));
    };
    const cv::Scalar grey(200, 200, 200);
    const cv::Scalar black(0, 0, 0);
    for (int k = 0; k <= maxClicks; ++k) {
        cv::line(img, {px(k), py(lo)}, {px(k), py(1.0)}, grey, 1);
        cv::putText(img, std::to_string(k), {px(k) - 5, py(lo) + 20}, cv::FONT_HERSHEY_SIMPLEX,
                    0.45, black, 1, cv::LINE_AA);
    }
    for (double d = lo; d <= 1.0001; d += 0.1) {
        cv::line(img, {px(0), py(d)}, {px(maxClicks), py(d)}, grey, 1);
        char text[16];
        std::snprintf(text, sizeof text, "%.1f", d);
        cv::putText(img, text, {left - 40, py(d) + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.45, black, 1,
                    cv::LINE_AA);
    }
    cv::putText(img, "clicks", {px(maxClicks / 2.0) - 20, h - 15}, cv::FONT_HERSHEY_SIMPLEX, 0.5,
                black, 1, cv::LINE_AA);
    cv::putText(img, "mean Dice", {5, top - 10}, cv::FONT_HERSHEY_SIMPLEX, 0.5, black, 1,
                cv::LINE_AA);
    const std::vector<cv::Scalar> colours = {
        {60, 120, 220}, {60, 160, 60}, {40, 40, 200}, {160, 60, 160}};
    int i = 0;
    for (const auto& [name, dice] : curves) {
        const cv::Scalar colour = colours[static_cast<std::size_t>(i) % colours.size()];
        for (std::size_t k = 1; k < dice.size(); ++k) {
            cv::line(img, {px(k - 1.0), py(dice[k - 1])}, {px(static_cast<double>(k)), py(dice[k])},
                     colour, 2, cv::LINE_AA);
        }
        for (std::size_t k = 0; k < dice.size(); ++k) {
            cv::circle(img, {px(static_cast<double>(k)), py(dice[k])}, 3, colour, cv::FILLED,
                       cv::LINE_AA);
        }
        const int ly = top + 20 + 25 * i;
        cv::line(img, {w - right + 15, ly}, {w - right + 45, ly}, colour, 2, cv::LINE_AA);
        cv::putText(img, name, {w - right + 52, ly + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.5, black, 1,
                    cv::LINE_AA);
        ++i;
    }
    std::vector<std::uint8_t> png;
    if (!cv::imencode(".png", img, png)) {
        throw Error(ErrorKind::Io, path, "cannot encode the plot");
    }
    writeFileAtomically(path, png.data(), png.size());
}

/// The table on stdout, the JSON and the plot.
void report(const InteractiveArgs& args, const std::vector<std::string>& methods,
            std::map<std::string, MethodTotals>& totals, std::size_t images)
{
    nlohmann::ordered_json json;
    json["images"] = images;
    json["max_clicks"] = args.maxClicks;
    std::map<std::string, std::vector<double>> curves;
    std::printf("%-12s", "method");
    for (int k = 0; k <= args.maxClicks; ++k) {
        std::printf(" %6s", ("@" + std::to_string(k)).c_str());
    }
    std::printf(" %7s %7s %9s\n", "NoC85", "NoC90", "s/click");
    for (const std::string& name : methods) {
        const MethodTotals& t = totals[name];
        std::vector<double> mean;
        for (double s : t.diceSum) {
            mean.push_back(s / std::max(1, t.photos));
        }
        curves[name] = mean;
        const double noc85 = t.noc85 / std::max(1, t.photos);
        const double noc90 = t.noc90 / std::max(1, t.photos);
        const double perClick = t.clicks > 0 ? t.clickSeconds / t.clicks : 0.0;
        json["methods"][name] = {
            {"dice_at", mean}, {"noc85", noc85}, {"noc90", noc90}, {"seconds_per_click", perClick}};
        std::printf("%-12s", name.c_str());
        for (double d : mean) {
            std::printf(" %6.3f", d);
        }
        std::printf(" %7.2f %7.2f %9.3f\n", noc85, noc90, perClick);
    }
    if (!args.json.empty()) {
        app::writeJsonFile(args.json, json);
    }
    const std::string plot =
        !args.plot.empty() ? args.plot
        : !args.json.empty()
            ? (fs::path(args.json).parent_path() / (fs::path(args.json).stem().string() + ".png"))
                  .string()
            : std::string();
    if (!plot.empty()) {
        writePlot(plot, curves, args.maxClicks);
        std::fprintf(stderr, "plot: %s\n", plot.c_str());
    }
}

/// Volumes: `--input` a volume file, `--gt` its label map; diffusion refines with the volume
/// model (Segmenter3D::refine), clicks-only paints the clicks' spheres.
void runVolume(const InteractiveArgs& args, const std::vector<std::string>& methods,
               app::CliResult& result)
{
    for (const std::string& m : methods) {
        if (m == "grabcut") {
            throw Error(ErrorKind::Config, "--methods", "grabcut segments photos, not volumes");
        }
    }
    const Volume volume = readVolume(args.input).volume;
    LabelMap truth = readLabelMap(args.gt).labels;
    if (truth.size() != volume.size()) {
        throw Error(ErrorKind::Mismatch, args.gt, "the label map is not on the volume's grid");
    }
    std::optional<Segmenter3D> model;
    Segment3DOptions options;
    if (std::find(methods.begin(), methods.end(), "diffusion") != methods.end()) {
        // Without --model: the packaged model for the volume's modality (CT or MRI).
        const std::string path =
            args.model.empty() ? app::defaultModelFor(true, {}, args.input) : args.model;
        VolumeModelLoadOptions load;
        load.precision = engine::parsePrecision(args.precision, "--precision");
        model.emplace(path, load);
        options = model->defaultOptions(); // what the model was validated with (its card)
        if (args.steps) {
            options.steps = *args.steps;
        }
        options.seed = args.seed;
        std::fprintf(stderr, "diffusion: %s (%d steps, %s)\n", path.c_str(), options.steps,
                     model->info().precision.c_str());
    }
    // The spheres' radius: --click-radius of the longer extent, else the clicks' own default.
    double extent = 0.0;
    for (int a = 0; a < 3; ++a) {
        extent = std::max(extent, static_cast<double>(volume.size()[static_cast<std::size_t>(a)]) *
                                      volume.geometry().spacing[static_cast<std::size_t>(a)]);
    }
    const double radiusMm = args.clickRadiusGiven ? args.clickRadius * extent : 0.0;
    std::map<std::string, MethodTotals> totals;
    for (const std::string& name : methods) {
        InteractiveVolumeMethod method;
        if (name == "diffusion") {
            method = [&](const Volume& v, const LabelMap& current,
                         const std::vector<VolumeClick>& clicks) {
                if (clicks.empty()) {
                    return model->segment(v, options).labels;
                }
                VolumePrompts prompts;
                prompts.clicks = clicks;
                prompts.radiusMm = radiusMm;
                return model
                    ->refine(v, current, prompts, options,
                             args.strength.value_or(Segmenter3D::kInteractiveStrength))
                    .labels;
            };
        } else {
            method = [radiusMm](const Volume& v, const LabelMap&,
                                const std::vector<VolumeClick>& clicks) {
                VolumePrompts prompts;
                prompts.clicks = clicks;
                prompts.radiusMm = radiusMm;
                LabelMap known = rasterizeVolumePrompts(prompts, v);
                // 0 unknown, class + 1 known: the known classes, background elsewhere.
                for (std::size_t i = 0; i < known.voxelCount(); ++i) {
                    std::uint8_t& k = known.data<std::uint8_t>()[i];
                    k = k > 0 ? static_cast<std::uint8_t>(k - 1) : 0;
                }
                return known;
            };
        }
        const InteractiveVolumeCourse course =
            playSimulatedUser3D(volume, truth, args.maxClicks, method);
        MethodTotals& t = totals[name];
        t.diceSum = course.dice;
        t.noc85 = clicksToReach(course.dice, 0.85);
        t.noc90 = clicksToReach(course.dice, 0.90);
        for (double sec : course.clickSeconds) {
            t.clickSeconds += sec;
        }
        t.clicks = static_cast<int>(course.clickSeconds.size());
        t.photos = 1;
        std::fprintf(stderr, "%s: %.3f -> %.3f\n", name.c_str(), course.dice.front(),
                     course.dice.back());
    }
    report(args, methods, totals, 1);
    result.exitCode = app::kExitOk;
}

void runEvalInteractive(const InteractiveArgs& args, app::CliResult& result)
{
    setComputeThreads(args.threads);
    CancelToken cancel;
    app::StopSignalScope signals(cancel);
    const std::vector<std::string> methods = splitList(args.methods);
    for (const std::string& m : methods) {
        if (m != "diffusion" && m != "grabcut" && m != "clicks-only") {
            throw Error(ErrorKind::Config, "--methods",
                        "'" + m + "' is not diffusion, grabcut or clicks-only");
        }
    }
    if (methods.empty()) {
        throw Error(ErrorKind::Config, "--methods", "names no method");
    }
    std::error_code ec;
    if (fs::is_regular_file(args.input, ec) && hasVolumeExtension(args.input)) {
        runVolume(args, methods, result);
        return;
    }
    // Photos and their ground truth, paired by stem.
    const std::map<std::string, std::string> photos =
        app::indexByStem(app::listFiles(args.input, app::hasImageExtension));
    const std::map<std::string, std::string> masks =
        app::indexByStem(app::listFiles(args.gt, app::hasImageExtension));
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& [stem, photo] : photos) {
        if (const auto it = masks.find(stem); it != masks.end()) {
            pairs.emplace_back(photo, it->second);
        }
    }
    if (pairs.empty()) {
        throw Error(ErrorKind::NotFound, args.input,
                    "no photo here has a mask of the same stem in " + args.gt);
    }
    if (args.limit > 0 && static_cast<int>(pairs.size()) > args.limit) {
        pairs.resize(static_cast<std::size_t>(args.limit));
    }

    std::optional<Segmenter2D> model;
    SegmentOptions options;
    std::string path;
    if (std::find(methods.begin(), methods.end(), "diffusion") != methods.end()) {
        path = args.model.empty() ? packagedDefaultModel(PackagedModelKind::Photo) : args.model;
        if (path.empty()) {
            throw Error(ErrorKind::NotFound, "--model",
                        "no photo model is installed: pass --model CKPT");
        }
        ModelLoadOptions load;
        load.precision = engine::parsePrecision(args.precision, "--precision");
        model.emplace(path, load);
        // The settings the model was validated with (its card), unless told otherwise.
        options = model->defaultOptions();
        if (args.sampler) {
            options.sampler = parseSamplerMethod(*args.sampler, "--sampler");
            options.steps = args.steps ? *args.steps : 0;
        } else if (args.steps) {
            options.steps = *args.steps;
        }
        if (args.ensemble) {
            options.ensemble = *args.ensemble;
        }
        options.seed = args.seed;
    }
    RefineOptions refine = RefineOptions::interactive();
    refine.strength = args.strength.value_or(refine.strength);
    refine.resampleJumps = args.jumps;
    refine.steps = args.refineSteps;
    refine.backgroundRegionTolerance = args.backgroundRegions;
    if (model) {
        std::fprintf(stderr,
                     "diffusion: %s (%s, %d steps, each click %d, x %d, %s, background regions "
                     "%g)\n",
                     path.c_str(), samplerMethodName(options.sampler), options.steps,
                     refine.applyTo(options).steps, options.ensemble,
                     model->info().precision.c_str(), refine.backgroundRegionTolerance);
    }
    // Every method's click disks have the same radius, in photo pixels.
    const auto radiusOf = [&args](const Image2D& image) {
        return args.clickRadius * std::max(image.width(), image.height());
    };

    std::map<std::string, MethodTotals> totals;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        cancel.throwIfCancelled("eval-interactive");
        ImageReadOptions read;
        read.color = ImageColor::Rgb;
        const Image2D photo = readImage(pairs[i].first, read);
        const Image2D truth = readMask(pairs[i].second);
        if (truth.width() != photo.width() || truth.height() != photo.height()) {
            throw Error(ErrorKind::Mismatch, pairs[i].second, "the mask's size is not the photo's");
        }
        std::fprintf(stderr, "[%zu/%zu] %s", i + 1, pairs.size(),
                     fs::path(pairs[i].first).filename().string().c_str());
        for (const std::string& name : methods) {
            InteractiveMethod method;
            if (name == "diffusion") {
                method = [&](const Image2D& image, const Image2D& current,
                             const std::vector<PromptClick>& clicks) {
                    if (clicks.empty()) {
                        return model->segment(image, options, {}, cancel).mask;
                    }
                    RefinePrompts prompts;
                    prompts.clicks = clicks;
                    prompts.clickRadius = radiusOf(image);
                    return model->refine(image, current, prompts, options, refine, {}, cancel).mask;
                };
            } else if (name == "grabcut") {
                method = [&radiusOf](const Image2D& image, const Image2D&,
                                     const std::vector<PromptClick>& clicks) {
                    return grabCutSegment(image, insetBox(image.width(), image.height()), clicks,
                                          radiusOf(image));
                };
            } else {
                method = [&radiusOf](const Image2D& image, const Image2D&,
                                     const std::vector<PromptClick>& clicks) {
                    return clickDiskMask(image.width(), image.height(), clicks, radiusOf(image));
                };
            }
            const InteractiveCourse course =
                playSimulatedUser(photo, truth, args.maxClicks, method);
            MethodTotals& t = totals[name];
            t.diceSum.resize(course.dice.size(), 0.0);
            for (std::size_t k = 0; k < course.dice.size(); ++k) {
                t.diceSum[k] += course.dice[k];
            }
            t.noc85 += course.clicksTo(0.85);
            t.noc90 += course.clicksTo(0.90);
            for (double s : course.clickSeconds) {
                t.clickSeconds += s;
            }
            t.clicks += static_cast<int>(course.clickSeconds.size());
            ++t.photos;
            std::fprintf(stderr, "  %s %.3f->%.3f", name.c_str(), course.dice.front(),
                         course.dice.back());
        }
        std::fprintf(stderr, "\n");
    }

    report(args, methods, totals, pairs.size());
    result.exitCode = app::kExitOk;
}

void registerEvalInteractive(CLI::App& root, app::CliResult& result)
{
    auto* command = root.add_subcommand(
        "eval-interactive",
        "Interactive segmentation with a simulated user (the next click at the centre of the "
        "largest error region, positive on missed lesion, negative on added skin): the diffusion "
        "model refining from its clicks, OpenCV's GrabCut (a box 5 % inside the border, clicks "
        "as definite disks) and the click disks alone. Mean Dice after each click, NoC@85/90 "
        "and seconds per click, at each photo's own size; a table, JSON and a plot");
    auto args = std::make_shared<InteractiveArgs>();
    command->add_option("--model", args->model,
                        "DermoSegDiff checkpoint (default: the packaged photo model)");
    command->add_option("--input", args->input, "folder of photos, or one volume file")->required();
    command
        ->add_option("--gt", args->gt,
                     "folder of ground-truth masks (paired by stem), or the volume's label map")
        ->required();
    command->add_option("--max-clicks", args->maxClicks, "clicks per photo")
        ->check(CLI::Range(0, 100))
        ->capture_default_str();
    command->add_option("--methods", args->methods, "comma list of diffusion, grabcut, clicks-only")
        ->capture_default_str();
    command->add_option("--threads", args->threads, "compute threads (0: all cores)");
    command->add_option("--json", args->json, "write the results as JSON (and a plot beside it)");
    command->add_option("--plot", args->plot, "the plot's PNG (default: beside --json)");
    command->add_option("--limit", args->limit, "use at most this many photos (0: all)");
    command
        ->add_option("--strength", args->strength,
                     "how far back each refinement starts, as a fraction of the schedule "
                     "(default: 0.9 for photos, 0.5 for volumes)")
        ->check(CLI::Range(0.01, 1.0));
    command
        ->add_option("--click-radius", args->clickRadius,
                     "radius of a click's disk as a fraction of the photo's longer side (volumes: "
                     "of the longer extent in mm; unset there: 2.5 voxels)")
        ->check(CLI::Range(0.001, 0.5))
        ->capture_default_str();
    command
        ->add_option("--jumps", args->jumps,
                     "resampling jumps per refinement step (RePaint; each costs a network call)")
        ->check(CLI::Range(0, 10))
        ->capture_default_str();
    command
        ->add_option(
            "--refine-steps", args->refineSteps,
            "DDIM steps of each click's refinement, at most --steps (0: as --steps; photos only)")
        ->check(CLI::Range(0, 1000))
        ->capture_default_str();
    command
        ->add_option("--background-regions", args->backgroundRegions,
                     "a background click on the current lesion also clears the lesion's pixels "
                     "around it within this RGB distance (0..255) of the colour under the click; "
                     "0: the click's disk alone (photos only)")
        ->check(CLI::Range(0.0, 442.0))
        ->capture_default_str();
    command->add_option("--precision", args->precision, "fp32, bf16 or auto")
        ->capture_default_str();
    command->add_option("--seed", args->seed, "sampling seed")->capture_default_str();
    command->add_option("--sampler", args->sampler, "ddpm or ddim (default: the model card's)");
    command->add_option("--steps", args->steps, "denoiser steps (default: the model card's)");
    command->add_option("--ensemble", args->ensemble, "chains (default: the model card's)")
        ->check(CLI::Range(1, 64));
    command->callback([args, command, &result] {
        args->clickRadiusGiven = command->count("--click-radius") > 0;
        runEvalInteractive(*args, result);
    });
}

} // namespace

DIFFSEG_CLI_COMMAND(eval_interactive, registerEvalInteractive)
