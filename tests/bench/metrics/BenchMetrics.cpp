// Speed of the metrics (HD95 on 512x512 and 128^3 masks), the Otsu baseline, the uncertainty maps
// and the step cache (get() latency, put() cost).
//   build/tests/bench/metrics/bench_metrics --benchmark_min_time=0.5

#include "base/SampleData.h"
#include "metrics/OtsuBaseline.h"
#include "metrics/SegmentationMetrics.h"
#include "uncertainty/StepCache.h"
#include "uncertainty/UncertaintyMaps.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <random>

using namespace diffseg::core;

namespace {

BinaryMask discMask(std::int64_t side, double cx, double cy, double r)
{
    BinaryMask m({side, side, 1}, {1.0, 1.0, 1.0}, 2);
    for (std::int64_t y = 0; y < side; ++y) {
        for (std::int64_t x = 0; x < side; ++x) {
            m.at(x, y) = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r ? 1 : 0;
        }
    }
    return m;
}

BinaryMask ballMask(std::int64_t side, const std::array<double, 3>& c, double r)
{
    BinaryMask m({side, side, side}, {1.0, 1.0, 2.0}, 3);
    for (std::int64_t z = 0; z < side; ++z) {
        for (std::int64_t y = 0; y < side; ++y) {
            for (std::int64_t x = 0; x < side; ++x) {
                const double dx = x - c[0], dy = y - c[1], dz = z - c[2];
                m.at(x, y, z) = dx * dx + dy * dy + dz * dz <= r * r ? 1 : 0;
            }
        }
    }
    return m;
}

/// HD95 + ASSD + overlap of two shifted discs filling much of a 512x512 image.
void BM_CaseMetrics2D(benchmark::State& state)
{
    const std::int64_t side = state.range(0);
    const BinaryMask a = discMask(side, side * 0.5, side * 0.5, side * 0.3);
    const BinaryMask b = discMask(side, side * 0.5 + 7, side * 0.5 + 4, side * 0.3);
    MetricsOptions options;
    options.computeDistances = state.range(1) != 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(computeCaseMetrics(a, b, options));
    }
    state.counters["surface_voxels"] =
        double(computeCaseMetrics(a, b).surface.predictionSurfaceVoxels);
}
BENCHMARK(BM_CaseMetrics2D)
    ->ArgsProduct({{512}, {0, 1}})
    ->ArgNames({"side", "distances"})
    ->Unit(benchmark::kMillisecond);

/// The same on 128^3 balls (radius 40 voxels, spacing 1 x 1 x 2 mm).
void BM_CaseMetrics3D(benchmark::State& state)
{
    const std::int64_t side = state.range(0);
    const BinaryMask a = ballMask(side, {64, 64, 64}, 40);
    const BinaryMask b = ballMask(side, {67, 66, 65}, 40);
    MetricsOptions options;
    options.computeDistances = state.range(1) != 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(computeCaseMetrics(a, b, options));
    }
}
BENCHMARK(BM_CaseMetrics3D)
    ->ArgsProduct({{128}, {0, 1}})
    ->ArgNames({"side", "distances"})
    ->Unit(benchmark::kMillisecond);

/// The Otsu baseline on a procedural dermoscopy image of side N (reduced to 512 internally).
void BM_OtsuBaseline(benchmark::State& state)
{
    const SampleLesion s = makeSampleLesion(int(state.range(0)), 3);
    for (auto _ : state) {
        benchmark::DoNotOptimize(otsuBaseline(s.image));
    }
}
BENCHMARK(BM_OtsuBaseline)->Arg(512)->Arg(2048)->Unit(benchmark::kMillisecond);

std::vector<Image2D> probabilityMembers(int side, int members)
{
    std::vector<Image2D> out;
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (int k = 0; k < members; ++k) {
        Image2D p(side, side, 1, PixelType::Float32);
        for (std::size_t n = 0; n < p.pixelCount(); ++n) {
            p.data<float>()[n] = u(rng);
        }
        out.push_back(p);
    }
    return out;
}

void BM_EnsembleStd(benchmark::State& state)
{
    const std::vector<Image2D> members = probabilityMembers(int(state.range(0)), 5);
    for (auto _ : state) {
        benchmark::DoNotOptimize(ensembleStd(members));
    }
}
BENCHMARK(BM_EnsembleStd)->Arg(128)->Arg(1024)->Unit(benchmark::kMicrosecond);

