// diffseg segment: segments 2D dermoscopy images with a DermoSegDiff checkpoint and writes, per
// image, the mask, the probability and uncertainty maps, the x0 estimates of chosen steps and a
// JSON summary (with metrics against a ground truth and the Otsu baseline when asked).

#include "CaseLoop.h"
#include "CasePairing.h"
#include "CliCommand.h"
#include "CliSupport.h"
#include "SegmentDispatch.h"
#include "base/CancelToken.h"
#include "base/Error.h"
#include "engine/Precision.h"
#include "imaging/Resize2D.h"
#include "inference/Segmenter2D.h"
#include "io/AtomicWrite.h"
#include "io/FileUtils.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#include "metrics/MetricsAccumulator.h"
#include "metrics/MetricsReport.h"
#include "metrics/OtsuBaseline.h"
#include "metrics/SegmentationMetrics.h"
#include "runtime/Runtime.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

namespace fs = std::filesystem;
namespace app = diffseg::app;

using namespace diffseg::core;
using Json = nlohmann::ordered_json;
using namespace diffseg::app;

namespace {

struct SegmentArgs
{
    std::string model;
    std::string input;
    std::string out;
    // Unset: the model card's validated setting, else ddpm, all steps, eta 0, 5 members.
    std::optional<std::string> sampler;
    std::optional<int> steps;
    std::optional<double> eta;
    std::optional<int> ensemble;
    std::uint64_t seed = 0;
    std::string saveSteps; ///< empty: not given
    std::string device = "auto";
    std::string precision = "auto";
    std::string gt;
    std::string referenceConfig;
    int threads = 0;
    bool baseline = false;
    bool noEma = false;
    bool firstLook = false; ///< SegmentOptions::firstLook (what the studio shows first)
    /// Start from the Otsu baseline's mask noised to this strength (SDEdit); 0: from noise.
    std::optional<double> startFromOtsu;
    /// Start from the model's own draft noised to this strength; 0: not.
    std::optional<double> startFromDraft;
    std::string progress = "auto";
    double cacheMiB = 64.0;
    int instabilitySteps = 10;
};

/// One step of a case: a JSON line, or the bar.
void reportStep(ProgressOutput& progress, const std::string& stem, int caseIndex, int caseCount,
                const SegmentStep& s)
{
    if (s.firstLook) {
        // Member 0's estimate before the step: when a viewer would see the first outline.
        if (progress.mode() == ProgressOutput::Mode::Json) {
            progress.event({{"event", "first_look"},
                            {"stem", stem},
                            {"elapsed_s", rounded(s.elapsedSeconds)}});
        }
        return;
    }
    const double perStep = s.samplingSeconds / double(s.index + 1);
    const double eta = perStep * double(s.count - s.index - 1);
    if (progress.mode() == ProgressOutput::Mode::Json) {
        progress.event({{"event", "step"},
                        {"stem", stem},
                        {"step", s.index},
                        {"steps", s.count},
                        {"t", s.t},
                        {"elapsed_s", rounded(s.elapsedSeconds)},
                        {"eta_s", rounded(eta)}});
        return;
    }
    char suffix[160];
    std::snprintf(suffix, sizeof suffix, "%d/%d t=%d %.1fs ETA %.1fs", s.index + 1, s.count, s.t,
                  s.elapsedSeconds, eta);
    progress.bar("[" + std::to_string(caseIndex + 1) + "/" + std::to_string(caseCount) + "] " +
                     stem,
                 double(s.index + 1) / double(s.count), suffix, s.index + 1 == s.count);
}

// --- options ------------------------------------------------------------------------------------

/// Without --save-steps: the mean x0 of up to 10 evenly spaced steps, first and last included
/// (the reference saves 10 per chain as well).
std::set<int> defaultSaveSteps(int count)
{
    std::set<int> steps;
    const int shown = std::min(10, count);
    for (int i = 0; i < shown; ++i) {
        steps.insert(shown == 1 ? count - 1
                                : static_cast<int>(
                                      std::lround(double(i) * (count - 1) / double(shown - 1))));
    }
    return steps;
}

// --- encodings ----------------------------------------------------------------------------------

/// 8-bit codes of a float map: code = round(255 (v - lo) / (hi - lo)) clamped to 0..255, so
/// v = lo + code * (hi - lo) / 255. Fixed ranges (not per image) keep maps comparable.
Image2D toCodes(const Image2D& values, double lo, double hi)
{
    Image2D codes(values.width(), values.height(), 1, PixelType::UInt8);
    codes.setSpacing(values.spacing());
    const float* v = values.data<float>();
    std::uint8_t* c = codes.data<std::uint8_t>();
    const double scale = 255.0 / (hi - lo);
    for (std::size_t i = 0; i < values.pixelCount(); ++i) {
        const double code = std::round((double(v[i]) - lo) * scale);
        c[i] = static_cast<std::uint8_t>(std::clamp(code, 0.0, 255.0));
    }
    return codes;
}

Json encodingJson(const std::string& file, int width, int height, double lo, double hi,
                  const std::string& meaning)
{
    return {{"file", file},       {"size", {width, height}},
            {"meaning", meaning}, {"value", "offset + scale * code"},
            {"offset", lo},       {"scale", (hi - lo) / 255.0}};
}

Json mapStats(const Image2D& map)
{
    const float* v = map.data<float>();
    double sum = 0.0;
    double max = 0.0;
    for (std::size_t i = 0; i < map.pixelCount(); ++i) {
        sum += v[i];
        max = std::max(max, double(v[i]));
    }
    return {{"mean", sum / double(map.pixelCount())}, {"max", max}};
}

double foregroundFraction(const Image2D& mask)
{
    const std::uint8_t* m = mask.data<std::uint8_t>();
    std::size_t count = 0;
    for (std::size_t i = 0; i < mask.pixelCount(); ++i) {
        count += m[i] != 0 ? 1 : 0;
    }
    return double(count) / double(mask.pixelCount());
}

std::string stepName(int step, int count, int t)
{
    const int digits = std::max(3, static_cast<int>(std::to_string(count - 1).size()));
    char text[64];
    std::snprintf(text, sizeof text, "step_%0*d_t%d", digits, step, t);
    return text;
}

// --- one case -----------------------------------------------------------------------------------

struct CaseInput
{
    std::string path;
    std::string stem;
    std::string gt; ///< empty: no ground truth
};

struct CaseOutcome
{
    std::optional<CaseMetrics> metrics;          ///< original size
    std::optional<CaseMetrics> metricsInputSize; ///< the reference's 128 x 128 convention
    std::optional<CaseMetrics> baselineMetrics;
};

class SegmentRun
{
public:
    SegmentRun(const SegmentArgs& args, Segmenter2D& segmenter, const SegmentOptions& options,
               std::set<int> saveSteps, bool saveMembers, CaseLoop& loop)
        : m_args(args)
        , m_segmenter(segmenter)
        , m_options(options)
        , m_saveSteps(std::move(saveSteps))
        , m_saveMembers(saveMembers)
        , m_loop(loop)
        , m_progress(loop.progress())
        , m_cancel(loop.cancel())
    {}

