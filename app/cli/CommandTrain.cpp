// diffseg train -c CONFIG.yaml [overrides]: trains DermoSegDiff from the reference's YAML files.
// Also the GUI's background worker: progress goes out as JSON lines, SIGTERM/SIGINT stop cleanly.

#include "CliCommand.h"
#include "CliSupport.h"
#include "DistributedLauncher.h"
#include "base/CancelToken.h"
#include "base/Error.h"
#include "engine/training/DermoSegDiffTrainer.h"
#include "engine/training/DiffUNetTrainer.h"
#include "runtime/Runtime.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace {

using diffseg::core::CancelToken;
using diffseg::core::Error;
using diffseg::core::ErrorKind;
using nlohmann::json;

struct TrainArgs
{
    std::string config;
    std::vector<std::string> sets;
    std::string device;
    std::string precision = "auto";
    int threads = 0;
    bool resume = false;
    bool overwrite = false;
    std::string runDir;
    std::int64_t maxSteps = 0;
    std::string progressFile;
    int nproc = 1;
    std::string dataDir;
    bool verbose = false;
    // The reference's overrides (seed spec §A9); unset ones leave the file's value.
    std::optional<std::string> modelName;
    std::optional<int> inputSize;
    std::optional<int> batchSize;
    std::optional<double> learningRate;
    std::optional<int> timesteps;
    std::optional<std::string> scheduleMode;
    std::optional<int> epochs;
    std::optional<double> betaStart;
    std::optional<double> betaEnd;
    std::vector<int> dimMults;
    std::optional<int> ensemble;
    std::optional<int> dimX;
    std::optional<int> dimG;
    std::vector<int> dimXMults;
    std::vector<int> dimGMults;
    std::vector<double> optimizerBetas;
    std::optional<double> schedulerFactor;
    std::optional<int> schedulerPatience;
    std::optional<double> augmentationP;
    std::optional<std::uint64_t> seed;
};

template <class T>
std::string yamlValue(const T& value)
{
    std::ostringstream out;
    out.precision(17);
    out << value;
    return out.str();
}

template <class T>
std::string yamlList(const std::vector<T>& values)
{
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        out += (i ? ", " : "") + yamlValue(values[i]);
    }
    return out + "]";
}

/// Paths on the command line are taken from the working directory (those inside a config file
/// from the file's folder, which the config reader applies to relative paths): made absolute
/// here, before they become overrides of the file's keys.
std::string fromWorkingDirectory(const std::string& path)
{
    if (path.empty() || std::filesystem::path(path).is_absolute()) {
        return path;
    }
    return std::filesystem::absolute(path).lexically_normal().string();
}

/// The config keys that hold paths, in both networks' configs.
bool isPathKey(const std::string& key)
{
    static const std::set<std::string> keys{"dataset.data_dir",
                                            "dataset.cache_dir",
                                            "dataset.split.file",
                                            "model.save_dir",
                                            "training.intial_weights.path",
                                            "training.initial_weights.path",
                                            "testing.model_weigths.path",
                                            "testing.model_weights.path"};
    return keys.count(key) > 0;
}

/// --set KEY=VALUE as an override; a relative path value of a path key is taken from the working
/// directory.
std::pair<std::string, std::string> setOverride(const std::string& set)
{
    const auto eq = set.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw Error(ErrorKind::Config, "--set " + set,
                    "expected KEY=VALUE, e.g. training.epochs=10");
    }
    const std::string key = set.substr(0, eq);
    std::string value = set.substr(eq + 1);
    if (isPathKey(key)) {
        std::string text = value;
        if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
            text.back() == text.front()) {
            text = text.substr(1, text.size() - 2);
        }
        value = json(fromWorkingDirectory(text)).dump();
    }
    return {key, value};
}

