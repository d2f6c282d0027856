// Sliding-window inference (MONAI semantics, seed spec §B7.2-3): window starts, the Gaussian
// importance map, blending that is exact on constant and identity models, constant-0 padding of
// volumes smaller than the window, odd sizes, single-window volumes, overlaps 0 / 0.5 / 0.75,
// window batches, mirror TTA and cancellation. No network: the model is a callback.

#include "ExpectError.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "inference/SlidingWindow.h"

#include <QtTest>

#include <cmath>
#include <numeric>

using namespace diffseg::core;

namespace {

using Size3 = std::array<std::int64_t, 3>;

/// A volume with distinct, non-round values, so that any misplaced voxel shows.
Volume rampVolume(const Size3& size, int channels)
{
    Geometry g;
    g.spacing = {0.8, 1.1, 2.5};
    g.origin = {-12.0, 30.5, 7.25};
    Volume v(size, channels, PixelType::Float32, g);
    float* d = v.data<float>();
    for (std::size_t i = 0; i < v.voxelCount() * static_cast<std::size_t>(channels); ++i) {
        d[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)) * 3.0 + 0.1);
    }
    return v;
}

std::size_t windowFloats(const WindowBatch& b, int channels)
{
    return static_cast<std::size_t>(b.roi[0] * b.roi[1] * b.roi[2]) *
           static_cast<std::size_t>(channels);
}

/// Options of `batch` cubic windows of side `roi` a call, overlapping by `overlap`.
SlidingWindowOptions windowOptions(int roi, double overlap, int batch, bool mirror)
{
    SlidingWindowOptions o;
    o.roi = {roi, roi, roi};
    o.overlap = overlap;
    o.windowBatch = batch;
    o.mirror = mirror;
    return o;
}

bool exactlyEqual(const Volume& a, const Volume& b)
{
    if (a.size() != b.size() || a.channels() != b.channels()) {
        return false;
    }
    const std::size_t n = a.voxelCount() * static_cast<std::size_t>(a.channels());
    return std::equal(a.data<float>(), a.data<float>() + n, b.data<float>());
}

} // namespace

class TestSlidingWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void windowStartsFollowMonai()
    {
        using V = std::vector<std::int64_t>;
        QCOMPARE(SlidingWindowPlan::starts(128, 128, 0.5), V({0}));
        QCOMPARE(SlidingWindowPlan::starts(256, 128, 0.5), V({0, 64, 128}));
        // The last start is clamped to L - roi (the spec's i = 0..ceil((L - 128)/64)).
        QCOMPARE(SlidingWindowPlan::starts(200, 128, 0.5), V({0, 64, 72}));
        QCOMPARE(SlidingWindowPlan::starts(200, 128, 0.0), V({0, 72}));
        QCOMPARE(SlidingWindowPlan::starts(200, 128, 0.75), V({0, 32, 64, 72}));
        QCOMPARE(SlidingWindowPlan::starts(129, 128, 0.5), V({0, 1}));
        // Stride int(roi (1 - overlap)) is at least 1.
        QCOMPARE(SlidingWindowPlan::starts(6, 4, 0.9), V({0, 1, 2}));
        for (const std::int64_t length : {16, 17, 31, 33, 100, 257}) {
            const V s = SlidingWindowPlan::starts(length, 16, 0.5);
            QCOMPARE(s.front(), std::int64_t{0});
            QCOMPARE(s.back(), length - 16);
            QCOMPARE(static_cast<std::int64_t>(s.size()),
                     length == 16 ? 1 : (length - 16 + 7) / 8 + 1);
        }
    }

    void planPadsSmallVolumesAndOrdersWindows()
    {
        SlidingWindowOptions o;
        o.roi = {16, 16, 16};
        o.windowBatch = 3;
        const SlidingWindowPlan plan({40, 9, 16}, o);
        QCOMPARE(plan.paddedSize(), (Size3{40, 16, 16}));
        QCOMPARE(plan.padBefore(), (Size3{0, 3, 0})); // 7 missing: 3 before, 4 after
        QCOMPARE(plan.axisStarts(0), (std::vector<std::int64_t>{0, 8, 16, 24}));
        QCOMPARE(plan.stride(), (Size3{8, 16, 16}));
        QCOMPARE(plan.windowCount(), 4);
        QCOMPARE(plan.window(1), (Size3{8, 0, 0})); // x fastest
        QCOMPARE(plan.batchCount(), 2);
        QCOMPARE(plan.batch(1), (std::pair<int, int>{3, 1}));
        for (const double w : plan.weightSum()) {
            QVERIFY(w > 0.0);
        }
    }

    void gaussianImportanceMap()
    {
        const Size3 roi{9, 16, 5};
        const std::vector<float> map = importanceMap(roi, BlendMode::Gaussian, 0.125);
        QCOMPARE(map.size(), std::size_t{9 * 16 * 5});
        const auto at = [&](int x, int y, int z) {
            return map[static_cast<std::size_t>((z * 16 + y) * 9 + x)];
        };
        // Maximum 1 at the centre (the two centre samples of the even side).
        QCOMPARE(*std::max_element(map.begin(), map.end()), 1.0f);
        QCOMPARE(at(4, 7, 2), 1.0f);
        QCOMPARE(at(4, 8, 2), 1.0f);
        // An interior value against the formula: per axis exp(-d²/(2 (0.125 n)²)) / its maximum.
        const auto g = [](double d, double n) {
            const double s = 0.125 * n;
            const double centre = (n - 1.0) / 2.0;
            const double peak = std::exp(-std::pow(std::floor(centre) - centre, 2) / (2 * s * s));
            return std::exp(-std::pow(d - centre, 2) / (2 * s * s)) / peak;
        };
        const double expected = g(3, 9) * g(6, 16) * g(2, 5);
        QVERIFY(std::abs(at(3, 6, 2) - expected) < 1e-6);
        // Clamped from below at 1e-3 (the corners would be e^-24).
        QCOMPARE(*std::min_element(map.begin(), map.end()), 1e-3f);
        QCOMPARE(at(0, 0, 0), 1e-3f);
        // Symmetric.
        QCOMPARE(at(1, 2, 1), at(7, 13, 3));
        const std::vector<float> flat = importanceMap(roi, BlendMode::Constant, 0.125);
        QVERIFY(std::all_of(flat.begin(), flat.end(), [](float v) { return v == 1.0f; }));
    }

    void blendingIsExactOnAConstantModel_data()
    {
        QTest::addColumn<Size3>("size");
        QTest::addColumn<SlidingWindowOptions>("options");
        QTest::newRow("odd sizes, overlap 0.5")
            << Size3{37, 29, 23} << windowOptions(16, 0.5, 1, false);
        QTest::newRow("overlap 0") << Size3{37, 29, 23} << windowOptions(16, 0.0, 2, false);
        QTest::newRow("overlap 0.75") << Size3{37, 29, 23} << windowOptions(16, 0.75, 4, false);
        QTest::newRow("one window") << Size3{16, 16, 16} << windowOptions(16, 0.5, 1, false);
        QTest::newRow("smaller than the window")
            << Size3{10, 16, 5} << windowOptions(16, 0.5, 1, false);
        QTest::newRow("mixed padding") << Size3{5, 40, 17} << windowOptions(16, 0.5, 3, false);
        QTest::newRow("mirror TTA") << Size3{21, 18, 17} << windowOptions(8, 0.5, 2, true);
        QTest::newRow("roi 12, overlap 0.6, batch 7")
            << Size3{33, 20, 11} << windowOptions(12, 0.6, 7, false);
    }

    void blendingIsExactOnAConstantModel()
    {
        QFETCH(Size3, size);
        QFETCH(SlidingWindowOptions, options);
        const Volume input = rampVolume(size, 2);
        const float constants[] = {0.3f, -1234.567f, 7.1e-5f};
        int calls = 0;
        const Volume out = slidingWindowInference(input, 3, options, [&](const WindowBatch& b) {
            ++calls;
            const std::size_t per = windowFloats(b, 1);
            for (int w = 0; w < b.count; ++w) {
                for (int c = 0; c < 3; ++c) {
                    float* o = b.output + (static_cast<std::size_t>(w) * 3 + c) * per;
                    std::fill(o, o + per, constants[c]);
                }
            }
        });
        const SlidingWindowPlan plan(size, options);
        QCOMPARE(calls, plan.batchCount() * (options.mirror ? 8 : 1));
        QCOMPARE(out.size(), size);
        QCOMPARE(out.channels(), 3);
        QVERIFY(out.geometry().isClose(input.geometry(), 0.0));
        for (int c = 0; c < 3; ++c) {
            const float* v = out.channelData<float>(c);
            for (std::size_t i = 0; i < out.voxelCount(); ++i) {
                if (v[i] != constants[c]) {
                    QFAIL(qPrintable(QString("channel %1 voxel %2: %3 != %4")
                                         .arg(c)
                                         .arg(i)
                                         .arg(double(v[i]), 0, 'g', 9)
                                         .arg(double(constants[c]), 0, 'g', 9)));
                }
            }
        }
    }

    void blendingIsExactOnTheIdentity_data() { blendingIsExactOnAConstantModel_data(); }

    void blendingIsExactOnTheIdentity()
    {
        QFETCH(Size3, size);
        QFETCH(SlidingWindowOptions, options);
        const Volume input = rampVolume(size, 2);
        const Volume out = slidingWindowInference(input, 2, options, [&](const WindowBatch& b) {
            QCOMPARE(b.inChannels, 2);
            std::copy(b.input, b.input + windowFloats(b, 2) * static_cast<std::size_t>(b.count),
                      b.output);
        });
        QVERIFY(exactlyEqual(out, input));
    }

    void floatSumsAreClose()
    {
        SlidingWindowOptions o;
        o.roi = {16, 16, 16};
        const Volume input = rampVolume({37, 29, 23}, 1);
        const SlidingWindowPlan plan(input.size(), o);
        WindowBlender exact(plan, 1);
        WindowBlender single(plan, 1, BlendPrecision::Float);
        QCOMPARE(single.precision(), BlendPrecision::Float);
        std::vector<float> window(static_cast<std::size_t>(plan.roiVoxels()));
        for (int w = 0; w < plan.windowCount(); ++w) {
            plan.extractWindow(input, w, window.data());
            exact.add(w, window.data());
            single.add(w, window.data());
        }
        const Volume a = exact.result(input.geometry());
        const Volume b = single.result(input.geometry());
        QVERIFY(exactlyEqual(a, input));
        for (std::size_t i = 0; i < input.voxelCount(); ++i) {
            const float x = input.data<float>()[i];
            QVERIFY(std::abs(b.data<float>()[i] - x) <= 1e-5f * (1.0f + std::abs(x)));
        }
        single.release();
        QVERIFY_THROWS_EXCEPTION(Error, single.add(0, window.data()));
        QVERIFY_THROWS_EXCEPTION(Error, single.result(input.geometry()));
    }

    void paddingIsZeroAndCroppedBack()
    {
        // 10 x 16 x 5 of ones in a 16^3 window: 3 zero columns before and 3 after along x, none
        // along y, 5 before and 6 after along z.
        SlidingWindowOptions o;
        o.roi = {16, 16, 16};
        Volume ones({10, 16, 5}, 1, PixelType::Float32);
        std::fill(ones.data<float>(), ones.data<float>() + ones.voxelCount(), 1.0f);
        int calls = 0;
        const Volume out = slidingWindowInference(ones, 1, o, [&](const WindowBatch& b) {
            ++calls;
            QCOMPARE(b.count, 1);
            const auto at = [&](int x, int y, int z) {
                return b.input[(z * 16 + y) * 16 + x];
            };
            double sum = 0.0;
            for (std::size_t i = 0; i < windowFloats(b, 1); ++i) {
                sum += b.input[i];
            }
            QCOMPARE(sum, 10.0 * 16 * 5);
            QCOMPARE(at(2, 0, 5), 0.0f);
            QCOMPARE(at(3, 0, 5), 1.0f);
            QCOMPARE(at(12, 15, 9), 1.0f);
            QCOMPARE(at(13, 15, 9), 0.0f);
            QCOMPARE(at(5, 5, 4), 0.0f);
            QCOMPARE(at(5, 5, 10), 0.0f);
            // The model writes 2 inside the volume's place and 99 in the padding.
            for (int z = 0; z < 16; ++z) {
                for (int y = 0; y < 16; ++y) {
                    for (int x = 0; x < 16; ++x) {
                        b.output[(z * 16 + y) * 16 + x] = at(x, y, z) == 1.0f ? 2.0f : 99.0f;
                    }
                }
            }
        });
        QCOMPARE(calls, 1);
        QCOMPARE(out.size(), (Size3{10, 16, 5}));
        const float* v = out.data<float>();
        QVERIFY(std::all_of(v, v + out.voxelCount(), [](float x) { return x == 2.0f; }));
    }

    void gaussianWeightsBlendOverlappingWindows()
    {
        // Two windows along x (starts 0 and 8 of a 24-voxel axis); each outputs its index.
        SlidingWindowOptions o;
        o.roi = {16, 4, 4};
        o.overlap = 0.5;
        const Volume input = rampVolume({24, 4, 4}, 1);
        const Volume out = slidingWindowInference(input, 1, o, [&](const WindowBatch& b) {
            const std::size_t per = windowFloats(b, 1);
            for (int w = 0; w < b.count; ++w) {
                std::fill(b.output + per * static_cast<std::size_t>(w),
                          b.output + per * static_cast<std::size_t>(w + 1),
                          static_cast<float>(b.first + w + 1));
            }
        });
        const std::vector<float> map = importanceMap(o.roi, BlendMode::Gaussian, 0.125);
        const auto weight = [&](int x) {
            return static_cast<double>(map[static_cast<std::size_t>((1 * 4 + 2) * 16 + x)]);
        };
        const auto value = [&](int x) {
            return static_cast<double>(out.data<float>()[(1 * 4 + 2) * 24 + x]);
        };
        QCOMPARE(value(3), 1.0);  // window 0 only
        QCOMPARE(value(20), 2.0); // window 1 only
        for (const int x : {8, 11, 12, 15}) {
            const double w0 = weight(x);
            const double w1 = weight(x - 8);
            QVERIFY(std::abs(value(x) - (w0 * 1 + w1 * 2) / (w0 + w1)) < 1e-6);
        }
        // Centre of window 0 (x = 7.5) weighs far more than the edge of window 1.
        QVERIFY(value(8) < 1.2);
        QVERIFY(value(15) > 1.8);
    }

    void mirrorPassesAreFlippedBack()
    {
        // The model outputs each voxel's x index inside its window, whatever it sees: the 8
        // passes, flipped back, average to (roi - 1) / 2 everywhere; without flipping back they
        // would average to the index itself.
        SlidingWindowOptions o;
        o.roi = {8, 8, 8};
        o.mirror = true;
        const Volume input = rampVolume({8, 13, 9}, 1);
        std::vector<int> flips;
        const Volume out = slidingWindowInference(input, 1, o, [&](const WindowBatch& b) {
            flips.push_back(b.flip);
            for (int w = 0; w < b.count; ++w) {
                for (int i = 0; i < 8 * 8 * 8; ++i) {
                    b.output[w * 512 + i] = static_cast<float>(i % 8);
                }
            }
        });
        const float* v = out.data<float>();
        QVERIFY(std::all_of(v, v + out.voxelCount(), [](float x) { return x == 3.5f; }));
        QCOMPARE(static_cast<int>(flips.size()), 8 * SlidingWindowPlan({8, 13, 9}, o).batchCount());
        QCOMPARE(flips[0], 0);
        QCOMPARE(flips[7], 7);
        // A pointwise model is flip-equivariant: TTA changes nothing.
        const Volume doubled = slidingWindowInference(input, 1, o, [&](const WindowBatch& b) {
            for (std::size_t i = 0; i < windowFloats(b, 1) * static_cast<std::size_t>(b.count);
                 ++i) {
                b.output[i] = 2.0f * b.input[i];
            }
        });
        for (std::size_t i = 0; i < input.voxelCount(); ++i) {
            QCOMPARE(doubled.data<float>()[i], 2.0f * input.data<float>()[i]);
        }
    }

    void flipWindowIsAnInvolution()
    {
        const Size3 roi{5, 4, 3};
        std::vector<float> v(2 * 60);
        std::iota(v.begin(), v.end(), 0.0f);
        for (int f = 0; f < 8; ++f) {
            std::vector<float> w = v;
            flipWindow(w.data(), 2, roi, f);
            QCOMPARE(w == v, f == 0);
            flipWindow(w.data(), 2, roi, f);
            QCOMPARE(w, v);
        }
        std::vector<float> x = v;
        flipWindow(x.data(), 2, roi, 1 | 4);
        // (x, y, z) = (0, 1, 0) of channel 1 comes from (4, 1, 2).
        QCOMPARE(x[60 + (0 * 4 + 1) * 5 + 0], v[60 + (2 * 4 + 1) * 5 + 4]);
    }

    void cancelAndBadOptions()
    {
        SlidingWindowOptions o;
        o.roi = {8, 8, 8};
        const Volume input = rampVolume({20, 8, 8}, 1);
        CancelToken cancel;
        int calls = 0;
        diffseg::test::expectError(
            [&] {
                slidingWindowInference(
                    input, 1, o,
                    [&](const WindowBatch& b) {
                        ++calls;
                        std::fill(b.output, b.output + windowFloats(b, 1) * b.count, 0.0f);
                        cancel.cancel();
                    },
                    cancel);
            },
            ErrorKind::Cancelled, {});
        QCOMPARE(calls, 1);

        const auto expectConfig = [&](SlidingWindowOptions bad, const char* key) {
            try {
                bad.validate();
                QFAIL(key);
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::Config);
                QVERIFY2(e.subject().find(key) != std::string::npos, e.what());
            }
        };
        SlidingWindowOptions bad = o;
        bad.overlap = 1.0;
        expectConfig(bad, "overlap");
        bad = o;
        bad.roi = {8, 0, 8};
        expectConfig(bad, "roi");
        bad = o;
        bad.windowBatch = 0;
        expectConfig(bad, "window_batch");
        Volume int16({4, 4, 4}, 1, PixelType::Int16);
        QVERIFY_THROWS_EXCEPTION(Error,
                                 slidingWindowInference(int16, 1, o, [](const WindowBatch&) {}));
    }
};

QTEST_GUILESS_MAIN(TestSlidingWindow)
#include "TestSlidingWindow.moc"
