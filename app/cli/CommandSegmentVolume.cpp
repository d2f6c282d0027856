// diffseg segment3d (and `diffseg segment` when given a volume or a Diff-UNet checkpoint):
// segments CT/MRI volumes with a Diff-UNet checkpoint and writes, per case, the label map in the
// source geometry, the class probabilities, uncertainty maps, chosen step predictions and a JSON
// summary (with metrics against a ground truth in mm).

#include "CaseLoop.h"
#include "CasePairing.h"
#include "CliCommand.h"
#include "CliSupport.h"
#include "SegmentDispatch.h"
#include "VolumeCases.h"
#include "base/CancelToken.h"
#include "base/Error.h"
#include "data/DatasetLayout.h"
#include "engine/Precision.h"
#include "imaging/Intensity.h"
#include "inference/ModelCard.h"
#include "inference/Segmenter3D.h"
#include "io/AtomicWrite.h"
#include "io/FileUtils.h"
#include "io/VolumeReader.h"
#include "io/VolumeWriter.h"
#include "metrics/MetricsAccumulator.h"
#include "metrics/MetricsReport.h"
#include "metrics/SegmentationMetrics.h"
#include "runtime/ResourcePaths.h"
#include "runtime/Runtime.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>

namespace fs = std::filesystem;
namespace app = diffseg::app;
using namespace diffseg::core;
using Json = nlohmann::ordered_json;
using namespace diffseg::app;

namespace {

struct VolumeArgs
{
    std::string model;
    std::string input;
    std::string out;
    int steps = 3;
    std::string fusion = "mean";
    double overlap = 0.5;
    int windowBatch = 1;
    bool tta = false;
    std::uint64_t seed = 0;
    std::string device = "auto";
    std::string precision = "auto";
    int threads = 0;
    std::string gt;
    std::string referenceConfig;
    std::string preprocessing;
    std::string format = "nii.gz";
    std::string saveSteps = "all";
    std::string progress = "auto";
    std::string uncertainty = "steps";
    double cacheMiB = 512.0;
    int roi = 0;
    bool fp16 = false;
    bool noEma = false;
    bool largestComponent = false;
    /// The card settings (core::applyValidatedSettings names) the command line set; the others
    /// follow the model card's validated settings when it has them.
    std::set<std::string> given;
};

/// One window/step of a case: a JSON line, or the bar.
void reportStep(ProgressOutput& progress, const std::string& id, int caseIndex, int caseCount,
                const Segment3DStep& s)
{
    if (progress.mode() == ProgressOutput::Mode::Json) {
        progress.event({{"event", "step"},
                        {"case", id},
                        {"batch", s.batch},
                        {"batches", s.batchCount},
                        {"window", s.firstWindow},
                        {"windows_in_batch", s.windows},
                        {"windows", s.windowCount},
                        {"flip", s.flip},
                        {"flips", s.flips},
                        {"step", s.step},
                        {"steps", s.steps},
                        {"done", s.done},
                        {"total", s.total},
                        {"elapsed_s", rounded(s.elapsedSeconds)},
                        {"eta_s", rounded(s.etaSeconds)}});
        return;
    }
    std::string flip;
    if (s.flips > 1) {
        flip = " flip " + std::to_string(s.flip + 1) + "/" + std::to_string(s.flips);
    }
    char suffix[200];
    std::snprintf(suffix, sizeof suffix, "window %d/%d%s step %d/%d %.1fs ETA %.1fs",
                  s.firstWindow + s.windows, s.windowCount, flip.c_str(), s.step + 1, s.steps,
                  s.elapsedSeconds, s.etaSeconds);
    progress.bar("[" + std::to_string(caseIndex + 1) + "/" + std::to_string(caseCount) + "] " + id,
                 double(s.done) / double(std::max(1, s.total)), suffix, s.done >= s.total);
}

/// Reads --preprocessing: inline JSON or a JSON file.
VolumePreparationConfig readPreprocessing(const std::string& spec)
{
    std::string text = spec;
    std::string subject = "--preprocessing";
    const auto first = spec.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || spec[first] != '{') {
        std::ifstream in(spec);
        if (!in) {
            throw Error(ErrorKind::NotFound, spec, "preprocessing JSON file not found");
        }
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        subject = spec;
    }
    return VolumePreparationConfig::fromJson(text, subject);
}

// --- helpers ------------------------------------------------------------------------------------

Json geometryJson(const Volume& v)
{
    const Geometry& g = v.geometry();
    return {{"size", v.size()},
            {"spacing_mm", g.spacing},
            {"origin_mm", g.origin},
            {"direction", g.direction},
            {"orientation", g.orientationCode()}};
}