    CaseOutcome run(const CaseInput& input, int index, int count)
    {
        const auto caseStart = Clock::now();
        Json timings;
        auto phase = Clock::now();
        const Image2D image = readImage(input.path, ImageReadOptions{ImageColor::Rgb});
        Image2D gt;
        if (!input.gt.empty()) {
            gt = readMask(input.gt);
            if (gt.width() != image.width() || gt.height() != image.height()) {
                throw Error(ErrorKind::Mismatch, input.gt,
                            "mask is " + std::to_string(gt.width()) + "x" +
                                std::to_string(gt.height()) + " but its image " + input.path +
                                " is " + std::to_string(image.width()) + "x" +
                                std::to_string(image.height()));
            }
            gt.setSpacing(image.spacing());
        }
        timings["read"] = rounded(secondsSince(phase));

        const fs::path outDir = fs::path(m_args.out) / input.stem;
        PartialFolder folder(PartialFolder::forCase(m_args.out, input.stem),
                             {"steps", "input_size"});
        const fs::path& dir = folder.path();

        Json savedSteps = Json::array();
        const auto onStep = [&](const SegmentStep& s) {
            reportStep(m_progress, input.stem, index, count, s);
            if (!s.firstLook && m_saveSteps.count(s.index) != 0) {
                savedSteps.push_back(saveStep(dir, s));
            }
        };
        const SegmentResult result = m_segmenter.segment(image, m_options, onStep, m_cancel);
        m_progress.clearBar();

        // The outputs.
        phase = Clock::now();
        const int width = result.originalWidth;
        const int height = result.originalHeight;
        const int size = result.inputSize;
        writeMaskPng(result.mask, (dir / "mask.png").string());
        writeImage(toCodes(result.probabilityOriginal, 0.0, 1.0),
                   (dir / "probability.png").string());
        const double ln2 = std::log(2.0);
        struct MapOut
        {
            const char* name;
            const Image2D* map;
            double hi;
            const char* meaning;
        };
        const MapOut maps[] = {{"uncertainty_std", &result.uncertaintyStd, 0.5,
                                "population std of the members' foreground probabilities"},
                               {"uncertainty_entropy", &result.uncertaintyEntropy, ln2,
                                "binary entropy of the mean probability, nats"},
                               {"uncertainty_instability", &result.uncertaintyInstability, 1.0,
                                "fraction of the last steps in which a member's x0 > 0 flipped"}};
        Json outputs;
        outputs["mask"] = {{"file", "mask.png"},
                           {"size", {width, height}},
                           {"meaning", "0 background, 255 lesion: bilinear upsampling of the "
                                       "ensemble mean x0 to the original size, then > 0"}};
        outputs["probability"] = encodingJson("probability.png", width, height, 0.0, 1.0,
                                              "mean foreground probability of the members");
        for (const MapOut& m : maps) {
            const std::string file = std::string(m.name) + ".png";
            writeImage(
                toCodes(resizeImage(*m.map, width, height, ResizeFilter::Bilinear), 0.0, m.hi),
                (dir / file).string());
            outputs[m.name] = encodingJson(file, width, height, 0.0, m.hi, m.meaning);
        }
        writeMaskPng(result.maskInput, (dir / "input_size" / "mask.png").string());
        writeImage(result.meanX0, (dir / "input_size" / "mean_x0.tif").string());
        writeImage(result.probability, (dir / "input_size" / "probability.tif").string());
        Json floatFiles = {"mask.png", "mean_x0.tif", "probability.tif"};
        for (const MapOut& m : maps) {
            const std::string file = std::string(m.name) + ".tif";
            writeImage(*m.map, (dir / "input_size" / file).string());
            floatFiles.push_back(file);
        }
        for (int k = 0; k < result.members; ++k) {
            const std::string file = "member_" + std::to_string(k) + "_x0.tif";
            writeImage(result.memberX0[static_cast<std::size_t>(k)],
                       (dir / "input_size" / file).string());
            floatFiles.push_back(file);
        }
        outputs["input_size"] = {
            {"folder", "input_size"},
            {"size", {size, size}},
            {"meaning", "float32 TIFFs of the maps where the network works (entropy in nats), "
                        "the reference's mask (mean x0 > 0) and each member's final x0"},
            {"files", floatFiles}};

        CaseOutcome outcome;
        Json metrics = nullptr;
        Json metricsInputSize = nullptr;
        auto metricsStart = Clock::now();
        if (!input.gt.empty()) {
            outcome.metrics = computeCaseMetrics(result.mask, gt, MetricsOptions{}, input.stem);
            // The reference scores at the input size with a nearest-resized mask (spec §A8).
            MetricsOptions overlapOnly;
            overlapOnly.computeDistances = false;
            Image2D gtInput = resizeMask(gt, size, size);
            gtInput.setSpacing(result.maskInput.spacing());
            outcome.metricsInputSize =
                computeCaseMetrics(result.maskInput, gtInput, overlapOnly, input.stem);
            metrics = caseMetricsJson(*outcome.metrics);
            metricsInputSize = caseMetricsJson(*outcome.metricsInputSize);
        }
        const double metricsSeconds = secondsSince(metricsStart);

        Json baseline = nullptr;
        if (m_args.baseline) {
            const auto start = Clock::now();
            try {
                const OtsuBaselineResult otsu = otsuBaseline(image);
                writeMaskPng(otsu.mask, (dir / "baseline_mask.png").string());
                baseline = {{"method", "Otsu on the blue channel, hole filling, centre-weighted "
                                       "largest component"},
                            {"file", "baseline_mask.png"},
                            {"threshold", otsu.threshold},
                            {"lesion_fraction", otsu.lesionFraction}};
                if (!input.gt.empty()) {
                    outcome.baselineMetrics =
                        computeCaseMetrics(otsu.mask, gt, MetricsOptions{}, input.stem);
                    baseline["metrics"] = caseMetricsJson(*outcome.baselineMetrics);
                }
            } catch (const Error& e) {
                if (e.kind() == ErrorKind::Cancelled) {
                    throw;
                }
                baseline = {{"error", e.what()}};
            }
            baseline["seconds"] = rounded(secondsSince(start));
        }

        const ModelInfo& info = m_segmenter.info();
        Json summary;
        summary["diffseg_version"] = libraryVersions().diffseg;
        summary["input"] = {{"path", input.path},
                            {"width", width},
                            {"height", height},
                            {"channels", image.channels()}};
        summary["model"] = modelJson(info);
        summary["settings"] = {
            {"sampler", samplerMethodName(m_options.sampler)},
            {"steps", static_cast<int>(result.timesteps.size())},
            {"eta", m_options.eta},
            {"ensemble", m_options.ensemble},
            {"start_from_otsu", m_options.startFromOtsu},
            {"start_from_draft", m_options.startFromDraft},
            {"draft_steps", m_options.draftSteps},
            {"first_look", m_options.firstLook},
            {"first_timestep", result.timesteps.empty() ? -1 : result.timesteps.front()},
            {"seed", m_options.seed},
            {"device", info.device},
            {"precision", info.precision},
            {"threads", computeThreads()},
            {"step_cache_budget_bytes", m_options.stepCacheBudget},
            {"instability_steps", m_options.instabilitySteps},
            {"save_steps", m_args.saveSteps.empty() ? "default" : m_args.saveSteps}};
        summary["outputs"] = outputs;
        summary["lesion_fraction"] = foregroundFraction(result.mask);
        summary["uncertainty"] = {{"std", mapStats(result.uncertaintyStd)},
                                  {"entropy_nats", mapStats(result.uncertaintyEntropy)},
                                  {"instability", mapStats(result.uncertaintyInstability)},
                                  {"instability_steps_used", result.instabilitySteps}};
        summary["steps"] = {{"count", static_cast<int>(result.timesteps.size())},
                            {"timesteps", result.timesteps},
                            {"cache",
                             {{"budget_bytes", result.steps->budgetBytes()},
                              {"bytes_used", result.steps->bytesUsed()},
                              {"kept_steps", result.steps->keptSteps().size()}}},
                            {"folder", "steps"},
                            {"encoding", "8-bit PNG, x0 = -1 + code * 2/255 (mask = x0 > 0)"},
                            {"saved", savedSteps}};
        summary["ground_truth"] = input.gt.empty() ? Json(nullptr) : Json(input.gt);
        summary["metrics"] = metrics;
        summary["metrics_input_size"] = metricsInputSize;
        if (m_args.baseline) {
            summary["baseline"] = baseline;
        }
        timings["load"] = rounded(result.timings.load);
        timings["preprocess"] = rounded(result.timings.preprocess);
        if (result.timings.draft > 0.0) {
            timings["draft"] = rounded(result.timings.draft);
        }
        timings["sampling"] = rounded(result.timings.sampling);
        timings["postprocess"] = rounded(result.timings.postprocess);
        timings["first_preview"] = rounded(result.timings.firstPreview);
        timings["per_step"] = rounded(result.timings.sampling /
                                      double(std::max<std::size_t>(1, result.timesteps.size())));
        timings["segment_total"] = rounded(result.timings.total);
        timings["metrics"] = rounded(metricsSeconds);
        timings["write"] = rounded(secondsSince(phase) - metricsSeconds);
        timings["case_total"] = rounded(secondsSince(caseStart));
        summary["timings_s"] = timings;
        writeJsonFile((dir / "summary.json").string(), summary);

        m_cancel.throwIfCancelled("segmentation");
        folder.commit(outDir);
        Json done = {{"lesion_fraction", summary["lesion_fraction"]}};
        std::string detail;
        if (outcome.metrics) {
            done["dice"] = metrics["dice"];
            detail = ", Dice " + format("%.4f", outcome.metrics->overlap.dice);
        }
        m_loop.reportDone(input.stem, outDir, secondsSince(caseStart), done, detail);
        return outcome;
    }

