// The EMA of ema-pytorch 0.2.3 as DermoSegDiff configures it: warm-up copies, then decay.

#include "NetworkTestSupport.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "engine/model/Layers.h"
#include "engine/training/ExponentialMovingAverage.h"

#include <QtTest>

#include <ATen/ATen.h>

#include <cmath>

using namespace diffseg::core;
using namespace diffseg::core::engine;

namespace {

constexpr auto& maxAbs = diffseg::test::maxAbsDifference;

at::Tensor weightOf(const torch::nn::Module& module)
{
    return module.named_parameters()["weight"].detach().clone();
}

at::Tensor shadowOf(const ExponentialMovingAverage& ema)
{
    for (const auto& [name, tensor] : ema.weights()) {
        if (name == "weight") {
            return tensor.clone();
        }
    }
    return {};
}

void nudge(torch::nn::Module& module, double by)
{
    c10::NoGradGuard noGrad;
    for (auto& p : module.parameters()) {
        p.add_(by);
    }
}

} // namespace

class TestExponentialMovingAverage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void decayFollowsTheWarmupFormula()
    {
        const EmaConfig c; // beta 0.9999, after 500, every 1, inv_gamma 1, power 0.9
        const auto decayAtEpoch = [&](std::int64_t e) {
            return ExponentialMovingAverage::decayAt(c, e + c.updateAfterStep + 1);
        };
        QCOMPARE(decayAtEpoch(0), 0.0);
        QCOMPARE(ExponentialMovingAverage::decayAt(c, 10), 0.0);
        QVERIFY(std::abs(decayAtEpoch(1) - (1.0 - std::pow(2.0, -0.9))) < 1e-12);
        QVERIFY(std::abs(decayAtEpoch(1000) - 0.998) < 1e-4);
        QVERIFY(std::abs(decayAtEpoch(1000) - (1.0 - std::pow(1001.0, -0.9))) < 1e-12);
        // The 0.9999 cap is reached near e = 27.8k.
        QVERIFY(decayAtEpoch(27000) < 0.9999);
        QCOMPARE(decayAtEpoch(28500), 0.9999);
        QCOMPARE(decayAtEpoch(1000000), 0.9999);
        EmaConfig ham = c;
        ham.power = 0.95;
        ham.updateAfterStep = 200;
        QVERIFY(std::abs(ExponentialMovingAverage::decayAt(ham, 1201) -
                         (1.0 - std::pow(1001.0, -0.95))) < 1e-12);
    }

    void warmupCopiesThenAverages()
    {
        LinearLayer online(3, 2, WeightInit::Default);
        EmaConfig c;
        c.updateAfterStep = 3;
        ExponentialMovingAverage ema(*online, c);
        // Updates with counter 0..3 are plain copies of the online weights.
        for (int i = 0; i < 4; ++i) {
            nudge(*online, 0.5);
            ema.update(*online);
            QCOMPARE(maxAbs(shadowOf(ema), weightOf(*online)), 0.0);
            QVERIFY(!ema.initted());
        }
        QCOMPARE(ema.step(), std::int64_t(4));
        // Counter 4: first average; the shadow is re-initialised from the model first.
        nudge(*online, 0.5);
        ema.update(*online);
        QVERIFY(ema.initted());
        QVERIFY(maxAbs(shadowOf(ema), weightOf(*online)) < 1e-6);
        // Counter 5: decay at e = 6 - 3 - 1 = 2 -> shadow moves 1 - decay of the way.
        const at::Tensor before = shadowOf(ema);
        nudge(*online, 1.0);
        ema.update(*online);
        const double decay = 1.0 - std::pow(3.0, -0.9);
        QVERIFY(std::abs(ema.currentDecay() - decay) < 1e-12);
        const at::Tensor expected = before + (1.0 - decay) * (weightOf(*online) - before);
        QVERIFY(maxAbs(shadowOf(ema), expected) < 1e-6);
    }

    void updateEverySkipsCalls()
    {
        LinearLayer online(2, 2, WeightInit::Default);
        EmaConfig c;
        c.updateAfterStep = 100;
        c.updateEvery = 3;
        ExponentialMovingAverage ema(*online, c);
        const at::Tensor start = shadowOf(ema);
        nudge(*online, 1.0);
        ema.update(*online); // counter 0: copies
        QCOMPARE(maxAbs(shadowOf(ema), weightOf(*online)), 0.0);
        const at::Tensor copied = shadowOf(ema);
        nudge(*online, 1.0);
        ema.update(*online); // counter 1: skipped
        ema.update(*online); // counter 2: skipped
        QCOMPARE(maxAbs(shadowOf(ema), copied), 0.0);
        ema.update(*online); // counter 3: copies again
        QCOMPARE(maxAbs(shadowOf(ema), weightOf(*online)), 0.0);
        QVERIFY(maxAbs(start, copied) > 0.5);
    }

    void copyToAndRestore()
    {
        LinearLayer online(4, 3, WeightInit::Default);
        LinearLayer target(4, 3, WeightInit::Default);
        ExponentialMovingAverage ema(*online, EmaConfig{});
        ema.copyTo(*target);
        QCOMPARE(maxAbs(weightOf(*target), weightOf(*online)), 0.0);
        ExponentialMovingAverage other(*target, EmaConfig{});
        NamedTensors saved;
        for (const auto& [name, tensor] : ema.weights()) {
            saved.emplace_back(name, tensor + 1.0);
        }
        other.restore(saved, 1234, true);
        QCOMPARE(other.step(), std::int64_t(1234));
        QVERIFY(other.initted());
        QVERIFY(maxAbs(shadowOf(other), weightOf(*online) + 1.0) < 1e-6);
        LinearLayer wrong(5, 3, WeightInit::Default);
        QVERIFY_THROWS_EXCEPTION(Error, ema.copyTo(*wrong));
        EmaConfig bad;
        bad.updateEvery = 0;
        QVERIFY_THROWS_EXCEPTION(Error, ExponentialMovingAverage(*online, bad));
    }
};

QTEST_GUILESS_MAIN(TestExponentialMovingAverage)
#include "TestExponentialMovingAverage.moc"
