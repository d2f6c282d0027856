#pragma once

#include "base/Progress.h"
#include "engine/Precision.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace diffseg::core::engine {

/// What `diffseg bench forward` measures. LibTorch-free interface for the CLI.
struct ForwardBenchOptions
{
    std::string config = "isic2018"; ///< preset (isic2018, ph2, ham10000, small) or a JSON file
    std::vector<int> batches{1, 5};  ///< B=5 is the reference's ensemble run as one batch
    int size = 128;
    int threads = 2;
    int warmup = 1; ///< untimed runs first (the first fills the weight cache)
    int repeats = 3;
    /// DermoSegDiffImpl::setChannelsLast for both networks; unset: the network's own choice.
    std::optional<bool> channelsLast;
    /// Arithmetic of both networks (Auto: bf16 where this CPU has it natively).
    Precision precision = Precision::Auto;
    bool rewrites = true;  ///< DermoSegDiffImpl::setRewrites (false: the plain forms)
    bool trainStep = true; ///< also time one training step of trainConfig
    std::string trainConfig = "small";
    int trainBatch = 4;
    int trainSize = 128;
    bool roofline = true; ///< time reference convolutions and a GEMM first
    /// When set, one more forward per batch size and one more training step run under LibTorch's
    /// profiler; their operators are written as Chrome traces (chrome://tracing) to
    /// <profilePath>-forward-B<b>.json and <profilePath>-train.json.
    std::string profilePath;
};

/// The timings of one measured operation.
struct BenchTiming
{
    std::string name;
    int batch = 0;
    bool channelsLast = false;   ///< the activations' layout of this run
    double first = 0.0;          ///< the first (untimed warm-up) run, e.g. filling caches
    std::vector<double> seconds; ///< each timed repeat
    double best = 0.0;
    double median = 0.0;
    /// Process CPU time of the fastest repeat (all threads): on a shared machine wall times
    /// vary with the other load, CPU time much less. About threads x best when undisturbed.
    double cpuBest = 0.0;
    double gmacs = 0.0;  ///< conv + linear multiply-accumulates per run, 1e9
    double gflops = 0.0; ///< 2 * gmacs / best
    double percentOfRoofline = 0.0;
    /// Mean seconds of the parts of one run, where measured (a training step: forward +
    /// backward, optimizer, EMA), over all runs including the warm-up.
    std::vector<std::pair<std::string, double>> parts;
};

struct ForwardBenchReport
{
    std::string config; ///< JSON of the forward config
    long long parameters = 0;
    int threads = 0;
    int size = 0;
    std::string layout;    ///< "auto", "nchw" or "channels-last"
    std::string precision; ///< "fp32" or "bf16": what ran
    bool rewrites = true;
    std::vector<BenchTiming> roofline; ///< conv shapes of the network and a square GEMM
    double rooflineGflops = 0.0;       ///< the best of the convolutions: "what this CPU can do"
    std::vector<BenchTiming> forward;
    std::vector<BenchTiming> train;
    double peakRssMb = 0.0; ///< process peak resident memory after the runs (VmHWM)
};

/// Runs the benchmark on the CPU in eval mode under InferenceMode (training step in train mode
/// with Adam). Sets LibTorch's intra-op threads to `threads` for the run and restores them.
/// Throws Error(Config) for bad options or configs.
ForwardBenchReport runForwardBenchmark(const ForwardBenchOptions& options,
                                       const ProgressCallback& progress = {});

} // namespace diffseg::core::engine
