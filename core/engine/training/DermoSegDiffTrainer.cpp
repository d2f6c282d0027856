#include "DermoSegDiffTrainer.h"

#include "DistributedGroup.h"
#include "TrainingData.h"
#include "TrainingLoop.h"
#include "TrainingSupport.h"
#include "base/Error.h"
#include "data/Augmentation.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/diffusion/DiffusionSampler.h"
#include "engine/loss/DiffusionLoss.h"
#include "engine/model/DermoSegDiff.h"
#include "engine/model/EnsembleSampling.h"
#include "engine/training/ExponentialMovingAverage.h"
#include "io/AtomicWrite.h"
#include "io/ImageWriter.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <optional>

namespace diffseg::core::engine {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kTrainingStateVersion = 1;
// How long the other ranks wait for rank 0 to decode and cache the dataset.
constexpr std::chrono::seconds kDataPreparationWait{4 * 3600};

enum Stream : std::uint64_t
{
    kOrder = 1,
    kAugment = 2,
    kNoise = 3,
    kValidation = 4,
    kDice = 5
};

std::uint64_t seedFor(std::uint64_t seed, std::uint64_t stream, std::uint64_t a,
                      std::uint64_t b = 0)
{
    return streamSeed(seed, stream, a, b);
}

void writeTextAtomically(const std::string& path, const std::string& text)
{
    writeFileAtomically(path, text.data(), text.size());
}

/// A batch as tensors: images (B, 3, S, S) in [0, 1] and masks (B, 1, S, S) in {-1, 1}.
struct Batch
{
    torch::Tensor images;
    torch::Tensor masks;
};

/// Per-image global min-max of the RGB pixels to [0, 1] as the reference's img_transform; a
/// constant image becomes 0.5 (the reference's NaN guard).
void normaliseInto(const std::uint8_t* rgb, int size, float* chw)
{
    const std::size_t pixels = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
    const auto [lo, hi] = std::minmax_element(rgb, rgb + pixels * 3);
    const float low = *lo;
    const float range = static_cast<float>(*hi) - low;
    for (std::size_t p = 0; p < pixels; ++p) {
        for (std::size_t c = 0; c < 3; ++c) {
            chw[c * pixels + p] = range > 0.0f ? (rgb[p * 3 + c] - low) / range : 0.5f;
        }
    }
}

Batch makeBatch(const TrainingData& data, const std::vector<std::size_t>& indices,
                const Augmentation* augmentation, const std::vector<std::uint64_t>& seeds)
{
    const int s = data.size;
    const std::size_t pixels = static_cast<std::size_t>(s) * static_cast<std::size_t>(s);
    const auto b = static_cast<std::int64_t>(indices.size());
    Batch batch;
    batch.images = torch::empty({b, 3, s, s}, torch::kFloat32);
    batch.masks = torch::empty({b, 1, s, s}, torch::kFloat32);
    float* images = batch.images.data_ptr<float>();
    float* masks = batch.masks.data_ptr<float>();
    for (std::size_t i = 0; i < indices.size(); ++i) {
        const CachedSample& sample = data.samples[indices[i]];
        const std::uint8_t* rgb = sample.image.data();
        const std::uint8_t* mask = sample.mask.data();
        Image2D image;
        Image2D label;
        if (augmentation != nullptr) {
            image = Image2D(s, s, 3, PixelType::UInt8);
            label = Image2D(s, s, 1, PixelType::UInt8);
            std::memcpy(image.rawData(), rgb, pixels * 3);
            std::memcpy(label.rawData(), mask, pixels);
            augmentation->apply(image, label, seeds[i]);
            rgb = image.data<std::uint8_t>();
            mask = label.data<std::uint8_t>();
        }
        normaliseInto(rgb, s, images + i * pixels * 3);
        float* m = masks + i * pixels;
        for (std::size_t p = 0; p < pixels; ++p) {
            m[p] = mask[p] != 0 ? 1.0f : -1.0f;
        }
    }
    return batch;
}

} // namespace

