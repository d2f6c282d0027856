// The training losses: l1/l2/huber, the boundary-weighted loss and its weight map (including the
// guards where the reference produces NaN), and the hybrid sum.

#include "TestSupport.h"
#include "base/Error.h"
#include "engine/loss/DiffusionLoss.h"

#include <QtTest>

#include <ATen/ATen.h>

#include <cmath>

using namespace diffseg::core;
using namespace diffseg::core::engine;

namespace {

/// A disc of `radius` pixels centred in a side x side mask, in {-1, 1}.
at::Tensor disc(std::int64_t side, double radius, double cx, double cy)
{
    const at::Tensor y = at::arange(side, at::kFloat).view({side, 1});
    const at::Tensor x = at::arange(side, at::kFloat).view({1, side});
    const at::Tensor inside = ((x - cx).pow(2) + (y - cy).pow(2)) <= radius * radius;
    return at::where(inside, 1.0f, -1.0f).view({1, 1, side, side});
}

float at2(const at::Tensor& w, std::int64_t b, std::int64_t y, std::int64_t x)
{
    return w[b][0][y][x].item<float>();
}

} // namespace

class TestDiffusionLoss : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void simpleTermsAreTheirTextbookValues()
    {
        const at::Tensor epsHat = at::tensor({0.5f, -1.0f, 3.0f, 0.0f}).view({1, 1, 2, 2});
        const at::Tensor eps = at::tensor({0.0f, 0.0f, 0.0f, 0.25f}).view({1, 1, 2, 2});
        const at::Tensor x0 = at::ones({1, 1, 2, 2});
        const at::Tensor t = at::tensor({5}, at::kLong);
        const auto single = [&](LossKind kind) {
            LossConfig c;
            c.terms = {LossTerm{kind, 7.0, 1.5, false}}; // one term: the coefficient is ignored
            return computeDiffusionLoss(c, epsHat, eps, x0, t, 250).total.item<double>();
        };
        QVERIFY(std::abs(single(LossKind::L2) - (0.25 + 1.0 + 9.0 + 0.0625) / 4) < 1e-6);
        QVERIFY(std::abs(single(LossKind::L1) - (0.5 + 1.0 + 3.0 + 0.25) / 4) < 1e-6);
        // Smooth L1 with beta 1: 0.5 d^2 below 1, |d| - 0.5 above.
        QVERIFY(std::abs(single(LossKind::Huber) - (0.125 + 0.5 + 2.5 + 0.03125) / 4) < 1e-6);
    }

    void hybridIsTheWeightedSum()
    {
        const LossConfig config = LossConfig::fromJson(
            R"({"l2": {"cofficient": 1.0},
                "boundary": {"cofficient": 0.25, "params": {"gamma": 0.25, "root": "l2"}}})");
        QCOMPARE(config.terms.size(), std::size_t(2));
        QCOMPARE(config.terms[1].gamma, 0.25);
        const at::Tensor x0 = disc(32, 9, 15, 16).expand({2, 1, 32, 32}).contiguous();
        const at::Tensor epsHat = at::randn({2, 1, 32, 32});
        const at::Tensor eps = at::randn({2, 1, 32, 32});
        const at::Tensor t = at::tensor({3, 200}, at::kLong);
        const LossValue value = computeDiffusionLoss(config, epsHat, eps, x0, t, 250);
        const double l2 = at::mse_loss(epsHat, eps).item<double>();
        const at::Tensor w = boundaryWeights(x0, t, 250, 0.25);
        const double boundary = (w * (epsHat - eps).pow(2)).mean().item<double>();
        QCOMPARE(value.terms.size(), std::size_t(2));
        QCOMPARE(QString::fromStdString(value.terms[1].first), QStringLiteral("boundary"));
        QVERIFY(std::abs(value.terms[0].second.item<double>() - l2) < 1e-6);
        QVERIFY(std::abs(value.terms[1].second.item<double>() - boundary) < 1e-6);
        QVERIFY(std::abs(value.total.item<double>() - (l2 + 0.25 * boundary)) < 1e-6);
        // root l1
        const LossConfig l1Root =
            LossConfig::fromJson(R"({"boundary": {"params": {"root": "l1"}}})");
        const double expected =
            (boundaryWeights(x0, t, 250, 1.5) * (epsHat - eps).abs()).mean().item<double>();
        QVERIFY(
            std::abs(computeDiffusionLoss(l1Root, epsHat, eps, x0, t, 250).total.item<double>() -
                     expected) < 1e-6);
    }

    void lossConfigErrorsNameTheKey()
    {
        const struct
        {
            const char* json;
            const char* key;
        } cases[] = {{R"({"dice": {}})", "training.loss.dice"},
                     {R"({"boundary": {"params": {"root": "l3"}}})", "root"},
                     {R"({"boundary": {"params": {"gamma": -1}}})", "gamma"},
                     {R"({"l2": {"cofficient": "one"}})", "cofficient"},
                     {R"({"l2": {"weight": 1}})", "weight"},
                     {R"({})", "training.loss"}};
        for (const auto& c : cases) {
            try {
                LossConfig::fromJson(c.json);
                QFAIL(c.json);
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::Config);
                QVERIFY2(std::string(e.what()).find(c.key) != std::string::npos, e.what());
            }
        }
    }

    void boundaryWeightsOnADiscMatchTheSpec()
    {
        // Seed spec A5: radius-30 disc, S = 128, T = 250.
        const at::Tensor mask = disc(128, 30, 64, 64);
        const auto weights = [&](int t, double gamma) {
            return boundaryWeights(mask, at::tensor({t}, at::kLong), 250, gamma);
        };
        const at::Tensor w1 = weights(1, 0.25);
        const at::Tensor w249 = weights(249, 0.25);
        // The contour (just inside the disc's edge) is ~1, the farthest pixel (a corner) 0.
        QVERIFY2(at2(w1, 0, 64, 64 + 30) > 0.97, qPrintable(QString::number(at2(w1, 0, 64, 94))));
        QCOMPARE(at2(w1, 0, 0, 0), 0.0f);
        QVERIFY2(std::abs(at2(w1, 0, 64, 64) - 0.63f) < 0.03f,
                 qPrintable(QString::number(at2(w1, 0, 64, 64))));
        QVERIFY2(std::abs(at2(w249, 0, 64, 64) - 0.89f) < 0.03f,
                 qPrintable(QString::number(at2(w249, 0, 64, 64))));
        QVERIFY2(std::abs(at2(weights(1, 1.5), 0, 64, 64) - 0.30f) < 0.03f,
                 qPrintable(QString::number(at2(weights(1, 1.5), 0, 64, 64))));
        QVERIFY(at2(weights(249, 1.5), 0, 64, 64) > 0.99f);
        QVERIFY(w1.min().item<float>() >= 0.0f && w1.max().item<float>() <= 1.0f);
        // Larger t flattens the map towards 1.
        QVERIFY(w249.mean().item<float>() > w1.mean().item<float>());
    }

    void boundaryGuardsReplaceTheReferenceNaN()
    {
        const at::Tensor normal = disc(64, 12, 30, 33);
        const at::Tensor full = at::ones({1, 1, 64, 64});
        const at::Tensor empty = -at::ones({1, 1, 64, 64});
        const at::Tensor tiny = disc(64, 2, 10, 10); // 13 px, under 1% of 4096
        const at::Tensor batch = at::cat({normal, full, empty, tiny});
        const at::Tensor w =
            boundaryWeights(batch, at::tensor({10, 10, 10, 10}, at::kLong), 250, 1.5);
        QVERIFY(at::isfinite(w).all().item<bool>());
        // The reference gives NaN for the all-foreground sample (no contour): we give 1.
        QCOMPARE(w[1].min().item<float>(), 1.0f);
        QCOMPARE(w[2].min().item<float>(), 1.0f); // empty: 1, as the reference
        QCOMPARE(w[3].min().item<float>(), 1.0f); // tiny: 1, as the reference
        QVERIFY(w[0].min().item<float>() < 0.5f); // the normal sample keeps its map
        // Batches whose global min-max is undefined: all empty, all full.
        for (const at::Tensor& same : {at::cat({empty, empty}), at::cat({full, full})}) {
            QCOMPARE(
                boundaryWeights(same, at::tensor({1, 2}, at::kLong), 250, 0.25).min().item<float>(),
                1.0f);
        }
        // The loss stays finite with a full-foreground sample in the batch.
        LossConfig config;
        config.terms = {LossTerm{LossKind::Boundary, 1.0, 1.5, false}};
        const at::Tensor epsHat = at::randn({4, 1, 64, 64});
        const LossValue v = computeDiffusionLoss(config, epsHat, at::randn_like(epsHat), batch,
                                                 at::tensor({1, 2, 3, 4}, at::kLong), 250);
        QVERIFY(std::isfinite(v.total.item<double>()));
    }

    void boundaryUsesTheBatchGlobalMinMax()
    {
        // The reference min-maxes the whole batch once before looking at each sample. A {0, 1}
        // mask next to a {-1, 1} one has its background mapped to 0.5; its own min-max maps it
        // back, so both get the same map.
        const at::Tensor a = disc(32, 8, 16, 16);
        const at::Tensor b = (disc(32, 8, 16, 16) + 1) / 2;
        const at::Tensor t = at::tensor({5, 5}, at::kLong);
        const at::Tensor both = boundaryWeights(at::cat({a, b}), t, 250, 0.25);
        const at::Tensor alone = boundaryWeights(a, t.narrow(0, 0, 1), 250, 0.25);
        QVERIFY((both[0] - alone[0]).abs().max().item<float>() < 1e-6f);
        QVERIFY((both[1] - alone[0]).abs().max().item<float>() < 1e-6f);
        // A constant 0 mask becomes 0.5 everywhere: "foreground" by the 1% test, yet without a
        // contour (the reference's NaN case): W = 1.
        const at::Tensor withConstant =
            boundaryWeights(at::cat({a, at::zeros_like(a)}), t, 250, 0.25);
        QCOMPARE(withConstant[1].min().item<float>(), 1.0f);
    }

    void badInputsAreErrors()
    {
        at::Tensor x0 = disc(16, 5, 8, 8);
        x0[0][0][0][0] = std::nanf("");
        QVERIFY_THROWS_EXCEPTION(Error, boundaryWeights(x0, at::tensor({1}, at::kLong), 250, 1.5));
        QVERIFY_THROWS_EXCEPTION(
            Error, boundaryWeights(disc(16, 5, 8, 8), at::tensor({300}, at::kLong), 250, 1.5));
        QVERIFY_THROWS_EXCEPTION(
            Error, boundaryWeights(at::ones({16, 16}), at::tensor({1}, at::kLong), 250, 1.5));
        QVERIFY_THROWS_EXCEPTION(Error, computeDiffusionLoss(LossConfig{}, at::ones({1, 1, 4, 4}),
                                                             at::ones({1, 1, 4, 5}), at::Tensor(),
                                                             at::Tensor(), 250));
    }
};

QTEST_GUILESS_MAIN(TestDiffusionLoss)
#include "TestDiffusionLoss.moc"