std::vector<std::pair<std::string, std::string>> overridesOf(const TrainArgs& a)
{
    std::vector<std::pair<std::string, std::string>> o;
    const auto add = [&](const char* key, const auto& optional) {
        if (optional) {
            o.emplace_back(key, yamlValue(*optional));
        }
    };
    const auto addList = [&](const char* key, const auto& values) {
        if (!values.empty()) {
            o.emplace_back(key, yamlList(values));
        }
    };
    if (a.modelName) {
        o.emplace_back("model.name", json(*a.modelName).dump());
    }
    add("dataset.input_size", a.inputSize);
    add("data_loader.train.batch_size", a.batchSize);
    add("training.optimizer.params.lr", a.learningRate);
    add("diffusion.schedule.timesteps", a.timesteps);
    if (a.scheduleMode) {
        o.emplace_back("diffusion.schedule.mode", json(*a.scheduleMode).dump());
    }
    add("training.epochs", a.epochs);
    add("diffusion.schedule.beta_start", a.betaStart);
    add("diffusion.schedule.beta_end", a.betaEnd);
    addList("model.params.dim_mults", a.dimMults);
    add("testing.ensemble", a.ensemble);
    add("model.params.dim_x", a.dimX);
    add("model.params.dim_g", a.dimG);
    addList("model.params.dim_x_mults", a.dimXMults);
    addList("model.params.dim_g_mults", a.dimGMults);
    addList("training.optimizer.params.betas", a.optimizerBetas);
    add("training.scheduler.factor", a.schedulerFactor);
    add("training.scheduler.patience", a.schedulerPatience);
    add("augmentation.p", a.augmentationP);
    add("training.seed", a.seed);
    if (!a.dataDir.empty()) {
        o.emplace_back("dataset.data_dir", json(fromWorkingDirectory(a.dataDir)).dump());
    }
    for (const std::string& set : a.sets) {
        o.push_back(setOverride(set));
    }
    return o;
}

/// Diff-UNet configs take the overrides that have a meaning there; the DermoSegDiff-only ones
/// are refused by name rather than silently ignored.
std::vector<std::pair<std::string, std::string>> diffUNetOverridesOf(const TrainArgs& a)
{
    const std::vector<std::pair<const char*, bool>> refused{
        {"-t/--timesteps", a.timesteps.has_value()},
        {"-S/--ds_mode", a.scheduleMode.has_value()},
        {"--beta_start", a.betaStart.has_value()},
        {"--beta_end", a.betaEnd.has_value()},
        {"-D/--model_dim_mults", !a.dimMults.empty()},
        {"-E/--ensemble", a.ensemble.has_value()},
        {"--model_dim_x", a.dimX.has_value()},
        {"--model_dim_g", a.dimG.has_value()},
        {"--model_dim_x_mults", !a.dimXMults.empty()},
        {"--model_dim_g_mults", !a.dimGMults.empty()},
        {"--training_optimizer_betas", !a.optimizerBetas.empty()},
        {"--training_scheduler_factor", a.schedulerFactor.has_value()},
        {"--training_scheduler_patience", a.schedulerPatience.has_value()},
        {"--augmentation_p", a.augmentationP.has_value()}};
    for (const auto& [flag, given] : refused) {
        if (given) {
            throw Error(ErrorKind::Config, flag,
                        "is a DermoSegDiff option; a Diff-UNet config takes --set KEY=VALUE");
        }
    }
    std::vector<std::pair<std::string, std::string>> o;
    if (a.modelName) {
        o.emplace_back("model.name", json(*a.modelName).dump());
    }
    if (a.inputSize) {
        o.emplace_back("dataset.patch_size", yamlValue(*a.inputSize));
    }
    if (a.batchSize) {
        o.emplace_back("data_loader.train.batch_size", yamlValue(*a.batchSize));
    }
    if (a.learningRate) {
        o.emplace_back("training.optimizer.params.lr", yamlValue(*a.learningRate));
    }
    if (a.epochs) {
        o.emplace_back("training.epochs", yamlValue(*a.epochs));
    }
    if (a.seed) {
        o.emplace_back("training.seed", yamlValue(*a.seed));
    }
    if (!a.dataDir.empty()) {
        o.emplace_back("dataset.data_dir", json(fromWorkingDirectory(a.dataDir)).dump());
    }
    for (const std::string& set : a.sets) {
        o.push_back(setOverride(set));
    }
    return o;
}