Json mapStats(const Volume& map)
{
    const float* v = map.data<float>();
    double sum = 0.0;
    double max = 0.0;
    for (std::size_t i = 0; i < map.voxelCount(); ++i) {
        sum += v[i];
        max = std::max(max, double(v[i]));
    }
    return {{"mean", sum / double(map.voxelCount())}, {"max", max}};
}

int labelAt(const LabelMap& l, std::size_t i)
{
    return l.pixelType() == PixelType::UInt8 ? l.data<std::uint8_t>()[i]
                                             : l.data<std::uint16_t>()[i];
}

/// A probability volume in 8 bits, p = code / 255: the step cache holds no more than that, and
/// uint8 volumes compress and write several times faster than float ones.
Volume toCodes(const Volume& probability)
{
    Volume codes(probability.size(), 1, PixelType::UInt8, probability.geometry());
    const float* p = probability.data<float>();
    std::uint8_t* c = codes.data<std::uint8_t>();
    for (std::size_t i = 0; i < probability.voxelCount(); ++i) {
        c[i] = static_cast<std::uint8_t>(std::lround(std::clamp(p[i], 0.0f, 1.0f) * 255.0f));
    }
    return codes;
}

/// A {0, 1} label map of the voxels whose label is in `labels` (BraTS regions).
LabelMap regionMap(const LabelMap& l, const std::set<int>& labels)
{
    LabelMap out(l.size(), l.geometry());
    std::uint8_t* o = out.data<std::uint8_t>();
    for (std::size_t i = 0; i < l.voxelCount(); ++i) {
        o[i] = labels.count(labelAt(l, i)) != 0 ? 1 : 0;
    }
    return out;
}

std::string stepName(int step, int count)
{
    const int digits = std::max(2, static_cast<int>(std::to_string(count - 1).size()));
    char text[32];
    std::snprintf(text, sizeof text, "step_%0*d", digits, step);
    return text;
}

// --- one case -----------------------------------------------------------------------------------

struct CaseOutcome
{
    std::optional<CaseMetrics> foreground; ///< any non-zero label
};

class VolumeRun
{
public:
    VolumeRun(const VolumeArgs& args, Segmenter3D& segmenter, const Segment3DOptions& options,
              std::optional<DiffUNetReferencePreset> preset, CaseLoop& loop)
        : m_args(args)
        , m_segmenter(segmenter)
        , m_options(options)
        , m_preset(std::move(preset))
        , m_loop(loop)
        , m_progress(loop.progress())
        , m_cancel(loop.cancel())
    {}

