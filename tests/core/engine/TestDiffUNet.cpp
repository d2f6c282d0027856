// Diff-UNet (seed spec part B): parameter counts of the reference configurations, parity with the
// reference fixture, the log-SNR schedule and sampling times, sampling (steps, fusion, seeds,
// cancel), the MC-Diff training loss and the state_dict alias handling.

#include "CheckpointTestSupport.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/diffunet/DiffUNet.h"
#include "engine/parity/ParityCheck.h"

#include <QtTest>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

using namespace diffseg::core;
using namespace diffseg::core::engine;
using diffseg::test::tinyDiffUNetConfig;

class TestDiffUNet : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parameterCountsMatchTheReference()
    {
        QCOMPARE(DiffUNet(DiffUNetConfig::reference(1, 2))->parameterCount(),
                 std::int64_t{63042720});
        QCOMPARE(DiffUNet(DiffUNetConfig::reference(4, 4))->parameterCount(),
                 std::int64_t{63052864});
        DiffUNet aiib(DiffUNetConfig::reference(1, 2));
        std::int64_t edge = 0;
        for (const auto& p : aiib->edge()->parameters()) {
            edge += p.numel();
        }
        QCOMPARE(edge, std::int64_t{31195594});
    }

    void parityWithTheReferenceFixture()
    {
        DIFFSEG_REQUIRE_SHARED(fixture, "parity/diffunet_small.pt");
        const ParityReport report = runParityCheck(fixture.toStdString());
        QCOMPARE(report.network, std::string("Diff-UNet"));
        QVERIFY(report.parts.size() >= 12);
        for (const ParityPart& part : report.parts) {
            QVERIFY2(part.passed,
                     qPrintable(QString("%1: %2").arg(part.name.c_str()).arg(part.maxAbsError)));
        }
    }

    void logSnrScheduleAndTimes()
    {
        QVERIFY(std::abs(LogSnrSchedule::logSnr(0.0) - 11.51) < 0.01);
        QVERIFY(std::abs(LogSnrSchedule::logSnr(0.25) - 1.76) < 0.01);
        QVERIFY(std::abs(LogSnrSchedule::logSnr(0.5)) < 0.01);
        QVERIFY(std::abs(LogSnrSchedule::logSnr(0.999) + 12.8) < 0.05);
        for (const double tau : {0.0, 0.3, 0.7, 0.999}) {
            const double l = LogSnrSchedule::logSnr(tau);
            const double a = LogSnrSchedule::alpha(l);
            const double s = LogSnrSchedule::sigma(l);
            QVERIFY(std::abs(a * a + s * s - 1.0) < 1e-12);
        }
        const auto times = LogSnrSchedule::samplingTimes(3);
        QCOMPARE(times.size(), std::size_t{3});
        QCOMPARE(times[0].first, 1.0);
        QVERIFY(std::abs(times[0].second - 1.0 / 3.0) < 1e-12);
        QVERIFY(std::abs(times[1].first - 2.0 / 3.0) < 1e-12);
        QCOMPARE(times[1].second, 0.0);
        QCOMPARE(times[2].second, 0.0);
        // The spec's table of step 0: alpha 7.9e-5, sigma 1, alpha' 0.866, sigma' 0.5.
        const double l0 = LogSnrSchedule::logSnr(1.0);
        QVERIFY(std::abs(LogSnrSchedule::alpha(l0) - 7.9e-5) < 1e-5);
        const double l1 = LogSnrSchedule::logSnr(1.0 / 3.0);
        QVERIFY(std::abs(LogSnrSchedule::alpha(l1) - 0.866) < 1e-3);
        QVERIFY(std::abs(LogSnrSchedule::sigma(l1) - 0.5) < 1e-3);
    }

    void samplingStepsFusionAndSeeds()
    {
        torch::manual_seed(1);
        DiffUNet model(tinyDiffUNetConfig());
        model->eval();
        torch::NoGradGuard noGrad;
        const at::Tensor image = torch::randn({2, 1, 16, 16, 16});
        int calls = 0;
        DiffUNetSampleOptions options;
        options.steps = 4;
        options.seed = 5;
        const DiffUNetSample a = model->sample(image, options, [&](const DiffUNetStep& s) {
            QCOMPARE(s.index, calls);
            QCOMPARE(s.steps, 4);
            QCOMPARE(s.logits.sizes(), (c10::IntArrayRef{2, 2, 16, 16, 16}));
            ++calls;
        });
        QCOMPARE(calls, 4);
        QCOMPARE(a.stepLogits.size(), std::size_t{4});
        // PURE as released: the mean of the step logits plus the edge logits.
        const at::Tensor mean =
            (a.stepLogits[0] + a.stepLogits[1] + a.stepLogits[2] + a.stepLogits[3]) / 4;
        QVERIFY(a.logits.allclose(mean + a.edgeLogits, 1e-5, 1e-6));
        const DiffUNetSample b = model->sample(image, options);
        QVERIFY(a.logits.equal(b.logits));
        options.fusion = StepFusion::Uncertainty;
        const DiffUNetSample c = model->sample(image, options);
        QVERIFY(torch::isfinite(c.logits).all().item<bool>());
        QVERIFY(!c.logits.allclose(a.logits));

        const CancelToken cancel;
        cancel.cancel();
        bool cancelled = false;
        try {
            model->sample(image, options, {}, cancel);
        } catch (const Error& e) {
            cancelled = e.kind() == ErrorKind::Cancelled;
        }
        QVERIFY(cancelled);
        bool mismatch = false;
        try {
            model->sample(torch::randn({1, 1, 15, 16, 16}), options);
        } catch (const Error& e) {
            mismatch = e.kind() == ErrorKind::Mismatch;
        }
        QVERIFY(mismatch);
    }

    void trainingLossAndGradients()
    {
        torch::manual_seed(2);
        DiffUNet model(tinyDiffUNetConfig(2, 3));
        model->train();
        const at::Tensor image = torch::randn({2, 2, 16, 16, 16});
        const at::Tensor labels = torch::randint(0, 3, {2, 16, 16, 16}, torch::kLong);
        auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
        DiffUNetLossOptions options;
        options.epoch = 50;
        options.maxEpoch = 100;
        const DiffUNetLoss loss = model->trainingLoss(image, labels, options, generator);
        QVERIFY(std::isfinite(loss.total.item<double>()));
        QCOMPARE(loss.uncertainty.sizes(), (c10::IntArrayRef{2, 16, 16, 16}));
        QVERIFY(loss.uncertainty.min().item<double>() >= 0.0);
        QVERIFY(loss.uncertainty.max().item<double>() <= 1.0);
        QVERIFY(std::abs(loss.uncertaintyWeight - std::exp(-2.5)) < 1e-12);
        const double expected =
            loss.ce.item<double>() *
                (1 + loss.uncertaintyWeight * loss.uncertainty.mean().item<double>()) +
            loss.ceEdge.item<double>();
        QVERIFY(std::abs(loss.total.item<double>() - expected) < 1e-5);
        loss.total.backward();
        std::int64_t withGrad = 0;
        for (const auto& p : model->parameters()) {
            withGrad += p.grad().defined() ? 1 : 0;
        }
        QVERIFY(withGrad > 10);

        options.voxelwise = true;
        auto again = at::make_generator<at::CPUGeneratorImpl>(7);
        const DiffUNetLoss voxelwise = model->trainingLoss(image, labels, options, again);
        QVERIFY(std::isfinite(voxelwise.total.item<double>()));
        QVERIFY(voxelwise.uncertainty.equal(loss.uncertainty));
        QVERIFY(!voxelwise.dice.defined());

        // The optional Dice term (ours) adds diceWeight x (Dice loss of both outputs).
        options.voxelwise = false;
        options.diceWeight = 0.5;
        auto third = at::make_generator<at::CPUGeneratorImpl>(7);
        const DiffUNetLoss withDice = model->trainingLoss(image, labels, options, third);
        QVERIFY(withDice.dice.defined());
        const double dice = withDice.dice.item<double>();
        QVERIFY(dice > 0.0 && dice < 2.0);
        QVERIFY(std::abs(withDice.total.item<double>() - loss.total.item<double>() - 0.5 * dice) <
                1e-4);
    }

    void softDiceLossValues()
    {
        // Perfect logits give a loss near 0, the opposite classes near 1; a class absent from
        // the labels and predicted nowhere counts as matched.
        const at::Tensor labels = torch::randint(0, 3, {2, 4, 4, 4}, torch::kLong);
        const at::Tensor perfect =
            at::one_hot(labels, 3).permute({0, 4, 1, 2, 3}).to(at::kFloat) * 40.0;
        QVERIFY(softDiceLoss(perfect, labels).item<double>() < 1e-4);
        const at::Tensor wrong = at::one_hot((labels + 1) % 3, 3).permute({0, 4, 1, 2, 3}) * 40.0;
        QVERIFY(softDiceLoss(wrong.to(at::kFloat), labels).item<double>() > 0.99);
        const at::Tensor background = torch::zeros({1, 4, 4, 4}, torch::kLong);
        at::Tensor allBackground = torch::zeros({1, 3, 4, 4, 4});
        allBackground.select(1, 0).fill_(40.0);
        QVERIFY(softDiceLoss(allBackground, background).item<double>() < 1e-3);
    }

    void aliasedReferenceKeys()
    {
        DiffUNet model(tinyDiffUNetConfig());
        NamedTensors weights = namedWeights(*model);
        const std::size_t canonical = weights.size();
        for (const auto& [name, tensor] : NamedTensors(weights)) {
            if (name.rfind("edge_model.encoder.", 0) == 0) {
                weights.emplace_back("edge_model.decoder.encoder." + name.substr(19), tensor);
            }
            if (const auto at = name.find(".conv.weight"); at != std::string::npos) {
                weights.emplace_back(name.substr(0, at) + ".all_modules.0.weight", tensor);
            }
        }
        QVERIFY(weights.size() > canonical);
        const NamedTensors clean = canonicalDiffUNetWeights(weights, "ref.pt");
        QCOMPARE(clean.size(), canonical);
        loadWeights(*model, clean, "ref.pt");

        weights.back().second = weights.back().second + 1;
        bool mismatch = false;
        try {
            canonicalDiffUNetWeights(weights, "ref.pt");
        } catch (const Error& e) {
            mismatch = e.kind() == ErrorKind::Mismatch &&
                       std::string(e.what()).find("ref.pt") != std::string::npos;
        }
        QVERIFY(mismatch);
    }
};

QTEST_GUILESS_MAIN(TestDiffUNet)
#include "TestDiffUNet.moc"
