#include "DiffUNetTrainer.h"

#include "DistributedGroup.h"
#include "TrainingLoop.h"
#include "TrainingSupport.h"
#include "base/Error.h"
#include "data/DatasetLayout.h"
#include "data/DatasetSplit.h"
#include "data/Samples.h"
#include "engine/AutocastScope.h"
#include "engine/Precision.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/diffunet/DiffUNet.h"
#include "imaging/VolumePreparation.h"
#include "io/AtomicWrite.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

namespace diffseg::core::engine {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kStateVersion = 1;
constexpr std::size_t kLocationsPerClass = 10000;

enum Stream : std::uint64_t
{
    kBatch = 11,
    kAugment = 12,
    kLoss = 13,
    kValidation = 14
};

/// A prepared case: image (C, Z, Y, X) float32, classes (Z, Y, X) uint8, and per class up to
/// kLocationsPerClass voxel indices for foreground sampling.
struct PreparedCase
{
    std::string id;
    torch::Tensor image;
    torch::Tensor labels;
    std::vector<std::vector<std::int64_t>> locations;
};

/// A uniform double in [0, 1) and an integer in [0, n) from a CPU generator.
double uniform(at::Generator& g)
{
    return at::rand({1}, g, torch::kFloat64).item<double>();
}

std::int64_t below(at::Generator& g, std::int64_t n)
{
    return std::min<std::int64_t>(n - 1, static_cast<std::int64_t>(uniform(g) * double(n)));
}

double between(at::Generator& g, double lo, double hi)
{
    return lo + (hi - lo) * uniform(g);
}

/// The patch of `size`³ whose centre is `centre` (z, y, x), zero outside the volume.
std::pair<torch::Tensor, torch::Tensor>
extractPatch(const PreparedCase& c, const std::array<std::int64_t, 3>& centre, std::int64_t size)
{
    const std::int64_t channels = c.image.size(0);
    torch::Tensor image = torch::zeros({channels, size, size, size}, torch::kFloat32);
    torch::Tensor labels = torch::zeros({size, size, size}, torch::kUInt8);
    std::array<std::int64_t, 3> from{};
    std::array<std::int64_t, 3> to{};
    std::array<std::int64_t, 3> dst{};
    for (int a = 0; a < 3; ++a) {
        const std::int64_t extent = c.labels.size(a);
        const std::int64_t start = centre[a] - size / 2;
        from[a] = std::max<std::int64_t>(0, start);
        to[a] = std::min<std::int64_t>(extent, start + size);
        dst[a] = from[a] - start;
        if (to[a] <= from[a]) {
            return {image, labels};
        }
    }
    using torch::indexing::Slice;
    image.index_put_({Slice(), Slice(dst[0], dst[0] + to[0] - from[0]),
                      Slice(dst[1], dst[1] + to[1] - from[1]),
                      Slice(dst[2], dst[2] + to[2] - from[2])},
                     c.image.index({Slice(), Slice(from[0], to[0]), Slice(from[1], to[1]),
                                    Slice(from[2], to[2])}));
    labels.index_put_(
        {Slice(dst[0], dst[0] + to[0] - from[0]), Slice(dst[1], dst[1] + to[1] - from[1]),
         Slice(dst[2], dst[2] + to[2] - from[2])},
        c.labels.index({Slice(from[0], to[0]), Slice(from[1], to[1]), Slice(from[2], to[2])}));
    return {image, labels};
}

std::array<std::int64_t, 3> centreOf(const PreparedCase& c, std::int64_t flat)
{
    const std::int64_t ny = c.labels.size(1);
    const std::int64_t nx = c.labels.size(2);
    return {flat / (ny * nx), (flat / nx) % ny, flat % nx};
}

/// Rotation about the three axes and isotropic scaling of one patch (image trilinear, labels
/// nearest, zeros outside), as batchgenerators' SpatialTransform without elastic deformation.
void spatialAugment(torch::Tensor& image, torch::Tensor& labels, at::Generator& g,
                    const DiffUNetTrainingConfig& c)
{
    const bool rotate = uniform(g) < c.pRotation;
    const bool scale = uniform(g) < c.pScale;
    if (!rotate && !scale) {
        return;
    }
    constexpr double kPi = 3.14159265358979323846;
    torch::Tensor m = torch::eye(3, torch::kFloat64);
    if (rotate) {
        for (int axis = 0; axis < 3; ++axis) {
            const double angle =
                between(g, -c.maxRotationDegrees, c.maxRotationDegrees) * kPi / 180;
            torch::Tensor r = torch::eye(3, torch::kFloat64);
            const int a = (axis + 1) % 3;
            const int b = (axis + 2) % 3;
            r[a][a] = std::cos(angle);
            r[a][b] = -std::sin(angle);
            r[b][a] = std::sin(angle);
            r[b][b] = std::cos(angle);
            m = torch::matmul(r, m);
        }
    }
    if (scale) {
        // Sampling coordinates scaled by 1/s zoom the content by s.
        m = m / between(g, c.scaleRange[0], c.scaleRange[1]);
    }
    const torch::Tensor theta =
        torch::cat({m, torch::zeros({3, 1}, torch::kFloat64)}, 1).to(torch::kFloat32).unsqueeze(0);
    const auto size = image.sizes();
    const torch::Tensor grid =
        torch::nn::functional::affine_grid(theta, {1, size[0], size[1], size[2], size[3]}, false);
    namespace F = torch::nn::functional;
    image = F::grid_sample(image.unsqueeze(0), grid,
                           F::GridSampleFuncOptions()
                               .mode(torch::kBilinear)
                               .padding_mode(torch::kZeros)
                               .align_corners(false))
                .squeeze(0);
    labels = F::grid_sample(labels.to(torch::kFloat32).unsqueeze(0).unsqueeze(0), grid,
                            F::GridSampleFuncOptions()
                                .mode(torch::kNearest)
                                .padding_mode(torch::kZeros)
                                .align_corners(false))
                 .squeeze(0)
                 .squeeze(0)
                 .round()
                 .to(torch::kUInt8);
}

/// Intensity augmentation per channel (nnU-Net's noise, brightness, contrast and gamma with
/// retained statistics) and mirroring over each axis.
void intensityAndMirror(torch::Tensor& image, torch::Tensor& labels, at::Generator& g,
                        const DiffUNetTrainingConfig& c)
{
    if (uniform(g) < c.pNoise) {
        const double variance = between(g, c.noiseVariance[0], c.noiseVariance[1]);
        image = image + at::randn(image.sizes(), g, torch::kFloat32) * std::sqrt(variance);
    }
    if (uniform(g) < c.pBrightness) {
        image = image * between(g, c.brightnessRange[0], c.brightnessRange[1]);
    }
    if (uniform(g) < c.pContrast) {
        const double factor = between(g, c.contrastRange[0], c.contrastRange[1]);
        const torch::Tensor mean = image.mean({1, 2, 3}, true);
        const torch::Tensor lo = image.amin({1, 2, 3}, true);
        const torch::Tensor hi = image.amax({1, 2, 3}, true);
        image = torch::max(torch::min((image - mean) * factor + mean, hi), lo);
    }
    if (uniform(g) < c.pGamma) {
        const double gamma = between(g, c.gammaRange[0], c.gammaRange[1]);
        const torch::Tensor mean = image.mean({1, 2, 3}, true);
        const torch::Tensor std = image.std({1, 2, 3}, false, true);
        const torch::Tensor lo = image.amin({1, 2, 3}, true);
        const torch::Tensor range = (image.amax({1, 2, 3}, true) - lo).clamp_min(1e-7);
        torch::Tensor out = ((image - lo) / range).pow(gamma) * range + lo;
        const torch::Tensor outMean = out.mean({1, 2, 3}, true);
        const torch::Tensor outStd = out.std({1, 2, 3}, false, true).clamp_min(1e-7);
        image = (out - outMean) / outStd * std + mean;
    }
    for (int axis = 0; axis < 3; ++axis) {
        if (uniform(g) < c.pMirror) {
            image = image.flip({axis + 1});
            labels = labels.flip({axis});
        }
    }
}

double dice(const torch::Tensor& pred, const torch::Tensor& truth)
{
    const double p = pred.sum().item<double>();
    const double t = truth.sum().item<double>();
    if (p == 0.0 && t == 0.0) {
        return 1.0;
    }
    if (p == 0.0 || t == 0.0) {
        return 0.0;
    }
    return 2.0 * (pred & truth).sum().item<double>() / (p + t);
}

/// The class and channel names a checkpoint records: the config's label_names, else the
/// dataset's own (a Decathlon dataset.json) for each class's label value. A dataset that names
/// a different number of channels than the network takes is an error, caught before training.
std::pair<std::vector<std::string>, std::vector<std::string>>
namesFor(const DiffUNetTrainingConfig& c, const DatasetScan& scan)
{
    std::vector<std::string> labels = c.labelNames;
    if (labels.empty() && !scan.labelNames.empty()) {
        for (const int value : c.labelValues) {
            const std::string name = scan.labelName(value);
            labels.push_back(name.empty() ? "label " + std::to_string(value) : name);
        }
    }
    if (!scan.channelNames.empty() &&
        static_cast<int>(scan.channelNames.size()) != c.model.inChannels) {
        throw Error(ErrorKind::Mismatch, scan.root + "/dataset.json",
                    "names " + std::to_string(scan.channelNames.size()) +
                        " image channels; the config's model.params.in_channels is " +
                        std::to_string(c.model.inChannels));
    }
    return {labels, scan.channelNames};
}

} // namespace

