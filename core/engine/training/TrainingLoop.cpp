#include "TrainingLoop.h"

#include "TrainingSupport.h"
#include "base/Error.h"

#include <cmath>

namespace diffseg::core::engine {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

void TrainingProgress::writeTo(json& state) const
{
    state["step"] = step;
    state["epoch"] = epoch;
    state["batch_in_epoch"] = batchInEpoch;
    state["best_score"] = finiteOrNull(bestScore);
    state["best_epoch"] = bestEpoch;
    state["epoch_loss_sum"] = epochLossSum;
    state["epoch_loss_count"] = epochLossCount;
}

void TrainingProgress::readFrom(const json& state)
{
    step = state.at("step").get<std::int64_t>();
    epoch = state.at("epoch").get<int>();
    batchInEpoch = state.at("batch_in_epoch").get<std::int64_t>();
    bestScore = numberOr(state, "best_score", bestScore);
    bestEpoch = state.value("best_epoch", bestEpoch);
    epochLossSum = numberOr(state, "epoch_loss_sum", 0.0);
    epochLossCount = state.value("epoch_loss_count", std::int64_t{0});
}

TrainingSummary runTrainingLoop(const TrainingHooks& hooks, TrainingProgress& progress,
                                TrainingRunFolder& folder, TrainingSummary& summary,
                                const CancelToken& cancel, Clock::time_point started)
{
    const std::int64_t totalSteps = hooks.stepsPerEpoch * hooks.epochs;
    const auto saveLast = [&](const std::string& why) {
        const std::string path = folder.lastPath();
        if (folder.writer()) {
            saveCheckpoint(path, hooks.checkpoint(progress, true));
        }
        summary.lastCheckpoint = path;
        folder.emit({{"event", "checkpoint"},
                     {"kind", "last"},
                     {"path", path},
                     {"step", progress.step},
                     {"epoch", progress.epoch},
                     {"reason", why}});
    };

    // Timing of recent steps for throughput and ETA (an exponential average, robust to the slow
    // first steps).
    double stepSeconds = 0.0;
    std::int64_t stepsThisProcess = 0;
    std::string reason = "completed";
    while (progress.epoch < hooks.epochs) {
        if (hooks.beginEpoch) {
            hooks.beginEpoch(progress);
        }
        const Clock::time_point epochStart = Clock::now();
        for (; progress.batchInEpoch < hooks.stepsPerEpoch; ++progress.batchInEpoch) {
            if (hooks.stopRequested ? hooks.stopRequested() : cancel.isCancelled()) {
                reason = "stopped";
                break;
            }
            if (hooks.maxSteps > 0 && progress.step >= hooks.maxSteps) {
                reason = "max_steps";
                break;
            }
            const Clock::time_point t0 = Clock::now();
            const TrainingStepResult result = hooks.step(progress);
            ++progress.step;
            ++stepsThisProcess;
            if (std::isfinite(result.loss)) {
                progress.epochLossSum += result.loss;
                ++progress.epochLossCount;
            }
            const double seconds = secondsSince(t0);
            stepSeconds = stepsThisProcess <= 2 ? seconds : 0.9 * stepSeconds + 0.1 * seconds;
            // Every step is reported: the loss curve of a resumed run is compared step by step,
            // and one short line per step is cheap next to a training step.
            json event{{"event", "step"},
                       {"epoch", progress.epoch + 1},
                       {"epochs", hooks.epochs},
                       {"step", progress.step},
                       {"total_steps", totalSteps},
                       {"loss", result.loss},
                       {"terms", result.terms},
                       {"lr", result.learningRate},
                       {"step_seconds", seconds},
                       {"steps_per_second", stepSeconds > 0 ? 1.0 / stepSeconds : 0.0},
                       {"samples_per_second", stepSeconds > 0 ? result.samples / stepSeconds : 0.0},
                       {"eta_seconds", stepSeconds * double(totalSteps - progress.step)}};
            if (result.skipped) {
                event["skipped"] = *result.skipped;
            }
            folder.emit(std::move(event));
            if (hooks.checkpointEverySteps > 0 && progress.step % hooks.checkpointEverySteps == 0 &&
                progress.batchInEpoch + 1 < hooks.stepsPerEpoch) {
                ++progress.batchInEpoch; // the saved state resumes after this batch
                saveLast("interval");
                --progress.batchInEpoch;
            }
        }
        if (reason != "completed") {
            break;
        }
        // End of an epoch: validation, best and last checkpoints.
        const double trainLoss = progress.epochLossCount > 0
                                     ? progress.epochLossSum / double(progress.epochLossCount)
                                     : 0.0;
        folder.emit({{"event", "epoch"},
                     {"epoch", progress.epoch + 1},
                     {"epochs", hooks.epochs},
                     {"step", progress.step},
                     {"train_loss", trainLoss},
                     {"seconds", secondsSince(epochStart)}});
        TrainingValidation validation;
        try {
            validation = hooks.validate(progress, trainLoss);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::Cancelled) {
                throw;
            }
            // Saved with the epoch's batches done: a resume goes straight to validation.
            reason = "stopped";
            break;
        }
        const std::optional<double> score = validation.score;
        const bool improved = score && (hooks.higherIsBetter ? *score > progress.bestScore
                                                             : *score < progress.bestScore);
        if (!validation.event.is_null()) {
            validation.event["best"] = improved;
            validation.event["best_by"] = hooks.selectBy;
            folder.emit(validation.event);
        }
        if (hooks.afterValidation) {
            hooks.afterValidation(validation);
        }
        ++progress.epoch;
        progress.batchInEpoch = 0;
        progress.epochLossSum = 0.0;
        progress.epochLossCount = 0;
        if (improved) {
            progress.bestScore = *score;
            progress.bestEpoch = progress.epoch;
            const std::string path = folder.bestPath();
            if (folder.writer()) {
                saveCheckpoint(path, hooks.checkpoint(progress, false));
            }
            summary.bestCheckpoint = path;
            summary.bestScore = *score;
            folder.emit({{"event", "checkpoint"},
                         {"kind", "best"},
                         {"path", path},
                         {"step", progress.step},
                         {"epoch", progress.epoch},
                         {"score", *score},
                         {"by", hooks.selectBy}});
        }
        saveLast("epoch");
    }
    if (reason != "completed") {
        saveLast(reason);
    }
    summary.reason = reason;
    summary.steps = progress.step;
    summary.epochsDone = progress.epoch;
    folder.emit(
        {{"event", "finished"},
         {"reason", reason},
         {"steps", progress.step},
         {"epochs_done", progress.epoch},
         {"last_checkpoint", summary.lastCheckpoint},
         {"best_checkpoint", summary.bestCheckpoint},
         {"best_score", summary.bestCheckpoint.empty() ? json(nullptr) : json(summary.bestScore)},
         {"seconds", secondsSince(started)}});
    return summary;
}

} // namespace diffseg::core::engine