    static Json modelJson(const ModelInfo& info)
    {
        return {{"path", info.path},
                {"format", info.format},
                {"reference_config",
                 info.referenceConfig.empty() ? Json(nullptr) : Json(info.referenceConfig)},
                {"id", info.id},
                {"source", info.source},
                {"network", "dermosegdiff"},
                {"config", Json::parse(info.model.toJson())},
                {"schedule",
                 {{"mode", engine::scheduleModeName(info.schedule.mode)},
                  {"timesteps", info.schedule.timesteps},
                  {"beta_start", info.schedule.betaStart},
                  {"beta_end", info.schedule.betaEnd},
                  {"prediction", engine::predictionName(info.schedule.prediction)}}},
                {"input_size", info.inputSize},
                {"uses_ema", info.usesEma},
                {"step", info.step ? Json(*info.step) : Json(nullptr)},
                {"epoch", info.epoch ? Json(*info.epoch) : Json(nullptr)},
                {"parameters", info.parameterCount},
                {"device", info.device},
                {"precision", info.precision},
                {"card", info.card.empty() ? Json(nullptr) : Json::parse(info.card.toJson())}};
    }

private:
    Json saveStep(const fs::path& dir, const SegmentStep& s)
    {
        const std::string base = stepName(s.index, s.count, s.t);
        const int size = s.x0.front().width();
        Image2D mean(size, size, 1, PixelType::Float32);
        float* m = mean.data<float>();
        for (const Image2D& member : s.x0) {
            const float* v = member.data<float>();
            for (std::size_t i = 0; i < mean.pixelCount(); ++i) {
                m[i] += v[i];
            }
        }
        for (std::size_t i = 0; i < mean.pixelCount(); ++i) {
            m[i] /= float(s.x0.size());
        }
        Json files = Json::array();
        const std::string meanFile = base + "_mean.png";
        writeImage(toCodes(mean, -1.0, 1.0), (dir / "steps" / meanFile).string());
        files.push_back("steps/" + meanFile);
        if (m_saveMembers) {
            for (std::size_t k = 0; k < s.x0.size(); ++k) {
                const std::string file = base + "_member" + std::to_string(k) + ".png";
                writeImage(toCodes(s.x0[k], -1.0, 1.0), (dir / "steps" / file).string());
                files.push_back("steps/" + file);
            }
        }
        return {{"step", s.index}, {"t", s.t}, {"files", files}};
    }