/// One human-readable line per event, for a person watching a run whose JSON goes to a file.
std::string describe(const json& e)
{
    const std::string kind = e.value("event", "");
    char buffer[512];
    if (kind == "step") {
        std::snprintf(buffer, sizeof(buffer),
                      "epoch %d/%d step %lld/%lld loss %.5f lr %.2e %.2f steps/s eta %.0f s",
                      e.value("epoch", 0), e.value("epochs", 0), e.value("step", 0LL),
                      e.value("total_steps", 0LL), e.value("loss", 0.0), e.value("lr", 0.0),
                      e.value("steps_per_second", 0.0), e.value("eta_seconds", 0.0));
        return buffer;
    }
    if (kind == "validation") {
        std::string text = "validation epoch " + std::to_string(e.value("epoch", 0) + 1) +
                           ": loss " + std::to_string(e.value("val_loss", 0.0));
        if (e.contains("dice") && e["dice"].is_number()) {
            text += ", sampled Dice " + std::to_string(e["dice"].get<double>());
        }
        return text + (e.value("best", false) ? " (best)" : "");
    }
    if (kind == "checkpoint") {
        return "saved " + e.value("kind", std::string()) + " checkpoint " +
               e.value("path", std::string());
    }
    if (kind == "started") {
        const json& d = e["dataset"];
        return "training " + e.value("name", std::string()) + " on " +
               e.value("device", std::string()) + " (" + e.value("precision", std::string("fp32")) +
               "): " + std::to_string(d.value("train", 0)) + " train / " +
               std::to_string(d.value("val", 0)) + " val images (" +
               d.value("layout", std::string()) + "), " +
               std::to_string(e.value("total_steps", 0LL)) + " steps, run folder " +
               e.value("run_dir", std::string());
    }
    if (kind == "finished") {
        return "finished (" + e.value("reason", std::string()) + "), last checkpoint " +
               e.value("last_checkpoint", std::string());
    }
    if (kind == "failed") {
        return "failed: " + e.value("reason", std::string());
    }
    if (kind == "log") {
        return e.value("level", std::string()) + ": " + e.value("message", std::string());
    }
    return {};
}