struct DiffUNetTrainer::Impl
{
    DiffUNetTrainingConfig config;
    TrainingOptions options;
    std::unique_ptr<TrainingRunFolder> folder;

    TrainingSummary run(const TrainingEventCallback& onEvent, const CancelToken& cancel);
    std::vector<PreparedCase> loadCases(const std::vector<DatasetSample>& samples,
                                        const VolumePreparationConfig& prep,
                                        std::vector<VolumeCase>* raw, const CancelToken& cancel);
    PreparedCase prepare(const VolumeCase& source, const std::string& id,
                         const VolumePreparationConfig& prep) const;
};

DiffUNetTrainer::DiffUNetTrainer(DiffUNetTrainingConfig config, TrainingOptions options)
    : m_impl(std::make_unique<Impl>())
{
    config.validate();
    m_impl->config = std::move(config);
    m_impl->options = std::move(options);
}

DiffUNetTrainer::~DiffUNetTrainer() = default;

TrainingSummary DiffUNetTrainer::run(const TrainingEventCallback& onEvent,
                                     const CancelToken& cancel)
{
    return m_impl->run(onEvent, cancel);
}

PreparedCase DiffUNetTrainer::Impl::prepare(const VolumeCase& source, const std::string& id,
                                            const VolumePreparationConfig& prep) const
{
    const DiffUNetTrainingConfig& c = config;
    if (source.image.channels() != c.model.inChannels) {
        throw Error(ErrorKind::Mismatch, id,
                    "the case has " + std::to_string(source.image.channels()) +
                        " image channel(s) but the model takes " +
                        std::to_string(c.model.inChannels));
    }
    const PreparedVolume prepared = prepareVolume(source.image, prep, id);
    const LabelMap labels = prepareLabels(source.labels, prepared);
    PreparedCase out;
    out.id = id;
    const auto size = prepared.image.size();
    const std::vector<std::int64_t> shape{prepared.image.channels(), size[2], size[1], size[0]};
    out.image =
        torch::from_blob(const_cast<void*>(prepared.image.rawData()), shape, torch::kFloat32)
            .clone();
    // Raw label values to class indices; values not listed are background.
    std::map<int, std::uint8_t> toClass;
    for (std::size_t k = 0; k < c.labelValues.size(); ++k) {
        toClass[c.labelValues[k]] = static_cast<std::uint8_t>(k);
    }
    out.labels = torch::zeros({size[2], size[1], size[0]}, torch::kUInt8);
    std::uint8_t* dst = out.labels.data_ptr<std::uint8_t>();
    const std::size_t n = labels.voxelCount();
    out.locations.assign(static_cast<std::size_t>(c.model.numClasses), {});
    for (std::size_t i = 0; i < n; ++i) {
        const int raw = labels.pixelType() == PixelType::UInt8 ? labels.data<std::uint8_t>()[i]
                                                               : labels.data<std::uint16_t>()[i];
        const auto it = toClass.find(raw);
        dst[i] = it == toClass.end() ? 0 : it->second;
        if (dst[i] != 0) {
            out.locations[dst[i]].push_back(static_cast<std::int64_t>(i));
        }
    }
    for (auto& list : out.locations) {
        if (list.size() > kLocationsPerClass) {
            std::vector<std::int64_t> kept;
            for (std::size_t s = 0; s < kLocationsPerClass; ++s) {
                kept.push_back(list[s * list.size() / kLocationsPerClass]);
            }
            list = std::move(kept);
        }
    }
    return out;
}

