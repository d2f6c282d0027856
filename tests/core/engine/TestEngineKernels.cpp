// The engine's speed paths checked against the plain forms they replace: the precision switch and
// its CPU detection, the fused group norm and linear-attention kernels (float32 and bfloat16,
// NCHW and channels-last), the exact rewrites (x_t fold, upsample conv), bf16 inference and
// mixed-precision training.

#include "NetworkTestSupport.h"
#include "engine/Precision.h"
#include "engine/model/AttentionKernel.h"
#include "engine/model/DermoSegDiff.h"
#include "engine/model/GroupNormKernel.h"

#include <QtTest>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstdlib>
#include <map>

using namespace diffseg::core;
using namespace diffseg::core::engine;

namespace {

constexpr auto& smallConfig = diffseg::test::smallNetworkConfig;
constexpr auto& maxAbs = diffseg::test::maxAbsDifference;

/// GN + per-sample affine + optional SiLU, in double, as the kernel's specification says.
at::Tensor groupNormReference(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                              const at::Tensor& beta, bool silu)
{
    const at::Tensor xd = x.to(at::kDouble).contiguous();
    at::Tensor y = at::group_norm(xd, groups, {}, {}, 1e-5) *
                       gamma.to(at::kDouble).unsqueeze(-1).unsqueeze(-1) +
                   beta.to(at::kDouble).unsqueeze(-1).unsqueeze(-1);
    return silu ? at::silu(y) : y;
}

/// The reference's linear attention (softmax of q over features, of k over positions), in
/// double, from a (B, 3*heads*32, H, W) projection; returns (B, heads*32, H, W).
at::Tensor attentionReference(const at::Tensor& qkv, std::int64_t heads, double scale)
{
    const std::int64_t b = qkv.size(0);
    const std::int64_t n = qkv.size(2) * qkv.size(3);
    const at::Tensor t = qkv.to(at::kDouble).contiguous().reshape({b, 3, heads, 32, n});
    const at::Tensor q = at::softmax(t.select(1, 0), -2);
    const at::Tensor k = at::softmax(t.select(1, 1), -1);
    const at::Tensor v = t.select(1, 2);
    const at::Tensor context = at::matmul(k, v.transpose(-1, -2)) * scale;
    return at::matmul(context.transpose(-1, -2), q)
        .reshape({b, heads * 32, qkv.size(2), qkv.size(3)});
}

/// Restores an environment variable when the test function ends.
class EnvScope
{
public:
    EnvScope(const char* name, const char* value)
        : m_name(name)
    {
        if (const char* old = std::getenv(name)) {
            m_old = old;
            m_had = true;
        }
        value ? setenv(name, value, 1) : unsetenv(name);
    }
    ~EnvScope() { m_had ? setenv(m_name, m_old.c_str(), 1) : unsetenv(m_name); }

private:
    const char* m_name;
    std::string m_old;
    bool m_had = false;
};

} // namespace

