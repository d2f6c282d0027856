#include "EngineBenchmark.h"

#include "base/Error.h"
#include "engine/diffusion/DiffusionSampler.h"
#include "engine/model/DermoSegDiff.h"
#include "engine/training/ExponentialMovingAverage.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <sys/resource.h>

namespace diffseg::core::engine {

namespace {

DermoSegDiffConfig resolveConfig(const std::string& name)
{
    if (name == "small") {
        DermoSegDiffConfig c;
        c.dimX = 32;
        c.dimG = 16;
        c.dimXMults = {1, 2, 3, 4};
        c.dimGMults = {1, 2, 4, 8};
        return c;
    }
    std::error_code ec;
    if (std::filesystem::is_regular_file(name, ec)) {
        std::ifstream in(name);
        std::stringstream text;
        text << in.rdbuf();
        return DermoSegDiffConfig::fromJson(text.str(), name);
    }
    return DermoSegDiffConfig::preset(name);
}

double processCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double secondsOf(const std::function<void()>& run, double* cpuSeconds = nullptr)
{
    const double cpuStart = processCpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    run();
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (cpuSeconds != nullptr) {
        *cpuSeconds = processCpuSeconds() - cpuStart;
    }
    return wall;
}

BenchTiming measure(const std::string& name, int batch, int warmup, int repeats,
                    const std::function<void()>& run)
{
    BenchTiming timing;
    timing.name = name;
    timing.batch = batch;
    for (int i = 0; i < warmup; ++i) {
        const double s = secondsOf(run);
        if (i == 0) {
            timing.first = s;
        }
    }
    double fastest = 0.0;
    for (int i = 0; i < repeats; ++i) {
        double cpu = 0.0;
        timing.seconds.push_back(secondsOf(run, &cpu));
        if (i == 0 || timing.seconds.back() < fastest) {
            fastest = timing.seconds.back();
            timing.cpuBest = cpu;
        }
    }
    std::vector<double> sorted = timing.seconds;
    std::sort(sorted.begin(), sorted.end());
    timing.best = sorted.front();
    timing.median = sorted[sorted.size() / 2];
    return timing;
}

double peakRssMb()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stod(line.substr(6)) / 1024.0;
        }
    }
    return 0.0;
}

/// Restores LibTorch's thread count when the benchmark ends.
class ThreadScope
{
public:
    explicit ThreadScope(int threads)
        : m_previous(at::get_num_threads())
    {
        at::set_num_threads(threads);
    }
    ~ThreadScope() { at::set_num_threads(m_previous); }
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

private:
    int m_previous;
};

void addRoofline(ForwardBenchReport& report, const ForwardBenchOptions& options,
                 const ProgressCallback& progress)
{
    c10::InferenceMode inference;
    struct Shape
    {
        std::int64_t in, out, side;
    };
    // Convolutions the DermoSegDiff-A forward spends most of its time in (3x3, stride 1).
    for (const Shape s :
         {Shape{128, 128, 128}, Shape{256, 256, 64}, Shape{384, 384, 32}, Shape{512, 512, 16}}) {
        // In the run's precision and layout: bf16 runs channels-last.
        const bool bf16 = report.precision == "bf16";
        const auto dtype = bf16 ? at::kBFloat16 : at::kFloat;
        at::Tensor x = at::randn({1, s.in, s.side, s.side}).to(dtype);
        const at::Tensor w = at::randn({s.out, s.in, 3, 3}).to(dtype);
        const at::Tensor b = at::randn({s.out}).to(dtype);
        if (options.channelsLast.value_or(bf16)) {
            x = x.contiguous(at::MemoryFormat::ChannelsLast);
        }
        std::ostringstream name;
        name << "conv3x3 " << s.in << "->" << s.out << " @" << s.side << "x" << s.side
             << (bf16 ? " bf16" : "");
        reportProgress(progress, -1.0, "roofline", name.str());
        BenchTiming t = measure(name.str(), 1, 1, std::max(3, options.repeats),
                                [&] { at::conv2d(x, w, b, 1, 1); });
        t.gmacs = static_cast<double>(s.side * s.side * s.in * s.out * 9) / 1e9;
        t.gflops = 2.0 * t.gmacs / t.best;
        report.rooflineGflops = std::max(report.rooflineGflops, t.gflops);
        report.roofline.push_back(t);
    }
    const std::int64_t n = 2048;
    const at::Tensor a = at::randn({n, n});
    const at::Tensor b = at::randn({n, n});
    reportProgress(progress, -1.0, "roofline", "sgemm 2048");
    BenchTiming t =
        measure("sgemm 2048x2048x2048", 1, 1, std::max(3, options.repeats), [&] { at::mm(a, b); });
    t.gmacs = static_cast<double>(n * n * n) / 1e9;
    t.gflops = 2.0 * t.gmacs / t.best;
    report.roofline.push_back(t);
    for (BenchTiming& r : report.roofline) {
        r.percentOfRoofline = 100.0 * r.gflops / report.rooflineGflops;
    }
}

