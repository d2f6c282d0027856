#pragma once

// Pieces both trainers (DermoSegDiff 2D and Diff-UNet 3D) share: counter-based random seeds, the
// device choice, the run folder with its progress log, and optimizer state in checkpoints.
// Engine-internal header (LibTorch types).

#include "engine/model/NamedTensors.h"
#include "engine/training/TrainingOptions.h"

#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace diffseg::core::engine {

/// splitmix64: a portable mixer, so that counter-derived draws are the same everywhere.
std::uint64_t mixBits(std::uint64_t x);
/// A seed for one random stream at a counter position: every draw of a run derives from
/// (training.seed, stream, counters), which is what makes resume exact.
std::uint64_t streamSeed(std::uint64_t seed, std::uint64_t stream, std::uint64_t a,
                         std::uint64_t b = 0);
/// 0..n-1, shuffled by Fisher-Yates with splitmix64 draws when `shuffle` (std::shuffle differs
/// between standard libraries).
std::vector<std::size_t> shuffledOrder(std::size_t n, bool shuffle, std::uint64_t seed);

/// `count` training timesteps in [1, timesteps - 1] from `generator`: uniform (the reference's
/// randint) when `power` is 1, else 1 + floor((timesteps - 1) u^power) with u uniform in [0, 1),
/// which draws the noisy end more often for power < 1 (DermoSegDiffTrainingConfig::timestepPower).
torch::Tensor drawTimesteps(std::int64_t count, int timesteps, double power,
                            at::Generator& generator);

/// "auto" (CUDA when present), "cpu", "gpu"/"cuda", "cuda:N"; Error(Unsupported) for CUDA
/// without CUDA, Error(Config) for anything else.
torch::Device resolveTrainingDevice(const std::string& requested);

/// UTC, ISO 8601.
std::string isoTimeNow();

/// JSON has no infinity: "nothing yet" is stored as null.
nlohmann::json finiteOrNull(double value);
double numberOr(const nlohmann::json& object, const char* key, double fallback);

/// The optimizer's state as bytes for a checkpoint ("archive" entry) and back.
NamedTensors optimizerState(torch::optim::Optimizer& optimizer);
void restoreOptimizerState(torch::optim::Optimizer& optimizer, const NamedTensors& state,
                           const torch::Device& device, const std::string& source);

/// A run folder: last.dsckpt, best.dsckpt, split.json, config.yaml, progress.jsonl, samples/.
/// Refuses to start over a checkpoint without resume or overwrite (never a prompt), and writes
/// every event both to progress.jsonl and to the callback.
class TrainingRunFolder
{
public:
    /// Throws Error(Config) for a folder holding a checkpoint without `resume`/`overwrite`,
    /// Error(NotFound) for a resume without checkpoint, Error(Io) when it cannot be created.
    /// A folder that is not the `writer` (ranks other than 0 of a distributed job) only reads:
    /// it creates, removes and logs nothing and sends no events.
    TrainingRunFolder(std::string dir, bool resume, bool overwrite, TrainingEventCallback onEvent,
                      bool writer = true);
    bool writer() const noexcept { return m_writer; }

    const std::string& dir() const noexcept { return m_dir; }
    std::string path(const char* name) const;
    std::string lastPath() const { return path("last.dsckpt"); }
    std::string bestPath() const { return path("best.dsckpt"); }
    bool hasLast() const noexcept { return m_hasLast; }

    void emit(nlohmann::json event);
    void message(const std::string& level, const std::string& text);

private:
    std::string m_dir;
    bool m_hasLast = false;
    bool m_writer = true;
    std::ofstream m_log;
    TrainingEventCallback m_onEvent;
};

/// Runs a training body and reports how it ended: cancelled inside (Error(Cancelled) thrown
/// before anything could be saved) returns `summary` with reason "stopped"; an Error, a LibTorch
/// error or an allocation failure emits a `failed` event naming the last checkpoint and leaves as
/// an Error (out-of-memory named as such).
TrainingSummary runReportingFailures(TrainingRunFolder& folder, TrainingSummary& summary,
                                     const std::function<TrainingSummary()>& body);

} // namespace diffseg::core::engine
