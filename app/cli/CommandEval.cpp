// diffseg eval: scores prediction masks (2D) or label maps (3D) against ground truth, per case and
// pooled over all pixels as the reference does (seed spec §A8); table, CSV and JSON.

#include "CasePairing.h"
#include "CliCommand.h"
#include "base/Error.h"
#include "data/DatasetLayout.h"
#include "io/AtomicWrite.h"
#include "io/FileUtils.h"
#include "io/ImageReader.h"
#include "io/VolumeReader.h"
#include "metrics/BinaryMask.h"
#include "metrics/MetricsAccumulator.h"
#include "metrics/MetricsReport.h"
#include "metrics/SegmentationMetrics.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

namespace fs = std::filesystem;
namespace app = diffseg::app;
using namespace diffseg::core;

namespace {

struct EvalArgs
{
    std::string pred;
    std::string gt;
    std::string csv;
    std::string json;
    std::string spacing;
    int label = 0; ///< 0: every non-zero label is foreground
    std::string convention = "default";
    bool noDistances = false;
    double minDice = -1.0;
};

struct CasePair
{
    std::string stem;
    std::string prediction;
    std::string reference;
};

bool isMaskFile(const std::string& path)
{
    return app::hasImageExtension(path) || app::hasVolumeExtension(path);
}

/// Predictions by stem: mask files directly in `folder` (stem without a mask suffix) and
/// `folder/<stem>/mask.*` as `diffseg segment` writes them.
std::map<std::string, std::string> predictionFiles(const std::string& folder)
{
    std::map<std::string, std::string> byStem =
        app::indexByStem(app::listFiles(folder, isMaskFile));
    std::vector<fs::path> subfolders;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!name.empty() && name[0] != '.' && it->is_directory(ec)) {
            subfolders.push_back(it->path());
        }
    }
    std::sort(subfolders.begin(), subfolders.end());
    for (const fs::path& sub : subfolders) {
        // segment writes <case>/mask.*, segment3d <case>/labels.*.
        for (const char* name : {"mask.png", "mask.nii.gz", "mask.nii", "mask.nrrd", "mask.mha",
                                 "mask.bmp", "mask.tif", "labels.nii.gz", "labels.nii",
                                 "labels.seg.nrrd", "labels.nrrd", "labels.mha"}) {
            const fs::path file = sub / name;
            if (!fs::is_regular_file(file, ec)) {
                continue;
            }
            const std::string stem = sub.filename().string();
            const auto [it, inserted] = byStem.emplace(stem, file.string());
            if (!inserted) {
                throw Error(ErrorKind::Config, file.string(),
                            "has the same stem '" + stem + "' as " + it->second +
                                ": cannot tell which one to pair");
            }
            break;
        }
    }
    return byStem;
}

std::vector<double> parseSpacing(const std::string& text)
{
    std::vector<double> values;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        if (item.empty() || end == nullptr || *end != '\0' || !(v > 0.0) || !std::isfinite(v)) {
            throw Error(ErrorKind::Config, "--spacing",
                        "'" + text + "': expected positive numbers sx,sy or sx,sy,sz (mm)");
        }
        values.push_back(v);
    }
    if (values.size() != 2 && values.size() != 3) {
        throw Error(ErrorKind::Config, "--spacing",
                    "'" + text + "': expected two (2D) or three (2D and 3D) values");
    }
    return values;
}

std::string sizeText(const std::array<std::int64_t, 3>& size, int dimensions)
{
    std::string text = std::to_string(size[0]) + "x" + std::to_string(size[1]);
    if (dimensions == 3) {
        text += "x" + std::to_string(size[2]);
    }
    return text;
}

