#include "DermoSegDiffTrainingConfig.h"

#include "base/Error.h"
#include "engine/loss/LossConfig.h"
#include "engine/training/YamlKeyReader.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace diffseg::core::engine {

namespace {

namespace fs = std::filesystem;
using OrderedJson = nlohmann::ordered_json;
using Parser = YamlKeyReader;
using Key = YamlKey;

} // namespace

DermoSegDiffTrainingConfig DermoSegDiffTrainingConfig::fromYaml(
    const std::string& text, const std::string& sourceName,
    const std::vector<std::pair<std::string, std::string>>& overrides)
{
    const Parser p(sourceName);
    const YAML::Node root = loadConfigRoot(text, sourceName, overrides);

    DermoSegDiffTrainingConfig c;
    c.sourceName = sourceName;
    const Key top{root, ""};
    p.requireMap(top, {"run", "model", "diffusion", "dataset", "data_loader", "training", "testing",
                       "augmentation"});

    const Key run = p.child(top, "run");
    p.requireMap(run, {"device", "save_imgs", "writer_dir", "continue_training"});
    p.scalar(p.child(run, "device"), c.device);
    p.scalar(p.child(run, "save_imgs"), c.saveImgs);
    p.scalar(p.child(run, "writer_dir"), c.writerDir);
    p.scalar(p.child(run, "continue_training"), c.continueTraining);

    const Key model = p.child(top, "model");
    p.requireMap(model, {"save_dir", "name", "class", "params"});
    p.scalar(p.child(model, "save_dir"), c.saveDir);
    p.scalar(p.child(model, "name"), c.name);
    p.scalar(p.child(model, "class"), c.modelClass);
    const Key params = p.child(model, "params");
    if (Parser::present(params)) {
        p.requireMap(params, {"dim_x", "dim_g", "channels_x", "channels_g", "init_dim", "out_dim",
                              "dim_mults", "dim_x_mults", "dim_g_mults", "resnet_block_groups"});
        c.model = DermoSegDiffConfig::fromJson(Parser::toJson(params.node).dump(),
                                               (sourceName.empty() ? "" : sourceName + ": ") +
                                                   "model.params");
    }

    const Key diffusion = p.child(top, "diffusion");
    p.requireMap(diffusion, {"schedule", "prediction"});
    if (const Key prediction = p.child(diffusion, "prediction"); Parser::present(prediction)) {
        std::string text;
        p.scalar(prediction, text);
        c.schedule.prediction =
            parsePrediction(text, (sourceName.empty() ? "" : sourceName + ": ") + prediction.path);
    }
    const Key schedule = p.child(diffusion, "schedule");
    p.requireMap(schedule, {"timesteps", "mode", "beta_start", "beta_end"});
    p.scalar(p.child(schedule, "timesteps"), c.schedule.timesteps);
    if (const Key mode = p.child(schedule, "mode"); Parser::present(mode)) {
        std::string name;
        p.scalar(mode, name);
        c.schedule.mode =
            parseScheduleMode(name, (sourceName.empty() ? "" : sourceName + ": ") + mode.path);
    }
    p.scalar(p.child(schedule, "beta_start"), c.schedule.betaStart);
    p.scalar(p.child(schedule, "beta_end"), c.schedule.betaEnd);

    const Key dataset = p.child(top, "dataset");
    p.requireMap(dataset, {"input_size", "name", "class_name", "data_dir", "number_classes",
                           "img_channels", "msk_channels", "data_scale", "add_boundary_mask",
                           "add_boundary_dist", "cache_dir", "split"});
    p.scalar(p.child(dataset, "input_size"), c.inputSize);
    p.scalar(p.child(dataset, "name"), c.datasetName);
    p.scalar(p.child(dataset, "class_name"), c.className);
    p.scalar(p.child(dataset, "data_dir"), c.dataDir);
    p.scalar(p.child(dataset, "number_classes"), c.numberClasses);
    p.scalar(p.child(dataset, "img_channels"), c.imgChannels);
    p.scalar(p.child(dataset, "msk_channels"), c.mskChannels);
    p.scalar(p.child(dataset, "data_scale"), c.dataScale);
    p.scalar(p.child(dataset, "add_boundary_mask"), c.addBoundaryMask);
    p.scalar(p.child(dataset, "add_boundary_dist"), c.addBoundaryDist);
    p.scalar(p.child(dataset, "cache_dir"), c.cacheDir);
    const Key split = p.child(dataset, "split");
    p.requireMap(split, {"mode", "fractions", "seed", "file"});
    p.scalar(p.child(split, "mode"), c.split.mode);
    if (const Key fractions = p.child(split, "fractions"); Parser::present(fractions)) {
        std::vector<double> values;
        p.list(fractions, values);
        if (values.size() != 3) {
            p.fail(fractions.path, "must list three fractions: [train, validation, test]");
        }
        std::copy(values.begin(), values.end(), c.split.fractions.begin());
    }
    p.scalar(p.child(split, "seed"), c.split.seed);
    p.scalar(p.child(split, "file"), c.split.file);

    const Key loader = p.child(top, "data_loader");
    p.requireMap(loader, {"train", "validation", "test"});
    for (auto [name, target] : {std::pair<const char*, LoaderConfig*>{"train", &c.train},
                                {"validation", &c.validation},
                                {"test", &c.test}}) {
        const Key section = p.child(loader, name);
        p.requireMap(section, {"batch_size", "shuffle", "num_workers", "pin_memory"});
        p.scalar(p.child(section, "batch_size"), target->batchSize);
        p.scalar(p.child(section, "shuffle"), target->shuffle);
        p.scalar(p.child(section, "num_workers"), target->numWorkers);
        p.scalar(p.child(section, "pin_memory"), target->pinMemory);
    }

    const Key training = p.child(top, "training");
    p.requireMap(training, {"epochs", "timestep_power", "terminal_noise_fraction", "intial_weights",
                            "initial_weights", "loss", "optimizer", "scheduler", "ema", "seed",
                            "checkpoint_every_steps", "validation"});
    p.scalar(p.child(training, "epochs"), c.epochs);
    p.scalar(p.child(training, "timestep_power"), c.timestepPower);
    p.scalar(p.child(training, "terminal_noise_fraction"), c.terminalNoiseFraction);
    for (const char* spelling : {"intial_weights", "initial_weights"}) {
        const Key weights = p.child(training, spelling);
        p.requireMap(weights, {"use", "file_path"});
        p.scalar(p.child(weights, "use"), c.initialWeightsUse);
        p.scalar(p.child(weights, "file_path"), c.initialWeightsPath);
    }
    if (const Key loss = p.child(training, "loss"); Parser::present(loss)) {
        if (!loss.node.IsMap() || loss.node.size() == 0) {
            p.fail(loss.path, "must name at least one loss term (l1, l2, huber, boundary)");
        }
        c.lossJson = Parser::toJson(loss.node).dump();
        // Parsed here only to report bad terms with the file's name; the trainer parses again.
        LossConfig::fromJson(c.lossJson,
                             (sourceName.empty() ? "" : sourceName + ": ") + "training.loss");
    }
    const Key optimizer = p.child(training, "optimizer");
    p.requireMap(optimizer, {"name", "params"});
    p.scalar(p.child(optimizer, "name"), c.optimizerName);
    const Key optimizerParams = p.child(optimizer, "params");
    p.requireMap(optimizerParams, {"lr", "betas", "weight_decay", "momentum"});
    p.scalar(p.child(optimizerParams, "lr"), c.learningRate);
    if (const Key betas = p.child(optimizerParams, "betas"); Parser::present(betas)) {
        std::vector<double> values;
        p.list(betas, values);
        if (values.size() != 2) {
            p.fail(betas.path, "must list two numbers, e.g. [0.7, 0.99]");
        }
        c.betas = {values[0], values[1]};
    }
    p.scalar(p.child(optimizerParams, "weight_decay"), c.weightDecay);
    p.scalar(p.child(optimizerParams, "momentum"), c.momentum);
    const Key scheduler = p.child(training, "scheduler");
    p.requireMap(scheduler,
                 {"factor", "patience", "verbose", "use", "name", "warmup_steps", "min_lr"});
    p.scalar(p.child(scheduler, "name"), c.schedulerName);
    p.scalar(p.child(scheduler, "warmup_steps"), c.warmupSteps);
    p.scalar(p.child(scheduler, "min_lr"), c.minLearningRate);
    p.scalar(p.child(scheduler, "factor"), c.schedulerFactor);
    p.scalar(p.child(scheduler, "patience"), c.schedulerPatience);
    p.scalar(p.child(scheduler, "use"), c.schedulerUse);
    const Key ema = p.child(training, "ema");
    p.requireMap(ema, {"use", "params"});
    p.scalar(p.child(ema, "use"), c.emaUse);
    const Key emaParams = p.child(ema, "params");
    p.requireMap(emaParams,
                 {"beta", "update_after_step", "update_every", "inv_gamma", "power", "min_value"});
    p.scalar(p.child(emaParams, "beta"), c.ema.beta);
    p.scalar(p.child(emaParams, "update_after_step"), c.ema.updateAfterStep);
    p.scalar(p.child(emaParams, "update_every"), c.ema.updateEvery);
    p.scalar(p.child(emaParams, "inv_gamma"), c.ema.invGamma);
    p.scalar(p.child(emaParams, "power"), c.ema.power);
    p.scalar(p.child(emaParams, "min_value"), c.ema.minValue);
    p.scalar(p.child(training, "seed"), c.seed);
    p.scalar(p.child(training, "checkpoint_every_steps"), c.checkpointEverySteps);
    const Key validation = p.child(training, "validation");
    p.requireMap(validation, {"runs", "dice_every", "dice_images", "dice_steps", "dice_ensemble",
                              "select_best_by"});
    p.scalar(p.child(validation, "runs"), c.validationRun.runs);
    p.scalar(p.child(validation, "dice_every"), c.validationRun.diceEvery);
    p.scalar(p.child(validation, "dice_images"), c.validationRun.diceImages);
    p.scalar(p.child(validation, "dice_steps"), c.validationRun.diceSteps);
    p.scalar(p.child(validation, "dice_ensemble"), c.validationRun.diceEnsemble);
    p.scalar(p.child(validation, "select_best_by"), c.validationRun.selectBy);

    const Key testing = p.child(top, "testing");
    p.requireMap(testing, {"ensemble", "model_weigths", "model_weights", "result_imgs"});
    p.scalar(p.child(testing, "ensemble"), c.ensemble);
    for (const char* spelling : {"model_weigths", "model_weights"}) {
        const Key weights = p.child(testing, spelling);
        p.requireMap(weights, {"overload", "file_path"});
        p.scalar(p.child(weights, "overload"), c.modelWeightsOverload);
        p.scalar(p.child(weights, "file_path"), c.modelWeightsPath);
    }
    const Key results = p.child(testing, "result_imgs");
    p.requireMap(results, {"save", "dir"});
    p.scalar(p.child(results, "save"), c.resultImgsSave);
    p.scalar(p.child(results, "dir"), c.resultImgsDir);

    if (const Key augmentation = p.child(top, "augmentation"); Parser::present(augmentation)) {
        if (!augmentation.node.IsMap()) {
            p.fail(augmentation.path, "must be a mapping (p, levels)");
        }
        c.augmentationJson = Parser::toJson(augmentation.node).dump();
    }

    c.validate();
    return c;
}