    CaseOutcome run(const app::VolumeCaseInput& input, int index, int count)
    {
        const auto caseStart = Clock::now();
        const VolumeModelInfo& info = m_segmenter.info();
        const std::string& name = input.images.front();
        Json timings;
        auto phase = Clock::now();
        const LoadedVolume loaded =
            input.images.size() == 1 ? readVolume(name) : readVolumeChannels(input.images);
        const Volume& image = loaded.volume;
        if (image.channels() != info.network.inChannels) {
            throw Error(ErrorKind::Mismatch, name,
                        "has " + std::to_string(image.channels()) + " channel(s) but the model " +
                            info.path + " expects " + std::to_string(info.network.inChannels) +
                            (m_preset ? " (" + m_preset->name + ": " + channelList() + ")" : ""));
        }
        LabelMap gt;
        if (!input.gt.empty()) {
            gt = readLabelMap(input.gt).labels;
            if (!gt.isAlignedWith(image, 1e-3)) {
                throw Error(ErrorKind::Mismatch, input.gt,
                            "does not lie on the grid of " + name + " (" + gt.describe() + " vs " +
                                image.describe() + ")");
            }
        }
        timings["read"] = rounded(secondsSince(phase));

        const fs::path outDir = fs::path(m_args.out) / input.id;
        PartialFolder folder(PartialFolder::forCase(m_args.out, input.id), {"steps"});
        const fs::path& dir = folder.path();

        Json stepVolumes = Json::array();
        const auto onStep = [&](const Segment3DStep& s) {
            reportStep(m_progress, input.id, index, count, s);
            if (s.stepLabels != nullptr) {
                std::size_t foreground = 0;
                for (std::size_t v = 0; v < s.stepLabels->voxelCount(); ++v) {
                    foreground += labelAt(*s.stepLabels, v) != 0 ? 1 : 0;
                }
                const double fraction = double(foreground) / double(s.stepLabels->voxelCount());
                m_progress.event({{"event", "step_volume"},
                                  {"case", input.id},
                                  {"step", s.step},
                                  {"steps", s.steps},
                                  {"foreground_fraction", fraction},
                                  {"elapsed_s", rounded(s.elapsedSeconds)}});
                stepVolumes.push_back({{"step", s.step}, {"foreground_fraction", fraction}});
            }
        };
        Segment3DResult result;
        try {
            result = m_segmenter.segment(image, m_options, onStep, m_cancel);
        } catch (const Error& e) {
            // The library names the volume "volume"; the user knows it by its file.
            if (e.subject() == "volume") {
                throw Error(e.kind(), name, e.problem());
            }
            throw;
        }
        m_progress.clearBar();

        phase = Clock::now();
        const std::string labelsFile = "labels." + m_args.format;
        const std::string labelsPath = (dir / labelsFile).string();
        writeLabelMap(result.labels, labelsPath);
        // Reopen the header: the file must overlay the input exactly.
        const VolumeHeader written = readVolumeHeader(labelsPath);
        if (written.size != image.size() || !written.geometry.isClose(image.geometry(), 1e-4)) {
            throw Error(ErrorKind::Internal, labelsPath,
                        "the written label map does not overlay " + name);
        }
        writeVolume(result.probabilities, (dir / "probabilities.nii.gz").string());
        Json outputs;
        outputs["labels"] = {{"file", labelsFile},
                             {"meaning",
                              "argmax of the fused logits (mean of the step logits + the edge "
                              "logits), blended over windows and restored to the source grid; "
                              "label = class index, 0 outside the crop box"},
                             {"labels", labelNames()},
                             {"verified_geometry", true}};
        outputs["probabilities"] = {
            {"file", "probabilities.nii.gz"},
            {"channels", result.classes},
            {"meaning", "softmax of the restored fused logits, float32, channel c = class c"}};
        struct MapOut
        {
            const char* key;
            const char* file;
            const Volume* map;
            const char* formula;
        };
        const MapOut maps[] = {
            {"uncertainty_entropy", "uncertainty_entropy.nii.gz", &result.entropy,
             "H = -sum_c p_c ln p_c of the fused softmax, nats in [0, ln C]"},
            {"uncertainty_steps", "uncertainty_steps.nii.gz", &result.stepEntropy,
             "H(mean_s softmax(L_s)) over the S step predictions (denoiser logits), nats"},
            {"uncertainty_mirror", "uncertainty_mirror.nii.gz", &result.mirrorVariance,
             "(1/C) sum_c variance over the 8 mirror passes of p_c, in [0, 0.25]"}};
        Json uncertainty;
        for (const MapOut& m : maps) {
            if (m.map->empty()) {
                continue;
            }
            writeVolume(*m.map, (dir / m.file).string());
            outputs[m.key] = {{"file", m.file}, {"formula", m.formula}};
            uncertainty[m.key] = mapStats(*m.map);
        }
        uncertainty["shown"] = volumeUncertaintyName(result.uncertaintySource);

        Json savedSteps = Json::array();
        if (result.stepCache && !m_saveSteps.empty()) {
            outputs["steps"] = {
                {"folder", "steps"},
                {"labels",
                 "step_<i>_labels." + m_args.format + ": argmax of (1 - sum_c p_c, p_1, ...)"},
                {"foreground",
                 "step_<i>_foreground.nii.gz: uint8 code, 1 - p_background = code / 255 "
                 "(the step cache keeps 8 bits)"}};
        }
        if (result.stepCache) {
            for (const int s : m_saveSteps) {
                const std::string base = stepName(s, result.steps);
                const std::string labels = "steps/" + base + "_labels." + m_args.format;
                const std::string fg = "steps/" + base + "_foreground.nii.gz";
                writeLabelMap(Segmenter3D::stepLabelsFromCache(*result.stepCache, s,
                                                               m_segmenter.info().labelValues),
                              (dir / labels).string());
                writeVolume(toCodes(Segmenter3D::stepForegroundFromCache(*result.stepCache, s)),
                            (dir / fg).string());
                savedSteps.push_back({{"step", s},
                                      {"stored_step", result.stepCache->get(0, s).step},
                                      {"files", Json::array({labels, fg})}});
            }
        }
        const double writeSeconds = secondsSince(phase);

        // Metrics in mm with the volume's spacing.
        CaseOutcome outcome;
        Json metrics = nullptr;
        const auto metricsStart = Clock::now();
        if (!input.gt.empty()) {
            metrics = Json::object();
            outcome.foreground = computeCaseMetrics(result.labels, gt, LabelSelection::any(),
                                                    MetricsOptions{}, input.id);
            metrics["foreground"] = caseMetricsJson(*outcome.foreground);
            // Up to the largest label either map holds: a model may write label values (its
            // dataset.label_values) above its class count.
            const int top = std::max({result.classes - 1, result.labels.maxLabel(), gt.maxLabel()});
            Json perLabel = Json::object();
            for (int label = 1; label <= top; ++label) {
                perLabel[std::to_string(label)] = caseMetricsJson(computeCaseMetrics(
                    result.labels, gt, LabelSelection::only(label), MetricsOptions{}, input.id));
            }
            metrics["labels"] = perLabel;
            if (m_preset && m_preset->name == "brats2023") {
                // §B2.1 / §B8: TC = {1, 3}, WT = {1, 2, 3}, ET = {3}, BraTS empty convention.
                MetricsOptions brats;
                brats.emptyConvention = EmptyConvention::BraTS;
                Json regions = Json::object();
                for (const auto& [region, set] :
                     {std::pair<const char*, std::set<int>>{"TC", {1, 3}},
                      {"WT", {1, 2, 3}},
                      {"ET", {3}}}) {
                    regions[region] = caseMetricsJson(
                        computeCaseMetrics(regionMap(result.labels, set), regionMap(gt, set),
                                           LabelSelection::only(1), brats, input.id));
                }
                metrics["brats_regions"] = regions;
            }
        }
        const double metricsSeconds = secondsSince(metricsStart);

        std::map<int, std::size_t> counts;
        for (std::size_t v = 0; v < result.labels.voxelCount(); ++v) {
            ++counts[labelAt(result.labels, v)];
        }
        const Geometry& g = image.geometry();
        const double voxelMl = g.spacing[0] * g.spacing[1] * g.spacing[2] / 1000.0;
        Json labelVolumes = Json::object();
        for (const auto& [label, n] : counts) {
            labelVolumes[std::to_string(label)] = {{"voxels", n}, {"ml", double(n) * voxelMl}};
        }

        Json summary;
        summary["diffseg_version"] = libraryVersions().diffseg;
        Json inputJson = geometryJson(image);
        inputJson["paths"] = input.images;
        inputJson["channels"] = image.channels();
        inputJson["stored_type"] = loaded.source.storedType;
        inputJson["format"] = volumeFormatName(loaded.source.format);
        summary["input"] = inputJson;
        summary["ground_truth"] =
            input.gt.empty() ? Json(nullptr) : Json({{"path", input.gt}, {"from", input.gtOrigin}});
        summary["model"] = modelJson(info);
        summary["settings"] = settingsJson();
        summary["windows"] = {
            {"roi", result.roi},
            {"count", result.windowCount},
            {"batches", result.batchCount},
            {"mirror_passes", result.flips},
            {"prepared_size", result.preparedSize},
            {"prepared_spacing_mm", result.preparedGeometry.spacing},
            {"crop_box", {{"begin", result.cropBox.begin}, {"end", result.cropBox.end}}}};
        summary["outputs"] = outputs;
        summary["label_volumes"] = labelVolumes;
        summary["uncertainty"] = uncertainty;
        Json stepsJson = {{"count", result.steps}, {"volumes", stepVolumes}, {"saved", savedSteps}};
        if (result.stepCache) {
            stepsJson["cache"] = {{"budget_bytes", result.stepCache->budgetBytes()},
                                  {"bytes_used", result.stepCache->bytesUsed()},
                                  {"members", result.stepCache->config().members},
                                  {"kept_steps", result.stepCache->keptSteps()},
                                  {"encoding", "member c-1 = class c, x0 = 2p - 1 in 8 bits"}};
        }
        summary["steps"] = stepsJson;
        summary["metrics"] = metrics;
        timings["load"] = rounded(result.timings.load);
        timings["prepare"] = rounded(result.timings.prepare);
        timings["windows"] = rounded(result.timings.windows);
        timings["step_volumes"] = rounded(result.timings.steps);
        timings["per_pass"] = rounded(result.timings.perPass);
        timings["postprocess"] = rounded(result.timings.postprocess);
        timings["first_step_volume"] = rounded(result.timings.firstStepVolume);
        timings["segment_total"] = rounded(result.timings.total);
        timings["write"] = rounded(writeSeconds);
        timings["metrics"] = rounded(metricsSeconds);
        timings["case_total"] = rounded(secondsSince(caseStart));
        summary["timings_s"] = timings;
        writeJsonFile((dir / "summary.json").string(), summary);

        m_cancel.throwIfCancelled("volume segmentation");
        folder.commit(outDir);
        Json done = Json::object();
        std::string detail;
        if (outcome.foreground) {
            done["dice"] = metrics["foreground"]["dice"];
            detail = ", foreground Dice " + format("%.4f", outcome.foreground->overlap.dice);
        }
        m_loop.reportDone(input.id, outDir, secondsSince(caseStart), done, detail);
        return outcome;
    }