CaseMetrics evaluatePair(const CasePair& pair, const EvalArgs& args,
                         const std::vector<double>& spacing, const MetricsOptions& options)
{
    const bool predVolume = app::hasVolumeExtension(pair.prediction);
    const bool refVolume = app::hasVolumeExtension(pair.reference);
    if (predVolume != refVolume) {
        throw Error(ErrorKind::Mismatch, pair.prediction,
                    std::string("is a ") + (predVolume ? "3D label map" : "2D mask") +
                        " but its ground truth " + pair.reference + " is a " +
                        (refVolume ? "3D label map" : "2D mask"));
    }
    BinaryMask prediction;
    BinaryMask reference;
    if (!predVolume) {
        prediction = BinaryMask::fromImage(readMask(pair.prediction), pair.prediction);
        reference = BinaryMask::fromImage(readMask(pair.reference), pair.reference);
        if (!spacing.empty()) {
            prediction.setSpacing({spacing[0], spacing[1], 1.0});
            reference.setSpacing({spacing[0], spacing[1], 1.0});
        }
    } else {
        const LabelSelection selection =
            args.label > 0 ? LabelSelection::only(args.label) : LabelSelection::any();
        prediction = BinaryMask::fromVolume(readLabelMap(pair.prediction).labels, selection,
                                            pair.prediction);
        reference =
            BinaryMask::fromVolume(readLabelMap(pair.reference).labels, selection, pair.reference);
        if (spacing.size() == 3) {
            prediction.setSpacing({spacing[0], spacing[1], spacing[2]});
            reference.setSpacing({spacing[0], spacing[1], spacing[2]});
        }
    }
    if (prediction.size() != reference.size()) {
        throw Error(ErrorKind::Mismatch, pair.prediction,
                    "is " + sizeText(prediction.size(), prediction.dimensions()) +
                        " but its ground truth " + pair.reference + " is " +
                        sizeText(reference.size(), reference.dimensions()));
    }
    for (int a = 0; a < 3; ++a) {
        const double p = prediction.spacing()[static_cast<std::size_t>(a)];
        const double r = reference.spacing()[static_cast<std::size_t>(a)];
        if (std::abs(p - r) > 1e-3 * std::max(p, r)) {
            throw Error(ErrorKind::Mismatch, pair.prediction,
                        "voxel spacing differs from its ground truth " + pair.reference +
                            " on axis " + std::to_string(a) + " (" + std::to_string(p) + " vs " +
                            std::to_string(r) + " mm); pass --spacing to override");
        }
    }
    // Within tolerance: score on the reference's grid so rounding in a writer cannot fail it.
    prediction.setSpacing(reference.spacing());
    return computeCaseMetrics(prediction, reference, options, pair.stem);
}

/// The ground-truth files of a --gt folder by stem: a dataset folder's label maps (a Decathlon
/// root, images/ + masks/, BraTS, AIIB) or the folder's own mask files. `labelName` gets the
/// dataset's name of --label where it has one.
std::map<std::string, std::string> referencesIn(const EvalArgs& args, std::string& labelName)
{
    const std::optional<DatasetLayout> layout = detectDatasetLayout(args.gt);
    if (!layout || *layout == DatasetLayout::Isic2018 || *layout == DatasetLayout::Ph2) {
        return app::indexByStem(app::listFiles(args.gt, isMaskFile));
    }
    const DatasetScan scan = scanDataset(args.gt, *layout);
    std::map<std::string, std::string> byStem;
    for (const DatasetSample& s : scan.samples) {
        byStem[pairingStem(s.id)] = s.mask;
    }
    labelName = args.label > 0 ? scan.labelName(args.label) : std::string();
    return byStem;
}

