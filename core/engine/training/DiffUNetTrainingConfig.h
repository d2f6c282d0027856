#pragma once

#include "engine/diffunet/DiffUNetConfig.h"
#include "imaging/VolumePreparation.h"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace diffseg::core::engine {

/// A Diff-UNet training configuration: our YAML (the reference has none: its knobs are module
/// constants, seed spec §B9), with the reference's values as defaults. Layout:
///
///     model: {network: diffunet, save_dir, name, params: {in_channels, num_classes,
///             base_features, max_features, n_stages, convs_per_stage, mba}}
///     diffusion: {steps, fusion: mean|uncertainty, time_input: log_snr|tau}
///     dataset: {name: brats2023|aiib2023|decathlon|images-masks, data_dir, patch_size,
///               label_values, label_names, foreground_oversampling, preprocessing: {normalization:
///               zscore|ct|none, crop_to_nonzero, target_spacing}, split: {fractions, seed}}
///     data_loader: {train: {batch_size}}
///     training: {epochs, steps_per_epoch, seed, checkpoint_every_steps, grad_clip,
///                mixed_precision, optimizer: {name: SGD|Adam|AdamW, params: {lr, momentum,
///                nesterov, weight_decay}}, scheduler: {name: poly|constant, power},
///                loss: {uncertainty_weighting: scalar|voxelwise, mc_samples, fix_mc_reshape,
///                dice (ours: weight of a soft Dice term, 0 = off)},
///                validation: {every, patches, steps}}
///     augmentation: {p_rotation, max_rotation_degrees, p_scale, scale_range, p_noise,
///                    noise_variance, p_brightness, brightness_range, p_contrast,
///                    contrast_range, p_gamma, gamma_range, p_mirror}
///
/// Errors: Error(Config) naming the file and the dotted key, as DermoSegDiffTrainingConfig.
struct DiffUNetTrainingConfig
{
    std::string saveDir = "runs";
    std::string name = "diffunet";
    DiffUNetConfig model;

    int samplingSteps = 3;
    std::string fusion = "mean";
    std::string timeInput = "log_snr";

    std::string datasetName; ///< layout; empty: detected
    std::string dataDir;
    int patchSize = 128;
    /// Raw label value of each class; class i is voxels whose label equals labelValues[i] (class
    /// 0 is also every value not listed, so extra labels count as background). Default 0..C-1.
    std::vector<int> labelValues;
    /// A name per class (dataset.label_names, ours); empty: the dataset's own names where it
    /// has them (a Decathlon dataset.json), else none. Recorded in the checkpoint.
    std::vector<std::string> labelNames;
    double foregroundOversampling = 0.33;
    VolumePreparationConfig preprocessing;
    std::array<double, 3> splitFractions{0.8, 0.2, 0.0};
    std::uint64_t splitSeed = 0;

    int batchSize = 2;

    int epochs = 1000;
    int stepsPerEpoch = 250;
    std::uint64_t seed = 0;
    int checkpointEverySteps = 0;
    double gradClip = 12.0;
    bool mixedPrecision = true; ///< CUDA only (fp16 autocast with a dynamic loss scale)
    std::string optimizerName = "SGD";
    double learningRate = 0.01;
    double momentum = 0.99;
    bool nesterov = true;
    double weightDecay = 3e-5;
    std::string schedulerName = "poly";
    double polyPower = 0.9;
    bool voxelwiseUncertainty = false;
    int mcSamples = 3;
    bool fixMcReshape = true;
    double diceWeight = 0.0; ///< training.loss.dice (ours; the released code has no Dice loss)
    int validateEvery = 2;
    int validationPatches = 20;

    double pRotation = 0.2;
    double maxRotationDegrees = 30.0;
    double pScale = 0.2;
    std::array<double, 2> scaleRange{0.7, 1.4};
    double pNoise = 0.1;
    std::array<double, 2> noiseVariance{0.0, 0.1};
    double pBrightness = 0.15;
    std::array<double, 2> brightnessRange{0.75, 1.25};
    double pContrast = 0.15;
    std::array<double, 2> contrastRange{0.75, 1.25};
    double pGamma = 0.3;
    std::array<double, 2> gammaRange{0.7, 1.5};
    double pMirror = 0.5;

    std::string sourceName;

    static DiffUNetTrainingConfig
    fromYaml(const std::string& text, const std::string& sourceName,
             const std::vector<std::pair<std::string, std::string>>& overrides = {});
    static DiffUNetTrainingConfig
    fromFile(const std::string& path,
             const std::vector<std::pair<std::string, std::string>>& overrides = {});
    void validate() const;
    std::string toYaml() const;

    /// True when the YAML text's `model.network` is "diffunet" (how `diffseg train` chooses).
    static bool isDiffUNetYaml(const std::string& text);
};

} // namespace diffseg::core::engine
