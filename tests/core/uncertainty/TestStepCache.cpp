#include "ExpectError.h"
#include "base/Error.h"
#include "uncertainty/StepCache.h"
#include "uncertainty/UncertaintyMaps.h"
#include "uncertainty/X0Quantisation.h"

#include <QtTest>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <thread>

using namespace diffseg::core;
using diffseg::test::expectError;

namespace {

/// A deterministic x0 estimate for (member, step): a smooth pattern in [-1.2, 1.2] (so clamping
/// happens) with exact zeros and tiny values of both signs at fixed voxels.
std::vector<float> x0Frame(std::size_t voxels, int member, int step)
{
    std::vector<float> v(voxels);
    for (std::size_t n = 0; n < voxels; ++n) {
        v[n] = 1.2f * std::sin(0.013f * float(n) + 0.7f * float(member) + 0.05f * float(step));
    }
    v[0] = 0.0f;
    v[1] = 1e-9f;
    v[2] = -1e-9f;
    v[3] = 1.0f / 255.0f; // exactly halfway between the codes 128 (1/255) and 129 (3/255)
    v[4] = -std::numeric_limits<float>::denorm_min();
    return v;
}

/// The kept-set invariants the policy documents.
void checkPlan(const std::vector<int>& kept, int steps, std::int64_t capacity, int tail)
{
    QVERIFY(!kept.empty());
    QCOMPARE(kept.front(), 0);
    QCOMPARE(kept.back(), steps - 1);
    QVERIFY(std::is_sorted(kept.begin(), kept.end()));
    QCOMPARE(std::set<int>(kept.begin(), kept.end()).size(), kept.size());
    if (capacity >= steps) {
        QCOMPARE(int(kept.size()), steps);
        return;
    }
    QVERIFY(std::int64_t(kept.size()) <= capacity);
    const int t = std::max(1, std::min(tail, int(capacity / 2)));
    // The dense tail: the last t steps, consecutive.
    for (int i = 0; i < t; ++i) {
        QCOMPARE(kept[kept.size() - 1 - i], steps - 1 - i);
    }
    // The head: 0, s, 2s, ... below steps - t with one stride.
    const std::vector<int> head(kept.begin(), kept.end() - t);
    QVERIFY(!head.empty());
    if (head.size() >= 2) {
        const int stride = head[1] - head[0];
        for (std::size_t i = 1; i < head.size(); ++i) {
            QCOMPARE(head[i] - head[i - 1], stride);
        }
        QVERIFY(head.back() + stride >= steps - t); // nothing more fits the stride
        // The stride is the smallest that fits: one less would need more than the capacity.
        if (stride > 1) {
            const int smaller = stride - 1;
            const int needed = (steps - t + smaller - 1) / smaller + t;
            QVERIFY(needed > capacity);
        }
    }
}

} // namespace

