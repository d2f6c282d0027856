// The DermoSegDiff network on small configs: state_dict names, shapes, input checks, the cached
// weight standardisation and its invalidation, gradients, and ensemble sampling.

#include "NetworkTestSupport.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/model/DermoSegDiff.h"
#include "engine/model/EnsembleSampling.h"

#include <QtTest>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

using namespace diffseg::core;
using namespace diffseg::core::engine;

namespace {

constexpr auto& smallConfig = diffseg::test::smallNetworkConfig;
constexpr auto& maxAbs = diffseg::test::maxAbsDifference;

std::vector<WsConv2dLayerImpl*> wsLayers(DermoSegDiff& model)
{
    std::vector<WsConv2dLayerImpl*> out;
    for (const auto& m : model->modules(false)) {
        if (auto* ws = dynamic_cast<WsConv2dLayerImpl*>(m.get())) {
            out.push_back(ws);
        }
    }
    return out;
}

struct Inputs
{
    at::Tensor x, g, t;
};

Inputs inputs(std::int64_t batch, std::int64_t side)
{
    return {at::randn({batch, 1, side, side}), at::rand({batch, 3, side, side}),
            at::randint(0, 250, {batch}, at::TensorOptions(at::kLong))};
}

} // namespace

class TestDermoSegDiff : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { at::manual_seed(7); }

    void parameterNamesFollowTheReferenceStateDict()
    {
        DermoSegDiff model(smallConfig());
        QCOMPARE(model->parameterCount(), std::int64_t(724217));
        const diffseg::test::ParameterShapes shapes = diffseg::test::parameterShapes(*model);
        QCOMPARE(shapes.size(), std::size_t(347));
        // Names from the reference's state_dict, one per kind of module (the full list is compared
        // against the parity fixture in test_engine_parity).
        diffseg::test::verifyShapes(
            shapes, {{"encoder_blocks.0.0.rb_x1.rb.mlp.1.weight", {32, 64}},
                     {"encoder_blocks.0.0.rb_g2.rb.block1.proj.weight", {8, 24, 3, 3}},
                     {"encoder_blocks.0.0.rb_g2.rb.res_conv.weight", {8, 24, 1, 1}},
                     {"encoder_blocks.0.0.g_feedback.bias", {16}},
                     {"encoder_blocks.0.0.att_g.att.fn.fn.to_qkv.weight", {384, 24, 1, 1}},
                     {"encoder_blocks.0.0.att_g.att.fn.fn.to_out.1.weight", {24}},
                     {"encoder_blocks.0.0.att_x.att.fn.norm.bias", {16}},
                     {"encoder_blocks.0.1.1.weight", {8, 96, 1, 1}},
                     {"encoder_blocks.2.1.weight", {32, 48, 3, 3}},
                     {"encoder_blocks.2.2.weight", {48, 32, 3, 3}},
                     {"bottleneck.rb_before.rb.block1.proj.weight", {48, 80, 3, 3}},
                     {"bottleneck.ls_attn.s_attn.fn.fn.to_out.weight", {48, 128, 1, 1}},
                     {"bottleneck.ls_attn.l_attn.att.fn.fn.to_out.0.bias", {48}},
                     {"decoder_blocks.0.0.rb_d1.rb.block1.proj.weight", {48, 96, 3, 3}},
                     {"decoder_blocks.0.1.1.weight", {32, 48, 3, 3}},
                     {"decoder_blocks.2.1.weight", {16, 16, 3, 3}},
                     {"time_mlp_x.1.weight", {64, 16}},
                     {"time_mlp_g.3.bias", {32}},
                     {"init_conv_g.weight", {8, 3, 1, 1}},
                     {"final_rb.rb.block1.proj.weight", {16, 40, 3, 3}},
                     {"final_conv.bias", {1}}});
        QCOMPARE(shapes.count("encoder_blocks.0.0.rb_x1.rb.res_conv.weight"), std::size_t(0));
        // The first name of the reference's state_dict comes first here too.
        QCOMPARE(QString::fromStdString(model->named_parameters()[0].key()),
                 QStringLiteral("encoder_blocks.0.0.rb_x1.rb.mlp.1.weight"));
    }

    void forwardKeepsTheMaskShape()
    {
        DermoSegDiff model(smallConfig());
        model->eval();
        c10::InferenceMode inference;
        for (std::int64_t side : {16, 32, 48}) {
            const Inputs in = inputs(2, side);
            const at::Tensor eps = model->forward(in.x, in.g, in.t);
            QCOMPARE(eps.sizes().vec(), (std::vector<std::int64_t>{2, 1, side, side}));
            QVERIFY(at::isfinite(eps).all().item<bool>());
        }
        // Float timesteps are accepted, as the embedding casts them anyway.
        const Inputs in = inputs(1, 16);
        QVERIFY(maxAbs(model->forward(in.x, in.g, in.t),
                       model->forward(in.x, in.g, in.t.to(at::kFloat))) < 1e-6);
    }

    void channelsLastGivesTheSameNumbers()
    {
        DermoSegDiff model(smallConfig());
        model->eval();
        c10::InferenceMode inference;
        const Inputs in = inputs(2, 32);
        const at::Tensor nchw = model->forward(in.x, in.g, in.t);
        model->setChannelsLast(true);
        const at::Tensor nhwc = model->forward(in.x, in.g, in.t);
        QVERIFY(nhwc.is_contiguous());
        QVERIFY(maxAbs(nchw, nhwc) < 1e-5);
    }

    void gemmAndOneDnnConvolutionsAgree()
    {
        // At B=1 the 4x4 level runs its convolutions as im2col + GEMM, at B=2 through oneDNN.
        DermoSegDiff model(DermoSegDiffConfig::fromJson(
            R"({"dim_x": 8, "dim_g": 8, "dim_x_mults": [1, 1, 1, 1], "dim_g_mults": [1, 1, 1, 1]})"));
        model->eval();
        c10::InferenceMode inference;
        const Inputs in = inputs(2, 32);
        const at::Tensor pair = model->forward(in.x, in.g, in.t);
        const at::Tensor first =
            model->forward(in.x.narrow(0, 0, 1), in.g.narrow(0, 0, 1), in.t.narrow(0, 0, 1));
        QVERIFY(maxAbs(pair.narrow(0, 0, 1), first) < 1e-5);
    }

    void badInputsAreReportedNotCrashed()
    {
        DermoSegDiff model(smallConfig());
        const Inputs in = inputs(2, 16);
        const auto expectKind = [](ErrorKind kind, const std::function<void()>& call) {
            try {
                call();
                QFAIL("no exception");
            } catch (const Error& e) {
                QCOMPARE(e.kind(), kind);
            }
        };
        expectKind(ErrorKind::Mismatch, [&] { model->forward(in.g, in.g, in.t); });
        expectKind(ErrorKind::Mismatch, [&] { model->forward(in.x, in.x, in.t); });
        expectKind(ErrorKind::Mismatch, [&] { model->forward(in.x, in.g.narrow(0, 0, 1), in.t); });
        expectKind(ErrorKind::Mismatch, [&] { model->forward(in.x, in.g, in.t.narrow(0, 0, 1)); });
        expectKind(ErrorKind::InvalidValue, [&] {
            model->forward(at::randn({2, 1, 18, 18}), at::rand({2, 3, 18, 18}), in.t);
        });
        expectKind(ErrorKind::InvalidValue,
                   [&] { model->forward(in.x.to(at::kDouble), in.g.to(at::kDouble), in.t); });
        expectKind(ErrorKind::InvalidValue, [&] { model->forward(at::Tensor(), in.g, in.t); });
    }

    void configErrorsNameTheKey()
    {
        const struct
        {
            const char* json;
            const char* key;
        } cases[] = {
            {R"({"dim_x": 16, "dim_g": 8, "dim_x_mults": [1, 2], "dim_g_mults": [1]})",
             "dim_g_mults"},
            {R"({"dim_x": 16, "dim_g": 8, "resnet_block_groups": 3})", "resnet_block_groups"},
            {R"({"dim_x": 15, "dim_g": 8})", "dim_x"},
            {R"({"dim_x": 16, "dim_g": 8, "colour": 1})", "colour"},
            {R"({"dim_x": 16, "dim_g": 8, "dim_x_mults": "1,2"})", "dim_x_mults"},
            {R"({"dim_x": 16, "dim_g": 8, "init_dim": 5})", "init_dim"},
            {R"({"dim_g": 8})", "dim_x"},
            {R"({"dim_x": 16, "dim_g": 8)", ""}};
        for (const auto& c : cases) {
            try {
                DermoSegDiffConfig::fromJson(c.json, "model.params");
                QFAIL(c.json);
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::Config);
                QVERIFY2(std::string(e.what()).find(c.key) != std::string::npos, e.what());
            }
        }
        // Defaults of the reference constructor apply to absent keys; JSON round-trips.
        const DermoSegDiffConfig d = DermoSegDiffConfig::fromJson(R"({"dim_x": 16, "dim_g": 8})");
        QCOMPARE(d.resnetBlockGroups, 4);
        QCOMPARE(d.dimXMults, (std::vector<int>{1, 2, 4, 8}));
        QVERIFY(DermoSegDiffConfig::fromJson(smallConfig().toJson()) == smallConfig());
        QVERIFY(DermoSegDiffConfig::fromJson(DermoSegDiffConfig::ham10000().toJson()) ==
                DermoSegDiffConfig::ham10000());
        QVERIFY_THROWS_EXCEPTION(Error, DermoSegDiffConfig::preset("isic2019"));
    }

    void evalCachesTheStandardisedWeightsOnce()
    {
        DermoSegDiff model(smallConfig());
        const auto layers = wsLayers(model);
        QCOMPARE(layers.size(), std::size_t(2 * 21)); // 21 ResNet blocks, two WS convs each
        const Inputs in = inputs(1, 16);
        model->eval();
        c10::InferenceMode inference;
        const at::Tensor first = model->forward(in.x, in.g, in.t);
        const at::Tensor second = model->forward(in.x, in.g, in.t);
        for (auto* layer : layers) {
            QCOMPARE(layer->standardizeCount(), std::int64_t(1));
        }
        QCOMPARE(maxAbs(first, second), 0.0);
        model->train(true);
        const at::Tensor fresh = model->forward(in.x, in.g, in.t);
        for (auto* layer : layers) {
            QCOMPARE(layer->standardizeCount(), std::int64_t(2));
        }
        // The cached and the recomputed standardisation give the same network.
        QVERIFY(maxAbs(first, fresh) < 1e-6);
    }

    void cacheFilledUnderInferenceModeServesAutograd()
    {
        // Frozen weights and an input gradient (e.g. a saliency map) with a cache that an
        // InferenceMode sampling run filled.
        DermoSegDiff model(smallConfig());
        model->eval();
        for (auto& p : model->parameters()) {
            p.set_requires_grad(false);
        }
        const Inputs in = inputs(1, 16);
        {
            c10::InferenceMode inference;
            model->forward(in.x, in.g, in.t);
        }
        const at::Tensor x = in.x.clone().set_requires_grad(true);
        model->forward(x, in.g, in.t).sum().backward();
        QVERIFY(x.grad().defined());
        QCOMPARE(wsLayers(model).front()->standardizeCount(), std::int64_t(1));
    }

    void changingWeightsInvalidatesTheCache()
    {
        DermoSegDiff model(smallConfig());
        DermoSegDiff other(smallConfig());
        const Inputs in = inputs(2, 16);
        model->eval();
        other->eval();
        c10::NoGradGuard noGrad;
        const at::Tensor before = model->forward(in.x, in.g, in.t);
        // An in-place update (what an optimizer step does) must be seen by the next forward.
        auto* layer = wsLayers(model).front();
        layer->weight().mul_(-1.5).add_(0.01);
        const at::Tensor afterUpdate = model->forward(in.x, in.g, in.t);
        QVERIFY(maxAbs(before, afterUpdate) > 1e-4);
        QCOMPARE(layer->standardizeCount(), std::int64_t(2));
        model->train(true);
        QVERIFY(maxAbs(afterUpdate, model->forward(in.x, in.g, in.t)) < 1e-6);
        model->eval();
        // Loading other weights by name makes the model the other model.
        loadWeights(*model, namedWeights(*other), "other model");
        QVERIFY(maxAbs(model->forward(in.x, in.g, in.t), other->forward(in.x, in.g, in.t)) < 1e-6);
        // A dtype change recomputes too.
        model->to(at::kDouble);
        other->to(at::kDouble);
        const at::Tensor inDouble =
            model->forward(in.x.to(at::kDouble), in.g.to(at::kDouble), in.t);
        QCOMPARE(inDouble.scalar_type(), at::kDouble);
        QVERIFY(maxAbs(inDouble, other->forward(in.x.to(at::kDouble), in.g.to(at::kDouble), in.t)) <
                1e-10);
    }

    void gradientsReachEveryParameter()
    {
        DermoSegDiff model(smallConfig());
        model->train(true);
        const Inputs in = inputs(2, 16);
        const at::Tensor eps = model->forward(in.x, in.g, in.t);
        const at::Tensor loss = at::mse_loss(eps, at::randn_like(eps));
        loss.backward();
        int withGrad = 0;
        for (const auto& p : model->named_parameters()) {
            QVERIFY2(p.value().grad().defined(), p.key().c_str());
            QVERIFY2(at::isfinite(p.value().grad()).all().item<bool>(), p.key().c_str());
            withGrad += p.value().grad().abs().sum().item<double>() > 0.0 ? 1 : 0;
        }
        QVERIFY(withGrad > 300);
        // Without autograd the network overwrites intermediates in place: same numbers.
        model->eval();
        const at::Tensor withAutograd = model->forward(in.x, in.g, in.t);
        c10::NoGradGuard noGrad;
        QVERIFY(maxAbs(withAutograd, model->forward(in.x, in.g, in.t)) < 1e-6);
    }

    void ensembleRunsAsOneBatch()
    {
        DermoSegDiff model(smallConfig());
        {
            // An untrained network's noise estimate is far from the truth and grows with |x_t|
            // (the g -> x gates multiply), so long chains overflow; a small output layer and two
            // steps keep them finite. This test is about batching, not about quality.
            c10::NoGradGuard noGrad;
            model->named_parameters()["final_conv.weight"].mul_(0.001);
        }
        model->train(true);
        const at::Tensor images = at::rand({2, 3, 16, 16});
        const DiffusionSampler sampler(NoiseSchedule{},
                                       SamplerOptions{SamplerKind::Ddim, 2, 0.0, 42});
        int steps = 0;
        std::int64_t rows = 0;
        const EnsembleResult result =
            sampleEnsemble(model, sampler, images, 3, [&](const SamplerStep& step) {
                ++steps;
                rows = step.xT.size(0);
            });
        QCOMPARE(steps, 2);
        QCOMPARE(rows, std::int64_t(6)); // 2 images x 3 members in one batch
        QVERIFY(model->is_training());   // the caller's mode is restored
        QCOMPARE(result.samples.sizes().vec(), (std::vector<std::int64_t>{2, 3, 1, 16, 16}));
        QVERIFY(at::isfinite(result.samples).all().item<bool>());
        QVERIFY(maxAbs(result.mean, result.samples.mean(1)) < 1e-6);
        QCOMPARE(result.mask.scalar_type(), at::kBool);
        // Member k of image b is the chain seeded 42 + b*3 + k, whatever else is in the batch.
        const EnsembleResult single = sampleEnsemble(
            model,
            DiffusionSampler(NoiseSchedule{}, SamplerOptions{SamplerKind::Ddim, 2, 0.0, 42 + 3}),
            images.narrow(0, 1, 1), 1);
        const double difference = maxAbs(single.samples[0][0], result.samples[1][0]);
        QVERIFY2(difference < 1e-4 * (1.0 + result.samples.abs().max().item<double>()),
                 qPrintable(QString::number(difference)));
        // A first look: chain 0's first estimate arrives alone, before the step, and it is the
        // step's own estimate of that chain; the run is the same run.
        int looks = 0;
        at::Tensor look;
        at::Tensor firstStep;
        const EnsembleResult looked = sampleEnsemble(
            model, sampler, images, 3,
            [&](const SamplerStep& step) {
                QCOMPARE(looks, 1); // the look came before every step
                if (step.index == 0) {
                    firstStep = step.x0Hat.clone();
                }
            },
            {}, nullptr,
            [&](const at::Tensor& x0) {
                ++looks;
                look = x0.clone();
            });
        QCOMPARE(looks, 1);
        QCOMPARE(look.sizes().vec(), (std::vector<std::int64_t>{1, 1, 16, 16}));
        QVERIFY(maxAbs(look[0], firstStep[0]) < 1e-5);
        QVERIFY(maxAbs(looked.samples, result.samples) <
                1e-4 * (1.0 + result.samples.abs().max().item<double>()));
        QVERIFY_THROWS_EXCEPTION(Error, sampleEnsemble(model, sampler, images, 0));
        at::Tensor bad = images.clone();
        bad[0][0][0][0] = std::nanf("");
        QVERIFY_THROWS_EXCEPTION(Error, sampleEnsemble(model, sampler, bad, 2));
        QVERIFY_THROWS_EXCEPTION(Error, sampleEnsemble(model, sampler, images.narrow(1, 0, 1), 2));
    }
};

QTEST_GUILESS_MAIN(TestDermoSegDiff)
#include "TestDermoSegDiff.moc"
