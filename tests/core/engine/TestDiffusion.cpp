// Noise schedules, forward noising and the DDPM/DDIM samplers, checked with analytic denoisers.

#include "ExpectError.h"
#include "NetworkTestSupport.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "engine/diffusion/DiffusionSampler.h"

#include <QtTest>

#include <ATen/ATen.h>

#include <cmath>

using namespace diffseg::core;
using namespace diffseg::core::engine;

namespace {

constexpr auto& maxAbs = diffseg::test::maxAbsDifference;

/// A fixed {-1, 1} pattern standing in for a ground-truth mask.
at::Tensor targetMask(std::int64_t rows, std::int64_t side)
{
    const at::Tensor y = at::arange(side, at::kFloat).view({side, 1});
    const at::Tensor x = at::arange(side, at::kFloat).view({1, side});
    const at::Tensor disc =
        ((x - side / 2.0).pow(2) + (y - side / 2.0).pow(2)) < (side * side / 9.0);
    return at::where(disc, 1.0f, -1.0f).expand({rows, 1, side, side}).contiguous();
}

/// The exact noise of x_t for a known x0: every x0 estimate is then x0 itself.
EpsilonFunction oracle(const NoiseSchedule& schedule, const at::Tensor& x0)
{
    return [&schedule, x0](const at::Tensor& x, const at::Tensor& t) {
        const int step = static_cast<int>(t[0].item<std::int64_t>());
        const double ab = schedule.alphasCumprod()[static_cast<std::size_t>(step)];
        return (x - std::sqrt(ab) * x0) / std::sqrt(1.0 - ab);
    };
}

/// A row-wise, non-trivial denoiser (no knowledge of any target).
at::Tensor smoothDenoiser(const at::Tensor& x, const at::Tensor& t)
{
    const at::Tensor scale = (t.to(at::kFloat) / 250.0f).view({-1, 1, 1, 1});
    return at::tanh(x) * (0.2f + 0.6f * scale) + 0.1f * at::sin(3.0f * x);
}

} // namespace