    void setSaveSteps(std::set<int> steps) { m_saveSteps = std::move(steps); }
    void setSettingsFromCard(std::vector<std::string> names) { m_fromCard = std::move(names); }

    static Json modelJson(const VolumeModelInfo& info)
    {
        return {{"path", info.path},
                {"format", info.format},
                {"reference_config",
                 info.referenceConfig.empty() ? Json(nullptr) : Json(info.referenceConfig)},
                {"id", info.id},
                {"source", info.source},
                {"network", "diffunet"},
                {"config", Json::parse(info.network.toJson())},
                {"preprocessing", Json::parse(info.preparation.toJson())},
                {"preprocessing_from", info.preparationSource},
                {"input_size", info.inputSize},
                {"uses_ema", info.usesEma},
                {"step", info.step ? Json(*info.step) : Json(nullptr)},
                {"epoch", info.epoch ? Json(*info.epoch) : Json(nullptr)},
                {"parameters", info.parameterCount},
                {"device", info.device},
                {"autocast_fp16", info.autocast},
                {"precision", info.precision},
                {"load_s", rounded(info.loadSeconds)}};
    }

private:
    Json settingsJson() const
    {
        return {{"steps", m_options.steps},
                {"fusion", stepFusionName(m_options.fusion)},
                {"seed", m_options.seed},
                {"overlap", m_options.overlap},
                {"window_batch", m_options.windowBatch},
                {"roi", m_segmenter.windowOptions(m_options).roi[0]},
                {"mirror_tta", m_options.mirrorTta},
                {"largest_component", m_options.largestComponent},
                {"time_input", m_options.timeAsLogSnr ? "log-SNR (reference)" : "tau"},
                {"uncertainty", volumeUncertaintyName(m_options.uncertainty)},
                {"device", m_segmenter.info().device},
                {"precision", m_segmenter.info().precision},
                {"threads", computeThreads()},
                {"step_cache_budget_bytes", m_options.stepCacheBudget},
                {"save_steps", m_args.saveSteps},
                {"format", m_args.format},
                {"from_model_card", m_fromCard}};
    }

