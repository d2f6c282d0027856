#include "DiffUNetTrainingConfig.h"

#include "base/Error.h"
#include "engine/training/YamlKeyReader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace diffseg::core::engine {

namespace {

template <std::size_t N>
void readArray(const YamlKeyReader& p, const YamlKey& key, std::array<double, N>& out)
{
    if (!YamlKeyReader::present(key)) {
        return;
    }
    std::vector<double> values;
    p.list(key, values);
    if (values.size() != N) {
        p.fail(key.path, "must list " + std::to_string(N) + " numbers");
    }
    std::copy(values.begin(), values.end(), out.begin());
}

} // namespace

bool DiffUNetTrainingConfig::isDiffUNetYaml(const std::string& text)
{
    try {
        const YAML::Node root = YAML::Load(text);
        return root.IsMap() && root["model"] && root["model"].IsMap() && root["model"]["network"] &&
               root["model"]["network"].IsScalar() &&
               root["model"]["network"].Scalar() == "diffunet";
    } catch (const YAML::Exception&) {
        return false;
    }
}

DiffUNetTrainingConfig
DiffUNetTrainingConfig::fromYaml(const std::string& text, const std::string& sourceName,
                                 const std::vector<std::pair<std::string, std::string>>& overrides)
{
    const YamlKeyReader p(sourceName);
    const YAML::Node root = loadConfigRoot(text, sourceName, overrides);
    DiffUNetTrainingConfig c;
    c.sourceName = sourceName;
    const YamlKey top{root, ""};
    p.requireMap(top, {"model", "diffusion", "dataset", "data_loader", "training", "augmentation"});

    const YamlKey model = p.child(top, "model");
    p.requireMap(model, {"network", "save_dir", "name", "params"});
    std::string network = "diffunet";
    p.scalar(p.child(model, "network"), network);
    if (network != "diffunet") {
        p.fail("model.network", "'" + network + "' is not diffunet");
    }
    p.scalar(p.child(model, "save_dir"), c.saveDir);
    p.scalar(p.child(model, "name"), c.name);
    if (const YamlKey params = p.child(model, "params"); YamlKeyReader::present(params)) {
        c.model = DiffUNetConfig::fromJson(YamlKeyReader::toJson(params.node).dump(),
                                           sourceName + ": model.params");
    }

    const YamlKey diffusion = p.child(top, "diffusion");
    p.requireMap(diffusion, {"steps", "fusion", "time_input"});
    p.scalar(p.child(diffusion, "steps"), c.samplingSteps);
    p.scalar(p.child(diffusion, "fusion"), c.fusion);
    p.scalar(p.child(diffusion, "time_input"), c.timeInput);

    const YamlKey dataset = p.child(top, "dataset");
    p.requireMap(dataset, {"name", "data_dir", "patch_size", "label_values", "label_names",
                           "foreground_oversampling", "preprocessing", "split"});
    p.scalar(p.child(dataset, "name"), c.datasetName);
    p.scalar(p.child(dataset, "data_dir"), c.dataDir);
    p.scalar(p.child(dataset, "patch_size"), c.patchSize);
    p.list(p.child(dataset, "label_values"), c.labelValues);
    p.list(p.child(dataset, "label_names"), c.labelNames);
    p.scalar(p.child(dataset, "foreground_oversampling"), c.foregroundOversampling);
    if (const YamlKey prep = p.child(dataset, "preprocessing"); YamlKeyReader::present(prep)) {
        p.requireMap(prep, {"normalization", "crop_to_nonzero", "target_spacing"});
        c.preprocessing = VolumePreparationConfig::fromJson(YamlKeyReader::toJson(prep.node).dump(),
                                                            sourceName + ": dataset.preprocessing");
    }
    const YamlKey split = p.child(dataset, "split");
    p.requireMap(split, {"fractions", "seed"});
    readArray(p, p.child(split, "fractions"), c.splitFractions);
    p.scalar(p.child(split, "seed"), c.splitSeed);

    const YamlKey loader = p.child(top, "data_loader");
    p.requireMap(loader, {"train", "validation"});
    const YamlKey train = p.child(loader, "train");
    p.requireMap(train, {"batch_size", "num_workers"});
    p.scalar(p.child(train, "batch_size"), c.batchSize);

    const YamlKey training = p.child(top, "training");
    p.requireMap(training,
                 {"epochs", "steps_per_epoch", "seed", "checkpoint_every_steps", "grad_clip",
                  "mixed_precision", "optimizer", "scheduler", "loss", "validation"});
    p.scalar(p.child(training, "epochs"), c.epochs);
    p.scalar(p.child(training, "steps_per_epoch"), c.stepsPerEpoch);
    p.scalar(p.child(training, "seed"), c.seed);
    p.scalar(p.child(training, "checkpoint_every_steps"), c.checkpointEverySteps);
    p.scalar(p.child(training, "grad_clip"), c.gradClip);
    p.scalar(p.child(training, "mixed_precision"), c.mixedPrecision);
    const YamlKey optimizer = p.child(training, "optimizer");
    p.requireMap(optimizer, {"name", "params"});
    p.scalar(p.child(optimizer, "name"), c.optimizerName);
    const YamlKey op = p.child(optimizer, "params");
    p.requireMap(op, {"lr", "momentum", "nesterov", "weight_decay"});
    p.scalar(p.child(op, "lr"), c.learningRate);
    p.scalar(p.child(op, "momentum"), c.momentum);
    p.scalar(p.child(op, "nesterov"), c.nesterov);
    p.scalar(p.child(op, "weight_decay"), c.weightDecay);
    const YamlKey scheduler = p.child(training, "scheduler");
    p.requireMap(scheduler, {"name", "power"});
    p.scalar(p.child(scheduler, "name"), c.schedulerName);
    p.scalar(p.child(scheduler, "power"), c.polyPower);
    const YamlKey loss = p.child(training, "loss");
    p.requireMap(loss, {"uncertainty_weighting", "mc_samples", "fix_mc_reshape", "dice"});
    std::string weighting = c.voxelwiseUncertainty ? "voxelwise" : "scalar";
    p.scalar(p.child(loss, "uncertainty_weighting"), weighting);
    if (weighting != "scalar" && weighting != "voxelwise") {
        p.fail("training.loss.uncertainty_weighting", "must be scalar or voxelwise");
    }
    c.voxelwiseUncertainty = weighting == "voxelwise";
    p.scalar(p.child(loss, "mc_samples"), c.mcSamples);
    p.scalar(p.child(loss, "fix_mc_reshape"), c.fixMcReshape);
    p.scalar(p.child(loss, "dice"), c.diceWeight);
    const YamlKey validation = p.child(training, "validation");
    p.requireMap(validation, {"every", "patches"});
    p.scalar(p.child(validation, "every"), c.validateEvery);
    p.scalar(p.child(validation, "patches"), c.validationPatches);

    const YamlKey aug = p.child(top, "augmentation");
    p.requireMap(aug, {"p_rotation", "max_rotation_degrees", "p_scale", "scale_range", "p_noise",
                       "noise_variance", "p_brightness", "brightness_range", "p_contrast",
                       "contrast_range", "p_gamma", "gamma_range", "p_mirror"});
    p.scalar(p.child(aug, "p_rotation"), c.pRotation);
    p.scalar(p.child(aug, "max_rotation_degrees"), c.maxRotationDegrees);
    p.scalar(p.child(aug, "p_scale"), c.pScale);
    readArray(p, p.child(aug, "scale_range"), c.scaleRange);
    p.scalar(p.child(aug, "p_noise"), c.pNoise);
    readArray(p, p.child(aug, "noise_variance"), c.noiseVariance);
    p.scalar(p.child(aug, "p_brightness"), c.pBrightness);
    readArray(p, p.child(aug, "brightness_range"), c.brightnessRange);
    p.scalar(p.child(aug, "p_contrast"), c.pContrast);
    readArray(p, p.child(aug, "contrast_range"), c.contrastRange);
    p.scalar(p.child(aug, "p_gamma"), c.pGamma);
    readArray(p, p.child(aug, "gamma_range"), c.gammaRange);
    p.scalar(p.child(aug, "p_mirror"), c.pMirror);

    if (c.labelValues.empty()) {
        for (int i = 0; i < c.model.numClasses; ++i) {
            c.labelValues.push_back(i);
        }
    }
    c.validate();
    return c;
}

