#include "Segmenter.h"

#include "ReferenceModelConfig.h"
#include "Segmenter2D.h"
#include "Segmenter3D.h"
#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace diffseg::core {

namespace {

void reject(const std::string& option, const std::string& problem)
{
    throw Error(ErrorKind::Config, option, problem);
}

} // namespace

const char* inputKindName(InputKind kind) noexcept
{
    return kind == InputKind::Volume ? "volume" : "photo";
}

void ModelCapabilities::validate(const SegmentationRequest& r) const
{
    const std::string what = family + " (" + inputKindName(input) + " model)";
    if (!r.sampler.empty() &&
        std::find(samplers.begin(), samplers.end(), r.sampler) == samplers.end()) {
        reject("sampler", samplers.empty() ? what + " has no sampler choice"
                                           : "'" + r.sampler + "' is not a sampler of " + what);
    }
    if (r.steps < 0 || (maxSteps > 0 && r.steps > maxSteps)) {
        reject("steps", "must lie in 1.." + std::to_string(maxSteps) + " for " + what);
    }
    if (r.ensemble < 0 || (!ensemble && r.ensemble > 1)) {
        reject("ensemble", ensemble ? "must not be negative" : what + " samples one chain");
    }
    if (r.eta > 1.0 || (r.eta >= 0.0 && samplers.empty())) {
        reject("eta", samplers.empty() ? what + " has no DDIM eta" : "must lie in [0, 1]");
    }
    if (!r.fusion.empty() && (!stepFusion || (r.fusion != "mean" && r.fusion != "uncertainty"))) {
        reject("fusion", stepFusion ? "'" + r.fusion + "' is not mean or uncertainty"
                                    : what + " fuses no step predictions");
    }
    if (r.mirrorTta && !mirrorTta) {
        reject("mirror", what + " has no mirror test-time augmentation");
    }
    if (r.overlap >= 1.0 || (r.overlap >= 0.0 && !slidingWindow)) {
        reject("overlap", slidingWindow ? "must lie in [0, 1)" : what + " uses no windows");
    }
    if (r.windowBatch < 0 || (r.windowBatch > 0 && !slidingWindow)) {
        reject("window batch", slidingWindow ? "must not be negative" : what + " uses no windows");
    }
    if (r.roi < 0 || (r.roi > 0 && !slidingWindow)) {
        reject("roi", slidingWindow ? "must not be negative" : what + " uses no windows");
    }
    if (!r.uncertainty.empty() && std::find(uncertaintyMaps.begin(), uncertaintyMaps.end(),
                                            r.uncertainty) == uncertaintyMaps.end()) {
        reject("uncertainty", "'" + r.uncertainty + "' is not a map of " + what);
    }
    if (r.storeNoisy && input != InputKind::Photo) {
        reject("store noisy", what + " keeps no noisy samples");
    }
    if (r.startFromOtsu > 1.0 || (r.startFromOtsu >= 0.0 && input != InputKind::Photo)) {
        reject("start from otsu",
               input == InputKind::Photo ? "must lie in [0, 1]" : what + " has no threshold start");
    }
    if (r.firstLook && !ensemble) {
        reject("first look", what + " samples one chain");
    }
    if (r.keepEveryStepUpTo > 0 && input != InputKind::Photo) {
        reject("keep every step", what + " keeps its steps within its own budget");
    }
}

std::shared_ptr<StepCache> SegmentationOutcome::steps() const
{
    if (photo) {
        return photo->steps;
    }
    return volume ? volume->stepCache : nullptr;
}

int SegmentationOutcome::stepCount() const
{
    const std::shared_ptr<StepCache> cache = steps();
    return cache ? cache->config().steps : 0;
}

double SegmentationOutcome::totalSeconds() const
{
    if (photo) {
        return photo->timings.total;
    }
    return volume ? volume->timings.total : 0.0;
}

std::optional<InputKind> checkpointInputKind(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::NotFound, path, "no such checkpoint file");
    }
    // Our format: its header says which network it holds (read without any tensor).
    try {
        return engine::readCheckpointInfo(path).network == "diffunet" ? InputKind::Volume
                                                                      : InputKind::Photo;
    } catch (const Error&) {
        // Not ours: a reference file, told apart by its key names below.
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::Io, path, "cannot read the checkpoint");
    }
    // A state_dict's key names sit in data.pkl, stored uncompressed near the start of the zip:
    // 4 MiB covers them for both reference networks.
    std::string head(std::size_t(4) << 20, '\0');
    in.read(&head[0], static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    const auto has = [&head](const char* text) {
        return head.find(text) != std::string::npos;
    };
    if (has("edge_model.") && has("denoise_model.")) {
        return InputKind::Volume; // Diff-UNet's state_dict
    }
    const std::string suffix = std::filesystem::path(path).extension().string();
    if (suffix == ".pth" || suffix == ".pt") {
        return InputKind::Photo; // the DermoSegDiff reference's files
    }
    return std::nullopt;
}

std::unique_ptr<Segmenter> openSegmenter(const std::string& path,
                                         const SegmenterLoadOptions& options)
{
    const std::optional<InputKind> kind = checkpointInputKind(path);
    if (!kind) {
        throw Error(ErrorKind::Format, path, "holds neither a DermoSegDiff nor a Diff-UNet model");
    }
    const engine::Precision precision = engine::parsePrecision(options.precision);
    if (*kind == InputKind::Volume) {
        VolumeModelLoadOptions load;
        load.device = options.device;
        load.precision = precision;
        load.useEma = options.useEma;
        if (!options.reference.empty()) {
            const DiffUNetReferencePreset preset =
                DiffUNetReferencePreset::resolve(options.reference, path);
            if (!preset.preparation) {
                throw Error(ErrorKind::Config, path,
                            "a reference " + preset.name +
                                " state_dict needs the CT statistics of its training set; "
                                "segment it with `diffseg segment3d --preprocessing`");
            }
            load.useReferencePreset(preset);
        }
        return std::make_unique<Segmenter3D>(path, load);
    }
    ModelLoadOptions load;
    load.device = options.device;
    load.precision = precision;
    load.useEma = options.useEma;
    if (!options.reference.empty()) {
        load.reference = ReferenceModelConfig::resolve(options.reference);
    }
    return std::make_unique<Segmenter2D>(path, load);
}

} // namespace diffseg::core
