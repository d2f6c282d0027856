// Micro-benchmarks of the engine: the DermoSegDiff forward of a small config, the weight
// standardisation of the full config (recomputed vs cached), the sampler's own per-step cost, and
// the boundary weight map.
// Usage: bench_engine [--threads=N] [Google Benchmark flags]

#include "engine/diffusion/DiffusionSampler.h"
#include "engine/loss/DiffusionLoss.h"
#include "engine/model/DermoSegDiff.h"
#include "runtime/Runtime.h"

#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <c10/core/InferenceMode.h>

#include <cstring>
#include <string>
#include <vector>

using namespace diffseg::core;
using namespace diffseg::core::engine;

namespace {

/// The parity fixture's config at 64x64, small enough to run many iterations.
DermoSegDiffConfig smallConfig()
{
    return DermoSegDiffConfig::fromJson(
        R"({"dim_x": 16, "dim_g": 8, "dim_x_mults": [1, 2, 3], "dim_g_mults": [1, 2, 4],
            "resnet_block_groups": 8})");
}

void BM_ForwardSmall(benchmark::State& state)
{
    const std::int64_t batch = state.range(0);
    DermoSegDiff model(smallConfig());
    model->eval();
    c10::InferenceMode inference;
    const at::Tensor x = at::randn({batch, 1, 64, 64});
    const at::Tensor g = at::rand({batch, 3, 64, 64});
    const at::Tensor t = at::full({batch}, 100, at::kLong);
    for (auto _ : state) {
        benchmark::DoNotOptimize(model->forward(x, g, t));
    }
    state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_ForwardSmall)->Arg(1)->Arg(5)->Unit(benchmark::kMillisecond);

void BM_WeightStandardisationFullConfig(benchmark::State& state)
{
    // What every forward of the reference spends on weight standardisation (the 78 WS convs of
    // DermoSegDiff-A, 0.3 G weights), against the eval-mode cache (arg 1, filled before timing).
    static DermoSegDiff model(DermoSegDiffConfig::isic2018());
    const bool cached = state.range(0) != 0;
    model->train(!cached);
    std::vector<WsConv2dLayerImpl*> layers;
    for (const auto& m : model->modules(false)) {
        if (auto* ws = dynamic_cast<WsConv2dLayerImpl*>(m.get())) {
            layers.push_back(ws);
        }
    }
    c10::NoGradGuard noGrad;
    if (cached) {
        for (auto* layer : layers) {
            layer->standardizedWeight();
        }
    }
    for (auto _ : state) {
        for (auto* layer : layers) {
            benchmark::DoNotOptimize(layer->standardizedWeight());
        }
    }
    state.counters["ws_convs"] = static_cast<double>(layers.size());
}
BENCHMARK(BM_WeightStandardisationFullConfig)
    ->Arg(0)
    ->Arg(1)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

void BM_SamplerStepOverhead(benchmark::State& state)
{
    // A DDIM run whose denoiser costs nothing: what the sampler itself adds per step.
    const DiffusionSampler sampler(NoiseSchedule{}, SamplerOptions{SamplerKind::Ddim, 50, 1.0, 0});
    const EpsilonFunction zero = [](const at::Tensor& x, const at::Tensor&) {
        return at::zeros_like(x);
    };
    c10::InferenceMode inference;
    for (auto _ : state) {
        benchmark::DoNotOptimize(sampler.sample(zero, {5, 1, 128, 128}, at::kFloat));
    }
    state.SetItemsProcessed(state.iterations() * sampler.stepCount());
}
BENCHMARK(BM_SamplerStepOverhead)->Unit(benchmark::kMillisecond);

void BM_BoundaryWeights(benchmark::State& state)
{
    // A training batch of 32 masks at 128x128 (the reference's batch size).
    const std::int64_t side = 128;
    const at::Tensor y = at::arange(side, at::kFloat).view({side, 1});
    const at::Tensor x = at::arange(side, at::kFloat).view({1, side});
    std::vector<at::Tensor> masks;
    for (int i = 0; i < 32; ++i) {
        const at::Tensor inside = ((x - 40 - i).pow(2) + (y - 60).pow(2)) <= (20 + i) * (20 + i);
        masks.push_back(at::where(inside, 1.0f, -1.0f).view({1, 1, side, side}));
    }
    const at::Tensor batch = at::cat(masks);
    const at::Tensor t = at::randint(1, 250, {32}, at::TensorOptions(at::kLong));
    for (auto _ : state) {
        benchmark::DoNotOptimize(boundaryWeights(batch, t, 250, 0.25));
    }
    state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_BoundaryWeights)->Unit(benchmark::kMillisecond);

} // namespace

int main(int argc, char** argv)
{
    int threads = 2;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::strncmp(argv[i], "--threads=", 10) == 0) {
            threads = std::stoi(argv[i] + 10);
        } else {
            args.push_back(argv[i]);
        }
    }
    setComputeThreads(threads);
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());
    benchmark::AddCustomContext("compute_threads", std::to_string(computeThreads()));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