    const SegmentArgs& m_args;
    Segmenter2D& m_segmenter;
    SegmentOptions m_options;
    std::set<int> m_saveSteps;
    bool m_saveMembers;
    CaseLoop& m_loop;
    ProgressOutput& m_progress;
    const CancelToken& m_cancel;
};

// --- the command --------------------------------------------------------------------------------

std::vector<CaseInput> collectInputs(const SegmentArgs& args)
{
    std::error_code ec;
    if (!fs::exists(args.input, ec)) {
        throw Error(ErrorKind::NotFound, args.input, "input image or folder not found");
    }
    const bool folder = fs::is_directory(args.input, ec);
    std::vector<CaseInput> inputs;
    if (folder) {
        // Masks sitting next to their images (name_segmentation.png, ...) are not inputs.
        const auto files = app::listFiles(args.input, [](const std::string& f) {
            return app::hasImageExtension(f) && pairingStem(f) == fileStem(f);
        });
        if (files.empty()) {
            throw Error(ErrorKind::NotFound, args.input,
                        "holds no images (.png, .jpg, .jpeg, .bmp, .tif, .tiff)");
        }
        app::indexByStem(files); // refuses two images with one stem (one output folder each)
        for (const std::string& f : files) {
            inputs.push_back({f, fileStem(f), {}});
        }
    } else {
        inputs.push_back({args.input, fileStem(args.input), {}});
    }
    if (args.gt.empty()) {
        return inputs;
    }
    if (!fs::exists(args.gt, ec)) {
        throw Error(ErrorKind::NotFound, args.gt, "ground-truth mask or folder not found");
    }
    if (fs::is_directory(args.gt, ec)) {
        const auto masks = app::indexByStem(app::listFiles(args.gt, app::hasImageExtension));
        for (CaseInput& input : inputs) {
            const auto it = masks.find(pairingStem(input.path));
            if (it != masks.end()) {
                input.gt = it->second;
            } else if (!folder) {
                throw Error(ErrorKind::NotFound, args.gt,
                            "holds no mask for " + input.path + " (stem '" +
                                pairingStem(input.path) + "')");
            }
        }
    } else if (folder) {
        throw Error(ErrorKind::Config, args.gt,
                    "--gt must be a folder of masks when --input is a folder");
    } else {
        inputs.front().gt = args.gt;
    }
    return inputs;
}

void runSegment(const SegmentArgs& args, app::CliResult& result)
{
    app::CaseLoop loop(args.threads, args.progress, "stem", "segmentation", "inputs");
    ProgressOutput& progress = loop.progress();
    const CancelToken& cancel = loop.cancel();

    const std::vector<CaseInput> inputs = collectInputs(args);
    ModelLoadOptions load;
    load.device = args.device;
    load.useEma = !args.noEma;
    load.precision = engine::parsePrecision(args.precision, "--precision");
    if (!args.referenceConfig.empty()) {
        load.reference = ReferenceModelConfig::resolve(args.referenceConfig);
    }
    std::optional<Segmenter2D> segmenter;
    try {
        segmenter.emplace(args.model, load);
    } catch (const Error& e) {
        throw app::withReferenceHint(e, load.reference.has_value(),
                                     "for a checkpoint of the reference code pass "
                                     "--reference-config isic2018|ph2|ham10000|FILE.yaml");
    }
    cancel.throwIfCancelled("segmentation");

    // What the model was validated with (its card), unless the command line says otherwise.
    SegmentOptions options = segmenter->defaultOptions();
    if (args.sampler) {
        options.sampler = parseSamplerMethod(*args.sampler, "--sampler");
        if (!args.steps) {
            options.steps = 0; // another sampler: its own default steps
        }
    }
    if (args.steps) {
        options.steps = *args.steps;
    }
    if (args.eta) {
        options.eta = *args.eta;
    }
    if (args.ensemble) {
        options.ensemble = *args.ensemble;
    }
    if (args.startFromOtsu) {
        options.startFromOtsu = *args.startFromOtsu;
        if (!args.startFromDraft) {
            options.startFromDraft = 0.0; // the Otsu start asked for replaces the card's draft
        }
    }
    if (args.startFromDraft) {
        options.startFromDraft = *args.startFromDraft;
    }
    options.seed = args.seed;
    options.stepCacheBudget = static_cast<std::size_t>(args.cacheMiB * 1024.0 * 1024.0);
    options.instabilitySteps = args.instabilitySteps;
    options.firstLook = args.firstLook;
    std::vector<int> timesteps;
    try {
        timesteps = segmenter->plannedTimesteps(options);
    } catch (const Error& e) {
        throw Error(e.kind(), e.subject() == "sampler.steps" ? "--steps" : e.subject(),
                    e.problem());
    }
    const int count = static_cast<int>(timesteps.size());
    const std::set<int> saveSteps =
        args.saveSteps.empty() ? defaultSaveSteps(count) : parseSaveSteps(args.saveSteps, count);

    app::createOutputFolder(args.out);

    const ModelInfo& info = segmenter->info();
    progress.event({{"event", "start"},
                    {"model", info.path},
                    {"model_id", info.id},
                    {"device", info.device},
                    {"precision", info.precision},
                    {"load_s", rounded(info.loadSeconds)},
                    {"inputs", inputs.size()},
                    {"sampler", samplerMethodName(options.sampler)},
                    {"steps", count},
                    {"ensemble", options.ensemble},
                    {"start_from_otsu", options.startFromOtsu},
                    {"start_from_draft", options.startFromDraft},
                    {"input_size", info.inputSize},
                    {"out", args.out}});
    if (progress.mode() == ProgressOutput::Mode::Bar) {
        progress.message("model " + info.path + " (" + info.id + ", " +
                         std::to_string(info.parameterCount) + " parameters, input " +
                         std::to_string(info.inputSize) + "x" + std::to_string(info.inputSize) +
                         ") on " + info.device + " (" + info.precision + "), loaded in " +
                         format("%.2f", info.loadSeconds) + " s; " +
                         samplerMethodName(options.sampler) + " " + std::to_string(count) +
                         " steps x " + std::to_string(options.ensemble) + " members");
    }

    SegmentRun run(args, *segmenter, options, saveSteps, !args.saveSteps.empty(), loop);
    std::vector<CaseMetrics> metrics;
    std::vector<CaseMetrics> metricsInputSize;
    std::vector<CaseMetrics> baselineMetrics;
    int withoutGt = 0;
    const int total = static_cast<int>(inputs.size());
    for (int i = 0; i < total; ++i) {
        const CaseInput& input = inputs[static_cast<std::size_t>(i)];
        const Json extra = {{"path", input.path},
                            {"ground_truth", input.gt.empty() ? Json(nullptr) : Json(input.gt)}};
        loop.run(i, total, input.stem, input.path, extra, [&] {
            if (input.gt.empty() && !args.gt.empty()) {
                ++withoutGt;
                progress.message("warning: no ground-truth mask for " + input.path + " in " +
                                 args.gt);
            }
            const CaseOutcome outcome = run.run(input, i, total);
            if (outcome.metrics) {
                metrics.push_back(*outcome.metrics);
                metricsInputSize.push_back(*outcome.metricsInputSize);
            }
            if (outcome.baselineMetrics) {
                baselineMetrics.push_back(*outcome.baselineMetrics);
            }
        });
    }

    const fs::path out(args.out);
    app::writeSummaryFiles(out, "metrics", metrics);
    app::writeSummaryFiles(out, "metrics_input_size", metricsInputSize);
    app::writeSummaryFiles(out, "baseline_metrics", baselineMetrics);
    Json finished = loop.finishedEvent(total, {{"without_ground_truth", withoutGt}});
    if (!metrics.empty()) {
        const MetricsSummary summary = summarizeCases(metrics);
        finished["pooled_dice"] = summary.pooled.dice;
        finished["pooled_dice_input_size"] = summarizeCases(metricsInputSize).pooled.dice;
        if (!baselineMetrics.empty()) {
            finished["pooled_dice_baseline"] = summarizeCases(baselineMetrics).pooled.dice;
        }
        app::printMetricsTable(progress,
                               "metrics (original size) -> " + (out / "metrics.csv").string(),
                               metricsTable(summary));
    }
    loop.finish(finished);
    result.exitCode = app::kExitOk;
}

void registerSegment(CLI::App& root, app::CliResult& result)
{
    auto* command = root.add_subcommand(
        "segment",
        "Segment dermoscopy images with a DermoSegDiff checkpoint: per image DIR/<stem>/ gets "
        "mask.png (original size), probability and uncertainty maps, the x0 of chosen steps and "
        "summary.json (timings, metrics with --gt). Volumes (NIfTI, NRRD, MetaImage, DICOM "
        "folders) or a Diff-UNet checkpoint go to segment3d with the same arguments. Progress: a "
        "bar on a terminal, JSON lines on stdout otherwise. SIGINT/SIGTERM cancel cleanly (exit "
        "3)");
    auto args = std::make_shared<SegmentArgs>();
    command->add_option("--model", args->model,
                        "checkpoint: ours, or a reference .pth with --reference-config (default: "
                        "the packaged model for the input's kind, photo or volume)");
    command
        ->add_option("--input", args->input,
                     "an image, or a folder whose images are all segmented (sorted by name)")
        ->required();
    command->add_option("--out", args->out, "output folder (one subfolder per image)")->required();
    command
        ->add_option("--sampler", args->sampler,
                     "ddpm (all T steps, the reference) or ddim (default: what the model card "
                     "says it was validated with, else ddpm)")
        ->check(CLI::IsMember({"ddpm", "ddim"}));
    command
        ->add_option("--steps", args->steps,
                     "DDIM steps (0 = all T); DDPM accepts only 0 or T (default: the card's, "
                     "else 0)")
        ->check(CLI::NonNegativeNumber);
    command
        ->add_option("--eta", args->eta,
                     "DDIM stochasticity in [0, 1] (default: the card's, else 0)")
        ->check(CLI::Range(0.0, 1.0));
    command
        ->add_option("--ensemble", args->ensemble,
                     "members K, sampled as one batch (default: the card's, else 5)")
        ->check(CLI::Range(1, 1024));
    command->add_option("--seed", args->seed, "member k uses noise seed S + k")
        ->capture_default_str();
    command->add_option("--save-steps", args->saveSteps,
                        "steps whose x0 is saved to steps/, mean and every member: all, none, "
                        "every:N or a list 0,10,249 (default: the mean of 10 evenly spaced steps)");
    command->add_option("--device", args->device, "cpu, cuda, cuda:N or auto")
        ->capture_default_str();
    command
        ->add_option("--precision", args->precision,
                     "fp32, bf16, or auto (bf16 where the CPU or GPU computes it natively)")
        ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
        ->capture_default_str();
    command->add_option("--gt", args->gt,
                        "ground-truth mask (or folder of masks paired by stem, e.g. "
                        "ISIC_1_segmentation.png): metrics go into summary.json and DIR/metrics.*");
    command->add_option("--reference-config", args->referenceConfig,
                        "for a reference .pth: isic2018, ph2, ham10000 or its YAML/JSON config");
    command->add_option("--threads", args->threads, "CPU threads (0 = all cores)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    command->add_flag("--baseline", args->baseline,
                      "also run the Otsu baseline (baseline_mask.png, its metrics with --gt)");
    command->add_flag("--no-ema", args->noEma, "use the online weights even when EMA is present");
    command->add_flag("--first-look", args->firstLook,
                      "run member 0's first step alone before the others, as the studio does to "
                      "show a first outline sooner (timings: first_preview)");
    // The two starts (SDEdit): where the first outline comes from, noised to a strength in [0, 1].
    for (const auto& [flag, target, source, zero] :
         {std::tuple{"--start-from-otsu", &args->startFromOtsu, "the Otsu baseline's mask",
                     "0 samples from pure noise"},
          std::tuple{"--start-from-draft", &args->startFromDraft,
                     "the model's own one-step draft (the ensemble's mean x0 > 0)",
                     "wins over --start-from-otsu; 0: no draft"}}) {
        command
            ->add_option(flag, *target,
                         std::string("start sampling from ") + source +
                             " noised to this strength in (0, 1]; " + zero +
                             " (default: the model card's validated setting, else 0)")
            ->check(CLI::Range(0.0, 1.0));
    }
    command
        ->add_option("--progress", args->progress,
                     "auto (bar on a terminal, else json), bar, "
                     "json or none")
        ->check(CLI::IsMember({"auto", "bar", "json", "none"}))
        ->capture_default_str();
    command->add_option("--cache-mib", args->cacheMiB, "memory for the 8-bit step cache, MiB")
        ->check(CLI::Range(0.001, 1048576.0))
        ->capture_default_str();
    command
        ->add_option("--instability-steps", args->instabilitySteps,
                     "the step-instability map looks at the last N steps")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    // segment3d's options (--fusion, --tta, ...) are extras here until the input is known.
    command->allow_extras();
    command->callback([args, &result, command] {
        const bool volume =
            app::isVolumeSegmentation(args->model, args->input, args->referenceConfig);
        if (args->model.empty()) {
            args->model = app::defaultModelFor(volume, args->referenceConfig, args->input);
        }
        if (volume) {
            app::runSegmentVolumeFrom(*command, result, args->model);
            return;
        }
        if (!command->remaining().empty()) {
            auto extras = command->remaining();
            std::reverse(extras.begin(), extras.end()); // ExtrasError lists them reversed
            throw CLI::ExtrasError("segment", extras);
        }
        runSegment(*args, result);
    });
}

} // namespace

DIFFSEG_CLI_COMMAND(segment, registerSegment)
