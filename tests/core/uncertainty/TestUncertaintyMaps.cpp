#include "ExpectError.h"
#include "base/Error.h"
#include "uncertainty/UncertaintyMaps.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>

using namespace diffseg::core;
using diffseg::test::expectError;

namespace {

Image2D floatImage(int width, int height, float value = 0.0f)
{
    Image2D image(width, height, 1, PixelType::Float32);
    std::fill(image.data<float>(), image.data<float>() + image.pixelCount(), value);
    return image;
}

double binaryEntropyRef(double p)
{
    return -p * std::log(p) - (1 - p) * std::log(1 - p);
}

} // namespace

class TestUncertaintyMaps : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fakeModelWithKnownVariance()
    {
        // A "model" whose K = 4 members are p_k = mu + delta_k with deltas (-a, -b, +b, +a):
        // the mean is mu and the population std sqrt((2a^2 + 2b^2) / 4) at every pixel, whatever
        // mu is. mu varies across the image so that clamping and indexing are exercised.
        const double a = 0.1, b = 0.05;
        const double deltas[4] = {-a, -b, b, a};
        const int w = 37, h = 23;
        std::vector<Image2D> members;
        for (double d : deltas) {
            Image2D p = floatImage(w, h);
            for (int y = 0; y < h; ++y) {
                for (int x = 0; x < w; ++x) {
                    const double mu = 0.15 + 0.7 * x / (w - 1.0);
                    p.at<float>(x, y) = static_cast<float>(mu + d);
                }
            }
            p.setSpacing({0.1, 0.2});
            members.push_back(p);
        }
        const Image2D sd = ensembleStd(members);
        const Image2D mean = ensembleMean(members);
        QCOMPARE(sd.spacing()[1], 0.2);
        const double expected = std::sqrt((2 * a * a + 2 * b * b) / 4.0);
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
                const double mu = 0.15 + 0.7 * x / (w - 1.0);
                QVERIFY(std::abs(sd.at<float>(x, y) - expected) < 1e-6);
                QVERIFY(std::abs(mean.at<float>(x, y) - mu) < 1e-6);
            }
        }
        // One member: no spread.
        const Image2D single = ensembleStd({members[0]});
        QCOMPARE(single.at<float>(5, 5), 0.0f);
        // Predictive entropy is the binary entropy of the mean.
        const Image2D h1 = predictiveEntropy(members);
        for (int x = 0; x < w; ++x) {
            const double mu = 0.15 + 0.7 * x / (w - 1.0);
            QVERIFY(std::abs(h1.at<float>(x, 3) - binaryEntropyRef(mu)) < 1e-5);
        }
    }

    void binaryEntropyValues()
    {
        Image2D p = floatImage(4, 1);
        p.at<float>(0, 0) = 0.5f;
        p.at<float>(1, 0) = 0.25f;
        p.at<float>(2, 0) = 0.0f;
        p.at<float>(3, 0) = 1.0f;
        const Image2D nats = binaryEntropy(p);
        const Image2D unit = binaryEntropy(p, EntropyScale::Normalised);
        QVERIFY(std::abs(nats.at<float>(0, 0) - std::log(2.0)) < 1e-6);
        QVERIFY(std::abs(unit.at<float>(0, 0) - 1.0) < 1e-6);
        QVERIFY(std::abs(nats.at<float>(1, 0) - binaryEntropyRef(0.25)) < 1e-6);
        QVERIFY(std::abs(unit.at<float>(1, 0) - binaryEntropyRef(0.25) / std::log(2.0)) < 1e-6);
        // Certain pixels: p clamped to 1e-6, so H = -1e-6 ln 1e-6 - (1 - 1e-6) ln(1 - 1e-6).
        const double floorH = binaryEntropyRef(1e-6);
        QVERIFY(std::abs(nats.at<float>(2, 0) - floorH) < 1e-8);
        QVERIFY(std::abs(nats.at<float>(3, 0) - floorH) < 1e-8);
        QVERIFY(nats.at<float>(2, 0) < 2e-5);
    }

    void multiClassEntropy()
    {
        // Image2D: C interleaved channels.
        Image2D probs(3, 1, 4, PixelType::Float32);
        float* p = probs.data<float>();
        const float uniform[4] = {0.25f, 0.25f, 0.25f, 0.25f};
        const float oneHot[4] = {0.0f, 1.0f, 0.0f, 0.0f};
        const float mixed[4] = {0.5f, 0.5f, 0.0f, 0.0f};
        std::memcpy(p, uniform, sizeof uniform);
        std::memcpy(p + 4, oneHot, sizeof oneHot);
        std::memcpy(p + 8, mixed, sizeof mixed);
        const Image2D h = diffseg::core::multiClassEntropy(probs);
        const Image2D hn = diffseg::core::multiClassEntropy(probs, EntropyScale::Normalised);
        QVERIFY(std::abs(h.at<float>(0, 0) - std::log(4.0)) < 1e-6);
        QVERIFY(std::abs(hn.at<float>(0, 0) - 1.0) < 1e-6);
        QCOMPARE(h.at<float>(1, 0), 0.0f);
        QVERIFY(std::abs(h.at<float>(2, 0) - std::log(2.0)) < 1e-6);
        QVERIFY(std::abs(hn.at<float>(2, 0) - 0.5) < 1e-6);

        // Volume: C planar channels, geometry kept.
        Geometry g;
        g.spacing = {1.0, 1.0, 3.0};
        Volume v({2, 1, 1}, 2, PixelType::Float32, g);
        float* c0 = v.channelData<float>(0);
        float* c1 = v.channelData<float>(1);
        c0[0] = 0.5f;
        c1[0] = 0.5f;
        c0[1] = 0.9f;
        c1[1] = 0.1f;
        const Volume hv = diffseg::core::multiClassEntropy(v);
        QCOMPARE(hv.geometry().spacing[2], 3.0);
        QVERIFY(std::abs(hv.data<float>()[0] - std::log(2.0)) < 1e-6);
        QVERIFY(std::abs(hv.data<float>()[1] - binaryEntropyRef(0.9)) < 1e-6);

        // Classes that do not sum to 1 are rejected with the voxel.
        c1[1] = 0.5f;
        const Error e = expectError([&] { diffseg::core::multiClassEntropy(v); });
        QCOMPARE(e.kind(), ErrorKind::InvalidValue);
        QVERIFY2(std::strstr(e.what(), "voxel 1"), e.what());
        QVERIFY_THROWS_EXCEPTION(Error, diffseg::core::multiClassEntropy(floatImage(2, 2)));
    }

    void probabilityFromX0()
    {
        Image2D x0 = floatImage(5, 1);
        const float values[5] = {-1.0f, 0.0f, 1.0f, 3.0f, -0.5f};
        std::memcpy(x0.data<float>(), values, sizeof values);
        const Image2D p = diffseg::core::probabilityFromX0(x0);
        QCOMPARE(p.at<float>(0, 0), 0.0f);
        QCOMPARE(p.at<float>(1, 0), 0.5f);
        QCOMPARE(p.at<float>(2, 0), 1.0f);
        QCOMPARE(p.at<float>(3, 0), 1.0f); // clamped
        QCOMPARE(p.at<float>(4, 0), 0.25f);
        Image2D other = floatImage(5, 1, 1.0f);
        const Image2D mean = ensembleProbabilityFromX0({x0, other});
        QCOMPARE(mean.at<float>(0, 0), 0.5f);
        QCOMPARE(mean.at<float>(4, 0), 0.625f);
        // Volumes too.
        Volume vx({2, 2, 2}, 1, PixelType::Float32);
        std::fill(vx.data<float>(), vx.data<float>() + 8, 0.5f);
        QCOMPARE(diffseg::core::probabilityFromX0(vx).data<float>()[7], 0.75f);
    }

    void stepInstabilityCountsFlips()
    {
        // Two members, S = 4 transitions. Pixel 0: member 0 flips at 2 of 4 transitions, member 1
        // never: (0.5 + 0) / 2 = 0.25. Pixel 1: both flip every step: 1. Pixel 2: settled: 0.
        const float m0[5][3] = {{-0.5f, 0.3f, 0.9f},
                                {0.4f, -0.2f, 0.8f},
                                {0.6f, 0.1f, 0.9f},
                                {-0.1f, -0.3f, 0.95f},
                                {-0.2f, 0.2f, 0.99f}};
        const float m1[5][3] = {{0.7f, -0.3f, 0.9f},
                                {0.8f, 0.2f, 0.9f},
                                {0.9f, -0.2f, 0.9f},
                                {0.9f, 0.2f, 0.9f},
                                {0.9f, -0.2f, 0.9f}};
        std::vector<std::vector<Image2D>> trajectories(2);
        for (int i = 0; i < 5; ++i) {
            Image2D a = floatImage(3, 1), b = floatImage(3, 1);
            std::memcpy(a.data<float>(), m0[i], sizeof m0[i]);
            std::memcpy(b.data<float>(), m1[i], sizeof m1[i]);
            trajectories[0].push_back(a);
            trajectories[1].push_back(b);
        }
        const Image2D inst = stepInstability(trajectories);
        QCOMPARE(inst.at<float>(0, 0), 0.25f);
        QCOMPARE(inst.at<float>(1, 0), 1.0f);
        QCOMPARE(inst.at<float>(2, 0), 0.0f);
        // Members with different window lengths each use their own S: member 1 cut to 2 steps
        // (1 transition, pixel 1 flips): pixel 1 = (1 + 1) / 2.
        trajectories[1].erase(trajectories[1].begin(), trajectories[1].begin() + 3);
        QCOMPARE(stepInstability(trajectories).at<float>(1, 0), 1.0f);
        trajectories[1].pop_back();
        const Error e = expectError([&] { stepInstability(trajectories); });
        QVERIFY2(std::strstr(e.what(), "member 1"), e.what());
    }

    void volumesKeepTheirGeometry()
    {
        Geometry g;
        g.spacing = {0.8, 0.8, 2.5};
        g.origin = {-10.0, 5.0, 1.0};
        std::vector<Volume> members;
        for (float v : {0.2f, 0.4f, 0.6f}) {
            Volume m({4, 3, 2}, 1, PixelType::Float32, g);
            std::fill(m.data<float>(), m.data<float>() + m.voxelCount(), v);
            members.push_back(m);
        }
        const Volume sd = ensembleStd(members);
        QVERIFY(sd.geometry().isClose(g));
        QVERIFY(std::abs(sd.data<float>()[23] - std::sqrt(0.08 / 3.0)) < 1e-6);
        const Volume h = predictiveEntropy(members, EntropyScale::Normalised);
        QVERIFY(std::abs(h.data<float>()[0] - binaryEntropyRef(0.4) / std::log(2.0)) < 1e-6);
        Geometry other = g;
        other.spacing[2] = 5.0;
        members[2].setGeometry(other);
        const Error e = expectError([&] { ensembleStd(members); });
        QCOMPARE(e.kind(), ErrorKind::Mismatch);
        QVERIFY2(std::strstr(e.what(), "member 2"), e.what());
    }

    void badInputIsRejectedWithAMessage()
    {
        QVERIFY_THROWS_EXCEPTION(Error, ensembleStd(std::vector<Image2D>{}));
        Error e = expectError([&] { ensembleStd({floatImage(4, 4), floatImage(5, 4)}); });
        QCOMPARE(e.kind(), ErrorKind::Mismatch);
        QVERIFY2(std::strstr(e.what(), "member 1"), e.what());

        Image2D nan = floatImage(4, 4, 0.5f);
        nan.at<float>(2, 1) = std::numeric_limits<float>::quiet_NaN();
        e = expectError([&] { ensembleStd({floatImage(4, 4), nan}); });
        QCOMPARE(e.kind(), ErrorKind::InvalidValue);
        QVERIFY2(std::strstr(e.what(), "non-finite") && std::strstr(e.what(), "member 1"),
                 e.what());

        e = expectError([&] { ensembleStd({floatImage(4, 4, 1.5f)}); });
        QVERIFY2(std::strstr(e.what(), "outside [0, 1]"), e.what());
        e = expectError([&] { binaryEntropy(floatImage(4, 4, -0.2f)); });
        QCOMPARE(e.kind(), ErrorKind::InvalidValue);
        // Tiny float excursions beyond [0, 1] are accepted as 0 / 1.
        QCOMPARE(
            ensembleStd({floatImage(2, 2, 1.0000001f), floatImage(2, 2, 1.0f)}).at<float>(0, 0),
            0.0f);

        e = expectError([&] { ensembleStd({Image2D(4, 4, 1, PixelType::UInt8)}); });
        QVERIFY2(std::strstr(e.what(), "float32"), e.what());
        QVERIFY_THROWS_EXCEPTION(Error, diffseg::core::probabilityFromX0(Image2D()));
        Image2D inf = floatImage(2, 2);
        inf.at<float>(0, 0) = std::numeric_limits<float>::infinity();
        QVERIFY_THROWS_EXCEPTION(Error, diffseg::core::probabilityFromX0(inf));
        QVERIFY_THROWS_EXCEPTION(Error, stepInstability(std::vector<std::vector<Image2D>>{}));
    }
};

QTEST_GUILESS_MAIN(TestUncertaintyMaps)
#include "TestUncertaintyMaps.moc"
