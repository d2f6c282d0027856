#pragma once

#include "base/CancelToken.h"
#include "engine/training/DermoSegDiffTrainingConfig.h"
#include "engine/training/TrainingOptions.h"

#include <memory>
#include <string>

namespace diffseg::core::engine {

/// Trains DermoSegDiff as the reference does (seed spec §A5-§A6: ε-prediction with t ~ U[1, T-1],
/// the configured loss, Adam/AdamW/SGD, EMA, validation of the EMA model by noise MSE at random
/// t), with a sampled Dice every N epochs, atomic `last` and `best` checkpoints and exact resume.
///
/// Reproducibility: every random draw derives from (training.seed, a counter): the epoch's order
/// from the epoch, augmentation from (epoch, position), t and noise from the global step, and
/// validation draws from fixed counters, so a run resumed from a checkpoint taken after step k
/// repeats steps k+1.. exactly as an uninterrupted run would (on the same device and threads).
/// The "RNG state" kept in a checkpoint is therefore (seed, step).
///
/// Threads: run() blocks the calling thread; `cancel` may be set from any thread or a signal
/// handler; the run then saves `last` and returns with reason "stopped". Events are delivered on
/// the calling thread and also appended to <run>/progress.jsonl. Errors: Error naming the file or
/// key (bad data, a run folder that holds a checkpoint without resume/overwrite, a diverging
/// loss); a failed event is emitted first, and `last` stays the last good checkpoint.
class DermoSegDiffTrainer
{
public:
    DermoSegDiffTrainer(DermoSegDiffTrainingConfig config, TrainingOptions options);
    ~DermoSegDiffTrainer();
    DermoSegDiffTrainer(const DermoSegDiffTrainer&) = delete;
    DermoSegDiffTrainer& operator=(const DermoSegDiffTrainer&) = delete;

    TrainingSummary run(const TrainingEventCallback& onEvent, const CancelToken& cancel = {});

    /// <model.save_dir>/<model.name>
    static std::string defaultRunDir(const DermoSegDiffTrainingConfig& config);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace diffseg::core::engine