std::vector<PreparedCase>
DiffUNetTrainer::Impl::loadCases(const std::vector<DatasetSample>& samples,
                                 const VolumePreparationConfig& prep, std::vector<VolumeCase>* raw,
                                 const CancelToken& cancel)
{
    std::vector<PreparedCase> out;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        cancel.throwIfCancelled("dataset loading");
        const VolumeCase source = loadVolumeCase(samples[i]);
        if (raw != nullptr) {
            raw->push_back(source);
        } else {
            out.push_back(prepare(source, samples[i].id, prep));
        }
        folder->emit({{"event", "caching"},
                      {"fraction", double(i + 1) / double(samples.size())},
                      {"message", samples[i].id}});
    }
    return out;
}

TrainingSummary DiffUNetTrainer::Impl::run(const TrainingEventCallback& onEvent,
                                           const CancelToken& cancel)
{
    const DiffUNetTrainingConfig& c = config;
    const bool resume = options.resume;
    folder = std::make_unique<TrainingRunFolder>(
        options.runDir.empty() ? (fs::path(c.saveDir) / c.name).string() : options.runDir, resume,
        options.overwrite, onEvent, options.distributed.rank == 0);
    const std::string lastPath = folder->lastPath();
    const std::string bestPath = folder->bestPath();
    TrainingSummary summary;
    summary.runDir = folder->dir();
    summary.lastCheckpoint = folder->hasLast() ? lastPath : std::string();
    std::error_code ec;
    return runReportingFailures(*folder, summary, [&]() -> TrainingSummary {
        torch::Device device = resolveTrainingDevice(options.device);
        if (options.distributed.distributed() && device.is_cuda()) {
            device = torch::Device(torch::kCUDA,
                                   static_cast<c10::DeviceIndex>(options.distributed.localRank));
        }
        DistributedGroup dist(options.distributed, device);
        const Clock::time_point started = Clock::now();
        std::optional<Checkpoint> resumed;
        json state;
        VolumePreparationConfig prep = c.preprocessing;
        if (resume) {
            resumed = loadCheckpoint(lastPath);
            if (resumed->info.network != "diffunet" || resumed->info.diffunet != c.model ||
                resumed->info.inputSize != c.patchSize) {
                throw Error(ErrorKind::Mismatch, lastPath,
                            "the checkpoint was trained with another network or patch size than "
                            "the configuration asks for");
            }
            try {
                state = json::parse(resumed->trainingState);
            } catch (const json::exception& e) {
                throw Error(ErrorKind::Format, lastPath,
                            std::string("no usable training state: ") + e.what());
            }
            prep = VolumePreparationConfig::fromJson(resumed->info.preprocessingJson,
                                                     lastPath + ": preprocessing");
        }
        if (folder->writer()) {
            writeFileAtomically(folder->path("config.yaml"), c.toYaml().data(), c.toYaml().size());
        }

        if (c.dataDir.empty()) {
            throw Error(ErrorKind::Config, c.sourceName + ": dataset.data_dir",
                        "is not set: give it in the config or with --data-dir");
        }
        std::optional<DatasetLayout> layout = datasetLayoutFromName(c.datasetName);
        if (!layout && !c.datasetName.empty()) {
            throw Error(ErrorKind::Config, c.sourceName + ": dataset.name",
                        "'" + c.datasetName +
                            "' is not brats2023, aiib2023, decathlon or images-masks");
        }
        if (!layout) {
            layout = detectDatasetLayout(c.dataDir);
        }
        if (!layout) {
            throw Error(ErrorKind::Format, c.dataDir, "no known dataset layout in this folder");
        }
        const DatasetScan scan = scanDataset(c.dataDir, *layout);
        if (scan.samples.empty()) {
            throw Error(ErrorKind::NotFound, c.dataDir, "no image/label pairs found");
        }
        const auto [labelNames, channelNames] = namesFor(c, scan);
        std::map<std::string, DatasetSample> byId;
        std::vector<std::string> ids;
        for (const DatasetSample& s : scan.samples) {
            byId[s.id] = s;
            ids.push_back(s.id);
        }
        const std::string splitPath = folder->path("split.json");
        // Rank 0 writes a new split; the other ranks read it.
        if (!dist.leader()) {
            dist.leaderDone("split", std::chrono::seconds(3600));
        }
        const DatasetSplit split =
            fs::exists(splitPath, ec)
                ? readSplit(splitPath)
                : makeSplit(ids, {c.splitFractions[0], c.splitFractions[1], c.splitFractions[2]},
                            c.splitSeed);
        if (dist.leader()) {
            if (!fs::exists(splitPath, ec)) {
                writeSplit(split, splitPath);
            }
            dist.leaderDone("split", std::chrono::seconds(3600));
        }
        const auto samplesOf = [&](const std::vector<std::string>& list) {
            std::vector<DatasetSample> out;
            for (const std::string& id : list) {
                const auto it = byId.find(id);
                if (it == byId.end()) {
                    throw Error(ErrorKind::Mismatch, splitPath,
                                "lists '" + id + "', which is not in " + c.dataDir);
                }
                out.push_back(it->second);
            }
            return out;
        };
        const std::vector<DatasetSample> trainSamples = samplesOf(split.train);
        const std::vector<DatasetSample> valSamples = samplesOf(split.val);
        if (trainSamples.empty()) {
            throw Error(ErrorKind::Config, c.dataDir, "the training split is empty");
        }

        std::vector<PreparedCase> train;
        if (prep.normalization == VolumePreparationConfig::Normalization::CtClipZScore &&
            !resumed) {
            // CT statistics come from the training cases' foreground, as nnU-Net's plan.
            std::vector<VolumeCase> raw;
            loadCases(trainSamples, prep, &raw, cancel);
            std::vector<const Volume*> images;
            std::vector<const LabelMap*> labels;
            for (const VolumeCase& r : raw) {
                images.push_back(&r.image);
                labels.push_back(&r.labels);
            }
            const VolumePreparationConfig stats = ctStatistics(images, labels);
            prep.clipLow = stats.clipLow;
            prep.clipHigh = stats.clipHigh;
            prep.mean = stats.mean;
            prep.stddev = stats.stddev;
            for (std::size_t i = 0; i < raw.size(); ++i) {
                train.push_back(prepare(raw[i], trainSamples[i].id, prep));
            }
        } else {
            train = loadCases(trainSamples, prep, nullptr, cancel);
        }
        const std::vector<PreparedCase> val = loadCases(valSamples, prep, nullptr, cancel);
        if (val.empty()) {
            folder->message("warning", "the validation split is empty: no validation Dice, the "
                                       "best checkpoint is never written");
        }

        torch::manual_seed(c.seed);
        DiffUNet model(c.model);
        if (resumed) {
            loadWeights(*model, resumed->model, lastPath);
        }
        model->to(device);
        {
            std::vector<torch::Tensor> state = model->parameters();
            for (const auto& b : model->buffers()) {
                state.push_back(b);
            }
            dist.broadcast(state); // identical weights on every rank, as DDP makes sure
        }
        std::unique_ptr<torch::optim::Optimizer> optimizer;
        if (c.optimizerName == "SGD") {
            optimizer = std::make_unique<torch::optim::SGD>(model->parameters(),
                                                            torch::optim::SGDOptions(c.learningRate)
                                                                .momentum(c.momentum)
                                                                .nesterov(c.nesterov)
                                                                .weight_decay(c.weightDecay));
        } else if (c.optimizerName == "AdamW") {
            optimizer = std::make_unique<torch::optim::AdamW>(
                model->parameters(),
                torch::optim::AdamWOptions(c.learningRate).weight_decay(c.weightDecay));
        } else {
            optimizer = std::make_unique<torch::optim::Adam>(
                model->parameters(),
                torch::optim::AdamOptions(c.learningRate).weight_decay(c.weightDecay));
        }
        TrainingProgress progress;
        progress.bestScore = -1.0;
        double lossScale = 65536.0;
        std::int64_t goodSteps = 0;
        if (resumed) {
            progress.readFrom(state);
            lossScale = numberOr(state, "loss_scale", lossScale);
            goodSteps = state.value("good_steps", std::int64_t{0});
            restoreOptimizerState(*optimizer, resumed->optimizer, device, lastPath);
            // The weights and states now live in the network and optimizer: the loaded copies
            // (the size of the whole checkpoint) need not stay for the rest of the run.
            resumed->model.clear();
            resumed->ema.clear();
            resumed->optimizer.clear();
            if (fs::exists(bestPath, ec) && progress.bestScore >= 0.0) {
                summary.bestCheckpoint = bestPath;
                summary.bestScore = progress.bestScore;
            }
        }
        const std::int64_t step = progress.step; // for the started event
        // bf16 (autocast, no loss scale: its exponent range is float32's) where the device has
        // it or when asked; else the config's fp16 autocast with a dynamic loss scale on CUDA,
        // unless float32 was asked for.
        const Precision precision = resolvePrecision(options.precision, device.str());
        const bool bf16 = precision == Precision::Bf16;
        const bool amp =
            !bf16 && options.precision != Precision::Fp32 && c.mixedPrecision && device.is_cuda();
        const std::string precisionLabel = bf16 ? "bf16" : amp ? "fp16-amp" : "fp32";
        const std::int64_t totalSteps = std::int64_t{c.stepsPerEpoch} * c.epochs;
        const auto lrAt = [&](std::int64_t k) {
            return c.schedulerName == "poly"
                       ? c.learningRate *
                             std::pow(1.0 - double(k) / double(totalSteps), c.polyPower)
                       : c.learningRate;
        };

        folder->emit({{"event", "started"},
                      {"network", "diffunet"},
                      {"run_dir", folder->dir()},
                      {"config_file", c.sourceName},
                      {"config", json::parse(c.model.toJson())},
                      {"name", c.name},
                      {"device", device.str()},
                      {"threads", torch::get_num_threads()},
                      {"parameters", model->parameterCount()},
                      {"input_size", c.patchSize},
                      {"batch_size", c.batchSize},
                      {"epochs", c.epochs},
                      {"steps_per_epoch", c.stepsPerEpoch},
                      {"total_steps", totalSteps},
                      {"mixed_precision", amp || bf16},
                      {"precision", precisionLabel},
                      {"world_size", dist.worldSize()},
                      {"rank", dist.rank()},
                      {"backend", dist.backend()},
                      {"global_batch_size", c.batchSize * dist.worldSize()},
                      {"preprocessing", json::parse(prep.toJson())},
                      {"resumed_from_step", resumed ? json(step) : json(nullptr)},
                      {"dataset",
                       {{"root", c.dataDir},
                        {"layout", datasetLayoutName(*layout)},
                        {"cases", scan.samples.size()},
                        {"train", train.size()},
                        {"val", val.size()},
                        {"test", split.test.size()},
                        {"split_file", splitPath}}}});

        const auto checkpointOf = [&](const TrainingProgress& run, bool withOptimizer) {
            Checkpoint ckpt;
            ckpt.info.network = "diffunet";
            ckpt.info.diffunet = c.model;
            ckpt.info.labelValues = c.labelValues;
            ckpt.info.labelNames = labelNames;
            ckpt.info.channelNames = channelNames;
            ckpt.info.inputSize = c.patchSize;
            ckpt.info.preprocessingJson = prep.toJson();
            ckpt.info.step = run.step;
            ckpt.info.epoch = run.epoch;
            ckpt.info.source = "diffseg train " + c.name;
            ckpt.model = namedWeights(*model);
            if (withOptimizer) {
                ckpt.optimizer = optimizerState(*optimizer);
                json training{{"version", kStateVersion},
                              {"loss_scale", lossScale},
                              {"good_steps", goodSteps},
                              {"config_yaml", c.toYaml()}};
                run.writeTo(training);
                ckpt.trainingState = training.dump();
            }
            return ckpt;
        };

        const auto drawBatch = [&](std::int64_t k) {
            auto g = at::make_generator<at::CPUGeneratorImpl>(
                streamSeed(c.seed, kBatch, static_cast<std::uint64_t>(k)));
            std::vector<torch::Tensor> images;
            std::vector<torch::Tensor> labels;
            // The draws are made for the whole global batch (N x batch) in order; this rank
            // extracts its rows (j = rank, rank + N, ...), so N ranks see one process's batch.
            const int ranks = dist.worldSize();
            const int global = c.batchSize * ranks;
            const auto randomCount =
                static_cast<int>(std::lround(global * (1.0 - c.foregroundOversampling)));
            for (int j = 0; j < global; ++j) {
                const PreparedCase& pc =
                    train[static_cast<std::size_t>(below(g, std::int64_t(train.size())))];
                std::vector<int> classes;
                for (std::size_t cls = 1; cls < pc.locations.size(); ++cls) {
                    if (!pc.locations[cls].empty()) {
                        classes.push_back(static_cast<int>(cls));
                    }
                }
                std::array<std::int64_t, 3> centre{};
                if (j >= randomCount && !classes.empty()) {
                    const auto& list = pc.locations[static_cast<std::size_t>(
                        classes[static_cast<std::size_t>(below(g, std::int64_t(classes.size())))])];
                    centre = centreOf(
                        pc, list[static_cast<std::size_t>(below(g, std::int64_t(list.size())))]);
                } else {
                    for (int a = 0; a < 3; ++a) {
                        centre[static_cast<std::size_t>(a)] = below(g, pc.labels.size(a));
                    }
                }
                if (j % ranks != dist.rank()) {
                    continue;
                }
                auto [image, label] = extractPatch(pc, centre, c.patchSize);
                auto ga = at::make_generator<at::CPUGeneratorImpl>(
                    streamSeed(c.seed, kAugment, static_cast<std::uint64_t>(k),
                               static_cast<std::uint64_t>(j)));
                spatialAugment(image, label, ga, c);
                intensityAndMirror(image, label, ga, c);
                images.push_back(image);
                labels.push_back(label);
            }
            return std::make_pair(torch::stack(images).to(device),
                                  torch::stack(labels).to(torch::kLong).to(device));
        };

        const auto validate = [&](const TrainingProgress& run) -> json {
            json result{{"event", "validation"}, {"epoch", run.epoch}, {"step", run.step}};
            model->eval();
            c10::InferenceMode inference;
            std::vector<double> perClass(static_cast<std::size_t>(c.model.numClasses), 0.0);
            const Clock::time_point v0 = Clock::now();
            for (int p = 0; p < c.validationPatches; ++p) {
                cancel.throwIfCancelled("validation");
                const PreparedCase& pc = val[static_cast<std::size_t>(p) % val.size()];
                auto g = at::make_generator<at::CPUGeneratorImpl>(
                    streamSeed(c.seed, kValidation, static_cast<std::uint64_t>(p)));
                std::array<std::int64_t, 3> centre{};
                std::vector<int> classes;
                for (std::size_t cls = 1; cls < pc.locations.size(); ++cls) {
                    if (!pc.locations[cls].empty()) {
                        classes.push_back(static_cast<int>(cls));
                    }
                }
                if (!classes.empty()) {
                    const auto& list = pc.locations[static_cast<std::size_t>(
                        classes[static_cast<std::size_t>(below(g, std::int64_t(classes.size())))])];
                    centre = centreOf(
                        pc, list[static_cast<std::size_t>(below(g, std::int64_t(list.size())))]);
                } else {
                    for (int a = 0; a < 3; ++a) {
                        centre[static_cast<std::size_t>(a)] = pc.labels.size(a) / 2;
                    }
                }
                const auto [image, labels] = extractPatch(pc, centre, c.patchSize);
                DiffUNetSampleOptions so;
                so.steps = c.samplingSteps;
                so.fusion = c.fusion == "uncertainty" ? StepFusion::Uncertainty : StepFusion::Mean;
                so.timeAsLogSnr = c.timeInput == "log_snr";
                so.seed = streamSeed(c.seed, kValidation, static_cast<std::uint64_t>(p), 1);
                const AutocastScope autocast(device,
                                             bf16 ? std::optional(at::kBFloat16) : std::nullopt);
                const torch::Tensor pred = model->sample(image.unsqueeze(0).to(device), so)
                                               .logits.argmax(1)[0]
                                               .to(torch::kCPU);
                for (int cls = 1; cls < c.model.numClasses; ++cls) {
                    perClass[static_cast<std::size_t>(cls)] += dice(pred == cls, labels == cls);
                }
            }
            json classes = json::array();
            double mean = 0.0;
            for (int cls = 1; cls < c.model.numClasses; ++cls) {
                const double d = perClass[static_cast<std::size_t>(cls)] / c.validationPatches;
                classes.push_back(d);
                mean += d;
            }
            mean /= double(c.model.numClasses - 1);
            result["dice"] = mean;
            result["dice_per_class"] = classes;
            result["patches"] = c.validationPatches;
            result["seconds"] = std::chrono::duration<double>(Clock::now() - v0).count();
            model->train();
            return result;
        };

        TrainingHooks hooks;
        hooks.stepsPerEpoch = c.stepsPerEpoch;
        hooks.epochs = c.epochs;
        hooks.checkpointEverySteps = c.checkpointEverySteps;
        hooks.maxSteps = options.maxSteps;
        hooks.higherIsBetter = true;
        hooks.selectBy = "dice";
        hooks.step = [&](const TrainingProgress& run) {
            const double lr = lrAt(run.step);
            for (auto& group : optimizer->param_groups()) {
                group.options().set_lr(lr);
            }
            const auto [images, labels] = drawBatch(run.step);
            auto g = at::make_generator<at::CPUGeneratorImpl>(
                streamSeed(c.seed, kLoss, static_cast<std::uint64_t>(run.step)));
            DiffUNetLossOptions lo;
            lo.mcSamples = c.mcSamples;
            lo.voxelwise = c.voxelwiseUncertainty;
            lo.fixMcReshape = c.fixMcReshape;
            lo.diceWeight = c.diceWeight;
            lo.epoch = run.epoch;
            lo.maxEpoch = c.epochs;
            lo.globalRows = std::int64_t{c.batchSize} * dist.worldSize();
            lo.firstRow = dist.rank();
            lo.rowStride = dist.worldSize();
            DiffUNetLoss loss;
            {
                const AutocastScope autocast(device, bf16  ? std::optional(at::kBFloat16)
                                                     : amp ? std::optional(at::kHalf)
                                                           : std::nullopt);
                loss = model->trainingLoss(images, labels, lo, g);
            }
            const double lossValue = loss.total.item<double>();
            if (!std::isfinite(lossValue) && !amp) {
                throw Error(ErrorKind::InvalidValue, "training loss",
                            "became " + std::to_string(lossValue) + " at step " +
                                std::to_string(run.step + 1) + " (learning rate too high?)");
            }
            optimizer->zero_grad();
            bool stepped = true;
            if (amp) {
                // A dynamic loss scale, as torch.cuda.amp.GradScaler: fp16 gradients would
                // underflow unscaled; a step with overflowing gradients is skipped.
                (loss.total * lossScale).backward();
                // Averaged before the overflow check, so every rank skips the same steps.
                dist.averageGradients(model->parameters());
                bool finite = std::isfinite(lossValue);
                for (auto& p : model->parameters()) {
                    if (p.grad().defined()) {
                        p.grad().div_(lossScale);
                        finite = finite && torch::isfinite(p.grad()).all().item<bool>();
                    }
                }
                if (!finite) {
                    lossScale = std::max(1.0, lossScale / 2);
                    goodSteps = 0;
                    stepped = false;
                } else if (++goodSteps % 2000 == 0) {
                    lossScale *= 2;
                }
            } else {
                loss.total.backward();
                dist.averageGradients(model->parameters());
            }
            if (stepped) {
                if (c.gradClip > 0) {
                    torch::nn::utils::clip_grad_norm_(model->parameters(), c.gradClip);
                }
                optimizer->step();
            }
            TrainingStepResult result;
            result.loss = lossValue;
            result.terms = json{{"ce", loss.ce.item<double>()},
                                {"ce_edge", loss.ceEdge.item<double>()},
                                {"uncertainty", loss.uncertainty.mean().item<double>()}};
            if (loss.dice.defined()) {
                result.terms["dice"] = loss.dice.item<double>();
            }
            result.learningRate = lr;
            result.samples = double(c.batchSize) * dist.worldSize();
            if (std::isfinite(result.loss)) {
                result.loss = dist.average(result.loss);
            }
            result.skipped = !stepped;
            return result;
        };
        hooks.validate = [&](const TrainingProgress& run, double /*trainLoss*/) {
            TrainingValidation v;
            if (val.empty() || c.validateEvery <= 0 ||
                ((run.epoch + 1) % c.validateEvery != 0 && run.epoch + 1 != c.epochs)) {
                return v;
            }
            try {
                v.event = validate(run);
            } catch (const Error&) {
                model->train();
                throw;
            }
            v.score = v.event["dice"].get<double>();
            return v;
        };
        hooks.checkpoint = checkpointOf;
        hooks.stopRequested = dist.stopAgreement(cancel);
        model->train();
        return runTrainingLoop(hooks, progress, *folder, summary, cancel, started);
    });
}

} // namespace diffseg::core::engine