class TestDiffusion : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void linearAndQuadraticFollowTheirFormulas()
    {
        const NoiseSchedule linear(ScheduleConfig{ScheduleMode::Linear, 250, 0.0004, 0.08});
        QCOMPARE(linear.betas().front(), static_cast<double>(0.0004f));
        QCOMPARE(linear.betas().back(), static_cast<double>(0.08f));
        const NoiseSchedule quadratic(ScheduleConfig{ScheduleMode::Quadratic, 250, 0.0004, 0.08});
        for (int t : {0, 17, 124, 249}) {
            const double root =
                std::sqrt(0.0004) + (std::sqrt(0.08) - std::sqrt(0.0004)) * t / 249.0;
            QVERIFY(std::abs(quadratic.betas()[t] - root * root) < 1e-8);
            QVERIFY(std::abs(linear.betas()[t] - (0.0004 + (0.08 - 0.0004) * t / 249.0)) < 1e-8);
        }
    }

    void sigmoidAndCosineFollowTheirFormulas()
    {
        const NoiseSchedule sigmoid(ScheduleConfig{ScheduleMode::Sigmoid, 250, 0.0004, 0.08});
        const NoiseSchedule cosine(ScheduleConfig{ScheduleMode::Cosine, 250, 0.0004, 0.08});
        const double pi = 3.141592653589793;
        const auto cosAb = [&](double k) {
            const double c = std::cos((k / 250.0 + 0.008) / 1.008 * pi * 0.5);
            return c * c;
        };
        double maxBeta = 0.0;
        for (int t = 0; t < 250; ++t) {
            const double z = -6.0 + 12.0 * t / 249.0;
            const double s = 1.0 / (1.0 + std::exp(-z)) * (0.08 - 0.0004) + 0.0004;
            QVERIFY(std::abs(sigmoid.betas()[t] - s) < 1e-7);
            // Clipped to [beta_start, beta_end], as the reference does (not to 0.999).
            const double b = std::clamp(1.0 - cosAb(t + 1) / cosAb(t), 0.0004, 0.08);
            QVERIFY2(std::abs(cosine.betas()[t] - b) < 1e-5, qPrintable(QString::number(t)));
            maxBeta = std::max(maxBeta, cosine.betas()[t]);
        }
        QCOMPARE(maxBeta, static_cast<double>(0.08f));
    }

    void alphaBarMatchesTheSpecTable()
    {
        // Seed spec A3: alpha_bar at t = 0, 124, 249 (two significant digits).
        const struct
        {
            ScheduleMode mode;
            double a0, a124, a249;
        } rows[] = {{ScheduleMode::Linear, 0.9996, 7.7e-2, 3.3e-5},
                    {ScheduleMode::Quadratic, 0.9996, 0.33, 6.3e-4},
                    {ScheduleMode::Cosine, 0.9996, 0.49, 3.0e-3},
                    {ScheduleMode::Sigmoid, 0.9994, 0.30, 3.0e-5}};
        for (const auto& row : rows) {
            const NoiseSchedule s(ScheduleConfig{row.mode, 250, 0.0004, 0.08});
            const auto& ab = s.alphasCumprod();
            QVERIFY(std::abs(ab[0] - row.a0) < 1e-4);
            QVERIFY2(std::abs(ab[124] / row.a124 - 1.0) < 0.07,
                     qPrintable(QString("%1 %2").arg(scheduleModeName(row.mode)).arg(ab[124])));
            QVERIFY2(std::abs(ab[249] / row.a249 - 1.0) < 0.07,
                     qPrintable(QString("%1 %2").arg(scheduleModeName(row.mode)).arg(ab[249])));
        }
    }

    void derivedBuffersAreConsistent()
    {
        const NoiseSchedule s;
        QCOMPARE(s.alphasCumprodPrev()[0], 1.0);
        QCOMPARE(s.posteriorVariance()[0], 0.0);
        QCOMPARE(s.alphaBar(-1), 1.0);
        for (int t = 1; t < s.timesteps(); ++t) {
            QCOMPARE(s.alphasCumprodPrev()[t], s.alphasCumprod()[t - 1]);
            QVERIFY(std::abs(s.alphasCumprod()[t] - s.alphasCumprod()[t - 1] * s.alphas()[t]) <
                    1e-15);
            QVERIFY(std::abs(s.sqrtAlphasCumprod()[t] * s.sqrtAlphasCumprod()[t] +
                             s.sqrtOneMinusAlphasCumprod()[t] * s.sqrtOneMinusAlphasCumprod()[t] -
                             1.0) < 1e-12);
            const double expected =
                s.betas()[t] * (1.0 - s.alphasCumprod()[t - 1]) / (1.0 - s.alphasCumprod()[t]);
            QCOMPARE(s.posteriorVariance()[t], expected);
        }
        QVERIFY_THROWS_EXCEPTION(Error, s.alphaBar(250));
    }

    void badSchedulesAreConfigErrors()
    {
        for (const ScheduleConfig& bad :
             {ScheduleConfig{ScheduleMode::Linear, 1, 0.0004, 0.08},
              ScheduleConfig{ScheduleMode::Linear, 250, 0.0, 0.08},
              ScheduleConfig{ScheduleMode::Linear, 250, 0.1, 0.08},
              ScheduleConfig{ScheduleMode::Linear, 250, 0.0004, 1.0},
              ScheduleConfig{ScheduleMode::Cosine, 250, std::nan(""), 0.08}}) {
            try {
                NoiseSchedule s(bad);
                QFAIL("no exception");
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::Config);
            }
        }
        QCOMPARE(parseScheduleMode("Cosine"), ScheduleMode::Cosine);
        try {
            parseScheduleMode("exponential");
            QFAIL("no exception");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("exponential") != std::string::npos);
        }
    }

    void qSampleIsTheClosedForm()
    {
        const NoiseSchedule s;
        const at::Tensor x0 = targetMask(3, 8);
        const at::Tensor noise = at::randn({3, 1, 8, 8});
        const at::Tensor t = at::tensor({0, 100, 249}, at::kLong);
        const at::Tensor xt = qSample(s, x0, t, noise);
        for (int r = 0; r < 3; ++r) {
            const auto step = static_cast<std::size_t>(t[r].item<std::int64_t>());
            const at::Tensor expected = s.sqrtAlphasCumprod()[step] * x0[r] +
                                        s.sqrtOneMinusAlphasCumprod()[step] * noise[r];
            QVERIFY(maxAbs(xt[r], expected) < 1e-6);
        }
        QVERIFY_THROWS_EXCEPTION(Error, qSample(s, x0, at::tensor({0, 1, 250}, at::kLong), noise));
        QVERIFY_THROWS_EXCEPTION(Error, qSample(s, x0, at::tensor({0, 1}, at::kLong), noise));
        QVERIFY_THROWS_EXCEPTION(Error, qSample(s, x0, t, at::randn({3, 1, 8, 9})));
    }

    void ddpmWithTheExactNoiseRecoversX0()
    {
        const NoiseSchedule s;
        const at::Tensor x0 = targetMask(2, 16);
        const DiffusionSampler sampler(s, SamplerOptions{SamplerKind::Ddpm, 0, 0.0, 11});
        QCOMPARE(sampler.stepCount(), 250);
        double worstEstimate = 0.0;
        const at::Tensor out =
            sampler.sample(oracle(s, x0), {2, 1, 16, 16}, at::kFloat, [&](const SamplerStep& step) {
                worstEstimate = std::max(worstEstimate, maxAbs(step.x0Hat, x0));
            });
        QVERIFY2(maxAbs(out, x0) < 1e-4, qPrintable(QString::number(maxAbs(out, x0))));
        // The x0 estimate the GUI shows equals x0 at every step for the exact noise.
        QVERIFY2(worstEstimate < 1e-3, qPrintable(QString::number(worstEstimate)));
    }

    void ddimWithTheExactNoiseRecoversX0()
    {
        const NoiseSchedule s;
        const at::Tensor x0 = targetMask(2, 16);
        for (double eta : {0.0, 0.5, 1.0}) {
            const DiffusionSampler sampler(s, SamplerOptions{SamplerKind::Ddim, 25, eta, 3});
            QCOMPARE(sampler.stepCount(), 25);
            const at::Tensor out = sampler.sample(oracle(s, x0), {2, 1, 16, 16}, at::kFloat);
            QVERIFY2(maxAbs(out, x0) < 1e-4, qPrintable(QString("eta %1").arg(eta)));
        }
    }

    void x0PredictionSamplesLikeTheNoiseForm()
    {
        // A denoiser that outputs x0 itself under prediction x0 gives the same chain as the
        // exact-noise oracle under prediction eps.
        ScheduleConfig config;
        config.timesteps = 100;
        const NoiseSchedule noiseForm(config);
        config.prediction = Prediction::X0;
        const NoiseSchedule x0Form(config);
        const at::Tensor x0 = targetMask(2, 16);
        const EpsilonFunction clean = [x0](const at::Tensor&, const at::Tensor&) {
            return x0;
        };
        for (const SamplerKind kind : {SamplerKind::Ddim, SamplerKind::Ddpm}) {
            const SamplerOptions options{kind, kind == SamplerKind::Ddim ? 10 : 0, 0.0, 5};
            const at::Tensor a = DiffusionSampler(noiseForm, options)
                                     .sample(oracle(noiseForm, x0), {2, 1, 16, 16}, at::kFloat);
            double worst = 0.0;
            const at::Tensor b =
                DiffusionSampler(x0Form, options)
                    .sample(clean, {2, 1, 16, 16}, at::kFloat, [&](const SamplerStep& step) {
                        worst = std::max(worst, maxAbs(step.x0Hat, x0));
                    });
            QVERIFY2(maxAbs(a, b) < 1e-4, samplerKindName(kind));
            QVERIFY2(maxAbs(b, x0) < 1e-4, samplerKindName(kind));
            QVERIFY(worst < 1e-6); // the step's x0 is the network's own output
        }
        QCOMPARE(parsePrediction("X0"), Prediction::X0);
        QCOMPARE(parsePrediction("epsilon"), Prediction::Noise);
        QCOMPARE(QString(predictionName(Prediction::Noise)), QStringLiteral("eps"));
        QVERIFY_THROWS_EXCEPTION(Error, parsePrediction("v"));
        QVERIFY(noiseForm.config() != x0Form.config());
    }

    void refinementStartsLowAndHoldsKnownPixels()
    {
        const NoiseSchedule s;
        const at::Tensor x0 = targetMask(2, 16);
        // The run starts at the given timestep and covers only the steps below it.
        SamplerOptions options{SamplerKind::Ddim, 5, 0.0, 9};
        options.startTimestep = 120;
        const DiffusionSampler sampler(s, options);
        QCOMPARE(sampler.timesteps(), (std::vector<int>{120, 90, 60, 30, 0}));
        // From the current mask with the exact noise, the refinement returns it.
        SamplerGuidance start;
        start.start = x0;
        QVERIFY(maxAbs(sampler.sample(oracle(s, x0), {2, 1, 16, 16}, at::kFloat, {}, {}, &start),
                       x0) < 1e-4);

        // A denoiser that knows nothing of the target: the known pixels still come out as they
        // are known (a lesion disk at the centre, background in a corner), every other pixel is
        // the denoiser's.
        at::Tensor known = at::zeros({2, 1, 16, 16}, at::kBool);
        known.narrow(2, 6, 4).narrow(3, 6, 4).fill_(true);
        known.narrow(2, 0, 3).narrow(3, 0, 3).fill_(true);
        at::Tensor values = at::full({2, 1, 16, 16}, -1.0f);
        values.narrow(2, 6, 4).narrow(3, 6, 4).fill_(1.0f);
        SamplerGuidance hold;
        hold.start = -at::ones({2, 1, 16, 16});
        hold.known = known;
        hold.values = values;
        int calls = 0;
        std::vector<double> shownError;
        const EpsilonFunction counting = [&](const at::Tensor& x, const at::Tensor& t) {
            ++calls;
            return smoothDenoiser(x, t);
        };
        const at::Tensor out = sampler.sample(
            counting, {2, 1, 16, 16}, at::kFloat,
            [&](const SamplerStep& step) {
                shownError.push_back(
                    maxAbs(step.x0Hat.masked_select(known), values.masked_select(known)));
            },
            {}, &hold);
        QCOMPARE(calls, 5);
        QCOMPARE(maxAbs(out.masked_select(known), values.masked_select(known)), 0.0);
        for (double e : shownError) {
            QCOMPARE(e, 0.0); // each step shows the known pixels as known
        }
        // Deterministic for the seed; resampling jumps redo every step but the last.
        QCOMPARE(
            maxAbs(sampler.sample(smoothDenoiser, {2, 1, 16, 16}, at::kFloat, {}, {}, &hold), out),
            0.0);
        hold.resampleJumps = 2;
        calls = 0;
        sampler.sample(counting, {2, 1, 16, 16}, at::kFloat, {}, {}, &hold);
        QCOMPARE(calls, 5 + 2 * 4);
        // DDPM from the start step visits every step below it.
        options.kind = SamplerKind::Ddpm;
        options.steps = 0;
        options.startTimestep = 40;
        QCOMPARE(DiffusionSampler(s, options).stepCount(), 41);
        // Bad guidance and a start outside the schedule are named.
        SamplerGuidance bad;
        bad.known = at::zeros({2, 1, 8, 8}, at::kBool);
        QVERIFY_THROWS_EXCEPTION(
            Error, sampler.sample(smoothDenoiser, {2, 1, 16, 16}, at::kFloat, {}, {}, &bad));
        options.startTimestep = 250;
        QVERIFY_THROWS_EXCEPTION(Error, DiffusionSampler(s, options));
    }

    void ddimTimestepsSpanTheSchedule()
    {
        const NoiseSchedule s;
        const DiffusionSampler ten(s, SamplerOptions{SamplerKind::Ddim, 10, 0.0, 0});
        const std::vector<int> expected{249, 221, 194, 166, 138, 111, 83, 55, 28, 0};
        QCOMPARE(ten.timesteps(), expected);
        const DiffusionSampler all(s, SamplerOptions{SamplerKind::Ddim, 0, 0.0, 0});
        QCOMPARE(all.stepCount(), 250);
        for (int i = 0; i < 250; ++i) {
            QCOMPARE(all.timesteps()[i], 249 - i);
        }
        QCOMPARE(DiffusionSampler(s, SamplerOptions{SamplerKind::Ddim, 1, 0.0, 0}).timesteps(),
                 std::vector<int>{249});
    }

    void ddimAtEtaZeroIsADeterministicMapOfTheStartNoise()
    {
        const NoiseSchedule s;
        // The unclipped update: the textbook formula checked here.
        const DiffusionSampler sampler(s, SamplerOptions{SamplerKind::Ddim, 20, 0.0, 5, false});
        at::Tensor start;
        const at::Tensor out =
            sampler.sample(smoothDenoiser, {2, 1, 8, 8}, at::kFloat, [&](const SamplerStep& step) {
                if (step.index == 0) {
                    start = step.xT.clone();
                }
            });
        // Recompute the deterministic DDIM update independently, from the captured x_T only.
        at::Tensor x = start.to(at::kDouble);
        const auto& ts = sampler.timesteps();
        for (std::size_t i = 0; i < ts.size(); ++i) {
            const double ab = s.alphasCumprod()[static_cast<std::size_t>(ts[i])];
            const double abNext =
                i + 1 < ts.size() ? s.alphasCumprod()[static_cast<std::size_t>(ts[i + 1])] : 1.0;
            const at::Tensor eps =
                smoothDenoiser(x.to(at::kFloat), at::full({2}, ts[i], at::kLong)).to(at::kDouble);
            const at::Tensor x0 = (x - std::sqrt(1.0 - ab) * eps) / std::sqrt(ab);
            x = std::sqrt(abNext) * x0 + std::sqrt(1.0 - abNext) * eps;
        }
        // float32 against double through 20 divisions by sqrt(alpha_bar) >= 0.0057.
        QVERIFY2(maxAbs(out, x) < 2e-3, qPrintable(QString::number(maxAbs(out, x))));
        QVERIFY(x.abs().max().item<double>() > 0.1);
        // Same seed, same result; another seed only changes the start.
        const at::Tensor again = sampler.sample(smoothDenoiser, {2, 1, 8, 8}, at::kFloat);
        QCOMPARE(maxAbs(out, again), 0.0);
    }

    void ddimWithEtaOneOverAllStepsIsDdpm()
    {
        // With eta = 1 and every timestep, DDIM's variance is DDPM's posterior variance and its
        // mean is the posterior mean: with the same noise the chains coincide.
        const NoiseSchedule s;
        const DiffusionSampler ddpm(s, SamplerOptions{SamplerKind::Ddpm, 0, 0.0, 21});
        const DiffusionSampler ddim(s, SamplerOptions{SamplerKind::Ddim, 250, 1.0, 21, false});
        const at::Tensor a = ddpm.sample(smoothDenoiser, {3, 1, 8, 8}, at::kFloat);
        const at::Tensor b = ddim.sample(smoothDenoiser, {3, 1, 8, 8}, at::kFloat);
        QVERIFY2(maxAbs(a, b) < 1e-3, qPrintable(QString::number(maxAbs(a, b))));
        QVERIFY(a.abs().max().item<double>() > 0.1);
    }

    void ddimClipsTheX0EstimateAndStaysFinite()
    {
        // A useless denoiser (always zero noise) makes the unclipped x0 estimate x_t /
        // sqrt(alpha_bar), 175x the state at t = T-1; clipped, every estimate stays in [-1, 1].
        const NoiseSchedule s;
        const auto zero = [](const at::Tensor& x, const at::Tensor&) {
            return at::zeros_like(x);
        };
        const DiffusionSampler clipped(s, SamplerOptions{SamplerKind::Ddim, 10, 0.0, 3});
        QVERIFY(clipped.options().clipX0);
        double largest = 0.0;
        const at::Tensor out =
            clipped.sample(zero, {2, 1, 8, 8}, at::kFloat, [&](const SamplerStep& step) {
                largest = std::max(largest, step.x0Hat.abs().max().item<double>());
            });
        QVERIFY(largest <= 1.0);
        QVERIFY(at::isfinite(out).all().item<bool>());
        QVERIFY(out.abs().max().item<double>() <= 1.0 + 1e-5);
        const DiffusionSampler raw(s, SamplerOptions{SamplerKind::Ddim, 10, 0.0, 3, false});
        double rawLargest = 0.0;
        raw.sample(zero, {2, 1, 8, 8}, at::kFloat, [&](const SamplerStep& step) {
            rawLargest = std::max(rawLargest, step.x0Hat.abs().max().item<double>());
        });
        QVERIFY(rawLargest > 10.0);
    }

    void ddpmStepIsTheReferenceFormula()
    {
        const NoiseSchedule s;
        const DiffusionSampler sampler(s, SamplerOptions{SamplerKind::Ddpm, 0, 0.0, 9});
        int checked = 0;
        sampler.sample(smoothDenoiser, {2, 1, 8, 8}, at::kFloat, [&](const SamplerStep& step) {
            if (step.t != 0 && step.t != 200) {
                return;
            }
            const auto t = static_cast<std::size_t>(step.t);
            const at::Tensor mean =
                std::sqrt(1.0 / s.alphas()[t]) *
                (step.xT - s.betas()[t] * step.epsHat / std::sqrt(1.0 - s.alphasCumprod()[t]));
            if (step.t == 0) {
                QVERIFY(maxAbs(step.xNext, mean) < 1e-5); // no noise at the last step
            } else {
                // The added noise has the posterior standard deviation.
                const at::Tensor z = (step.xNext - mean) / std::sqrt(s.posteriorVariance()[t]);
                QVERIFY(z.abs().max().item<double>() > 0.0);
                QVERIFY(z.abs().max().item<double>() < 6.0);
            }
            ++checked;
        });
        QCOMPARE(checked, 2);
    }

    void callbackFiresOncePerStepInOrder()
    {
        const NoiseSchedule s;
        const DiffusionSampler sampler(s, SamplerOptions{SamplerKind::Ddim, 10, 0.3, 1});
        std::vector<int> indices;
        std::vector<int> ts;
        int lastNext = 999;
        sampler.sample(smoothDenoiser, {1, 1, 4, 4}, at::kFloat, [&](const SamplerStep& step) {
            indices.push_back(step.index);
            ts.push_back(step.t);
            QCOMPARE(step.count, 10);
            if (!indices.empty() && indices.size() > 1) {
                QCOMPARE(step.t, lastNext);
            }
            lastNext = step.tNext;
            QCOMPARE(step.xT.sizes(), step.x0Hat.sizes());
        });
        QCOMPARE(indices, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
        QCOMPARE(ts, sampler.timesteps());
        QCOMPARE(lastNext, -1);
    }

    void cancelStopsBetweenSteps()
    {
        const NoiseSchedule s;
        const DiffusionSampler sampler(s, SamplerOptions{});
        CancelToken cancel;
        int calls = 0;
        diffseg::test::expectError(
            [&] {
                sampler.sample(
                    smoothDenoiser, {1, 1, 4, 4}, at::kFloat,
                    [&](const SamplerStep& step) {
                        ++calls;
                        if (step.index == 3) {
                            cancel.cancel();
                        }
                    },
                    cancel);
            },
            ErrorKind::Cancelled, {});
        QCOMPARE(calls, 4);
    }

    void ensembleBatchEqualsSeparateRuns()
    {
        const NoiseSchedule s;
        for (const SamplerOptions& options : {SamplerOptions{SamplerKind::Ddpm, 0, 0.0, 100},
                                              SamplerOptions{SamplerKind::Ddim, 30, 0.7, 100}}) {
            const DiffusionSampler batched(s, options);
            const at::Tensor all = batched.sample(smoothDenoiser, {3, 1, 8, 8}, at::kFloat);
            for (int k = 0; k < 3; ++k) {
                SamplerOptions single = options;
                single.seed = options.seed + static_cast<std::uint64_t>(k);
                const at::Tensor one =
                    DiffusionSampler(s, single).sample(smoothDenoiser, {1, 1, 8, 8}, at::kFloat);
                QVERIFY2(maxAbs(all[k], one[0]) < 1e-6, qPrintable(QString("member %1").arg(k)));
            }
            QVERIFY(maxAbs(all[0], all[1]) > 1e-3); // members differ from each other
        }
    }

    void badSamplerOptionsAreConfigErrors()
    {
        const NoiseSchedule s;
        for (const SamplerOptions& bad : {SamplerOptions{SamplerKind::Ddpm, 10, 0.0, 0},
                                          SamplerOptions{SamplerKind::Ddim, 251, 0.0, 0},
                                          SamplerOptions{SamplerKind::Ddim, -1, 0.0, 0},
                                          SamplerOptions{SamplerKind::Ddim, 10, 1.5, 0}}) {
            try {
                DiffusionSampler sampler(s, bad);
                QFAIL("no exception");
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::Config);
            }
        }
        const DiffusionSampler sampler(s, SamplerOptions{SamplerKind::Ddim, 2, 0.0, 0});
        const EpsilonFunction wrongShape = [](const at::Tensor& x, const at::Tensor&) {
            return x.narrow(3, 0, 2);
        };
        QVERIFY_THROWS_EXCEPTION(Error, sampler.sample(wrongShape, {1, 1, 4, 4}, at::kFloat));
        const EpsilonFunction diverging = [](const at::Tensor& x, const at::Tensor&) {
            return at::full_like(x, std::nanf(""));
        };
        try {
            sampler.sample(diverging, {1, 1, 4, 4}, at::kFloat);
            QFAIL("no exception");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::InvalidValue);
        }
    }
};

QTEST_GUILESS_MAIN(TestDiffusion)
#include "TestDiffusion.moc"
