#pragma once

#include "engine/diffunet/DiffUNetConfig.h"
#include "engine/diffusion/NoiseSchedule.h"
#include "engine/model/DermoSegDiffConfig.h"
#include "engine/model/NamedTensors.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace torch::nn {
class Module;
}

namespace diffseg::core::engine {

/// Everything a checkpoint says besides its tensors (the JSON header of our format).
struct CheckpointInfo
{
    static constexpr int kFormatVersion = 1;

    int formatVersion = kFormatVersion;
    std::string network = "dermosegdiff"; ///< "dermosegdiff" (2D) or "diffunet" (3D)
    DermoSegDiffConfig model;             ///< dermosegdiff only
    ScheduleConfig schedule;              ///< dermosegdiff only
    DiffUNetConfig diffunet;              ///< diffunet only
    /// diffunet only: the raw label value that each class stands for in the training label maps
    /// (dataset.label_values), so that inference writes label maps in the dataset's own values.
    /// Empty in files written before it was recorded: class index = label value.
    std::vector<int> labelValues;
    /// diffunet only: a name per class ("background", "Anterior", ...), from the dataset's own
    /// description (a Decathlon dataset.json) or dataset.label_names; empty when unknown.
    std::vector<std::string> labelNames;
    /// diffunet only: what each input channel is ("MRI", "FLAIR", "CT"); empty when unknown.
    std::vector<std::string> channelNames;
    /// How inputs were prepared for the network, as JSON text (the 3D pipeline's crop,
    /// normalisation, target spacing and patch; "{}" when the network needs nothing beyond
    /// inputSize). Inference reads it back so that it prepares volumes as training did.
    std::string preprocessingJson = "{}";
    int inputSize = 128;               ///< side of the square model input in pixels (input_size)
    std::optional<std::int64_t> step;  ///< optimizer steps taken, when known
    std::optional<std::int64_t> epoch; ///< last finished epoch, when known
    std::int64_t emaStep = 0;          ///< the EMA's step counter (0 without EMA)
    bool emaInitted = false;           ///< the EMA's `initted` flag
    std::string source;                ///< where the weights came from (file or "diffseg")
    /// The model card, a JSON object as text ("{}" when none): what the model was trained on and
    /// for, its licence and scores, and the settings it was validated with (see
    /// core/inference/ModelCard.h for the keys). Written by `diffseg export-model`.
    std::string cardJson = "{}";
};

/// A model's weights, optionally with its EMA weights ("ema" is what inference should use when
/// present, as in the reference's testing with `training.ema.use`).
struct Checkpoint
{
    CheckpointInfo info;
    NamedTensors model; ///< online weights by state_dict name, CPU
    NamedTensors ema;   ///< EMA weights by the same names; empty when there is none
    /// Optimizer state for resuming ("<parameter name>/<slot>", e.g. "final_conv.bias/exp_avg");
    /// empty in checkpoints meant only for inference.
    NamedTensors optimizer;
    /// The trainer's own state as JSON text (config, counters, best score); empty when none.
    std::string trainingState;

    bool hasEma() const noexcept { return !ema.empty(); }
};

/// Writes our checkpoint format: one zip file (LibTorch's pickle_save, also readable by Python's
/// torch.load) holding {"format": "diffseg-checkpoint", "version", "header": JSON, "model": {name:
/// tensor}, "ema": {name: tensor}}. Atomic: written to a temporary file in the same folder, flushed
/// to disk, then renamed over `path`, so a crash never leaves a half-written checkpoint. Peak extra
/// memory is about the size of the file. Throws Error(Io) naming the file when it cannot be
/// written.
void saveCheckpoint(const std::string& path, const Checkpoint& checkpoint);

/// Reads only the header of our format (no tensor is loaded): for choosers, `diffseg info` and
/// model cards. Throws Error as loadCheckpoint() does.
CheckpointInfo readCheckpointInfo(const std::string& path);

/// Reads our format back (tensors on the CPU). Never runs code from the file. Throws Error naming
/// the file: NotFound, Io, Format (not a diffseg checkpoint, corrupt or truncated), Unsupported (a
/// newer format version), Config (a bad model/schedule header), InvalidValue (non-finite weights).
Checkpoint loadCheckpoint(const std::string& path);

/// Imports a checkpoint saved by the reference's training script (a torch.save'd dict with
/// `model` = the online state_dict and `ema` = ema-pytorch's state_dict, whose `ema_model.*`
/// entries are the EMA weights; `epoch` when present), or a bare state_dict. The reference does not
/// store its config, so the caller supplies `model` and `schedule`; shapes are checked when the
/// weights are loaded into a network (loadWeights). Never runs code from the file (see
/// TorchFileReader).
Checkpoint importReferenceCheckpoint(const std::string& path, const DermoSegDiffConfig& model,
                                     const ScheduleConfig& schedule);

/// Imports a state_dict saved by the reference Diff-UNet trainer (`best_model_<dice>.pt`: a plain
/// state_dict with `edge_model.*` and `denoise_model.*`, shared modules listed under several
/// names). The reference stores no config, so the caller supplies it. Never runs code from the
/// file.
Checkpoint importReferenceDiffUNet(const std::string& path, const DiffUNetConfig& config);

/// The module's parameters and buffers by name, detached (shares memory with the module).
NamedTensors namedWeights(const torch::nn::Module& module);

/// Copies `weights` into `module` by name, strictly: throws Error(Mismatch) with `source` as
/// subject listing the missing keys, the unexpected keys and each shape difference ("name: file [a,
/// b] vs model [c, d]"), or Error(InvalidValue) naming the first tensor with NaN/Inf; the module is
/// left unchanged when it throws. Values are converted to the module's dtype and device.
void loadWeights(torch::nn::Module& module, const NamedTensors& weights, const std::string& source);

} // namespace diffseg::core::engine