DiffUNetTrainingConfig
DiffUNetTrainingConfig::fromFile(const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& overrides)
{
    DiffUNetTrainingConfig c = fromYaml(readConfigText(path), path, overrides);
    c.dataDir = resolveAgainst(c.dataDir, path);
    c.saveDir = resolveAgainst(c.saveDir, path);
    return c;
}

void DiffUNetTrainingConfig::validate() const
{
    const auto fail = [&](const std::string& key, const std::string& problem) {
        throw Error(ErrorKind::Config, sourceName.empty() ? key : sourceName + ": " + key, problem);
    };
    model.validate(sourceName + ": model.params");
    preprocessing.validate(sourceName + ": dataset.preprocessing");
    if (samplingSteps < 1 || samplingSteps > 100) {
        fail("diffusion.steps", "must lie in [1, 100]");
    }
    if (fusion != "mean" && fusion != "uncertainty") {
        fail("diffusion.fusion", "must be mean or uncertainty");
    }
    if (timeInput != "log_snr" && timeInput != "tau") {
        fail("diffusion.time_input", "must be log_snr (the reference's sampling) or tau");
    }
    if (patchSize < model.sizeMultiple() || patchSize % model.sizeMultiple() != 0 ||
        patchSize > 512) {
        fail("dataset.patch_size", std::to_string(patchSize) + " must be a multiple of " +
                                       std::to_string(model.sizeMultiple()) + " up to 512");
    }
    if (static_cast<int>(labelValues.size()) != model.numClasses) {
        fail("dataset.label_values",
             "must list one raw label value per class (" + std::to_string(model.numClasses) + ")");
    }
    if (!labelNames.empty() && static_cast<int>(labelNames.size()) != model.numClasses) {
        fail("dataset.label_names",
             "must name every class (" + std::to_string(model.numClasses) + "), or be left out");
    }
    if (!(foregroundOversampling >= 0.0 && foregroundOversampling <= 1.0)) {
        fail("dataset.foreground_oversampling", "must lie in [0, 1]");
    }
    double sum = 0.0;
    for (const double f : splitFractions) {
        if (!(f >= 0.0 && f <= 1.0)) {
            fail("dataset.split.fractions", "each fraction must lie in [0, 1]");
        }
        sum += f;
    }
    if (std::abs(sum - 1.0) > 1e-6 || splitFractions[0] <= 0.0) {
        fail("dataset.split.fractions", "must sum to 1 with a non-empty training part");
    }
    if (batchSize < 1 || batchSize > 256) {
        fail("data_loader.train.batch_size", "must lie in [1, 256]");
    }
    if (epochs < 1 || epochs > 100000) {
        fail("training.epochs", "must lie in [1, 100000]");
    }
    if (stepsPerEpoch < 1 || stepsPerEpoch > 1000000) {
        fail("training.steps_per_epoch", "must lie in [1, 1000000]");
    }
    if (checkpointEverySteps < 0) {
        fail("training.checkpoint_every_steps", "must not be negative");
    }
    if (!(gradClip >= 0.0)) {
        fail("training.grad_clip", "must not be negative (0 disables clipping)");
    }
    if (optimizerName != "SGD" && optimizerName != "Adam" && optimizerName != "AdamW") {
        fail("training.optimizer.name", "'" + optimizerName + "' is not SGD, Adam or AdamW");
    }
    if (!(learningRate > 0.0 && learningRate < 10.0)) {
        fail("training.optimizer.params.lr", "must lie in (0, 10)");
    }
    if (!(momentum >= 0.0 && momentum < 1.0)) {
        fail("training.optimizer.params.momentum", "must lie in [0, 1)");
    }
    if (!(weightDecay >= 0.0 && weightDecay < 1.0)) {
        fail("training.optimizer.params.weight_decay", "must lie in [0, 1)");
    }
    if (schedulerName != "poly" && schedulerName != "constant") {
        fail("training.scheduler.name", "must be poly or constant");
    }
    if (!(polyPower > 0.0 && polyPower < 10.0)) {
        fail("training.scheduler.power", "must lie in (0, 10)");
    }
    if (mcSamples < 1 || mcSamples > 16) {
        fail("training.loss.mc_samples", "must lie in [1, 16]");
    }
    if (!(diceWeight >= 0.0 && diceWeight <= 100.0)) {
        fail("training.loss.dice", "must lie in [0, 100] (0 = no Dice term)");
    }
    if (validateEvery < 0) {
        fail("training.validation.every", "must not be negative (0 disables validation)");
    }
    if (validationPatches < 1 || validationPatches > 100000) {
        fail("training.validation.patches", "must lie in [1, 100000]");
    }
    for (const auto& [key, value] :
         {std::pair<const char*, double>{"augmentation.p_rotation", pRotation},
          {"augmentation.p_scale", pScale},
          {"augmentation.p_noise", pNoise},
          {"augmentation.p_brightness", pBrightness},
          {"augmentation.p_contrast", pContrast},
          {"augmentation.p_gamma", pGamma},
          {"augmentation.p_mirror", pMirror}}) {
        if (!(value >= 0.0 && value <= 1.0)) {
            fail(key, "a probability must lie in [0, 1]");
        }
    }
    for (const auto& [key, range] :
         {std::pair<const char*, std::array<double, 2>>{"augmentation.scale_range", scaleRange},
          {"augmentation.brightness_range", brightnessRange},
          {"augmentation.contrast_range", contrastRange},
          {"augmentation.gamma_range", gammaRange}}) {
        if (!(range[0] > 0.0 && range[0] <= range[1] && range[1] < 100.0)) {
            fail(key, "needs 0 < low <= high");
        }
    }
    if (!(noiseVariance[0] >= 0.0 && noiseVariance[0] <= noiseVariance[1])) {
        fail("augmentation.noise_variance", "needs 0 <= low <= high");
    }
    if (!(maxRotationDegrees >= 0.0 && maxRotationDegrees <= 180.0)) {
        fail("augmentation.max_rotation_degrees", "must lie in [0, 180]");
    }
    if (name.empty() || name.find_first_of("/\\") != std::string::npos || name == "." ||
        name == "..") {
        fail("model.name", "must be a plain name (it names the run's folder)");
    }
}