/// Runs `call` once under LibTorch's profiler and writes its operators to `path` (Chrome trace).
void writeProfile(const std::string& path, const std::function<void()>& call)
{
    {
        torch::autograd::profiler::RecordProfile profile(path);
        call();
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::Io, path, "cannot write the profile");
    }
}

void addForward(ForwardBenchReport& report, const ForwardBenchOptions& options,
                const DermoSegDiffConfig& config, const ProgressCallback& progress)
{
    DermoSegDiff model(config);
    model->eval();
    model->setChannelsLast(options.channelsLast);
    model->setBf16(report.precision == "bf16");
    model->setRewrites(options.rewrites);
    report.parameters = model->parameterCount();
    c10::InferenceMode inference;
    for (int batch : options.batches) {
        const at::Tensor x = at::randn({batch, config.channelsX, options.size, options.size});
        const at::Tensor g = at::rand({batch, config.channelsG, options.size, options.size});
        const at::Tensor t = at::randint(0, 250, {batch}, at::TensorOptions(at::kLong));
        reportProgress(progress, -1.0, "forward", "B=" + std::to_string(batch));
        BenchTiming timing = measure("forward", batch, std::max(1, options.warmup), options.repeats,
                                     [&] { model->forward(x, g, t); });
        timing.channelsLast = model->usesChannelsLast(batch);
        MacCountScope macs;
        model->forward(x, g, t);
        timing.gmacs = static_cast<double>(macs.macs()) / 1e9;
        timing.gflops = 2.0 * timing.gmacs / timing.best;
        if (report.rooflineGflops > 0.0) {
            timing.percentOfRoofline = 100.0 * timing.gflops / report.rooflineGflops;
        }
        report.forward.push_back(timing);
        if (!options.profilePath.empty()) {
            writeProfile(options.profilePath + "-forward-B" + std::to_string(batch) + ".json",
                         [&] { model->forward(x, g, t); });
        }
    }
}