    std::string channelList() const
    {
        std::string text;
        for (const std::string& c : m_preset->channels) {
            text += (text.empty() ? "" : ", ") + c;
        }
        return text;
    }

    Json labelNames() const
    {
        Json names = Json::object();
        const VolumeModelInfo& info = m_segmenter.info();
        const int classes = info.network.numClasses;
        for (int c = 0; c < classes; ++c) {
            // Keyed by the value written in the label map.
            const int value = c < static_cast<int>(info.labelValues.size())
                                  ? info.labelValues[static_cast<std::size_t>(c)]
                                  : c;
            names[std::to_string(value)] =
                c < static_cast<int>(info.labelNames.size())
                    ? info.labelNames[static_cast<std::size_t>(c)]
                : m_preset && c < static_cast<int>(m_preset->labels.size())
                    ? m_preset->labels[static_cast<std::size_t>(c)]
                    : (c == 0 ? std::string("background") : "class " + std::to_string(c));
        }
        return names;
    }

    const VolumeArgs& m_args;
    Segmenter3D& m_segmenter;
    Segment3DOptions m_options;
    std::optional<DiffUNetReferencePreset> m_preset;
    CaseLoop& m_loop;
    ProgressOutput& m_progress;
    const CancelToken& m_cancel;
    std::set<int> m_saveSteps;
    std::vector<std::string> m_fromCard;
};

// --- the command --------------------------------------------------------------------------------