struct DermoSegDiffTrainer::Impl
{
    DermoSegDiffTrainingConfig config;
    TrainingOptions options;
    TrainingEventCallback onEvent;
    std::unique_ptr<TrainingRunFolder> folder;

    void emit(json event) { folder->emit(std::move(event)); }
    void message(const std::string& level, const std::string& text)
    {
        folder->message(level, text);
    }

    TrainingSummary run(const CancelToken& cancel);
};

DermoSegDiffTrainer::DermoSegDiffTrainer(DermoSegDiffTrainingConfig config, TrainingOptions options)
    : m_impl(std::make_unique<Impl>())
{
    config.validate();
    m_impl->config = std::move(config);
    m_impl->options = std::move(options);
}

DermoSegDiffTrainer::~DermoSegDiffTrainer() = default;

std::string DermoSegDiffTrainer::defaultRunDir(const DermoSegDiffTrainingConfig& config)
{
    return (fs::path(config.saveDir) / config.name).string();
}

TrainingSummary DermoSegDiffTrainer::run(const TrainingEventCallback& onEvent,
                                         const CancelToken& cancel)
{
    m_impl->onEvent = onEvent;
    return m_impl->run(cancel);
}

TrainingSummary DermoSegDiffTrainer::Impl::run(const CancelToken& cancel)
{
    const DermoSegDiffTrainingConfig& c = config;
    const bool resume = options.resume || c.continueTraining;
    folder = std::make_unique<TrainingRunFolder>(
        options.runDir.empty() ? defaultRunDir(c) : options.runDir, resume, options.overwrite,
        onEvent, options.distributed.rank == 0);
    const std::string& runDir = folder->dir();
    const std::string lastPath = folder->lastPath();
    const std::string bestPath = folder->bestPath();
    const std::string splitPath = folder->path("split.json");
    const bool hasLast = folder->hasLast();
    std::error_code ec;

    TrainingSummary summary;
    summary.runDir = runDir;
    summary.lastCheckpoint = hasLast ? lastPath : std::string();
    return runReportingFailures(*folder, summary, [&]() -> TrainingSummary {
        torch::Device device =
            resolveTrainingDevice(options.device.empty() ? c.device : options.device);
        if (options.distributed.distributed() && device.is_cuda()) {
            device = torch::Device(torch::kCUDA,
                                   static_cast<c10::DeviceIndex>(options.distributed.localRank));
        }
        const Clock::time_point started = Clock::now();
        DistributedGroup dist(options.distributed, device);

        // Resume state first: a resumed run must keep its own configuration's network.
        std::optional<Checkpoint> resumed;
        json state;
        if (resume) {
            resumed = loadCheckpoint(lastPath);
            if (resumed->info.model != c.model || resumed->info.schedule != c.schedule ||
                resumed->info.inputSize != c.inputSize) {
                throw Error(ErrorKind::Mismatch, lastPath,
                            "the checkpoint was trained with another network, schedule or input "
                            "size than the configuration asks for");
            }
            try {
                state = json::parse(resumed->trainingState);
                if (state.at("version").get<int>() > kTrainingStateVersion) {
                    throw Error(ErrorKind::Unsupported, lastPath,
                                "training state from a newer diffseg");
                }
            } catch (const json::exception& e) {
                throw Error(ErrorKind::Format, lastPath,
                            std::string("no usable training state to resume from: ") + e.what());
            }
        }
        if (folder->writer()) {
            writeTextAtomically((fs::path(runDir) / "config.yaml").string(), c.toYaml());
        }

        const ProgressCallback caching = [this](const ProgressInfo& info) {
            emit({{"event", "caching"}, {"fraction", info.fraction}, {"message", info.message}});
        };
        // Rank 0 writes the split file and the data cache; the other ranks read them after it.
        if (!dist.leader()) {
            dist.leaderDone("training data", kDataPreparationWait);
        }
        const TrainingData data =
            prepareTrainingData(c, splitPath, std::max(1, options.threads), caching, cancel);
        if (dist.leader()) {
            dist.leaderDone("training data", kDataPreparationWait);
        }
        if (data.val.empty()) {
            message("warning", "the validation split is empty: no validation, best checkpoint "
                               "chosen by the training loss");
        }

        const Augmentation augmentation = Augmentation::fromJson(
            c.augmentationJson, (c.sourceName.empty() ? "" : c.sourceName + ": ") + "augmentation");
        const LossConfig loss = LossConfig::fromJson(c.lossJson);
        const NoiseSchedule schedule(c.schedule);

        torch::manual_seed(c.seed);
        DermoSegDiff model(c.model);
        if (resumed) {
            loadWeights(*model, resumed->model, lastPath);
        } else if (c.initialWeightsUse) {
            const std::string& path = c.initialWeightsPath;
            const Checkpoint initial = fs::path(path).extension() == ".dsckpt"
                                           ? loadCheckpoint(path)
                                           : importReferenceCheckpoint(path, c.model, c.schedule);
            loadWeights(*model, initial.model, path);
        }
        model->to(device);
        model->train();
        {
            // Identical weights on every rank (they are already, by the seed or the checkpoint;
            // the broadcast makes it a guarantee, as DDP does).
            std::vector<torch::Tensor> state = model->parameters();
            for (const auto& b : model->buffers()) {
                state.push_back(b);
            }
            dist.broadcast(state);
        }
        const Precision precision = resolvePrecision(options.precision, device.str());
        model->setBf16(precision == Precision::Bf16);
        // The network validation runs: made for each validation and dropped after it, so that
        // its weights and their standardised copies do not sit beside the training state (2.6 GB
        // for the paper's network, on the GPU when training there).
        DermoSegDiff evalModel{nullptr};

        std::unique_ptr<torch::optim::Optimizer> optimizer;
        if (c.optimizerName == "SGD") {
            optimizer = std::make_unique<torch::optim::SGD>(model->parameters(),
                                                            torch::optim::SGDOptions(c.learningRate)
                                                                .momentum(c.momentum)
                                                                .weight_decay(c.weightDecay));
        } else if (c.optimizerName == "AdamW") {
            optimizer = std::make_unique<torch::optim::AdamW>(
                model->parameters(), torch::optim::AdamWOptions(c.learningRate)
                                         .betas({c.betas[0], c.betas[1]})
                                         .weight_decay(c.weightDecay));
        } else {
            optimizer = std::make_unique<torch::optim::Adam>(
                model->parameters(), torch::optim::AdamOptions(c.learningRate)
                                         .betas({c.betas[0], c.betas[1]})
                                         .weight_decay(c.weightDecay));
        }
        std::optional<ExponentialMovingAverage> ema;
        if (c.emaUse) {
            ema.emplace(*model, c.ema);
        }

        const auto trainCount = static_cast<std::int64_t>(data.train.size());
        // Per-rank batch b; a step consumes a global batch of N x b positions of the epoch's order,
        // padded to a multiple of N (as PyTorch's DistributedSampler), rank r taking every N-th.
        const std::int64_t ranks = dist.worldSize();
        const std::int64_t batchSize = std::min<std::int64_t>(c.train.batchSize, trainCount);
        const std::int64_t globalBatch = ranks * batchSize;
        const std::int64_t paddedCount = (trainCount + ranks - 1) / ranks * ranks;
        const std::int64_t stepsPerEpoch = (paddedCount + globalBatch - 1) / globalBatch;
        const std::int64_t totalSteps = stepsPerEpoch * c.epochs;

        const bool byDice = c.validationRun.selectBy == "dice";
        TrainingProgress progress;
        progress.bestScore = byDice ? -1.0 : std::numeric_limits<double>::infinity();
        double plateauBest = std::numeric_limits<double>::infinity();
        int plateauBad = 0;
        double lr = c.learningRate;
        if (resumed) {
            progress.readFrom(state);
            if (state.contains("samples_in_epoch")) {
                // Positions of the epoch done: the same place with any number of ranks.
                progress.batchInEpoch = state["samples_in_epoch"].get<std::int64_t>() / globalBatch;
            }
            plateauBest = numberOr(state, "plateau_best", plateauBest);
            plateauBad = state.value("plateau_bad_epochs", 0);
            lr = state.value("lr", lr);
            restoreOptimizerState(*optimizer, resumed->optimizer, device, lastPath);
            if (ema) {
                ema->restore(resumed->ema, resumed->info.emaStep, resumed->info.emaInitted);
            }
            // The weights and states now live in the network and optimizer: the loaded copies
            // (the size of the whole checkpoint) need not stay for the rest of the run.
            resumed->model.clear();
            resumed->ema.clear();
            resumed->optimizer.clear();
            for (auto& group : optimizer->param_groups()) {
                group.options().set_lr(lr);
            }
            if (progress.bestEpoch >= 0 && fs::exists(bestPath, ec)) {
                summary.bestCheckpoint = bestPath;
                summary.bestScore = progress.bestScore;
            }
        }
        const std::int64_t step = progress.step; // for the started event

        std::int64_t parameters = 0;
        for (const auto& p : model->parameters()) {
            parameters += p.numel();
        }
        emit({{"event", "started"},
              {"run_dir", runDir},
              {"config_file", c.sourceName},
              {"config", json::parse(c.model.toJson())},
              {"name", c.name},
              {"device", device.str()},
              {"precision", precisionName(precision)},
              {"world_size", dist.worldSize()},
              {"rank", dist.rank()},
              {"backend", dist.backend()},
              {"global_batch_size", globalBatch},
              {"threads", torch::get_num_threads()},
              {"parameters", parameters},
              {"input_size", c.inputSize},
              {"timesteps", c.schedule.timesteps},
              {"batch_size", batchSize},
              {"epochs", c.epochs},
              {"steps_per_epoch", stepsPerEpoch},
              {"total_steps", totalSteps},
              {"resumed_from_step", resumed ? json(step) : json(nullptr)},
              {"augmentation", augmentation.transformNames()},
              {"dataset",
               {{"root", data.root},
                {"layout", datasetLayoutName(data.layout)},
                {"cases", data.samples.size()},
                {"train", data.train.size()},
                {"val", data.val.size()},
                {"test", data.test.size()},
                {"split_file", splitPath},
                {"cache", data.cachePath},
                {"cache_hit", data.cacheHit}}}});

        const auto checkpointOf = [&](const TrainingProgress& run, bool withState) {
            Checkpoint ckpt;
            ckpt.info.model = c.model;
            ckpt.info.schedule = c.schedule;
            ckpt.info.inputSize = c.inputSize;
            ckpt.info.step = run.step;
            ckpt.info.epoch = run.epoch;
            ckpt.info.source = "diffseg train " + c.name;
            ckpt.model = namedWeights(*model);
            if (ema) {
                ckpt.ema = ema->weights();
                ckpt.info.emaStep = ema->step();
                ckpt.info.emaInitted = ema->initted();
            }
            if (withState) {
                ckpt.optimizer = optimizerState(*optimizer);
                json training{{"version", kTrainingStateVersion},
                              {"best_by", c.validationRun.selectBy},
                              {"plateau_best", finiteOrNull(plateauBest)},
                              {"plateau_bad_epochs", plateauBad},
                              {"lr", lr},
                              {"seed", c.seed},
                              {"config_yaml", c.toYaml()}};
                run.writeTo(training);
                training["samples_in_epoch"] = run.batchInEpoch * globalBatch;
                training["world_size"] = dist.worldSize();
                ckpt.trainingState = training.dump();
            } else {
                ckpt.info.source += " (best by " + c.validationRun.selectBy + ")";
            }
            return ckpt;
        };

        // The model validation sees: the EMA weights when there are, as the reference.
        const auto prepareEvalModel = [&] {
            if (!evalModel) {
                evalModel = DermoSegDiff(c.model, WeightInit::None);
                evalModel->to(device);
                evalModel->setBf16(precision == Precision::Bf16);
            }
            if (ema) {
                ema->copyTo(*evalModel);
            } else {
                torch::NoGradGuard noGrad;
                const auto source = model->named_parameters(true);
                for (auto& p : evalModel->named_parameters(true)) {
                    p.value().copy_(source[p.key()]);
                }
                const auto buffers = model->named_buffers(true);
                for (auto& b : evalModel->named_buffers(true)) {
                    b.value().copy_(buffers[b.key()]);
                }
            }
            evalModel->eval();
        };

        // `rows` of the step's global batch: the draws are made for the whole global batch and
        // each rank takes its rows, so N ranks see the t and noise one process would.
        const auto noiseLoss = [&](DermoSegDiff& net, const Batch& batch, std::uint64_t seed,
                                   std::int64_t globalRows = 0, std::int64_t firstRow = 0,
                                   std::int64_t rowStride = 1) {
            const std::int64_t b = batch.images.size(0);
            const std::int64_t g = globalRows > 0 ? globalRows : b;
            auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
            torch::Tensor t = drawTimesteps(g, c.schedule.timesteps, c.timestepPower, generator);
            std::vector<std::int64_t> shape = batch.masks.sizes().vec();
            shape[0] = g;
            torch::Tensor noise = at::randn(shape, generator, torch::kFloat32);
            // Rows that start as sampling does: at the last timestep from pure noise (drawn
            // after t and the noise, so that a run without them draws exactly as before).
            torch::Tensor terminal;
            if (c.terminalNoiseFraction > 0.0) {
                terminal = at::rand({g}, generator, torch::kDouble) < c.terminalNoiseFraction;
                t = at::where(terminal, at::full_like(t, c.schedule.timesteps - 1), t);
            }
            if (g != b) {
                t = t.slice(0, firstRow, g, rowStride);
                noise = noise.slice(0, firstRow, g, rowStride);
                if (terminal.defined()) {
                    terminal = terminal.slice(0, firstRow, g, rowStride);
                }
            }
            const torch::Tensor x0 = batch.masks.to(device);
            const torch::Tensor tDev = t.to(device);
            const torch::Tensor eps = noise.to(device);
            torch::Tensor xT = qSample(schedule, x0, tDev, eps);
            if (terminal.defined()) {
                xT = at::where(terminal.to(device).view({-1, 1, 1, 1}), eps, xT);
            }
            const torch::Tensor output = net->forward(xT, batch.images.to(device), tDev);
            // The loss compares the network's output with what it predicts: the noise, or the
            // clean mask (diffusion.prediction: x0).
            const torch::Tensor& target = c.schedule.prediction == Prediction::X0 ? x0 : eps;
            return computeDiffusionLoss(loss, output, target, x0, tDev, c.schedule.timesteps);
        };

        const auto validate = [&](const TrainingProgress& run) -> json {
            const int epoch = run.epoch;
            json result{{"event", "validation"}, {"epoch", epoch}, {"step", run.step}};
            if (data.val.empty()) {
                return result;
            }
            prepareEvalModel();
            const Clock::time_point t0 = Clock::now();
            double sum = 0.0;
            std::int64_t batches = 0;
            {
                torch::NoGradGuard noGrad;
                const auto vb = static_cast<std::size_t>(c.validation.batchSize);
                for (std::size_t first = 0; first < data.val.size(); first += vb) {
                    cancel.throwIfCancelled("validation");
                    const std::vector<std::size_t> indices(
                        data.val.begin() + static_cast<std::ptrdiff_t>(first),
                        data.val.begin() +
                            static_cast<std::ptrdiff_t>(std::min(first + vb, data.val.size())));
                    const Batch batch = makeBatch(data, indices, nullptr, {});
                    double batchSum = 0.0;
                    for (int r = 0; r < c.validationRun.runs; ++r) {
                        batchSum += noiseLoss(evalModel, batch,
                                              seedFor(c.seed, kValidation, first,
                                                      static_cast<std::uint64_t>(r)))
                                        .total.item<double>();
                    }
                    sum += batchSum / c.validationRun.runs;
                    ++batches;
                }
            }
            const double valLoss = sum / static_cast<double>(batches);
            result["val_loss"] = valLoss;
            result["loss_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();

            const bool diceNow =
                c.validationRun.diceEvery > 0 &&
                ((epoch + 1) % c.validationRun.diceEvery == 0 || epoch + 1 == c.epochs);
            if (diceNow) {
                const Clock::time_point d0 = Clock::now();
                const std::size_t count = std::min<std::size_t>(
                    data.val.size(), static_cast<std::size_t>(c.validationRun.diceImages));
                const std::vector<std::size_t> indices(
                    data.val.begin(), data.val.begin() + static_cast<std::ptrdiff_t>(count));
                const Batch batch = makeBatch(data, indices, nullptr, {});
                SamplerOptions so;
                so.kind = SamplerKind::Ddim;
                so.steps = c.validationRun.diceSteps;
                so.seed = seedFor(c.seed, kDice, 0);
                const DiffusionSampler sampler(schedule, so);
                EnsembleResult sampled;
                try {
                    sampled = sampleEnsemble(evalModel, sampler, batch.images.to(device),
                                             c.validationRun.diceEnsemble, {}, cancel);
                } catch (const Error& e) {
                    if (e.kind() != ErrorKind::InvalidValue) {
                        throw;
                    }
                    // An early, poorly trained model may not sample yet; that is no reason to
                    // stop training.
                    message("warning", std::string("sampled Dice skipped: ") + e.what());
                    result["dice"] = nullptr;
                    return result;
                }
                const torch::Tensor pred = sampled.mask.to(torch::kCPU).to(torch::kBool);
                const torch::Tensor gt = batch.masks > 0;
                const double tp = (pred & gt).sum().item<double>();
                const double fp = (pred & ~gt).sum().item<double>();
                const double fn = (~pred & gt).sum().item<double>();
                const double dice = 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 1.0;
                result["dice"] = dice;
                result["dice_images"] = count;
                result["dice_steps"] = c.validationRun.diceSteps;
                json samples = json::array();
                const fs::path folder = fs::path(runDir) / "samples";
                const fs::path epochFolder = folder / ("epoch-" + std::to_string(epoch + 1));
                fs::create_directories(epochFolder, ec);
                const int s = data.size;
                // Every rank validates (the same weights give the same numbers, and no rank waits
                // idle past the timeout); rank 0 alone writes the pictures.
                for (std::size_t i = 0; i < (dist.leader() ? count : 0); ++i) {
                    const CachedSample& sample = data.samples[indices[i]];
                    const std::string imagePath = (folder / (sample.id + "_image.png")).string();
                    const std::string gtPath = (folder / (sample.id + "_gt.png")).string();
                    if (!fs::exists(imagePath, ec)) {
                        Image2D image(s, s, 3, PixelType::UInt8);
                        std::memcpy(image.rawData(), sample.image.data(), sample.image.size());
                        writeImage(image, imagePath);
                        Image2D truth(s, s, 1, PixelType::UInt8);
                        std::memcpy(truth.rawData(), sample.mask.data(), sample.mask.size());
                        writeMaskPng(truth, gtPath);
                    }
                    Image2D predicted(s, s, 1, PixelType::UInt8);
                    const torch::Tensor row =
                        pred[static_cast<std::int64_t>(i)][0].to(torch::kUInt8).contiguous();
                    std::memcpy(predicted.rawData(), row.data_ptr<std::uint8_t>(),
                                static_cast<std::size_t>(s) * static_cast<std::size_t>(s));
                    const std::string predPath = (epochFolder / (sample.id + ".png")).string();
                    writeMaskPng(predicted, predPath);
                    const torch::Tensor p = pred[static_cast<std::int64_t>(i)];
                    const torch::Tensor g = gt[static_cast<std::int64_t>(i)];
                    const double itp = (p & g).sum().item<double>();
                    const double iden = p.sum().item<double>() + g.sum().item<double>();
                    samples.push_back({{"id", sample.id},
                                       {"image", imagePath},
                                       {"ground_truth", gtPath},
                                       {"prediction", predPath},
                                       {"dice", iden > 0 ? 2 * itp / iden : 1.0}});
                }
                result["samples"] = samples;
                result["dice_seconds"] = std::chrono::duration<double>(Clock::now() - d0).count();
            }
            return result;
        };

        std::vector<std::size_t> order;
        TrainingHooks hooks;
        hooks.stepsPerEpoch = stepsPerEpoch;
        hooks.epochs = c.epochs;
        hooks.checkpointEverySteps = c.checkpointEverySteps;
        hooks.maxSteps = options.maxSteps;
        hooks.higherIsBetter = byDice;
        hooks.selectBy = c.validationRun.selectBy;
        hooks.stopRequested = dist.stopAgreement(cancel);
        hooks.beginEpoch = [&](const TrainingProgress& run) {
            order = shuffledOrder(data.train.size(), c.train.shuffle,
                                  seedFor(c.seed, kOrder, static_cast<std::uint64_t>(run.epoch)));
        };
        hooks.step = [&](const TrainingProgress& run) {
            const auto first = static_cast<std::size_t>(run.batchInEpoch * globalBatch);
            const std::size_t last =
                std::min(first + static_cast<std::size_t>(globalBatch), std::size_t(paddedCount));
            std::vector<std::size_t> indices;
            std::vector<std::uint64_t> seeds;
            for (std::size_t k = first + std::size_t(dist.rank()); k < last;
                 k += std::size_t(ranks)) {
                indices.push_back(data.train[order[k % order.size()]]);
                seeds.push_back(
                    seedFor(c.seed, kAugment, static_cast<std::uint64_t>(run.epoch), k));
            }
            const Batch batch =
                makeBatch(data, indices, augmentation.enabled() ? &augmentation : nullptr, seeds);
            const LossValue value = noiseLoss(
                model, batch, seedFor(c.seed, kNoise, static_cast<std::uint64_t>(run.step)),
                static_cast<std::int64_t>(last - first), dist.rank(), ranks);
            double lossValue = value.total.item<double>();
            if (!std::isfinite(lossValue)) {
                throw Error(ErrorKind::InvalidValue, "training loss",
                            "became " + std::to_string(lossValue) + " at step " +
                                std::to_string(run.step + 1) +
                                " (learning rate too high? try a lower -l)");
            }
            if (c.schedulerUse && c.schedulerName == "cosine") {
                // A function of the step alone, so a resumed run continues the same curve.
                lr = c.learningRateAt(run.step, totalSteps);
                for (auto& group : optimizer->param_groups()) {
                    group.options().set_lr(lr);
                }
            }
            optimizer->zero_grad();
            value.total.backward();
            dist.averageGradients(model->parameters());
            optimizer->step();
            lossValue = dist.average(lossValue);
            if (ema) {
                ema->update(*model);
            }
            TrainingStepResult result;
            result.loss = lossValue;
            for (const auto& [name, term] : value.terms) {
                result.terms[name] = term.item<double>();
            }
            result.learningRate = lr;
            result.samples = static_cast<double>(last - first); // the global batch
            return result;
        };
        hooks.validate = [&](const TrainingProgress& run, double trainLoss) {
            TrainingValidation v;
            json result = validate(run);
            evalModel = nullptr;
            const bool haveVal = result.contains("val_loss");
            v.monitored = haveVal ? result["val_loss"].get<double>() : trainLoss;
            if (byDice) {
                if (result.contains("dice") && result["dice"].is_number()) {
                    v.score = result["dice"].get<double>();
                }
            } else {
                v.score = v.monitored;
            }
            if (haveVal) {
                v.event = std::move(result);
            }
            return v;
        };
        hooks.afterValidation = [&](const TrainingValidation& v) {
            if (!c.schedulerUse || c.schedulerName != "plateau") {
                return;
            }
            if (v.monitored < plateauBest) {
                plateauBest = v.monitored;
                plateauBad = 0;
            } else if (++plateauBad > c.schedulerPatience) {
                lr *= c.schedulerFactor;
                plateauBad = 0;
                for (auto& group : optimizer->param_groups()) {
                    group.options().set_lr(lr);
                }
                message("info", "learning rate reduced to " + std::to_string(lr));
            }
        };
        hooks.checkpoint = checkpointOf;
        return runTrainingLoop(hooks, progress, *folder, summary, cancel, started);
    });
}

} // namespace diffseg::core::engine
