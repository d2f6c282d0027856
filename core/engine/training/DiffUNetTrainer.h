#pragma once

#include "base/CancelToken.h"
#include "engine/training/DiffUNetTrainingConfig.h"
#include "engine/training/TrainingOptions.h"

#include <memory>
#include <string>

namespace diffseg::core::engine {

/// Trains Diff-UNet on 3D volumes (seed spec §B2-§B6) with the training forward the released code
/// lacks: patches of `patch_size`³ drawn with foreground oversampling from cases prepared like
/// nnU-Net (crop, normalise, resample; CT statistics from the training cases), spatial (rotation,
/// scale, mirror) and intensity (noise, brightness, contrast, gamma) augmentation, the MC-Diff
/// loss, SGD (Nesterov) with a poly learning rate per iteration, gradient clipping, fp16 autocast
/// with a dynamic loss scale on CUDA, validation by sampled Dice on foreground-centred patches of
/// the validation cases, and the run folder, progress protocol, atomic checkpoints and exact
/// resume of the 2D trainer (see DermoSegDiffTrainer). Checkpoints record the preprocessing so that
/// inference prepares volumes the same way.
///
/// Memory: the prepared training and validation cases are kept in memory (float32 images, uint8
/// labels). Threads and errors as DermoSegDiffTrainer.
class DiffUNetTrainer
{
public:
    DiffUNetTrainer(DiffUNetTrainingConfig config, TrainingOptions options);
    ~DiffUNetTrainer();
    DiffUNetTrainer(const DiffUNetTrainer&) = delete;
    DiffUNetTrainer& operator=(const DiffUNetTrainer&) = delete;

    TrainingSummary run(const TrainingEventCallback& onEvent, const CancelToken& cancel = {});

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace diffseg::core::engine