std::string DiffUNetTrainingConfig::toYaml() const
{
    const auto list = [](const auto& values) {
        std::string out = "[";
        for (std::size_t i = 0; i < std::size(values); ++i) {
            if constexpr (std::is_floating_point_v<std::decay_t<decltype(values[0])>>) {
                out += (i ? ", " : "") + shortest(values[i]);
            } else {
                out += (i ? ", " : "") + std::to_string(values[i]);
            }
        }
        return out + "]";
    };
    const auto quote = [](const std::string& s) {
        std::string out = "\"";
        for (const char ch : s) {
            if (ch == '"' || ch == '\\') {
                out += '\\';
            }
            out += ch;
        }
        return out + "\"";
    };
    const auto flag = [](bool b) {
        return std::string(b ? "true" : "false");
    };
    std::ostringstream y;
    y << "model:\n  network: \"diffunet\"\n  save_dir: " << quote(saveDir)
      << "\n  name: " << quote(name) << "\n  params: {in_channels: " << model.inChannels
      << ", num_classes: " << model.numClasses << ", base_features: " << model.baseFeatures
      << ", max_features: " << model.maxFeatures << ", n_stages: " << model.nStages
      << ", convs_per_stage: " << model.convsPerStage << ", mba: " << flag(model.mba) << "}\n";
    y << "diffusion: {steps: " << samplingSteps << ", fusion: " << quote(fusion)
      << ", time_input: " << quote(timeInput) << "}\n";
    y << "dataset:\n  name: " << quote(datasetName) << "\n  data_dir: " << quote(dataDir)
      << "\n  patch_size: " << patchSize << "\n  label_values: " << list(labelValues);
    if (!labelNames.empty()) {
        y << "\n  label_names: [";
        for (std::size_t i = 0; i < labelNames.size(); ++i) {
            y << (i ? ", " : "") << quote(labelNames[i]);
        }
        y << "]";
    }
    y << "\n  foreground_oversampling: " << shortest(foregroundOversampling)
      << "\n  preprocessing: {normalization: "
      << quote(normalizationName(preprocessing.normalization))
      << ", crop_to_nonzero: " << flag(preprocessing.cropToNonZero) << ", target_spacing: "
      << (preprocessing.targetSpacing ? list(*preprocessing.targetSpacing) : std::string("null"))
      << "}\n  split: {fractions: " << list(splitFractions) << ", seed: " << splitSeed << "}\n";
    y << "data_loader:\n  train: {batch_size: " << batchSize << "}\n";
    y << "training:\n  epochs: " << epochs << "\n  steps_per_epoch: " << stepsPerEpoch
      << "\n  seed: " << seed << "\n  checkpoint_every_steps: " << checkpointEverySteps
      << "\n  grad_clip: " << shortest(gradClip) << "\n  mixed_precision: " << flag(mixedPrecision)
      << "\n  optimizer: {name: " << quote(optimizerName)
      << ", params: {lr: " << shortest(learningRate) << ", momentum: " << shortest(momentum)
      << ", nesterov: " << flag(nesterov) << ", weight_decay: " << shortest(weightDecay)
      << "}}\n  scheduler: {name: " << quote(schedulerName) << ", power: " << shortest(polyPower)
      << "}\n  loss: {uncertainty_weighting: "
      << quote(voxelwiseUncertainty ? "voxelwise" : "scalar") << ", mc_samples: " << mcSamples
      << ", fix_mc_reshape: " << flag(fixMcReshape) << ", dice: " << shortest(diceWeight)
      << "}\n  validation: {every: " << validateEvery << ", patches: " << validationPatches
      << "}\n";
    y << "augmentation:\n  p_rotation: " << shortest(pRotation)
      << "\n  max_rotation_degrees: " << shortest(maxRotationDegrees)
      << "\n  p_scale: " << shortest(pScale) << "\n  scale_range: " << list(scaleRange)
      << "\n  p_noise: " << shortest(pNoise) << "\n  noise_variance: " << list(noiseVariance)
      << "\n  p_brightness: " << shortest(pBrightness)
      << "\n  brightness_range: " << list(brightnessRange)
      << "\n  p_contrast: " << shortest(pContrast) << "\n  contrast_range: " << list(contrastRange)
      << "\n  p_gamma: " << shortest(pGamma) << "\n  gamma_range: " << list(gammaRange)
      << "\n  p_mirror: " << shortest(pMirror) << "\n";
    return y.str();
}

} // namespace diffseg::core::engine