void runSegmentVolume(const VolumeArgs& args, app::CliResult& result)
{
    app::CaseLoop loop(args.threads, args.progress, "case", "volume segmentation", "cases");
    ProgressOutput& progress = loop.progress();
    const CancelToken& cancel = loop.cancel();

    if (args.format != "nii.gz" && args.format != "nrrd" && args.format != "mha" &&
        args.format != "nii" && args.format != "seg.nrrd") {
        throw Error(ErrorKind::Config, "--format",
                    "'" + args.format + "' is not nii.gz, nii, nrrd, seg.nrrd or mha");
    }
    Segment3DOptions options;
    options.steps = args.steps;
    options.fusion = parseStepFusion(args.fusion, "--fusion");
    options.seed = args.seed;
    options.overlap = args.overlap;
    options.windowBatch = args.windowBatch;
    options.mirrorTta = args.tta;
    options.roi = args.roi;
    options.uncertainty = parseVolumeUncertainty(args.uncertainty, "--uncertainty");
    options.largestComponent = args.largestComponent;
    options.stepCacheBudget = static_cast<std::size_t>(args.cacheMiB * 1024.0 * 1024.0);
    if (options.steps < 1 || options.steps > 1000) {
        throw Error(ErrorKind::Config, "--steps",
                    "must lie in 1..1000 for Diff-UNet, got " + std::to_string(options.steps));
    }
    if (options.uncertainty == VolumeUncertainty::MirrorVariance && !options.mirrorTta) {
        throw Error(ErrorKind::Config, "--uncertainty", "'mirror' needs --tta");
    }
    const std::vector<app::VolumeCaseInput> cases = app::collectVolumeCases(args.input, args.gt);

    VolumeModelLoadOptions load;
    load.device = args.device;
    load.autocastFp16 = args.fp16;
    load.precision = diffseg::core::engine::parsePrecision(args.precision, "--precision");
    load.useEma = !args.noEma;
    std::optional<DiffUNetReferencePreset> preset;
    if (!args.referenceConfig.empty()) {
        preset = DiffUNetReferencePreset::resolve(args.referenceConfig, "--reference-config");
        load.useReferencePreset(*preset);
    }
    if (!args.preprocessing.empty()) {
        load.preparation = readPreprocessing(args.preprocessing);
    }
    if (preset && !load.preparation) {
        const auto& t = preset->targetSpacing;
        throw Error(ErrorKind::Config, "--preprocessing",
                    preset->name +
                        " normalises CT with its training set's foreground statistics, which the "
                        "state_dict does not store: pass --preprocessing '{\"normalization\": "
                        "\"ct\", \"clip_low\": P0.5, \"clip_high\": P99.5, \"mean\": M, \"std\": "
                        "S, \"target_spacing\": [" +
                        format("%.8g", t[0]) + ", " + format("%.8g", t[1]) + ", " +
                        format("%.8g", t[2]) + "]}' (or a file holding it)");
    }
    std::optional<Segmenter3D> segmenter;
    try {
        segmenter.emplace(args.model, load);
    } catch (const Error& e) {
        throw app::withReferenceHint(e, preset.has_value(),
                                     "for a state_dict of the reference code pass "
                                     "--reference-config aiib2023|brats2023");
    }
    cancel.throwIfCancelled("volume segmentation");
    // What the model was validated with (its card), for each setting the command line left out.
    const std::vector<std::string> fromCard =
        applyValidatedSettings(segmenter->info().card, options, args.given);
    const std::set<int> saveSteps = parseSaveSteps(args.saveSteps, options.steps);
    try {
        segmenter->windowOptions(options);
    } catch (const Error& e) {
        throw Error(e.kind(), e.subject() == "roi" ? "--roi" : "--" + e.subject(), e.problem());
    }

    app::createOutputFolder(args.out);

    const VolumeModelInfo& info = segmenter->info();
    const int roi = segmenter->windowOptions(options).roi[0];
    progress.event({{"event", "start"},
                    {"model", info.path},
                    {"model_id", info.id},
                    {"device", info.device},
                    {"precision", info.precision},
                    {"load_s", rounded(info.loadSeconds)},
                    {"inputs", cases.size()},
                    {"steps", options.steps},
                    {"fusion", stepFusionName(options.fusion)},
                    {"mirror_tta", options.mirrorTta},
                    {"roi", roi},
                    {"overlap", options.overlap},
                    {"window_batch", options.windowBatch},
                    {"classes", info.network.numClasses},
                    {"settings_from_card", fromCard},
                    {"out", args.out}});
    if (progress.mode() == ProgressOutput::Mode::Bar) {
        progress.message("model " + info.path + " (" + info.id + ", " +
                         std::to_string(info.parameterCount) + " parameters, Diff-UNet " +
                         std::to_string(info.network.inChannels) + " -> " +
                         std::to_string(info.network.numClasses) + " classes) on " + info.device +
                         ", loaded in " + format("%.2f", info.loadSeconds) + " s; window " +
                         std::to_string(roi) + "^3, " + std::to_string(options.steps) + " steps" +
                         (options.mirrorTta ? ", mirror TTA" : ""));
    }

    VolumeRun run(args, *segmenter, options, preset, loop);
    run.setSaveSteps(saveSteps);
    run.setSettingsFromCard(fromCard);
    std::vector<CaseMetrics> metrics;
    const int total = static_cast<int>(cases.size());
    for (int i = 0; i < total; ++i) {
        const app::VolumeCaseInput& input = cases[static_cast<std::size_t>(i)];
        const Json extra = {{"paths", input.images},
                            {"ground_truth", input.gt.empty() ? Json(nullptr) : Json(input.gt)}};
        loop.run(i, total, input.id, input.images.front(), extra, [&] {
            if (input.gt.empty() && !args.gt.empty()) {
                progress.message("warning: no ground-truth label map for " + input.id + " in " +
                                 args.gt);
            }
            const CaseOutcome outcome = run.run(input, i, total);
            if (outcome.foreground) {
                metrics.push_back(*outcome.foreground);
            }
        });
    }

    const fs::path out(args.out);
    app::writeSummaryFiles(out, "metrics", metrics);
    Json finished = loop.finishedEvent(total, Json::object());
    if (!metrics.empty()) {
        const MetricsSummary summary = summarizeCases(metrics);
        finished["pooled_dice"] = summary.pooled.dice;
        app::printMetricsTable(progress, "foreground metrics -> " + (out / "metrics.csv").string(),
                               metricsTable(summary));
    }
    loop.finish(finished);
    result.exitCode = app::kExitOk;
}