void runEval(const EvalArgs& args, app::CliResult& result)
{
    std::error_code ec;
    if (!fs::exists(args.pred, ec)) {
        throw Error(ErrorKind::NotFound, args.pred, "prediction folder or file not found");
    }
    if (!fs::exists(args.gt, ec)) {
        throw Error(ErrorKind::NotFound, args.gt, "ground-truth folder or file not found");
    }
    const std::vector<double> spacing =
        args.spacing.empty() ? std::vector<double>{} : parseSpacing(args.spacing);
    MetricsOptions options;
    options.computeDistances = !args.noDistances;
    options.emptyConvention =
        args.convention == "brats" ? EmptyConvention::BraTS : EmptyConvention::Default;

    std::vector<CasePair> pairs;
    std::string labelName; // of --label, from a dataset's own description
    std::vector<std::string> unpairedPredictions;
    std::vector<std::string> unpairedReferences;
    const bool predFolder = fs::is_directory(args.pred, ec);
    const bool gtFolder = fs::is_directory(args.gt, ec);
    if (!predFolder && !gtFolder) {
        pairs.push_back({pairingStem(args.pred), args.pred, args.gt});
    } else if (predFolder != gtFolder) {
        throw Error(ErrorKind::Config, predFolder ? args.gt : args.pred,
                    "--pred and --gt must both be folders or both be files");
    } else {
        const auto predictions = predictionFiles(args.pred);
        auto references = referencesIn(args, labelName);
        for (const auto& [stem, file] : predictions) {
            const auto it = references.find(stem);
            if (it == references.end()) {
                unpairedPredictions.push_back(file);
                continue;
            }
            pairs.push_back({stem, file, it->second});
            references.erase(it);
        }
        for (const auto& [stem, file] : references) {
            unpairedReferences.push_back(file);
        }
    }
    for (const std::string& file : unpairedPredictions) {
        std::fprintf(stderr, "warning: no ground truth in %s for prediction %s\n", args.gt.c_str(),
                     file.c_str());
    }
    for (const std::string& file : unpairedReferences) {
        std::fprintf(stderr, "warning: no prediction in %s for ground truth %s\n",
                     args.pred.c_str(), file.c_str());
    }
    if (pairs.empty()) {
        throw Error(
            ErrorKind::NotFound, args.pred,
            "no prediction pairs with a mask in " + args.gt +
                " (pairing by file stem, ignoring suffixes such as _segmentation; "
                "segment's DIR/<stem>/mask.png and segment3d's DIR/<stem>/labels.nii.gz count "
                "as <stem>)");
    }

    std::vector<CaseMetrics> cases;
    cases.reserve(pairs.size());
    for (const CasePair& pair : pairs) {
        cases.push_back(evaluatePair(pair, args, spacing, options));
    }
    const MetricsSummary summary = summarizeCases(cases, options.emptyConvention);
    std::fputs(metricsTable(summary).c_str(), stdout);
    if (!labelName.empty()) {
        std::printf("label %d: %s\n", args.label, labelName.c_str());
    }
    std::printf("%zu case(s); pooled over all pixels (global TP/FP/TN/FN): Dice %.4f, IoU %.4f\n",
                cases.size(), summary.pooled.dice, summary.pooled.iou);
    if (!unpairedPredictions.empty() || !unpairedReferences.empty()) {
        std::printf("unpaired: %zu prediction(s), %zu ground truth(s) (listed on stderr)\n",
                    unpairedPredictions.size(), unpairedReferences.size());
    }
    if (!args.csv.empty()) {
        writeMetricsCsv(args.csv, summary);
    }
    if (!args.json.empty()) {
        nlohmann::json json = metricsToJson(summary);
        json["prediction"] = args.pred;
        json["ground_truth"] = args.gt;
        json["spacing_mm"] = spacing.empty() ? nlohmann::json("from the files (1 for 2D masks)")
                                             : nlohmann::json(spacing);
        if (args.label > 0) {
            json["label"] = args.label;
            json["label_name"] = labelName;
        }
        json["unpaired"] = {{"predictions", unpairedPredictions},
                            {"ground_truth", unpairedReferences}};
        nlohmann::json files = nlohmann::json::array();
        for (const CasePair& pair : pairs) {
            files.push_back({{"case", pair.stem},
                             {"prediction", pair.prediction},
                             {"ground_truth", pair.reference}});
        }
        json["pairs"] = files;
        const std::string text = json.dump(2) + "\n";
        writeFileAtomically(args.json, text.data(), text.size());
    }
    result.exitCode = app::kExitOk;
    if (args.minDice >= 0.0 && !(summary.pooled.dice >= args.minDice)) {
        std::fprintf(stderr, "diffseg: pooled Dice %.4f is below --min-dice %.4f\n",
                     summary.pooled.dice, args.minDice);
        result.exitCode = app::kExitTolerance;
    }
}

void registerEval(CLI::App& root, app::CliResult& result)
{
    auto* command = root.add_subcommand(
        "eval",
        "Score predicted masks against ground truth: Dice, IoU, sensitivity, specificity, "
        "accuracy, precision, HD95, ASSD and Hausdorff per case, plus the pixel-pooled ratios "
        "(global TP/FP/TN/FN, as the reference). Pairs files by stem (ISIC_1.png with "
        "ISIC_1_segmentation.png; segment's DIR/<stem>/mask.png and segment3d's "
        "DIR/<stem>/labels.* as <stem>); 2D masks and 3D "
        "label maps (NIfTI, NRRD, MetaImage)");
    auto args = std::make_shared<EvalArgs>();
    command->add_option("--pred", args->pred, "folder of predictions (or one file)")->required();
    command
        ->add_option("--gt", args->gt,
                     "folder of ground-truth masks (or one file); a dataset folder (Decathlon "
                     "dataset.json + imagesTr/ + labelsTr/, images/ + masks/) gives its label maps")
        ->required();
    command->add_option("--csv", args->csv, "write per-case, pooled, mean and std rows as CSV");
    command->add_option("--json", args->json, "write the same as JSON, with the unpaired files");
    command->add_option("--spacing", args->spacing,
                        "pixel size sx,sy in mm for 2D masks (default 1: distances in pixels); "
                        "sx,sy,sz also overrides the volumes' spacing");
    command
        ->add_option("--label", args->label,
                     "3D: score only this label (default 0: every non-zero label)")
        ->check(CLI::Range(0, 65535));
    command
        ->add_option("--convention", args->convention,
                     "empty masks: default (both empty: Dice 1) or brats (either empty: Dice "
                     "0, HD95 50)")
        ->check(CLI::IsMember({"default", "brats"}))
        ->capture_default_str();
    command->add_flag("--no-distances", args->noDistances, "skip HD95/ASSD (faster)");
    command
        ->add_option("--min-dice", args->minDice,
                     "exit with status 4 when the pooled Dice is below this")
        ->check(CLI::Range(0.0, 1.0));
    command->callback([args, &result] { runEval(*args, result); });
}

} // namespace

DIFFSEG_CLI_COMMAND(eval, registerEval)