class TestEngineKernels : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { at::manual_seed(11); }

    void precisionParsesAndNames()
    {
        QCOMPARE(parsePrecision("auto"), Precision::Auto);
        QCOMPARE(parsePrecision("FP32"), Precision::Fp32);
        QCOMPARE(parsePrecision("float32"), Precision::Fp32);
        QCOMPARE(parsePrecision("bf16"), Precision::Bf16);
        QCOMPARE(parsePrecision("BFloat16"), Precision::Bf16);
        QCOMPARE(QString(precisionName(Precision::Bf16)), QStringLiteral("bf16"));
        try {
            parsePrecision("half", "--precision");
            QFAIL("no exception");
        } catch (const std::exception& e) {
            QVERIFY2(std::string(e.what()).find("--precision") != std::string::npos, e.what());
        }
    }

    void autoPicksBf16OnlyWhereTheCpuHasIt()
    {
        {
            // A processor without native bf16: auto falls back to float32.
            EnvScope env("DIFFSEG_CPU_BF16", "0");
            QVERIFY(!cpuHasNativeBf16());
            QCOMPARE(resolvePrecision(Precision::Auto, "cpu"), Precision::Fp32);
            QCOMPARE(resolvePrecision(Precision::Bf16, "cpu"), Precision::Bf16);
            QCOMPARE(resolvePrecision(Precision::Fp32, "cpu"), Precision::Fp32);
        }
        {
            EnvScope env("DIFFSEG_CPU_BF16", "1");
            QCOMPARE(resolvePrecision(Precision::Auto, "cpu"), Precision::Bf16);
            QCOMPARE(resolvePrecision(Precision::Fp32, "cpu"), Precision::Fp32);
        }
        EnvScope env("DIFFSEG_CPU_BF16", nullptr);
        // Whatever this machine is, auto follows the CPUID answer.
        QCOMPARE(resolvePrecision(Precision::Auto, "CPU"),
                 cpuHasNativeBf16() ? Precision::Bf16 : Precision::Fp32);
        qInfo("this CPU has native bf16: %s", cpuHasNativeBf16() ? "yes" : "no");
    }

    void fusedGroupNormMatchesTheDefinition_data()
    {
        QTest::addColumn<bool>("bf16");
        QTest::addColumn<bool>("channelsLast");
        QTest::addColumn<bool>("silu");
        for (bool bf16 : {false, true}) {
            for (bool cl : {false, true}) {
                for (bool silu : {false, true}) {
                    const QByteArray name = QByteArray(bf16 ? "bf16" : "fp32") +
                                            (cl ? " channels-last" : " NCHW") +
                                            (silu ? " silu" : "");
                    QTest::newRow(name.constData()) << bf16 << cl << silu;
                }
            }
        }
    }

    void fusedGroupNormMatchesTheDefinition()
    {
        QFETCH(bool, bf16);
        QFETCH(bool, channelsLast);
        QFETCH(bool, silu);
        c10::InferenceMode inference;
        // Odd sizes (row blocks with remainders), a mean far from zero, groups of 4 channels.
        for (const auto& shape : std::vector<std::vector<std::int64_t>>{
                 {2, 16, 19, 23}, {1, 8, 1, 1}, {3, 12, 40, 33}}) {
            at::Tensor x = at::randn(shape) * 3 + 5;
            if (bf16) {
                x = x.to(at::kBFloat16);
            }
            if (channelsLast) {
                x = x.contiguous(at::MemoryFormat::ChannelsLast);
            }
            const at::Tensor gamma = at::randn({shape[0], shape[1]});
            const at::Tensor beta = at::randn({shape[0], shape[1]});
            const std::int64_t groups = shape[1] / 4;
            QVERIFY(fusedGroupNormSupports(x));
            const at::Tensor y = fusedGroupNorm(x, groups, gamma, beta, silu);
            QCOMPARE(y.scalar_type(), x.scalar_type());
            QCOMPARE(y.is_contiguous(), x.is_contiguous());
            const at::Tensor expected = groupNormReference(x, groups, gamma, beta, silu);
            // float32: rounding only. bf16: the output's rounding (8 bits) on values up to ~10.
            const double tolerance = bf16 ? 0.06 : 2e-5;
            const double error = maxAbs(y, expected);
            QVERIFY2(error < tolerance, qPrintable(QString("max error %1").arg(error)));
        }
    }

    void fusedGroupNormGradientsMatchAutograd_data() { fusedGroupNormMatchesTheDefinition_data(); }

    void fusedGroupNormGradientsMatchAutograd()
    {
        QFETCH(bool, bf16);
        QFETCH(bool, channelsLast);
        QFETCH(bool, silu);
        for (const auto& shape :
             std::vector<std::vector<std::int64_t>>{{2, 16, 19, 23}, {3, 12, 1, 1}}) {
            at::Tensor base = at::randn(shape) * 2 + 1;
            if (bf16) {
                base = base.to(at::kBFloat16);
            }
            if (channelsLast) {
                base = base.contiguous(at::MemoryFormat::ChannelsLast);
            }
            const std::int64_t groups = shape[1] / 4;
            const at::Tensor gamma0 = at::randn({shape[0], shape[1]});
            const at::Tensor beta0 = at::randn({shape[0], shape[1]});
            const at::Tensor weight = at::randn(shape);
            const at::Tensor x = base.detach().clone().set_requires_grad(true);
            const at::Tensor gamma = gamma0.clone().set_requires_grad(true);
            const at::Tensor beta = beta0.clone().set_requires_grad(true);
            (fusedGroupNorm(x, groups, gamma, beta, silu).to(at::kFloat) * weight).sum().backward();
            const at::Tensor xr = base.detach().to(at::kDouble).set_requires_grad(true);
            const at::Tensor gr = gamma0.to(at::kDouble).set_requires_grad(true);
            const at::Tensor br = beta0.to(at::kDouble).set_requires_grad(true);
            (groupNormReference(xr, groups, gr, br, silu) * weight.to(at::kDouble))
                .sum()
                .backward();
            QCOMPARE(x.grad().scalar_type(), x.scalar_type());
            QCOMPARE(x.grad().is_contiguous(), x.is_contiguous());
            const double tolerance = bf16 ? 3e-2 : 1e-4;
            for (const auto& [ours, reference] :
                 {std::pair<at::Tensor, at::Tensor>{x.grad(), xr.grad()},
                  {gamma.grad(), gr.grad()},
                  {beta.grad(), br.grad()}}) {
                const double size = std::max(1.0, reference.abs().max().item<double>());
                const double error = maxAbs(ours, reference);
                QVERIFY2(error < tolerance * size,
                         qPrintable(QString("max error %1 of %2").arg(error).arg(size)));
            }
        }
    }

    void fusedGroupNormKeepsTheVarianceUnderALargeMean()
    {
        // float32 sums of raw values would cancel: mean 1000, standard deviation 0.5.
        c10::InferenceMode inference;
        const at::Tensor x = at::randn({1, 8, 64, 64}) * 0.5 + 1000;
        const at::Tensor ones = at::ones({1, 8});
        const at::Tensor y = fusedGroupNorm(x, 2, ones, at::zeros({1, 8}), false);
        const at::Tensor expected = groupNormReference(x, 2, ones, at::zeros({1, 8}), false);
        QVERIFY2(maxAbs(y, expected) < 1e-3, qPrintable(QString::number(maxAbs(y, expected))));
    }

    void fusedGroupNormRefusesWhatItCannotTake()
    {
        c10::InferenceMode inference;
        QVERIFY(!fusedGroupNormSupports(at::randn({2, 8, 4, 4}, at::kDouble)));
        QVERIFY(!fusedGroupNormSupports(at::randn({2, 8, 4, 4}).transpose(2, 3)));
        QVERIFY(!fusedGroupNormSupports(at::randn({8, 4, 4})));
        QVERIFY_THROWS_EXCEPTION(
            std::exception,
            fusedGroupNorm(at::randn({2, 8, 4, 4}), 3, at::ones({2, 8}), at::zeros({2, 8}), false));
        QVERIFY_THROWS_EXCEPTION(
            std::exception,
            fusedGroupNorm(at::randn({2, 8, 4, 4}), 2, at::ones({1, 8}), at::zeros({2, 8}), false));
    }

    void attentionKernelMatchesTheReferenceForm_data()
    {
        QTest::addColumn<bool>("bf16");
        QTest::newRow("fp32") << false;
        QTest::newRow("bf16") << true;
    }

    void attentionKernelMatchesTheReferenceForm()
    {
        QFETCH(bool, bf16);
        c10::InferenceMode inference;
        // The last shape's logits span hundreds: exp's clamp at -87 and the max shift matter.
        for (const auto& shape : std::vector<std::vector<std::int64_t>>{{2, 384, 6, 5},
                                                                        {1, 384, 1, 1},
                                                                        {3, 384, 33, 31},
                                                                        {1, 192, 24, 24},
                                                                        {1, 384, 9, 9}}) {
            const std::int64_t heads = shape[1] / 96;
            const double amplitude = shape[2] == 9 ? 60.0 : 2.0;
            at::Tensor qkv =
                (at::randn(shape) * amplitude).contiguous(at::MemoryFormat::ChannelsLast);
            if (bf16) {
                qkv = qkv.to(at::kBFloat16);
            }
            QVERIFY(linearAttentionKernelSupports(qkv, heads));
            const double scale = 1.0 / std::sqrt(32.0);
            const at::Tensor out = linearAttentionKernel(qkv, heads, scale);
            QCOMPARE(out.scalar_type(), qkv.scalar_type());
            QVERIFY(out.is_contiguous(at::MemoryFormat::ChannelsLast));
            const at::Tensor expected = attentionReference(qkv, heads, scale);
            const double error = maxAbs(out, expected);
            // Relative to the values (v reaches ~250 at amplitude 60, where a bf16 step is 1).
            const double tolerance = (bf16 ? 2e-2 : 1e-5) * amplitude / 2.0;
            QVERIFY2(error < tolerance, qPrintable(QString("max error %1").arg(error)));
        }
        // Only channels-last with the right width, and only without autograd.
        QVERIFY(!linearAttentionKernelSupports(at::randn({1, 384, 4, 4}), 4));
        QVERIFY(!linearAttentionKernelSupports(
            at::randn({1, 380, 4, 4}).contiguous(at::MemoryFormat::ChannelsLast), 4));
        c10::InferenceMode notInference(false);
        c10::AutoGradMode grad(true);
        QVERIFY(!linearAttentionKernelSupports(
            at::randn({1, 384, 4, 4}).contiguous(at::MemoryFormat::ChannelsLast), 4));
    }

    void upsampleConvRewriteIsTheUpsampledConv()
    {
        c10::InferenceMode inference;
        UpsampleConv2dLayer layer(6, 5, WeightInit::Default);
        layer->eval();
        for (const auto& shape :
             std::vector<std::vector<std::int64_t>>{{2, 6, 3, 5}, {1, 6, 1, 1}, {1, 6, 8, 8}}) {
            for (bool cl : {false, true}) {
                at::Tensor x = at::randn(shape);
                if (cl) {
                    x = x.contiguous(at::MemoryFormat::ChannelsLast);
                }
                layer->setRewrite(true);
                const at::Tensor rewritten = layer->forward(x);
                layer->setRewrite(false);
                const at::Tensor plain = layer->forward(x);
                QCOMPARE(rewritten.sizes(), plain.sizes());
                QCOMPARE(rewritten.is_contiguous(), x.is_contiguous());
                QVERIFY2(maxAbs(rewritten, plain) < 1e-5,
                         qPrintable(QString::number(maxAbs(rewritten, plain))));
            }
        }
        // The folded kernels hold 4/9 of the multiply-adds per output (16 taps for 4 outputs).
        layer->setRewrite(true);
        QCOMPARE(layer->weightFor(at::kFloat).sizes().vec(),
                 (std::vector<std::int64_t>{20, 6, 2, 2}));
    }

    void rewritesGiveThePlainNetwork()
    {
        DermoSegDiff model(smallConfig());
        const at::Tensor x = at::randn({2, 1, 32, 32});
        const at::Tensor g = at::rand({2, 3, 32, 32});
        const at::Tensor t = at::tensor({3, 170}, at::kLong);
        {
            model->eval();
            c10::InferenceMode inference;
            for (bool cl : {false, true}) {
                model->setChannelsLast(cl);
                model->setRewrites(true);
                const at::Tensor rewritten = model->forward(x, g, t);
                model->setRewrites(false);
                const at::Tensor plain = model->forward(x, g, t);
                QVERIFY2(maxAbs(rewritten, plain) < 1e-5,
                         qPrintable(QString::number(maxAbs(rewritten, plain))));
            }
        }
        // Training: same loss and same gradients with and without the rewrites.
        model->train(true);
        model->setChannelsLast(false);
        std::map<std::string, at::Tensor> grads[2];
        double losses[2] = {};
        for (int pass = 0; pass < 2; ++pass) {
            model->setRewrites(pass == 0);
            model->zero_grad();
            const at::Tensor loss = model->forward(x, g, t).square().mean();
            loss.backward();
            losses[pass] = loss.item<double>();
            for (const auto& p : model->named_parameters()) {
                QVERIFY2(p.value().grad().defined(), p.key().c_str());
                grads[pass][p.key()] = p.value().grad().clone();
            }
        }
        QVERIFY(std::abs(losses[0] - losses[1]) < 1e-6 * (1 + std::abs(losses[1])));
        // Relative to the largest gradient: some are ~0 by construction (a bias before a norm)
        // and hold rounding noise only.
        double scale = 0.0;
        for (const auto& [name, grad] : grads[1]) {
            scale = std::max(scale, grad.abs().max().item<double>());
        }
        for (const auto& [name, grad] : grads[1]) {
            const double error = maxAbs(grads[0][name], grad);
            QVERIFY2(error < 1e-5 * scale,
                     qPrintable(QString("%1: %2 of %3").arg(name.c_str()).arg(error).arg(scale)));
        }
    }

    void bf16InferenceTracksFloat32()
    {
        DermoSegDiff model(smallConfig());
        model->eval();
        c10::InferenceMode inference;
        const at::Tensor x = at::randn({3, 1, 32, 32});
        const at::Tensor g = at::rand({3, 3, 32, 32});
        const at::Tensor t = at::tensor({0, 120, 249}, at::kLong);
        const at::Tensor fp32 = model->forward(x, g, t);
        model->setBf16(true);
        const at::Tensor bf16 = model->forward(x, g, t);
        QCOMPARE(bf16.scalar_type(), at::kFloat); // the output is float32 for the sampler
        QVERIFY(bf16.is_contiguous());
        const double relative = maxAbs(bf16, fp32) / fp32.abs().max().item<double>();
        QVERIFY2(relative < 0.05, qPrintable(QString("relative error %1").arg(relative)));
        // The parameters stay float32; the bf16 copies are cached once per layer.
        for (const auto& p : model->parameters()) {
            QCOMPARE(p.scalar_type(), at::kFloat);
        }
        std::int64_t before = 0;
        for (const auto& m : model->modules(false)) {
            if (auto* conv = dynamic_cast<Conv2dLayerImpl*>(m.get())) {
                before += conv->prepareCount();
            }
        }
        model->forward(x, g, t);
        std::int64_t after = 0;
        for (const auto& m : model->modules(false)) {
            if (auto* conv = dynamic_cast<Conv2dLayerImpl*>(m.get())) {
                after += conv->prepareCount();
            }
        }
        QCOMPARE(after, before);
    }

    void bf16TrainingIsMixedPrecision()
    {
        DermoSegDiff model(smallConfig());
        model->train(true);
        const at::Tensor x = at::randn({2, 1, 32, 32});
        const at::Tensor g = at::rand({2, 3, 32, 32});
        const at::Tensor t = at::tensor({10, 200}, at::kLong);
        const at::Tensor target = at::randn({2, 1, 32, 32});
        std::vector<at::Tensor> grads[2];
        for (int pass = 0; pass < 2; ++pass) {
            model->setBf16(pass == 1);
            model->zero_grad();
            const at::Tensor out = model->forward(x, g, t);
            QCOMPARE(out.scalar_type(), at::kFloat); // the loss is taken in float32
            at::mse_loss(out, target).backward();
            for (const auto& p : model->parameters()) {
                QVERIFY(p.grad().defined());
                QCOMPARE(p.grad().scalar_type(), at::kFloat); // float32 master gradients
                QVERIFY(at::isfinite(p.grad()).all().item<bool>());
                grads[pass].push_back(p.grad().flatten().clone());
            }
        }
        // Same descent direction: cosine similarity of the whole gradient vector.
        const at::Tensor a = at::cat(grads[0]);
        const at::Tensor b = at::cat(grads[1]);
        const double cosine = (at::dot(a, b) / (a.norm() * b.norm())).item<double>();
        QVERIFY2(cosine > 0.98, qPrintable(QString("cosine %1").arg(cosine)));
    }
};

QTEST_GUILESS_MAIN(TestEngineKernels)
#include "TestEngineKernels.moc"
