#pragma once

// What every trainer takes from `diffseg train` and reports back, whatever its network
// (DermoSegDiffTrainer, DiffUNetTrainer): the run options, data parallelism, the summary and the
// progress events.

#include "engine/Precision.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace diffseg::core::engine {

/// This process's place in a data-parallel training job (c10d process group). One process
/// (worldSize 1) trains alone; with N processes each trains on a disjoint shard of every global
/// batch of N x batch_size samples and the gradients are averaged every step, so N ranks with
/// batch b train as one process with batch N x b would.
struct DistributedOptions
{
    int rank = 0;
    int worldSize = 1;
    int localRank = 0; ///< the GPU this rank uses on its machine (cuda:localRank)
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    std::string backend = "auto"; ///< "gloo", "nccl" or "auto" (NCCL on CUDA, else Gloo)
    int timeoutSeconds = 300;     ///< a rank that dies or hangs ends the job after this

    bool distributed() const noexcept { return worldSize > 1; }
    /// torchrun's variables: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (and
    /// DIFFSEG_DIST_BACKEND, DIFFSEG_DIST_TIMEOUT); one process when WORLD_SIZE is unset.
    /// Error(Config) naming the variable when one is malformed or out of range.
    static DistributedOptions fromEnvironment();
};

/// How `diffseg train` runs a configuration (what the command line adds to the YAML).
struct TrainingOptions
{
    std::string device;        ///< "cpu", "cuda", "cuda:N", "auto"; empty: the config's run.device
    bool resume = false;       ///< continue from <run>/last.dsckpt (also run.continue_training)
    bool overwrite = false;    ///< start afresh even when the run folder holds a checkpoint
    std::string runDir;        ///< default: <model.save_dir>/<model.name>
    std::int64_t maxSteps = 0; ///< stop (with a checkpoint) after this many steps in total
    int threads = 1;           ///< threads for decoding the dataset
    /// Arithmetic of the forward and backward passes. bf16 is mixed precision: float32 master
    /// weights, optimizer state, EMA and loss; checkpoints stay float32. Auto: bf16 where the
    /// device computes it natively (resolvePrecision()).
    Precision precision = Precision::Auto;
    /// Data parallelism (rank 0 alone writes the run folder, checkpoints and progress).
    DistributedOptions distributed{};
};

/// What a run ended with.
struct TrainingSummary
{
    std::string reason; ///< "completed", "stopped" (cancelled) or "max_steps"
    std::int64_t steps = 0;
    int epochsDone = 0;
    std::string lastCheckpoint;
    std::string bestCheckpoint; ///< empty when no validation ever ran
    double bestScore = 0.0;
    std::string runDir;
};

/// One progress event as a JSON object (see the README's "Training progress protocol"): "event"
/// is started, caching, step, epoch, validation, checkpoint, log, finished or failed.
using TrainingEventCallback = std::function<void(const nlohmann::json&)>;

} // namespace diffseg::core::engine