void BM_PredictiveEntropy(benchmark::State& state)
{
    const std::vector<Image2D> members = probabilityMembers(int(state.range(0)), 5);
    for (auto _ : state) {
        benchmark::DoNotOptimize(predictiveEntropy(members));
    }
}
BENCHMARK(BM_PredictiveEntropy)->Arg(128)->Arg(1024)->Unit(benchmark::kMicrosecond);

/// A 2D cache of 5 members x 250 steps at the default 64 MiB budget, filled like a DDPM run.
/// 128x128 keeps all 250 steps (20 MiB); 1024x1024 keeps 12 (5 MiB per step).
std::unique_ptr<StepCache> filledCache(int side, int members, int steps)
{
    auto cache = std::make_unique<StepCache>(StepCacheConfig::forImage(side, side, members, steps));
    std::vector<float> frame(std::size_t(side) * side);
    for (int step = 0; step < steps; ++step) {
        for (int m = 0; m < members; ++m) {
            if (!cache->isKept(step)) {
                continue;
            }
            for (std::size_t n = 0; n < frame.size(); ++n) {
                frame[n] = std::sin(0.001f * float(n) + float(step + m));
            }
            cache->put(m, step, frame.data(), frame.size());
        }
    }
    return cache;
}

/// Random access to any (member, step): get() allocates and dequantises a fresh frame.
void BM_StepCacheGet(benchmark::State& state)
{
    const int side = int(state.range(0));
    const std::unique_ptr<const StepCache> cache = filledCache(side, 5, 250);
    std::mt19937 rng(7);
    for (auto _ : state) {
        benchmark::DoNotOptimize(cache->get(int(rng() % 5), int(rng() % 250)));
    }
    state.counters["kept_steps"] = double(cache->keptSteps().size());
    state.counters["MiB_used"] = double(cache->bytesUsed()) / (1 << 20);
}
BENCHMARK(BM_StepCacheGet)->Arg(128)->Arg(1024)->Unit(benchmark::kMicrosecond);

/// getInto(): the same into a reused buffer (what a view repainting on a slider drag does).
void BM_StepCacheGetInto(benchmark::State& state)
{
    const int side = int(state.range(0));
    const std::unique_ptr<const StepCache> cache = filledCache(side, 5, 250);
    std::vector<float> out(std::size_t(side) * side);
    std::mt19937 rng(7);
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            cache->getInto(int(rng() % 5), int(rng() % 250), out.data(), out.size()));
    }
}
BENCHMARK(BM_StepCacheGetInto)->Arg(128)->Arg(1024)->Unit(benchmark::kMicrosecond);

void BM_StepCacheMeanOverMembers(benchmark::State& state)
{
    const int side = int(state.range(0));
    const std::unique_ptr<const StepCache> cache = filledCache(side, 5, 250);
    std::mt19937 rng(7);
    for (auto _ : state) {
        benchmark::DoNotOptimize(cache->meanOverMembers(int(rng() % 250)));
    }
}
BENCHMARK(BM_StepCacheMeanOverMembers)->Arg(128)->Arg(1024)->Unit(benchmark::kMicrosecond);

/// put() of a kept step (validate + quantise + publish) as the sampler calls it.
void BM_StepCachePut(benchmark::State& state)
{
    const int side = int(state.range(0));
    StepCache cache(StepCacheConfig::forImage(side, side, 5, 250));
    std::vector<float> frame(std::size_t(side) * side);
    for (std::size_t n = 0; n < frame.size(); ++n) {
        frame[n] = std::sin(0.001f * float(n));
    }
    const int step = cache.keptSteps().back();
    for (auto _ : state) {
        benchmark::DoNotOptimize(cache.put(0, step, frame.data(), frame.size()));
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(frame.size()) * 4);
}
BENCHMARK(BM_StepCachePut)->Arg(128)->Arg(1024)->Unit(benchmark::kMicrosecond);

/// get() on a 3D cache: 128^3 frames, 4 members x 10 steps (80 MiB of the 512 MiB default).
void BM_StepCacheGet3D(benchmark::State& state)
{
    const std::int64_t side = state.range(0);
    StepCache cache(StepCacheConfig::forVolume({side, side, side}, Geometry{}, 4, 10));
    std::vector<float> frame(std::size_t(side * side * side), 0.25f);
    for (int step = 0; step < 10; ++step) {
        for (int m = 0; m < 4; ++m) {
            cache.put(m, step, frame.data(), frame.size());
        }
    }
    std::mt19937 rng(7);
    for (auto _ : state) {
        benchmark::DoNotOptimize(cache.get(int(rng() % 4), int(rng() % 10)));
    }
}
BENCHMARK(BM_StepCacheGet3D)->Arg(128)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
