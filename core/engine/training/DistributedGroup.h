#pragma once

// Data-parallel training over a c10d process group (the engine PyTorch's DistributedDataParallel
// runs on): Gloo on CPUs, NCCL on CUDA where the LibTorch has it. Engine-internal header
// (LibTorch and c10d types).

#include "base/CancelToken.h"
#include "engine/training/TrainingOptions.h"

#include <torch/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace diffseg::core::engine {

/// One rank's membership of a training job. With worldSize 1 it is inert (no sockets, every call
/// returns at once), so trainers call it unconditionally.
///
/// Rendezvous: rank 0 serves a TCPStore at masterAddr:masterPort, every rank connects, and the
/// process group connects the ranks pairwise. Collectives block until every rank has called them;
/// a rank that died makes the others' call fail at once (connection reset), one that hangs after
/// `timeoutSeconds`: both as Error(Io) naming the rank and what was being exchanged, so that no
/// job hangs. Threads: one thread per rank calls it. Not copyable.
class DistributedGroup
{
public:
    /// Joins the job; Error(Io) when the rendezvous fails within the timeout, Error(Unsupported)
    /// for a backend this LibTorch lacks (NCCL on a CPU build).
    DistributedGroup(const DistributedOptions& options, const torch::Device& device);
    ~DistributedGroup();
    DistributedGroup(const DistributedGroup&) = delete;
    DistributedGroup& operator=(const DistributedGroup&) = delete;

    bool active() const noexcept { return m_options.worldSize > 1; }
    int rank() const noexcept { return m_options.rank; }
    int worldSize() const noexcept { return m_options.worldSize; }
    bool leader() const noexcept { return m_options.rank == 0; }
    const std::string& backend() const noexcept { return m_backend; }

    /// Rank 0's values into every rank's tensors (identical initial weights).
    void broadcast(const std::vector<torch::Tensor>& tensors);
    /// Every parameter's gradient becomes the mean over the ranks, in one flat all-reduce per
    /// bucket of at most 25 MiB (as DDP buckets them). Parameters without a gradient count as 0.
    void averageGradients(const std::vector<torch::Tensor>& parameters);
    /// True on every rank when `flag` is true on any (a stop request reaching one rank first).
    bool anyRank(bool flag);
    /// For TrainingHooks::stopRequested: every rank stops at the same step when `cancel` is set
    /// on any; empty (the loop reads `cancel` itself) for a single process.
    std::function<bool()> stopAgreement(const CancelToken& cancel);
    /// The mean of `value` over the ranks (the step's loss as the whole global batch saw it).
    double average(double value);
    /// Rank 0 marks `key` done; the others wait for it (up to `wait`), e.g. the split file and
    /// the data cache before they read them.
    void leaderDone(const std::string& key, std::chrono::seconds wait);
    /// Every rank reaches this point (or Error(Io) after the timeout).
    void barrier(const std::string& what);

private:
    [[noreturn]] void fail(const std::string& what, const std::exception& e) const;

    // The store and the group, behind a pointer: their c10d types differ between LibTorch 1.13
    // (ProcessGroupGloo is a ProcessGroup) and 2.x (it is a Backend).
    struct Connection;

    DistributedOptions m_options;
    std::string m_backend = "none";
    std::unique_ptr<Connection> m_connection;
};

} // namespace diffseg::core::engine