DermoSegDiffTrainingConfig DermoSegDiffTrainingConfig::fromFile(
    const std::string& path, const std::vector<std::pair<std::string, std::string>>& overrides)
{
    DermoSegDiffTrainingConfig c = fromYaml(readConfigText(path), path, overrides);
    c.dataDir = resolveAgainst(c.dataDir, path);
    c.saveDir = resolveAgainst(c.saveDir, path);
    c.cacheDir = resolveAgainst(c.cacheDir, path);
    c.split.file = resolveAgainst(c.split.file, path);
    c.initialWeightsPath = resolveAgainst(c.initialWeightsPath, path);
    return c;
}

void DermoSegDiffTrainingConfig::validate() const
{
    const std::string prefix = sourceName.empty() ? "" : sourceName + ": ";
    const auto fail = [&](const std::string& key, const std::string& problem) {
        throw Error(ErrorKind::Config, prefix + key, problem);
    };
    if (modelClass != "DermoSegDiff") {
        fail("model.class", "'" + modelClass + "' is not supported (only DermoSegDiff)");
    }
    model.validate(prefix + "model.params");
    schedule.validate(prefix + "diffusion.schedule");
    if (inputSize < model.sizeMultiple() || inputSize % model.sizeMultiple() != 0 ||
        inputSize > 1024) {
        fail("dataset.input_size", std::to_string(inputSize) + " must be a multiple of " +
                                       std::to_string(model.sizeMultiple()) +
                                       " (2^(levels-1) of the network) up to 1024");
    }
    if (imgChannels != model.channelsG) {
        fail("dataset.img_channels", "is " + std::to_string(imgChannels) +
                                         " but model.params.channels_g is " +
                                         std::to_string(model.channelsG));
    }
    if (mskChannels != model.channelsX || model.outDim != model.channelsX) {
        fail("dataset.msk_channels", "mask channels, channels_x and out_dim must agree");
    }
    if (imgChannels != 3 || mskChannels != 1) {
        fail("dataset.img_channels", "only RGB images with one-channel masks are supported");
    }
    if (numberClasses != 2) {
        fail("dataset.number_classes", "only binary lesion masks (2 classes) are supported");
    }
    if (addBoundaryMask || addBoundaryDist) {
        fail(addBoundaryMask ? "dataset.add_boundary_mask" : "dataset.add_boundary_dist",
             "extra mask channels are not supported (the network uses channel 0 only)");
    }
    static const std::set<std::string> scales{"full", "medium", "lite", "ultra-lite"};
    if (scales.count(dataScale) == 0) {
        fail("dataset.data_scale", "'" + dataScale + "' is not full, medium, lite or ultra-lite");
    }
    static const std::set<std::string> modes{"auto", "reference", "fractions", "file"};
    if (modes.count(split.mode) == 0) {
        fail("dataset.split.mode",
             "'" + split.mode + "' is not auto, reference, fractions or file");
    }
    double sum = 0.0;
    for (const double f : split.fractions) {
        if (!(f >= 0.0 && f <= 1.0)) {
            fail("dataset.split.fractions", "each fraction must lie in [0, 1]");
        }
        sum += f;
    }
    if (std::abs(sum - 1.0) > 1e-6 || split.fractions[0] <= 0.0) {
        fail("dataset.split.fractions", "must sum to 1 with a non-empty training part");
    }
    if (split.mode == "file" && split.file.empty()) {
        fail("dataset.split.file", "is required when dataset.split.mode is 'file'");
    }
    for (const auto& [key, loader] :
         {std::pair<const char*, const LoaderConfig*>{"data_loader.train.batch_size", &train},
          {"data_loader.validation.batch_size", &validation},
          {"data_loader.test.batch_size", &test}}) {
        if (loader->batchSize < 1 || loader->batchSize > 4096) {
            fail(key, std::to_string(loader->batchSize) + " must lie in [1, 4096]");
        }
    }
    if (epochs < 1 || epochs > 1000000) {
        fail("training.epochs", std::to_string(epochs) + " must lie in [1, 1000000]");
    }
    if (!(timestepPower >= 0.05 && timestepPower <= 20.0)) {
        fail("training.timestep_power", "must lie in [0.05, 20] (1: uniform timesteps)");
    }
    if (!(terminalNoiseFraction >= 0.0 && terminalNoiseFraction <= 1.0)) {
        fail("training.terminal_noise_fraction", "must lie in [0, 1]");
    }
    if (terminalNoiseFraction > 0.0 && schedule.prediction != Prediction::X0) {
        fail("training.terminal_noise_fraction",
             "needs diffusion.prediction: x0 (from pure noise the noise is the input itself)");
    }
    if (initialWeightsUse && initialWeightsPath.empty()) {
        fail("training.intial_weights.file_path", "is required when use is true");
    }
    static const std::set<std::string> optimizers{"Adam", "AdamW", "SGD"};
    if (optimizers.count(optimizerName) == 0) {
        fail("training.optimizer.name", "'" + optimizerName + "' is not Adam, AdamW or SGD");
    }
    if (!(learningRate > 0.0 && learningRate < 10.0)) {
        fail("training.optimizer.params.lr", "must lie in (0, 10)");
    }
    for (const double b : betas) {
        if (!(b >= 0.0 && b < 1.0)) {
            fail("training.optimizer.params.betas", "each beta must lie in [0, 1)");
        }
    }
    if (!(weightDecay >= 0.0 && weightDecay < 1.0)) {
        fail("training.optimizer.params.weight_decay", "must lie in [0, 1)");
    }
    if (!(momentum >= 0.0 && momentum < 1.0)) {
        fail("training.optimizer.params.momentum", "must lie in [0, 1)");
    }
    if (!(schedulerFactor > 0.0 && schedulerFactor < 1.0)) {
        fail("training.scheduler.factor", "must lie in (0, 1)");
    }
    if (schedulerName != "plateau" && schedulerName != "cosine") {
        fail("training.scheduler.name", "'" + schedulerName + "' is not plateau or cosine");
    }
    if (warmupSteps < 0) {
        fail("training.scheduler.warmup_steps", "must not be negative");
    }
    if (!(minLearningRate >= 0.0 && minLearningRate <= learningRate)) {
        fail("training.scheduler.min_lr", "must lie in [0, training.optimizer.params.lr]");
    }
    if (schedulerPatience < 0) {
        fail("training.scheduler.patience", "must not be negative");
    }
    ema.validate(prefix + "training.ema.params");
    if (checkpointEverySteps < 0) {
        fail("training.checkpoint_every_steps", "must not be negative");
    }
    if (validationRun.runs < 1 || validationRun.runs > 100) {
        fail("training.validation.runs", "must lie in [1, 100]");
    }
    if (validationRun.diceEvery < 0) {
        fail("training.validation.dice_every", "must not be negative");
    }
    if (validationRun.diceImages < 1 || validationRun.diceImages > 10000) {
        fail("training.validation.dice_images", "must lie in [1, 10000]");
    }
    if (validationRun.diceSteps < 1 || validationRun.diceSteps > schedule.timesteps) {
        fail("training.validation.dice_steps",
             "must lie in [1, " + std::to_string(schedule.timesteps) + "] (the timesteps)");
    }
    if (validationRun.diceEnsemble < 1 || validationRun.diceEnsemble > 64) {
        fail("training.validation.dice_ensemble", "must lie in [1, 64]");
    }
    if (validationRun.selectBy != "loss" && validationRun.selectBy != "dice") {
        fail("training.validation.select_best_by", "must be loss or dice");
    }
    if (validationRun.selectBy == "dice" && validationRun.diceEvery == 0) {
        fail("training.validation.select_best_by",
             "is dice but training.validation.dice_every is 0 (no Dice is ever measured)");
    }
    if (ensemble < 1 || ensemble > 64) {
        fail("testing.ensemble", "must lie in [1, 64]");
    }
    if (name.empty() || name.find_first_of("/\\") != std::string::npos || name == "." ||
        name == "..") {
        fail("model.name", "must be a plain name (it names the run's folder)");
    }
}