void registerTrain(CLI::App& root, diffseg::app::CliResult& result)
{
    auto* cmd = root.add_subcommand(
        "train",
        "Train DermoSegDiff from a reference-style YAML config, or Diff-UNet from ours "
        "(model.network: diffunet). Progress: one JSON object per line "
        "on stdout (or --progress FILE). SIGINT/SIGTERM save a checkpoint and exit (status 3); "
        "--resume continues exactly where the last checkpoint left off");
    auto a = std::make_shared<TrainArgs>();
    cmd->add_option("-c,--config_file,--config", a->config, "YAML configuration")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--set", a->sets,
                    "override any config key: KEY=VALUE with a dotted key and a YAML value, e.g. "
                    "--set training.validation.dice_every=5 (repeatable)");
    cmd->add_option("--data-dir", a->dataDir,
                    "dataset folder (dataset.data_dir). Paths given on the command line (here, "
                    "--run-dir, --progress and path keys of --set) are relative to the working "
                    "directory; paths written inside the config file are relative to that file");
    cmd->add_option("--device", a->device,
                    "cpu, cuda, cuda:N or auto (default: the config's run.device)");
    cmd->add_option("--threads", a->threads, "compute threads (0 = all cores)")
        ->check(CLI::Range(0, 1024));
    cmd->add_option("--precision", a->precision,
                    "fp32, bf16 (mixed precision: float32 weights, optimizer, EMA and loss; "
                    "checkpoints stay float32) or auto (bf16 where the CPU or GPU computes it "
                    "natively)")
        ->capture_default_str();
    cmd->add_flag("--resume", a->resume, "continue from <run>/last.dsckpt");
    cmd->add_flag("--overwrite", a->overwrite,
                  "start afresh in a run folder that already holds checkpoints");
    cmd->add_option("--run-dir", a->runDir, "run folder (default <model.save_dir>/<model.name>)");
    cmd->add_option("--max-steps", a->maxSteps,
                    "stop with a checkpoint after this many optimizer steps in total")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--progress", a->progressFile,
                    "write the JSON lines to FILE and human-readable lines to stdout");
    cmd->add_option("--seed", a->seed, "training.seed");
    cmd->add_option("--nproc", a->nproc,
                    "train data-parallel on N local processes (c10d: Gloo on CPUs, NCCL on "
                    "CUDA): each a batch of data_loader.train.batch_size, gradients averaged "
                    "every step (global batch N x batch). A job started by torchrun or any "
                    "launcher that sets RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT is joined "
                    "without it")
        ->check(CLI::Range(1, 256));
    cmd->add_flag("-v,--verbose", a->verbose, "with --progress: print every event");
    auto* ref = cmd->add_option_group("reference overrides", "The reference training.py's flags");
    ref->add_option("-n,--model_name", a->modelName, "model.name");
    ref->add_option("-s,--input_size", a->inputSize, "dataset.input_size");
    ref->add_option("-b,--batch_size", a->batchSize, "data_loader.train.batch_size");
    ref->add_option("-l,--learning_rate", a->learningRate, "training.optimizer.params.lr");
    ref->add_option("-t,--timesteps", a->timesteps, "diffusion.schedule.timesteps");
    ref->add_option("-S,--ds_mode", a->scheduleMode, "diffusion.schedule.mode")
        ->check(CLI::IsMember({"linear", "quadratic", "cosine", "sigmoid"}));
    ref->add_option("-e,--epochs", a->epochs, "training.epochs");
    ref->add_option("--beta_start", a->betaStart, "diffusion.schedule.beta_start");
    ref->add_option("--beta_end", a->betaEnd, "diffusion.schedule.beta_end");
    ref->add_option("-D,--model_dim_mults", a->dimMults, "model.params.dim_mults");
    ref->add_option("-E,--ensemble", a->ensemble, "testing.ensemble");
    ref->add_option("--model_dim_x", a->dimX, "model.params.dim_x");
    ref->add_option("--model_dim_g", a->dimG, "model.params.dim_g");
    ref->add_option("--model_dim_x_mults", a->dimXMults, "model.params.dim_x_mults");
    ref->add_option("--model_dim_g_mults", a->dimGMults, "model.params.dim_g_mults");
    ref->add_option("--training_optimizer_betas", a->optimizerBetas,
                    "training.optimizer.params.betas");
    ref->add_option("--training_scheduler_factor", a->schedulerFactor, "training.scheduler.factor");
    ref->add_option("--training_scheduler_patience", a->schedulerPatience,
                    "training.scheduler.patience");
    ref->add_option("--augmentation_p", a->augmentationP, "augmentation.p");

    cmd->callback([a, &result] {
        namespace engine = diffseg::core::engine;
        diffseg::core::setComputeThreads(a->threads);
        std::string text;
        {
            std::ifstream in(a->config, std::ios::binary);
            std::ostringstream buffer;
            buffer << in.rdbuf();
            text = buffer.str();
        }
        const bool diffunet = engine::DiffUNetTrainingConfig::isDiffUNetYaml(text);

        engine::TrainingOptions options;
        options.device = a->device;
        options.resume = a->resume;
        options.overwrite = a->overwrite;
        options.runDir = a->runDir;
        options.maxSteps = a->maxSteps;
        options.precision = engine::parsePrecision(a->precision, "--precision");
        options.threads =
            a->threads > 0 ? a->threads : static_cast<int>(std::thread::hardware_concurrency());

        std::ofstream progress;
        if (!a->progressFile.empty()) {
            progress.open(a->progressFile, std::ios::app);
            if (!progress) {
                throw Error(ErrorKind::Io, a->progressFile, "cannot be opened for writing");
            }
        }
        const bool toFile = progress.is_open();
        const bool verbose = a->verbose;
        const auto onEvent = [&progress, toFile, verbose](const json& event) {
            const std::string line = event.dump();
            if (!toFile) {
                std::fprintf(stdout, "%s\n", line.c_str());
                std::fflush(stdout);
                return;
            }
            progress << line << '\n';
            progress.flush();
            const std::string kind = event.value("event", "");
            if (verbose || kind != "caching") {
                const std::string text = describe(event);
                if (!text.empty()) {
                    std::fprintf(stdout, "%s\n", text.c_str());
                    std::fflush(stdout);
                }
            }
        };

        options.distributed = engine::DistributedOptions::fromEnvironment();

        const CancelToken cancel;
        const diffseg::app::StopSignalScope signals(cancel);
        if (a->nproc > 1 && !options.distributed.distributed()) {
            result.exitCode =
                diffseg::app::runLocalRanks(a->nproc, diffseg::app::argumentsWithoutNproc(), cancel,
                                            options.distributed.timeoutSeconds);
            return;
        }
        engine::TrainingSummary summary;
        if (diffunet) {
            engine::DiffUNetTrainer trainer(
                engine::DiffUNetTrainingConfig::fromFile(a->config, diffUNetOverridesOf(*a)),
                options);
            summary = trainer.run(onEvent, cancel);
        } else {
            engine::DermoSegDiffTrainer trainer(
                engine::DermoSegDiffTrainingConfig::fromFile(a->config, overridesOf(*a)), options);
            summary = trainer.run(onEvent, cancel);
        }
        result.exitCode =
            summary.reason == "stopped" ? diffseg::app::kExitCancelled : diffseg::app::kExitOk;
    });
}

} // namespace

DIFFSEG_CLI_COMMAND(train, registerTrain)
