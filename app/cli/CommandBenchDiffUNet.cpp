// diffseg bench diffunet: forward time and peak memory of the full Diff-UNet on one window (edge
// branch + one denoiser step, and a whole S-step inference call), and the memory of a 3D step
// cache and of Segmenter3D's whole-volume accumulators for a BraTS-sized volume.

#include "BenchCommand.h"
#include "base/Error.h"
#include "engine/AutocastScope.h"
#include "engine/Precision.h"
#include "engine/diffunet/DiffUNet.h"
#include "runtime/Runtime.h"
#include "uncertainty/StepCache.h"

#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using diffseg::core::Error;
using diffseg::core::ErrorKind;
namespace engine = diffseg::core::engine;

struct DiffUNetBenchArgs
{
    std::string config = "aiib2023";
    std::vector<int> sizes{64, 128};
    int threads = 2;
    int steps = 3;
    int repeats = 1;
    int warmup = 0;
    std::vector<std::int64_t> cacheVolume{240, 240, 155};
    std::vector<std::string> precisions{"auto"};
    std::string json;
};

/// A /proc/self/status field in MB (VmRSS, VmHWM).
double procStatusMb(const char* field)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) == 0) {
            std::istringstream values(line.substr(key.size()));
            double kb = 0.0;
            values >> kb;
            return kb / 1024.0;
        }
    }
    return -1.0;
}

/// User + system CPU seconds of this process: on a shared machine the wall time includes waiting
/// for other processes, the CPU time much less so.
double cpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           1e-6 * double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

/// Resets VmHWM to the current RSS (Linux >= 4.0), so that each measurement has its own peak.
void resetPeak()
{
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
}

std::string loadAverage()
{
    std::ifstream in("/proc/loadavg");
    std::string one;
    std::string five;
    std::string fifteen;
    in >> one >> five >> fifteen;
    return one + " " + five + " " + fifteen;
}

struct Timing
{
    std::string name;
    std::string precision; ///< "fp32" or "bf16"
    int size = 0;
    double first = 0.0;
    double best = 0.0;
    double cpuBest = 0.0; ///< CPU seconds (all threads) of the best run
    double peakMb = 0.0;  ///< process peak RSS during this measurement
    double gmacs = 0.0;   ///< the spec's convolution MACs, scaled from 128^3 (§B4.4)
};

template <class Fn>
Timing measure(const std::string& name, int size, int warmup, int repeats, double gmacs, Fn&& fn)
{
    Timing t;
    t.name = name;
    t.size = size;
    t.gmacs = gmacs;
    resetPeak();
    for (int i = 0; i < warmup + repeats; ++i) {
        const auto start = Clock::now();
        const double cpuStart = cpuSeconds();
        fn();
        const double s = std::chrono::duration<double>(Clock::now() - start).count();
        const double cpu = cpuSeconds() - cpuStart;
        if (i == 0) {
            t.first = s;
        }
        if (i == warmup || (i > warmup && s < t.best)) {
            t.best = s;
            t.cpuBest = cpu;
        }
    }
    t.peakMb = procStatusMb("VmHWM");
    return t;
}