void addVolumeOptions(CLI::App* command, const std::shared_ptr<VolumeArgs>& args)
{
    command->add_option("--model", args->model,
                        "Diff-UNet checkpoint: ours, or a reference state_dict with "
                        "--reference-config (default: the packaged volume model)");
    command
        ->add_option("--input", args->input,
                     "a volume (.nii, .nii.gz, .nrrd, .seg.nrrd, .mha, .mhd), a DICOM folder, a "
                     "folder of volumes or a dataset folder (brats2023, aiib2023, a Decathlon "
                     "dataset.json + imagesTr/ + labelsTr/, images/ + masks/, whose label maps "
                     "are the ground truth)")
        ->required();
    command->add_option("--out", args->out, "output folder (one subfolder per case)")->required();
    command->add_option("--steps", args->steps, "denoiser steps per window (the reference: 3)")
        ->capture_default_str();
    command
        ->add_option("--fusion", args->fusion,
                     "step fusion: mean (the released code) or uncertainty (SUF weights)")
        ->capture_default_str();
    command->add_option("--overlap", args->overlap, "window overlap in [0, 1)")
        ->capture_default_str();
    command->add_option("--window-batch", args->windowBatch, "windows per network call")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    command->add_flag("--tta", args->tta,
                      "mirror test-time augmentation: identity + 7 flips, averaged in logit space "
                      "(8x the time)");
    command->add_option("--seed", args->seed, "noise seed (equal seeds, equal results)")
        ->capture_default_str();
    command->add_option("--device", args->device, "cpu, cuda, cuda:N or auto")
        ->capture_default_str();
    command->add_flag("--fp16", args->fp16,
                      "CUDA autocast fp16, as the reference predicts (unless bf16 is in use)");
    command
        ->add_option("--precision", args->precision,
                     "fp32, bf16 (autocast: float32 weights, bf16 convolutions), or auto (bf16 "
                     "where the CPU or GPU computes it natively)")
        ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
        ->capture_default_str();
    command->add_option("--threads", args->threads, "CPU threads (0 = all cores)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    command->add_option("--gt", args->gt,
                        "ground-truth label map (or folder of label maps paired by stem): "
                        "metrics per label in mm go into summary.json and DIR/metrics.*");
    command->add_flag("--largest-component", args->largestComponent,
                      "keep only the largest connected piece of each label in labels.<fmt> "
                      "(nnU-Net's post-processing; the probabilities and uncertainty maps are "
                      "unchanged)");
    command->add_option("--reference-config", args->referenceConfig,
                        "for a reference state_dict: aiib2023 (1 -> 2) or brats2023 (4 -> 4)");
    command->add_option(
        "--preprocessing", args->preprocessing,
        "preparation JSON (inline or a file): normalization ct|zscore|none, "
        "crop_to_nonzero, target_spacing [x, y, z], clip_low, clip_high, mean, std");
    command->add_option("--roi", args->roi, "window side (0 = the checkpoint's input size)")
        ->check(CLI::Range(0, 1024))
        ->capture_default_str();
    command->add_option("--format", args->format, "label map format: nii.gz, nrrd or mha")
        ->capture_default_str();
    command
        ->add_option("--save-steps", args->saveSteps,
                     "steps whose label map and foreground probability go to steps/: all, none, "
                     "every:N or a list 0,2")
        ->capture_default_str();
    command
        ->add_option("--uncertainty", args->uncertainty,
                     "the map summaries show first: steps (entropy of the mean step prediction), "
                     "entropy (of the fused prediction) or mirror (variance over --tta flips)")
        ->capture_default_str();
    command->add_option("--cache-mib", args->cacheMiB, "memory for the 8-bit step cache, MiB")
        ->check(CLI::Range(0.001, 1048576.0))
        ->capture_default_str();
    command->add_flag("--no-ema", args->noEma, "use the online weights even when EMA is present");
    command
        ->add_option("--progress", args->progress,
                     "auto (bar on a terminal, else json), bar, json or none")
        ->check(CLI::IsMember({"auto", "bar", "json", "none"}))
        ->capture_default_str();
}

