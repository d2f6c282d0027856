#pragma once

// The training skeleton both networks run: epochs of steps, stop reasons (cancel, --max-steps),
// per-step progress, interval and epoch checkpoints, validation with best-checkpoint selection,
// and the finished event. What differs per network (batches, loss, optimizer step, learning-rate
// schedule, validation, what a checkpoint holds) comes in as TrainingHooks.
// Engine-internal header (nlohmann::json, TrainingRunFolder).

#include "base/CancelToken.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/training/TrainingOptions.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace diffseg::core::engine {

class TrainingRunFolder;

/// Where a run stands: what the loop advances and what every `last` checkpoint stores, so that
/// --resume continues at the next batch. Counts are of this run's whole life, not of a process.
struct TrainingProgress
{
    std::int64_t step = 0;         ///< optimizer steps done
    int epoch = 0;                 ///< epochs done
    std::int64_t batchInEpoch = 0; ///< batches of the current epoch done
    double bestScore = 0.0;        ///< set the start value (-1 or +inf) before resuming
    int bestEpoch = -1;            ///< epochs done when `best` was written; -1: never
    double epochLossSum = 0.0;     ///< finite losses of the current epoch
    std::int64_t epochLossCount = 0;

    /// Adds these fields to a checkpoint's training state (step, epoch, batch_in_epoch,
    /// best_score, best_epoch, epoch_loss_sum, epoch_loss_count).
    void writeTo(nlohmann::json& state) const;
    /// Reads them back; fields a state lacks keep their current values.
    void readFrom(const nlohmann::json& state);
};

/// What one optimizer step reports.
struct TrainingStepResult
{
    double loss = 0.0; ///< may be non-finite only where the network skips such steps
    nlohmann::json terms = nlohmann::json::object();
    double learningRate = 0.0;
    double samples = 0.0;        ///< batch size, for samples per second
    std::optional<bool> skipped; ///< reported when the network can skip a step (fp16 overflow)
};

/// What a validation after an epoch found.
struct TrainingValidation
{
    nlohmann::json event;        ///< the `validation` event; null: nothing to report
    std::optional<double> score; ///< what selects `best`; none: this epoch cannot be best
    double monitored = 0.0;      ///< what a plateau scheduler watches (network-specific)
};

/// The per-network part of a run. Hooks run on the loop's thread.
struct TrainingHooks
{
    std::int64_t stepsPerEpoch = 1;
    int epochs = 1;
    std::int64_t checkpointEverySteps = 0; ///< 0: only at epoch ends
    std::int64_t maxSteps = 0;             ///< stop (reason max_steps) at this step; 0: never
    bool higherIsBetter = true;            ///< for the validation score
    std::string selectBy;                  ///< the score's name in events ("dice", "loss")

    /// Whether to stop before the next step; default: the cancel token. Ranks of a distributed
    /// job agree on it (a stop on any rank stops all at the same step). Optional.
    std::function<bool()> stopRequested;
    /// At the start of every epoch pass, also one resumed in the middle (the epoch's order).
    std::function<void(const TrainingProgress&)> beginEpoch;
    /// One optimizer step at `progress.step` (not yet advanced). Throws Error for a diverging loss.
    std::function<TrainingStepResult(const TrainingProgress&)> step;
    /// After an epoch's batches (progress.epoch not yet advanced), with the epoch's mean training
    /// loss. Error(Cancelled) from it stops the run ("stopped"), resumable straight at validation.
    std::function<TrainingValidation(const TrainingProgress&, double trainLoss)> validate;
    /// After the validation event, before the epoch advances (a plateau scheduler). Optional.
    std::function<void(const TrainingValidation&)> afterValidation;
    /// The checkpoint at `progress`: for `last` (withState: weights, optimizer, the training
    /// state with progress.writeTo()) or for `best` (weights only). The loop writes it, on rank 0.
    std::function<Checkpoint(const TrainingProgress&, bool withState)> checkpoint;
};

/// Runs the epochs from `progress` until done, cancelled or at maxSteps; saves `last` at every
/// epoch end, every checkpointEverySteps and on a stop; saves `best` when validation improves;
/// emits step, epoch, validation, checkpoint and finished events through `folder` (timed from
/// `started`) and fills `summary`. Errors from hooks leave as they are (runReportingFailures
/// reports them).
TrainingSummary runTrainingLoop(const TrainingHooks& hooks, TrainingProgress& progress,
                                TrainingRunFolder& folder, TrainingSummary& summary,
                                const CancelToken& cancel,
                                std::chrono::steady_clock::time_point started);

} // namespace diffseg::core::engine