void addTrainStep(ForwardBenchReport& report, const ForwardBenchOptions& options,
                  const ProgressCallback& progress)
{
    const DermoSegDiffConfig config = resolveConfig(options.trainConfig);
    DermoSegDiff model(config);
    model->train(true);
    model->setChannelsLast(options.channelsLast);
    model->setBf16(report.precision == "bf16");
    model->setRewrites(options.rewrites);
    const NoiseSchedule schedule;
    torch::optim::Adam optimizer(
        model->parameters(), torch::optim::AdamOptions(1e-4).betas({0.7, 0.99}).weight_decay(0.0));
    ExponentialMovingAverage ema(*model, EmaConfig{});
    const int batch = options.trainBatch;
    const int side = options.trainSize;
    const at::Tensor x0 =
        at::where(at::rand({batch, config.channelsX, side, side}) > 0.5, 1.0, -1.0);
    const at::Tensor g = at::rand({batch, config.channelsG, side, side});
    std::int64_t macsPerStep = 0;
    // Where a step's time goes: forward + backward, optimizer, EMA (summed over all runs).
    double passSeconds = 0.0;
    double optimizerSeconds = 0.0;
    double emaSeconds = 0.0;
    int steps = 0;
    const auto step = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        const at::Tensor t =
            at::randint(1, schedule.timesteps(), {batch}, at::TensorOptions(at::kLong));
        const at::Tensor noise = at::randn_like(x0);
        MacCountScope macs;
        const at::Tensor eps = model->forward(qSample(schedule, x0, t, noise), g, t);
        macsPerStep = macs.macs();
        const at::Tensor loss = at::mse_loss(eps, noise);
        optimizer.zero_grad();
        loss.backward();
        const auto t1 = std::chrono::steady_clock::now();
        optimizer.step();
        const auto t2 = std::chrono::steady_clock::now();
        ema.update(*model);
        const auto t3 = std::chrono::steady_clock::now();
        passSeconds += std::chrono::duration<double>(t1 - t0).count();
        optimizerSeconds += std::chrono::duration<double>(t2 - t1).count();
        emaSeconds += std::chrono::duration<double>(t3 - t2).count();
        ++steps;
    };
    reportProgress(progress, -1.0, "train", "B=" + std::to_string(batch));
    BenchTiming timing = measure("train step (" + options.trainConfig + ", Adam + EMA)", batch,
                                 std::max(1, options.warmup), options.repeats, step);
    timing.channelsLast = model->usesChannelsLast(batch);
    // Backward costs about twice the forward's multiply-accumulates.
    timing.gmacs = 3.0 * static_cast<double>(macsPerStep) / 1e9;
    timing.gflops = 2.0 * timing.gmacs / timing.best;
    if (report.rooflineGflops > 0.0) {
        timing.percentOfRoofline = 100.0 * timing.gflops / report.rooflineGflops;
    }
    timing.parts = {{"forward + backward", passSeconds / steps},
                    {"optimizer", optimizerSeconds / steps},
                    {"EMA", emaSeconds / steps}};
    report.train.push_back(timing);
    if (!options.profilePath.empty()) {
        reportProgress(progress, -1.0, "train", "profiling one step");
        writeProfile(options.profilePath + "-train.json", step);
    }
}

} // namespace

ForwardBenchReport runForwardBenchmark(const ForwardBenchOptions& options,
                                       const ProgressCallback& progress)
{
    if (options.threads < 1 || options.threads > 1024) {
        throw Error(ErrorKind::Config, "--threads", "must be in [1, 1024]");
    }
    if (options.repeats < 1 || options.warmup < 0) {
        throw Error(ErrorKind::Config, "--repeats", "needs at least one timed repeat");
    }
    if (options.batches.empty()) {
        throw Error(ErrorKind::Config, "--batch", "needs at least one batch size");
    }
    for (int b : options.batches) {
        if (b < 1 || b > 1024) {
            throw Error(ErrorKind::Config, "--batch", "batch sizes must be in [1, 1024]");
        }
    }
    const DermoSegDiffConfig config = resolveConfig(options.config);
    for (const auto& [key, side] : {std::pair<const char*, int>{"--size", options.size},
                                    {"--train-size", options.trainSize}}) {
        if (side < 1 || side > 4096 || side % config.sizeMultiple() != 0) {
            throw Error(ErrorKind::Config, key,
                        std::to_string(side) + " must be a positive multiple of " +
                            std::to_string(config.sizeMultiple()));
        }
    }
    ThreadScope threads(options.threads);
    ForwardBenchReport report;
    report.config = config.toJson();
    report.threads = at::get_num_threads();
    report.size = options.size;
    report.layout = !options.channelsLast   ? "auto"
                    : *options.channelsLast ? "channels-last"
                                            : "nchw";
    report.precision = precisionName(resolvePrecision(options.precision, "cpu"));
    report.rewrites = options.rewrites;
    if (options.roofline) {
        addRoofline(report, options, progress);
    }
    addForward(report, options, config, progress);
    if (options.trainStep) {
        addTrainStep(report, options, progress);
    }
    report.peakRssMb = peakRssMb();
    return report;
}

} // namespace diffseg::core::engine
