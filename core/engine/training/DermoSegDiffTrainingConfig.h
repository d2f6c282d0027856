#pragma once

#include "engine/diffusion/ScheduleConfig.h"
#include "engine/model/DermoSegDiffConfig.h"
#include "engine/training/EmaConfig.h"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace diffseg::core::engine {

/// `data_loader.<split>` of the reference. num_workers and pin_memory are accepted for
/// compatibility; loading is in-process from a resized cache, so they change nothing.
struct LoaderConfig
{
    int batchSize = 32;
    bool shuffle = false;
    int numWorkers = 0;
    bool pinMemory = false;
};

/// How the dataset is cut into train / validation / test (our `dataset.split` section; the
/// reference cuts fixed index ranges in glob order, which is not reproducible).
struct SplitConfig
{
    /// "auto": the reference's index ranges when the layout has them and the dataset is large
    /// enough, fractions otherwise; "reference"; "fractions"; "file" (read `file`).
    std::string mode = "auto";
    std::array<double, 3> fractions{0.8, 0.1, 0.1};
    std::uint64_t seed = 0;
    std::string file;
};

/// Validation beyond the reference's noise MSE (our `training.validation` section).
struct ValidationConfig
{
    int runs = 3;                  ///< vl_runs: fresh random t per batch, averaged (reference: 3)
    int diceEvery = 0;             ///< sampled Dice every N epochs (0 = never)
    int diceImages = 4;            ///< how many validation images are sampled
    int diceSteps = 10;            ///< DDIM steps of the sampled Dice (cheap on purpose)
    int diceEnsemble = 1;          ///< chains per image
    std::string selectBy = "loss"; ///< best checkpoint by "loss" (reference) or "dice"
};

/// A DermoSegDiff training configuration: the reference's YAML (seed spec §A9) with its keys as
/// they are, misspellings included (`cofficient`, `intial_weights`, `model_weigths`, `spacial`),
/// plus a few keys of ours, each documented in the README. Plain data, no LibTorch.
///
/// Errors: every parse or validation problem throws Error(Config) whose subject is the file and
/// the dotted key path (e.g. "isic.yaml: training.optimizer.params.lr") and whose problem says
/// what is wrong; unknown keys are errors, so typos never pass silently.
struct DermoSegDiffTrainingConfig
{
    // run
    std::string device = "auto"; ///< "gpu"/"cuda"/"cuda:N", "cpu" or "auto"
    std::string saveImgs;
    std::string writerDir;
    bool continueTraining = false;

    // model
    std::string saveDir = "runs";
    std::string name = "dsd";
    std::string modelClass = "DermoSegDiff";
    DermoSegDiffConfig model;

    // diffusion
    ScheduleConfig schedule;

    // dataset
    int inputSize = 128;
    std::string datasetName; ///< isic2018, ph2, ham10000, images-masks (layout to expect)
    std::string className;   ///< the reference's loader class; informational
    std::string dataDir;     ///< relative paths are resolved against the config file's folder
    int numberClasses = 2;
    int imgChannels = 3;
    int mskChannels = 1;
    std::string dataScale =
        "full"; ///< full, medium, lite, ultra-lite (training set 1, 1/2, 1/5, 1/10)
    bool addBoundaryMask = false;
    bool addBoundaryDist = false;
    std::string cacheDir; ///< ours: where resized arrays go (default: next to the data)
    SplitConfig split;

    // data_loader
    LoaderConfig train{32, true, 0, false};
    LoaderConfig validation{32, false, 0, false};
    LoaderConfig test{32, false, 0, false};

    // training
    int epochs = 500;
    /// training.timestep_power: the step's timesteps are t = 1 + floor((T - 1) u^p), u uniform
    /// in [0, 1). 1 is the reference's uniform draw; p < 1 draws the noisy end more often, where
    /// the mask is nearly gone and the network must find the lesion in the image (most uniform
    /// draws leave the mask readable through the noise and teach little about the photo).
    double timestepPower = 1.0;
    /// training.terminal_noise_fraction: this share of each batch is trained as sampling starts,
    /// at the last timestep from pure noise. The schedule's last step still keeps
    /// sqrt(alpha_bar_T) of the mask (0.13 for the linear 0.0004..0.08, T = 100), which a network
    /// learns to read; sampling starts from noise without it, so a network that never saw that
    /// over-grows the lesion. These rows make it find the lesion in the photo alone. x0 only.
    double terminalNoiseFraction = 0.0;
    bool initialWeightsUse = false;
    std::string initialWeightsPath;
    std::string lossJson = R"({"l2":{"cofficient":1.0}})"; ///< training.loss as JSON
    std::string optimizerName = "Adam";                    ///< Adam, AdamW or SGD
    double learningRate = 1e-4;
    std::array<double, 2> betas{0.7, 0.99};
    double weightDecay = 0.0;
    double momentum = 0.0;     ///< SGD only
    bool schedulerUse = false; ///< ours: the reference builds ReduceLROnPlateau but never steps it
    /// ours: "plateau" (the reference's ReduceLROnPlateau, per epoch on the validation loss) or
    /// "cosine" (linear warm-up over warmupSteps, then a cosine from lr down to minLearningRate
    /// at the last step, set every step)
    std::string schedulerName = "plateau";
    double schedulerFactor = 0.5;
    int schedulerPatience = 5;
    std::int64_t warmupSteps = 0; ///< ours, cosine: steps of the linear warm-up from 0
    double minLearningRate = 0.0; ///< ours, cosine: the rate at the last step

    /// The learning rate of the optimizer step after `step` steps of `totalSteps` (cosine with
    /// its warm-up when the scheduler is used with name cosine; the base rate otherwise).
    double learningRateAt(std::int64_t step, std::int64_t totalSteps) const;
    bool emaUse = true;
    EmaConfig ema;
    std::uint64_t seed = 0;         ///< ours: every random draw derives from it
    int checkpointEverySteps = 0;   ///< ours: also save `last` every N steps (0: per epoch)
    ValidationConfig validationRun; ///< ours: training.validation

    // testing
    int ensemble = 5;
    bool modelWeightsOverload = false;
    std::string modelWeightsPath;
    bool resultImgsSave = false;
    std::string resultImgsDir;

    // augmentation, as JSON for core::Augmentation ("{}" = none)
    std::string augmentationJson = "{}";

    std::string sourceName; ///< the file it came from, for messages

    /// Parses YAML text (the reference's layout). `overrides` are (dotted key path, YAML value)
    /// pairs applied before parsing, e.g. {"training.epochs", "10"}; a path that names no key
    /// of the layout is an error like an unknown key in the file.
    static DermoSegDiffTrainingConfig
    fromYaml(const std::string& text, const std::string& sourceName,
             const std::vector<std::pair<std::string, std::string>>& overrides = {});
    /// Reads and parses a file; relative data paths are resolved against its folder. Throws
    /// Error(NotFound/Io) naming the file, Error(Config) naming the key.
    static DermoSegDiffTrainingConfig
    fromFile(const std::string& path,
             const std::vector<std::pair<std::string, std::string>>& overrides = {});

    /// The effective configuration as YAML, in the reference's layout (our keys included);
    /// fromYaml(toYaml()) gives the same configuration.
    std::string toYaml() const;

    /// Throws Error(Config) naming the key for values that make training impossible.
    void validate() const;

    /// The reference's run name `n-<name>_s-<S>_b-<bs>_t-<T>_sc-<mode>`.
    std::string referenceRunName() const;
};

} // namespace diffseg::core::engine