std::string DermoSegDiffTrainingConfig::referenceRunName() const
{
    return "n-" + name + "_s-" + std::to_string(inputSize) + "_b-" +
           std::to_string(train.batchSize) + "_t-" + std::to_string(schedule.timesteps) + "_sc-" +
           scheduleModeName(schedule.mode);
}

std::string DermoSegDiffTrainingConfig::toYaml() const
{
    YAML::Emitter out;
    const auto emitJson = [&](const auto& self, const OrderedJson& j) -> void {
        if (j.is_object()) {
            out << YAML::BeginMap;
            for (const auto& [k, v] : j.items()) {
                out << YAML::Key << k << YAML::Value;
                self(self, v);
            }
            out << YAML::EndMap;
        } else if (j.is_array()) {
            out << YAML::Flow << YAML::BeginSeq;
            for (const auto& v : j) {
                self(self, v);
            }
            out << YAML::EndSeq;
        } else if (j.is_string()) {
            out << YAML::DoubleQuoted << j.get<std::string>();
        } else if (j.is_boolean()) {
            out << j.get<bool>();
        } else if (j.is_number_integer()) {
            out << j.get<long long>();
        } else if (j.is_number()) {
            out << shortest(j.get<double>());
        } else {
            out << YAML::Null;
        }
    };
    const auto loader = [&](const char* key, const LoaderConfig& l) {
        out << YAML::Key << key << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "batch_size" << YAML::Value << l.batchSize;
        out << YAML::Key << "shuffle" << YAML::Value << l.shuffle;
        out << YAML::Key << "num_workers" << YAML::Value << l.numWorkers;
        out << YAML::Key << "pin_memory" << YAML::Value << l.pinMemory;
        out << YAML::EndMap;
    };
    out << YAML::BeginMap;
    out << YAML::Key << "run" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "device" << YAML::Value << YAML::DoubleQuoted << device;
    out << YAML::Key << "save_imgs" << YAML::Value << YAML::DoubleQuoted << saveImgs;
    out << YAML::Key << "writer_dir" << YAML::Value << YAML::DoubleQuoted << writerDir;
    out << YAML::Key << "continue_training" << YAML::Value << continueTraining;
    out << YAML::EndMap;

    out << YAML::Key << "model" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "save_dir" << YAML::Value << YAML::DoubleQuoted << saveDir;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << name;
    out << YAML::Key << "class" << YAML::Value << YAML::DoubleQuoted << modelClass;
    out << YAML::Key << "params" << YAML::Value;
    emitJson(emitJson, OrderedJson::parse(model.toJson()));
    out << YAML::EndMap;

    out << YAML::Key << "diffusion" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "schedule" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "timesteps" << YAML::Value << schedule.timesteps;
    out << YAML::Key << "mode" << YAML::Value << YAML::DoubleQuoted
        << scheduleModeName(schedule.mode);
    out << YAML::Key << "beta_start" << YAML::Value << shortest(schedule.betaStart);
    out << YAML::Key << "beta_end" << YAML::Value << shortest(schedule.betaEnd);
    out << YAML::EndMap;
    out << YAML::Key << "prediction" << YAML::Value << YAML::DoubleQuoted
        << predictionName(schedule.prediction);
    out << YAML::EndMap;

    out << YAML::Key << "dataset" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "input_size" << YAML::Value << inputSize;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << datasetName;
    out << YAML::Key << "class_name" << YAML::Value << YAML::DoubleQuoted << className;
    out << YAML::Key << "data_dir" << YAML::Value << YAML::DoubleQuoted << dataDir;
    out << YAML::Key << "number_classes" << YAML::Value << numberClasses;
    out << YAML::Key << "img_channels" << YAML::Value << imgChannels;
    out << YAML::Key << "msk_channels" << YAML::Value << mskChannels;
    out << YAML::Key << "data_scale" << YAML::Value << YAML::DoubleQuoted << dataScale;
    out << YAML::Key << "add_boundary_mask" << YAML::Value << addBoundaryMask;
    out << YAML::Key << "add_boundary_dist" << YAML::Value << addBoundaryDist;
    out << YAML::Key << "cache_dir" << YAML::Value << YAML::DoubleQuoted << cacheDir;
    out << YAML::Key << "split" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "mode" << YAML::Value << YAML::DoubleQuoted << split.mode;
    out << YAML::Key << "fractions" << YAML::Value << YAML::Flow << YAML::BeginSeq
        << shortest(split.fractions[0]) << shortest(split.fractions[1])
        << shortest(split.fractions[2]) << YAML::EndSeq;
    out << YAML::Key << "seed" << YAML::Value << split.seed;
    out << YAML::Key << "file" << YAML::Value << YAML::DoubleQuoted << split.file;
    out << YAML::EndMap << YAML::EndMap;

    out << YAML::Key << "data_loader" << YAML::Value << YAML::BeginMap;
    loader("train", train);
    loader("validation", validation);
    loader("test", test);
    out << YAML::EndMap;

    out << YAML::Key << "training" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "epochs" << YAML::Value << epochs;
    if (timestepPower != 1.0) {
        out << YAML::Key << "timestep_power" << YAML::Value << shortest(timestepPower);
    }
    if (terminalNoiseFraction > 0.0) {
        out << YAML::Key << "terminal_noise_fraction" << YAML::Value
            << shortest(terminalNoiseFraction);
    }
    out << YAML::Key << "intial_weights" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "use" << YAML::Value << initialWeightsUse;
    out << YAML::Key << "file_path" << YAML::Value << YAML::DoubleQuoted << initialWeightsPath;
    out << YAML::EndMap;
    out << YAML::Key << "loss" << YAML::Value;
    emitJson(emitJson, OrderedJson::parse(lossJson));
    out << YAML::Key << "optimizer" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << optimizerName;
    out << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "lr" << YAML::Value << shortest(learningRate);
    out << YAML::Key << "betas" << YAML::Value << YAML::Flow << YAML::BeginSeq << shortest(betas[0])
        << shortest(betas[1]) << YAML::EndSeq;
    out << YAML::Key << "weight_decay" << YAML::Value << shortest(weightDecay);
    out << YAML::Key << "momentum" << YAML::Value << shortest(momentum);
    out << YAML::EndMap << YAML::EndMap;
    out << YAML::Key << "scheduler" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "use" << YAML::Value << schedulerUse;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << schedulerName;
    out << YAML::Key << "warmup_steps" << YAML::Value << warmupSteps;
    out << YAML::Key << "min_lr" << YAML::Value << shortest(minLearningRate);
    out << YAML::Key << "factor" << YAML::Value << shortest(schedulerFactor);
    out << YAML::Key << "patience" << YAML::Value << schedulerPatience;
    out << YAML::EndMap;
    out << YAML::Key << "ema" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "use" << YAML::Value << emaUse;
    out << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "beta" << YAML::Value << shortest(ema.beta);
    out << YAML::Key << "update_after_step" << YAML::Value << ema.updateAfterStep;
    out << YAML::Key << "update_every" << YAML::Value << ema.updateEvery;
    out << YAML::Key << "inv_gamma" << YAML::Value << shortest(ema.invGamma);
    out << YAML::Key << "power" << YAML::Value << shortest(ema.power);
    out << YAML::Key << "min_value" << YAML::Value << shortest(ema.minValue);
    out << YAML::EndMap << YAML::EndMap;
    out << YAML::Key << "seed" << YAML::Value << seed;
    out << YAML::Key << "checkpoint_every_steps" << YAML::Value << checkpointEverySteps;
    out << YAML::Key << "validation" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "runs" << YAML::Value << validationRun.runs;
    out << YAML::Key << "dice_every" << YAML::Value << validationRun.diceEvery;
    out << YAML::Key << "dice_images" << YAML::Value << validationRun.diceImages;
    out << YAML::Key << "dice_steps" << YAML::Value << validationRun.diceSteps;
    out << YAML::Key << "dice_ensemble" << YAML::Value << validationRun.diceEnsemble;
    out << YAML::Key << "select_best_by" << YAML::Value << YAML::DoubleQuoted
        << validationRun.selectBy;
    out << YAML::EndMap << YAML::EndMap;

    out << YAML::Key << "testing" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "ensemble" << YAML::Value << ensemble;
    out << YAML::Key << "model_weigths" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "overload" << YAML::Value << modelWeightsOverload;
    out << YAML::Key << "file_path" << YAML::Value << YAML::DoubleQuoted << modelWeightsPath;
    out << YAML::EndMap;
    out << YAML::Key << "result_imgs" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "save" << YAML::Value << resultImgsSave;
    out << YAML::Key << "dir" << YAML::Value << YAML::DoubleQuoted << resultImgsDir;
    out << YAML::EndMap << YAML::EndMap;

    const OrderedJson augmentation = OrderedJson::parse(augmentationJson);
    if (!augmentation.empty()) {
        out << YAML::Key << "augmentation" << YAML::Value;
        emitJson(emitJson, augmentation);
    }
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

double DermoSegDiffTrainingConfig::learningRateAt(std::int64_t step, std::int64_t totalSteps) const
{
    if (!schedulerUse || schedulerName != "cosine") {
        return learningRate;
    }
    if (step < warmupSteps) {
        return learningRate * static_cast<double>(step + 1) / static_cast<double>(warmupSteps);
    }
    const double span = static_cast<double>(std::max<std::int64_t>(1, totalSteps - warmupSteps));
    const double progress = std::min(1.0, static_cast<double>(step - warmupSteps) / span);
    return minLearningRate + 0.5 * (learningRate - minLearningRate) *
                                 (1.0 + std::cos(3.14159265358979323846 * progress));
}

} // namespace diffseg::core::engine