void registerSegment3d(CLI::App& root, app::CliResult& result)
{
    auto* command = root.add_subcommand(
        "segment3d",
        "Segment CT/MRI volumes with a Diff-UNet checkpoint (sliding windows, optional mirror "
        "TTA): per case DIR/<case>/ gets labels.<fmt> in the source geometry, probabilities, "
        "uncertainty maps, steps/ and summary.json (metrics with --gt). `diffseg segment` "
        "hands volumes here. SIGINT/SIGTERM cancel cleanly (exit 3)");
    auto args = std::make_shared<VolumeArgs>();
    addVolumeOptions(command, args);
    command->callback([args, command, &result] {
        if (args->model.empty()) {
            args->model = diffseg::app::defaultModelFor(true, args->referenceConfig, args->input);
        }
        for (const auto& [option, setting] :
             {std::pair{"--steps", "steps"}, std::pair{"--fusion", "fusion"},
              std::pair{"--overlap", "overlap"}, std::pair{"--tta", "mirror_tta"},
              std::pair{"--largest-component", "largest_component"}}) {
            if (command->count(option) > 0) {
                args->given.insert(setting);
            }
        }
        runSegmentVolume(*args, result);
    });
}

/// Without loading it (core::checkpointInputKind reads the first bytes).
bool looksLikeDiffUNetCheckpoint(const std::string& path)
{
    return checkpointInputKind(path) == InputKind::Volume;
}

} // namespace

namespace diffseg::app {

bool isVolumeSegmentation(const std::string& model, const std::string& input,
                          const std::string& referenceConfig)
{
    const std::string preset = [&] {
        std::string p = referenceConfig;
        std::transform(p.begin(), p.end(), p.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return p;
    }();
    if (preset == "aiib2023" || preset == "brats2023") {
        return true;
    }
    try {
        return app::looksLikeVolumeInput(input) || looksLikeDiffUNetCheckpoint(model);
    } catch (const Error&) {
        return false; // let the 2D path report the missing file
    }
}

std::string defaultModelFor(bool volume, const std::string& referenceConfig,
                            const std::string& input)
{
    if (!referenceConfig.empty()) {
        throw Error(ErrorKind::Config, "--model",
                    "--reference-config names the reference checkpoint's configuration; give the "
                    "checkpoint itself with --model");
    }
    const std::vector<std::string> packaged =
        packagedModels(volume ? PackagedModelKind::Volume : PackagedModelKind::Photo);
    if (packaged.empty()) {
        throw Error(ErrorKind::Config, "--model",
                    std::string("no model given and no packaged ") + (volume ? "volume" : "photo") +
                        " model found (resources folder: " +
                        (resourceDir().empty() ? "none" : resourceDir()) +
                        "); pass --model CHECKPOINT");
    }
    std::string path = packaged.front();
    std::string why;
    if (volume && !input.empty() && packaged.size() > 1) {
        // A model for the input's modality: the hippocampus MRI model knows nothing of CT.
        try {
            const std::vector<VolumeCaseInput> cases = collectVolumeCases(input, {});
            const LoadedVolume first = readVolumeChannels(cases.front().images);
            const bool ct = looksLikeCt(first.volume, first.source.modality());
            const VolumeModality wanted = ct ? VolumeModality::Ct : VolumeModality::Mr;
            for (const std::string& candidate : packaged) {
                if (checkpointVolumeModality(candidate) == wanted) {
                    path = candidate;
                    why = ct ? " (the input looks like CT)" : " (the input looks like MRI)";
                    break;
                }
            }
        } catch (const Error&) {
            // Unreadable input: the run reports it with its own message.
        }
    }
    std::fprintf(stderr, "no --model given: using the packaged %s model %s%s\n",
                 volume ? "volume" : "photo", path.c_str(), why.c_str());
    return path;
}

void runSegmentVolumeFrom(const CLI::App& segment, CliResult& result, const std::string& model)
{
    // Rebuild the command line `segment` parsed (its own options, then what it did not know, in
    // order) and parse it as segment3d: 2D-only options are then refused by name.
    std::vector<std::string> argv;
    for (const CLI::Option* option : segment.get_options()) {
        if (option->count() == 0 || option->get_name().empty()) {
            continue;
        }
        const std::string name = option->get_name();
        if (option->get_expected_max() == 0) {
            for (std::size_t i = 0; i < option->count(); ++i) {
                argv.push_back(name);
            }
            continue;
        }
        for (const std::string& value : option->results()) {
            argv.push_back(name);
            argv.push_back(value);
        }
    }
    for (const std::string& extra : segment.remaining()) {
        argv.push_back(extra);
    }
    if (segment.get_option("--model")->count() == 0) {
        argv.push_back("--model");
        argv.push_back(model);
    }
    CLI::App volume{"diffseg segment (volume)", "segment"};
    auto args = std::make_shared<VolumeArgs>();
    addVolumeOptions(&volume, args);
    std::reverse(argv.begin(), argv.end()); // CLI11 takes its vector reversed
    volume.parse(argv);
    runSegmentVolume(*args, result);
}

} // namespace diffseg::app

DIFFSEG_CLI_COMMAND(segment3d, registerSegment3d)