void runBench(const DiffUNetBenchArgs& args, diffseg::app::CliResult& result)
{
    diffseg::core::setComputeThreads(args.threads);
    engine::DiffUNetConfig config;
    if (args.config == "aiib2023") {
        config = engine::DiffUNetConfig::reference(1, 2);
    } else if (args.config == "brats2023") {
        config = engine::DiffUNetConfig::reference(4, 4);
    } else {
        throw Error(ErrorKind::Config, "--config",
                    "'" + args.config + "' is not aiib2023 or brats2023");
    }
    for (const int size : args.sizes) {
        if (size < config.sizeMultiple() || size % config.sizeMultiple() != 0 || size > 512) {
            throw Error(ErrorKind::Config, "--sizes",
                        std::to_string(size) + " is not a multiple of " +
                            std::to_string(config.sizeMultiple()) + " up to 512");
        }
    }
    if (args.cacheVolume.size() != 3) {
        throw Error(ErrorKind::Config, "--cache-volume", "needs three sides x,y,z");
    }
    const double rssStart = procStatusMb("VmRSS");
    const std::string loadStart = loadAverage();
    torch::manual_seed(0);
    engine::DiffUNet model(config);
    model->eval();
    const double rssModel = procStatusMb("VmRSS");
    std::fprintf(stderr, "bench diffunet: %s, %lld parameters, %d threads\n", args.config.c_str(),
                 static_cast<long long>(model->parameterCount()), diffseg::core::computeThreads());

    std::vector<Timing> timings;
    for (const std::string& name : args.precisions) {
        const engine::Precision precision =
            engine::resolvePrecision(engine::parsePrecision(name, "--precision"), "cpu");
        const std::string label = engine::precisionName(precision);
        // bf16 as Segmenter3D runs it: autocast over float32 weights.
        const engine::AutocastScope autocast(at::kCPU, precision == engine::Precision::Bf16
                                                           ? std::optional(at::kBFloat16)
                                                           : std::nullopt);
        const c10::InferenceMode inference;
        for (const int size : args.sizes) {
            const at::Tensor image = at::randn({1, config.inChannels, size, size, size});
            const double scale = double(size) * size * size / (128.0 * 128.0 * 128.0);
            std::vector<at::Tensor> features;
            std::fprintf(stderr, "bench diffunet: %s %d^3 edge\n", label.c_str(), size);
            timings.push_back(
                measure("edge branch", size, args.warmup, args.repeats, 477.0 * scale, [&] {
                    features.clear();
                    model->edge()->forward(image, features);
                }));
            engine::DiffUNetSampleOptions one;
            one.steps = 1;
            std::fprintf(stderr, "bench diffunet: %s %d^3 edge + 1 denoiser step\n", label.c_str(),
                         size);
            timings.push_back(measure("edge + 1 denoiser step", size, args.warmup, args.repeats,
                                      (477.0 + 489.0) * scale, [&] { model->sample(image, one); }));
            engine::DiffUNetSampleOptions full;
            full.steps = args.steps;
            std::fprintf(stderr, "bench diffunet: %s %d^3 %d-step inference\n", label.c_str(), size,
                         args.steps);
            timings.push_back(measure("inference call (" + std::to_string(args.steps) + " steps)",
                                      size, args.warmup, args.repeats,
                                      (477.0 + 489.0 * args.steps) * scale,
                                      [&] { model->sample(image, full); }));
            for (std::size_t i = timings.size() - 3; i < timings.size(); ++i) {
                timings[i].precision = label;
            }
        }
    }

    // Memory of the 3D step cache (8 bits per voxel per stored step and foreground class) and of
    // Segmenter3D's double accumulators on an uncropped prepared grid of that size.
    const std::array<std::int64_t, 3> v{args.cacheVolume[0], args.cacheVolume[1],
                                        args.cacheVolume[2]};
    const auto voxels = static_cast<std::size_t>(v[0] * v[1] * v[2]);
    nlohmann::ordered_json caches = nlohmann::ordered_json::array();
    std::printf("diffseg bench diffunet: %s (%lld parameters), %d threads, eval + "
                "InferenceMode\n",
                args.config.c_str(), static_cast<long long>(model->parameterCount()),
                diffseg::core::computeThreads());
    const std::string loadEnd = loadAverage();
    std::printf("RSS: %.0f MB before the model, %.0f MB with it; load average %s at the start, "
                "%s at the end\n",
                rssStart, rssModel, loadStart.c_str(), loadEnd.c_str());
    std::printf("forward (best of %d after %d warm-up; peak RSS during the measurement):\n",
                args.repeats, args.warmup);
    for (const Timing& t : timings) {
        std::printf("  %3d^3  %-4s  %-30s first %8.2f s  best %8.2f s (cpu %8.2f s)  ~%7.0f GMAC  "
                    "%6.1f GFLOP/s  peak %6.0f MB\n",
                    t.size, t.precision.c_str(), t.name.c_str(), t.first, t.best, t.cpuBest,
                    t.gmacs, 2.0 * t.gmacs / t.best, t.peakMb);
    }
    std::printf("3D step cache and Segmenter3D accumulators for %lldx%lldx%lld (%zu voxels):\n",
                static_cast<long long>(v[0]), static_cast<long long>(v[1]),
                static_cast<long long>(v[2]), voxels);
    for (const auto& [name, classes] :
         {std::pair<const char*, int>{"binary (AIIB, 2 classes)", 2}, {"BraTS (4 classes)", 4}}) {
        diffseg::core::StepCacheConfig cacheConfig = diffseg::core::StepCacheConfig::forVolume(
            v, diffseg::core::Geometry{}, classes - 1, args.steps);
        diffseg::core::StepCache cache(cacheConfig);
        std::vector<float> frame(voxels);
        for (std::size_t i = 0; i < voxels; ++i) {
            frame[i] = static_cast<float>((i % 511) / 255.0 - 1.0);
        }
        for (int s = 0; s < args.steps; ++s) {
            for (int m = 0; m < classes - 1; ++m) {
                cache.put(m, s, frame.data(), voxels);
            }
        }
        // Fused logits in double, each step's logits in float, the weight sums in double.
        const double accumulators =
            double(voxels) * (8.0 * classes + 4.0 * classes * args.steps + 8.0) / (1024.0 * 1024.0);
        std::printf("  %-26s step cache %7.1f MiB (%d steps x %d classes, budget %.0f MiB); "
                    "blend accumulators %7.1f MiB\n",
                    name, double(cache.bytesUsed()) / (1024.0 * 1024.0), args.steps, classes - 1,
                    double(cache.budgetBytes()) / (1024.0 * 1024.0), accumulators);
        caches.push_back({{"name", name},
                          {"classes", classes},
                          {"steps", args.steps},
                          {"step_cache_bytes", cache.bytesUsed()},
                          {"budget_bytes", cache.budgetBytes()},
                          {"accumulator_mib", accumulators}});
    }
    if (!args.json.empty()) {
        nlohmann::ordered_json doc;
        doc["config"] = args.config;
        doc["parameters"] = model->parameterCount();
        doc["threads"] = diffseg::core::computeThreads();
        doc["rss_mb"] = {{"start", rssStart}, {"model", rssModel}};
        doc["load_average"] = {{"start", loadStart}, {"end", loadEnd}};
        doc["forward"] = nlohmann::ordered_json::array();
        for (const Timing& t : timings) {
            doc["forward"].push_back({{"size", t.size},
                                      {"precision", t.precision},
                                      {"name", t.name},
                                      {"first_s", t.first},
                                      {"best_s", t.best},
                                      {"cpu_best_s", t.cpuBest},
                                      {"gmacs", t.gmacs},
                                      {"peak_rss_mb", t.peakMb}});
        }
        doc["step_cache"] = caches;
        std::ofstream out(args.json);
        out << doc.dump(2) << "\n";
        if (!out) {
            throw Error(ErrorKind::Io, args.json, "cannot write the JSON report");
        }
    }
    result.exitCode = diffseg::app::kExitOk;
}