class TestStepCache : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void quantisationKeepsTheSignAndTheBound()
    {
        for (float x = -1.5f; x <= 1.5f; x += 0.0001f) {
            const std::uint8_t code = quantiseX0(x);
            const float back = dequantiseX0(code);
            const float clamped = std::min(1.0f, std::max(-1.0f, x));
            QVERIFY(std::abs(back - clamped) <= kX0MaxError + 1e-6f);
            QCOMPARE(back > 0.0f, x > 0.0f);
        }
        for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 1.0f / 255.0f, -1.0f / 255.0f}) {
            QCOMPARE(dequantiseX0(quantiseX0(x)) > 0.0f, x > 0.0f);
        }
        QCOMPARE(quantiseX0(-1.0f), std::uint8_t(0));
        QCOMPARE(quantiseX0(1.0f), std::uint8_t(255));
    }

    void exactRecallUnderBudget()
    {
        StepCacheConfig config = StepCacheConfig::forImage(64, 48, 3, 20);
        config.storeNoisy = true;
        config.geometry.spacing = {0.05, 0.07, 1.0};
        StepCache cache(config);
        QCOMPARE(cache.budgetBytes(), StepCacheConfig::kDefaultBudget2D);
        QCOMPARE(int(cache.keptSteps().size()), 20);
        const std::size_t voxels = 64 * 48;
        for (int step = 0; step < 20; ++step) {
            for (int m = 0; m < 3; ++m) {
                const std::vector<float> x0 = x0Frame(voxels, m, step);
                QVERIFY(cache.put(m, step, x0.data(), x0.size()));
                std::vector<float> xt(voxels);
                for (std::size_t n = 0; n < voxels; ++n) {
                    xt[n] = 3.0f * x0[n] + 0.5f * float(step); // unbounded, shifted range
                }
                QVERIFY(cache.put(m, step, xt.data(), xt.size(), FrameKind::Noisy));
            }
        }
        QCOMPARE(cache.bytesUsed(), std::size_t(2 * 3 * 20) * voxels);
        for (int step = 0; step < 20; ++step) {
            for (int m = 0; m < 3; ++m) {
                const StepFrame f = cache.get(m, step);
                QCOMPARE(f.step, step);
                QCOMPARE(f.member, m);
                const std::vector<float> x0 = x0Frame(voxels, m, step);
                const float* got = f.values.data<float>();
                for (std::size_t n = 0; n < voxels; ++n) {
                    const float clamped = std::min(1.0f, std::max(-1.0f, x0[n]));
                    QVERIFY(std::abs(got[n] - clamped) <= kX0MaxError + 1e-6f);
                    QVERIFY((got[n] > 0.0f) == (x0[n] > 0.0f));
                }
                const StepFrame noisy = cache.get(m, step, FrameKind::Noisy);
                float lo = 1e30f, hi = -1e30f;
                for (float v : x0) {
                    lo = std::min(lo, 3.0f * v + 0.5f * float(step));
                    hi = std::max(hi, 3.0f * v + 0.5f * float(step));
                }
                const float bound = (hi - lo) / 510.0f + 1e-5f;
                for (std::size_t n = 0; n < voxels; ++n) {
                    const float expected = 3.0f * x0[n] + 0.5f * float(step);
                    QVERIFY(std::abs(noisy.values.data<float>()[n] - expected) <= bound);
                }
            }
        }
        // The Image2D view shares the frame's floats and carries the pixel size.
        const StepFrame f = cache.get(1, 7);
        const Image2D view = f.image();
        QCOMPARE(view.width(), 64);
        QCOMPARE(view.spacing()[1], 0.07);
        QCOMPARE(view.rawData(), f.values.rawData());
        // getInto() fills caller memory with the same values.
        std::vector<float> buffer(voxels);
        QCOMPARE(cache.getInto(1, 7, buffer.data(), buffer.size()), 7);
        QVERIFY(std::memcmp(buffer.data(), f.values.rawData(), voxels * sizeof(float)) == 0);
    }

    void noisyFramesOfAnyRange()
    {
        StepCacheConfig config = StepCacheConfig::forImage(4, 2, 1, 3);
        config.storeNoisy = true;
        StepCache cache(config);
        // A constant frame comes back exactly; extreme finite ranges never produce NaN.
        std::vector<float> flat(8, -7.25f);
        QVERIFY(cache.put(0, 0, flat.data(), flat.size(), FrameKind::Noisy));
        const StepFrame f = cache.get(0, 0, FrameKind::Noisy);
        QCOMPARE(f.values.data<float>()[5], -7.25f);
        const float big = std::numeric_limits<float>::max();
        std::vector<float> wide{-big, big, 0.0f, 1.0f, -big, big, 0.5f * big, -0.5f * big};
        QVERIFY(cache.put(0, 1, wide.data(), wide.size(), FrameKind::Noisy));
        const StepFrame w = cache.get(0, 1, FrameKind::Noisy);
        for (int n = 0; n < 8; ++n) {
            QVERIFY(std::isfinite(w.values.data<float>()[n]));
        }
        QVERIFY(w.values.data<float>()[1] > 0.99f * big);
        QVERIFY(w.values.data<float>()[0] < -0.99f * big);
        // x0 and x_t of one step are separate frames.
        QVERIFY(!cache.get(0, 0).valid());
    }

    void budgetIsRespected()
    {
        // 128x128, 5 members, 250 DDPM steps: 20 MiB in full, so a 4 MiB budget keeps 51 steps.
        StepCacheConfig config = StepCacheConfig::forImage(128, 128, 5, 250);
        config.budgetBytes = std::size_t(4) << 20;
        StepCache cache(config);
        const std::size_t voxels = 128 * 128;
        QCOMPARE(cache.frameBytes(), voxels);
        const std::int64_t capacity = std::int64_t(config.budgetBytes / (5 * voxels));
        QCOMPARE(capacity, std::int64_t(51));
        checkPlan(cache.keptSteps(), 250, capacity, config.denseTail);
        std::size_t stored = 0;
        for (int step = 0; step < 250; ++step) {
            for (int m = 0; m < 5; ++m) {
                const std::vector<float> x0 = x0Frame(voxels, m, step);
                const bool kept = cache.put(m, step, x0.data(), x0.size());
                QCOMPARE(kept, cache.isKept(step));
                stored += kept ? 1 : 0;
                QVERIFY(cache.bytesUsed() <= cache.budgetBytes());
            }
        }
        QCOMPARE(cache.bytesUsed(), stored * voxels);
        QCOMPARE(stored, cache.keptSteps().size() * 5);
        // Putting a kept step again replaces it without growing.
        const std::vector<float> again = x0Frame(voxels, 0, 249);
        QVERIFY(cache.put(0, 249, again.data(), again.size()));
        QCOMPARE(cache.bytesUsed(), stored * voxels);
        cache.clear();
        QCOMPARE(cache.bytesUsed(), std::size_t(0));
        QVERIFY(!cache.get(0, 10).valid());
    }

    void droppingPolicy()
    {
        checkPlan(StepCache::planKeptSteps(250, 51, 10), 250, 51, 10);
        // Capacity 2 keeps the ends, 3 adds the middle.
        QCOMPARE(StepCache::planKeptSteps(250, 2, 10), (std::vector<int>{0, 249}));
        QCOMPARE(StepCache::planKeptSteps(250, 3, 10), (std::vector<int>{0, 125, 249}));
        QCOMPARE(StepCache::planKeptSteps(5, 9, 10), (std::vector<int>{0, 1, 2, 3, 4}));
        QCOMPARE(StepCache::planKeptSteps(1, 1, 10), (std::vector<int>{0}));
        QVERIFY_THROWS_EXCEPTION(Error, StepCache::planKeptSteps(250, 1, 10));
        QVERIFY_THROWS_EXCEPTION(Error, StepCache::planKeptSteps(0, 5, 10));
        for (int steps : {2, 3, 10, 50, 250, 1000}) {
            for (std::int64_t c = 2; c <= steps + 1; c += (steps > 60 ? 7 : 1)) {
                for (int tail : {0, 1, 10}) {
                    checkPlan(StepCache::planKeptSteps(steps, c, tail), steps, c, tail);
                }
            }
        }

        // A dropped step returns the nearest kept one, and says which; ties go to the later step.
        StepCacheConfig config = StepCacheConfig::forImage(8, 8, 1, 100);
        config.budgetBytes = 64 * 7; // 7 steps
        config.denseTail = 2;
        StepCache cache(config);
        // tail 2 (98, 99); head 0..97 in 5 steps: stride ceil(98 / 5) = 20.
        QCOMPARE(cache.keptSteps(), (std::vector<int>{0, 20, 40, 60, 80, 98, 99}));
        QVERIFY(!cache.get(0, 50).valid()); // nothing stored yet
        for (int step = 0; step < 100; ++step) {
            std::vector<float> v(64, float(step) / 100.0f);
            cache.put(0, step, v.data(), v.size());
        }
        QCOMPARE(cache.get(0, 20).step, 20);
        QCOMPARE(cache.get(0, 29).step, 20);
        QCOMPARE(cache.get(0, 30).step, 40); // tie between 20 and 40
        QCOMPARE(cache.get(0, 88).step, 80);
        QCOMPARE(cache.get(0, 89).step, 98); // tie between 80 and 98
        const StepFrame f = cache.get(0, 33);
        QCOMPARE(f.requestedStep, 33);
        QCOMPARE(f.step, 40);
        QVERIFY(std::abs(f.values.data<float>()[0] - 0.4f) <= kX0MaxError + 1e-6f);
        QCOMPARE(cache.storedSteps(0), cache.keptSteps());
    }

    void defaultBudgetsAndTooSmallBudgets()
    {
        StepCache image(StepCacheConfig::forImage(128, 128, 5, 250));
        QCOMPARE(image.budgetBytes(), std::size_t(64) << 20);
        QCOMPARE(int(image.keptSteps().size()), 250); // 20 MiB fits
        Geometry g;
        g.spacing = {1.0, 1.0, 2.0};
        StepCache volume(StepCacheConfig::forVolume({96, 96, 64}, g, 4, 10));
        QCOMPARE(volume.budgetBytes(), std::size_t(512) << 20);

        StepCacheConfig tiny = StepCacheConfig::forImage(1024, 1024, 5, 250);
        tiny.budgetBytes = std::size_t(8) << 20; // one step of 5 members is 5 MiB
        const Error e = expectError([&] { StepCache c(tiny); });
        QCOMPARE(e.kind(), ErrorKind::Config);
        QVERIFY2(std::strstr(e.what(), "budgetBytes") && std::strstr(e.what(), "first and last"),
                 e.what());
    }

    void meanOverMembers()
    {
        StepCacheConfig config = StepCacheConfig::forImage(4, 4, 3, 10);
        StepCache cache(config);
        QVERIFY(!cache.meanOverMembers(5).valid());
        const float values[3] = {-0.6f, 0.2f, 0.7f};
        for (int m = 0; m < 3; ++m) {
            std::vector<float> v(16, values[m]);
            cache.put(m, 4, v.data(), v.size());
        }
        const StepFrame mean = cache.meanOverMembers(5);
        QCOMPARE(mean.step, 4);
        QCOMPARE(mean.memberCount, 3);
        QCOMPARE(mean.member, -1);
        QVERIFY(std::abs(mean.values.data<float>()[9] - 0.1f) <= kX0MaxError + 1e-6f);
        // Only member 1 has step 9 so far: the nearest step with any member wins, with its
        // members only.
        std::vector<float> late(16, 0.9f);
        cache.put(1, 9, late.data(), late.size());
        const StepFrame partial = cache.meanOverMembers(8);
        QCOMPARE(partial.step, 9);
        QCOMPARE(partial.memberCount, 1);
        QVERIFY(std::abs(partial.values.data<float>()[0] - 0.9f) <= kX0MaxError + 1e-6f);
    }

    void stepInstabilityMatchesTheMapFunction()
    {
        const int steps = 30, members = 3;
        StepCacheConfig config = StepCacheConfig::forImage(16, 8, members, steps);
        StepCache cache(config);
        std::vector<std::vector<Image2D>> trajectories(members);
        const int lastSteps = 6;
        for (int step = 0; step < steps; ++step) {
            for (int m = 0; m < members; ++m) {
                const std::vector<float> v = x0Frame(128, m, step * 7);
                cache.put(m, step, v.data(), v.size());
                if (step >= steps - 1 - lastSteps) {
                    Image2D img(16, 8, 1, PixelType::Float32);
                    std::memcpy(img.data<float>(), v.data(), v.size() * sizeof(float));
                    trajectories[std::size_t(m)].push_back(img);
                }
            }
        }
        const StepFrame fromCache = cache.stepInstability(lastSteps);
        const Image2D direct = stepInstability(trajectories);
        QCOMPARE(fromCache.memberCount, members);
        QCOMPARE(fromCache.steps.front(), steps - 1 - lastSteps);
        QCOMPARE(fromCache.steps.back(), steps - 1);
        bool someFlip = false;
        for (std::size_t n = 0; n < 128; ++n) {
            QVERIFY(std::abs(fromCache.values.data<float>()[n] - direct.data<float>()[n]) < 1e-6f);
            someFlip |= direct.data<float>()[n] > 0.0f;
        }
        QVERIFY(someFlip);
        QVERIFY_THROWS_EXCEPTION(Error, cache.stepInstability(0));
        StepCache empty(config);
        QVERIFY_THROWS_EXCEPTION(Error, empty.stepInstability(5));
    }

    void oneWriterAndReadersConcurrently()
    {
        // The sampler thread writes while a GUI thread reads: every frame a reader gets must be
        // complete and belong to the step it reports.
        const int steps = 120, members = 4;
        StepCacheConfig config = StepCacheConfig::forImage(96, 64, members, steps);
        config.budgetBytes = std::size_t(96 * 64) * members * 40; // forces thinning
        StepCache cache(config);
        const std::size_t voxels = 96 * 64;
        std::atomic<bool> done{false};
        std::atomic<int> checked{0};
        std::atomic<int> failures{0};
        std::thread writer([&] {
            for (int step = 0; step < steps; ++step) {
                for (int m = 0; m < members; ++m) {
                    // Constant frames with a value that encodes (member, step).
                    const float value =
                        -0.9f + 1.8f * float(step * members + m) / float(steps * members);
                    std::vector<float> v(voxels, value);
                    cache.put(m, step, v.data(), v.size());
                }
            }
            done = true;
        });
        std::thread reader([&] {
            std::mt19937 rng(3);
            std::vector<float> buffer(voxels);
            while (!done || checked < 200) {
                const int m = int(rng() % members);
                const int step = int(rng() % steps);
                const StepFrame f = cache.get(m, step);
                if (f.valid()) {
                    const float expected =
                        -0.9f + 1.8f * float(f.step * members + m) / float(steps * members);
                    const float* v = f.values.data<float>();
                    if (!cache.isKept(f.step) || std::abs(v[0] - expected) > kX0MaxError ||
                        std::abs(v[voxels - 1] - v[0]) > 0.0f) {
                        ++failures;
                    }
                    ++checked;
                }
                const int got = cache.getInto(m, step, buffer.data(), buffer.size());
                if (got >= 0 && !cache.isKept(got)) {
                    ++failures;
                }
                if (cache.bytesUsed() > cache.budgetBytes()) {
                    ++failures;
                }
                cache.meanOverMembers(step);
                cache.storedSteps(m);
            }
        });
        writer.join();
        reader.join();
        QCOMPARE(failures.load(), 0);
        QVERIFY(checked.load() >= 200);
        QCOMPARE(cache.bytesUsed(), cache.keptSteps().size() * members * voxels);
    }

    void badInputIsRejectedAndNothingIsStored()
    {
        StepCacheConfig config = StepCacheConfig::forImage(8, 8, 2, 10);
        StepCache cache(config);
        std::vector<float> v(64, 0.5f);
        Error e = expectError([&] { cache.put(2, 0, v.data(), v.size()); });
        QCOMPARE(e.kind(), ErrorKind::InvalidValue);
        QVERIFY2(std::strstr(e.what(), "member"), e.what());
        e = expectError([&] { cache.put(0, 10, v.data(), v.size()); });
        QVERIFY2(std::strstr(e.what(), "step"), e.what());
        e = expectError([&] { cache.put(0, 0, v.data(), 63); });
        QCOMPARE(e.kind(), ErrorKind::Mismatch);
        QVERIFY_THROWS_EXCEPTION(Error, cache.put(0, 0, nullptr, 64));
        v[17] = std::numeric_limits<float>::quiet_NaN();
        e = expectError([&] { cache.put(1, 3, v.data(), v.size()); });
        QVERIFY2(std::strstr(e.what(), "member 1, step 3") && std::strstr(e.what(), "non-finite"),
                 e.what());
        v[17] = std::numeric_limits<float>::infinity();
        QVERIFY_THROWS_EXCEPTION(Error, cache.put(1, 3, v.data(), v.size()));
        QCOMPARE(cache.bytesUsed(), std::size_t(0));
        v[17] = 0.5f;
        e = expectError([&] { cache.put(0, 0, v.data(), v.size(), FrameKind::Noisy); });
        QCOMPARE(e.kind(), ErrorKind::Config);
        QVERIFY_THROWS_EXCEPTION(Error, cache.get(0, -1));
        std::vector<float> small(10);
        QVERIFY_THROWS_EXCEPTION(Error, cache.getInto(0, 0, small.data(), small.size()));
        QVERIFY_THROWS_EXCEPTION(Error, cache.put(0, 0, Image2D(9, 8, 1, PixelType::Float32)));
        QVERIFY_THROWS_EXCEPTION(Error, cache.put(0, 0, Image2D(8, 8, 1, PixelType::UInt8)));
        QVERIFY(cache.put(0, 0, Image2D(8, 8, 1, PixelType::Float32)));
        // 3D frames have no 2D view.
        StepCache volume(StepCacheConfig::forVolume({4, 4, 4}, Geometry{}, 1, 2));
        Volume frame({4, 4, 4}, 1, PixelType::Float32);
        QVERIFY(volume.put(0, 1, frame));
        QVERIFY_THROWS_EXCEPTION(Error, volume.get(0, 1).image());
        QCOMPARE(volume.get(0, 0).step, 1);

        StepCacheConfig bad = config;
        bad.members = 0;
        QVERIFY_THROWS_EXCEPTION(Error, StepCache{bad});
        bad = config;
        bad.steps = 0;
        QVERIFY_THROWS_EXCEPTION(Error, StepCache{bad});
        bad = config;
        bad.size = {8, 8, 2};
        QVERIFY_THROWS_EXCEPTION(Error, StepCache{bad});
        bad = config;
        bad.timesteps = {9, 8, 7};
        e = expectError([&] { StepCache c(bad); });
        QVERIFY2(std::strstr(e.what(), "timesteps"), e.what());
    }
};

QTEST_GUILESS_MAIN(TestStepCache)
#include "TestStepCache.moc"
