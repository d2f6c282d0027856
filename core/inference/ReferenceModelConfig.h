#pragma once

#include "engine/diffusion/NoiseSchedule.h"
#include "engine/model/DermoSegDiffConfig.h"

#include <string>
#include <vector>

namespace diffseg::core {

/// What a reference DermoSegDiff .pth does not store but inference needs: the network's
/// hyper-parameters, the noise schedule and the input size (seed spec §A9: `model.params`,
/// `diffusion.schedule`, `dataset.input_size`).
///
/// Plain data, no LibTorch; copy freely. Errors are Error(Config) naming the file and key path
/// (e.g. "configs/isic.yaml: diffusion.schedule.timesteps") or the unknown preset, Error(NotFound)
/// or Error(Io) naming an unreadable file, Error(Unsupported) for a reference config of another
/// model class (the reference's `Baseline`).
struct ReferenceModelConfig
{
    std::string name; ///< the preset name or the config file it came from
    engine::DermoSegDiffConfig model;
    engine::ScheduleConfig schedule;
    int inputSize = 128; ///< side of the square network input in pixels

    /// The reference's three configs: "isic2018" (also "isic"), "ph2" and "ham10000" (also
    /// "ham"). All three use 128 x 128 inputs and T = 250 with a linear schedule 0.0004 .. 0.08.
    static ReferenceModelConfig preset(const std::string& name);
    /// The names preset() knows, for help texts.
    static std::vector<std::string> presetNames();
    /// A reference config file: YAML (.yaml/.yml, the reference's own configs) or JSON (.json)
    /// with the reference's sections. Read: `model.class` (must be DermoSegDiff when present),
    /// `model.params` (DermoSegDiffConfig::fromJson, so absent keys take the reference class's
    /// defaults and unknown keys are refused), `diffusion.schedule.{timesteps, mode, beta_start,
    /// beta_end}` and `dataset.input_size`; absent schedule keys and input size take the values
    /// of the three reference configs. Every other section (run, training, ...) is ignored. A
    /// document whose top level holds `dim_x` is read as bare `model.params`.
    static ReferenceModelConfig fromFile(const std::string& path);
    /// preset() for a preset name, otherwise fromFile().
    static ReferenceModelConfig resolve(const std::string& presetOrPath);

    /// Throws Error(Config) naming `name` when the model or schedule is invalid or the input size
    /// is not a positive multiple of the network's size multiple (at most 4096).
    void validate() const;
};

} // namespace diffseg::core