void registerDiffUNet(CLI::App& bench, diffseg::app::CliResult& result)
{
    auto args = std::make_shared<DiffUNetBenchArgs>();
    auto* command = bench.add_subcommand(
        "diffunet",
        "Time the full Diff-UNet on one window (edge branch; edge + 1 denoiser step; an S-step "
        "inference call) with peak memory, and size the 3D step cache (set OMP_WAIT_POLICY=PASSIVE "
        "on a shared machine)");
    command->add_option("--config", args->config, "aiib2023 (1 -> 2) or brats2023 (4 -> 4)")
        ->capture_default_str();
    command->add_option("--sizes", args->sizes, "window sides to time")
        ->delimiter(',')
        ->capture_default_str();
    command->add_option("--threads", args->threads, "LibTorch intra-op threads (0 = all cores)")
        ->capture_default_str();
    command->add_option("--steps", args->steps, "steps of the inference call")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    command->add_option("--repeats", args->repeats, "timed runs (best reported)")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    command->add_option("--warmup", args->warmup, "untimed runs first")
        ->check(CLI::Range(0, 100))
        ->capture_default_str();
    command->add_option("--cache-volume", args->cacheVolume, "volume x,y,z for the step cache")
        ->delimiter(',')
        ->capture_default_str();
    command
        ->add_option("--precision", args->precisions,
                     "fp32, bf16 or auto, or several to time side by side, e.g. fp32,bf16")
        ->delimiter(',')
        ->capture_default_str();
    command->add_option("--json", args->json, "also write the figures to this JSON file");
    command->callback([args, &result] { runBench(*args, result); });
}

} // namespace

DIFFSEG_BENCH_COMMAND(diffunet, registerDiffUNet)
