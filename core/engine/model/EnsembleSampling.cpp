#include "EnsembleSampling.h"

#include "base/Error.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

namespace diffseg::core::engine {

namespace {

/// Restores the model's training flag however the run ends.
class EvalModeScope
{
public:
    explicit EvalModeScope(DermoSegDiffImpl& model)
        : m_model(model)
        , m_wasTraining(model.is_training())
    {
        m_model.eval();
    }
    ~EvalModeScope()
    {
        if (m_wasTraining) {
            m_model.train(true);
        }
    }
    EvalModeScope(const EvalModeScope&) = delete;
    EvalModeScope& operator=(const EvalModeScope&) = delete;

private:
    DermoSegDiffImpl& m_model;
    bool m_wasTraining;
};

} // namespace

EnsembleResult sampleEnsemble(DermoSegDiff& model, const DiffusionSampler& sampler,
                              const at::Tensor& images, int members,
                              const SamplerCallback& callback, const CancelToken& cancel,
                              const SamplerGuidance* guidance, const FirstLookCallback& firstLook)
{
    if (members < 1) {
        throw Error(ErrorKind::Config, "testing.ensemble",
                    "needs at least one member, got " + std::to_string(members));
    }
    const DermoSegDiffConfig& config = model->config();
    if (!images.defined() || images.dim() != 4 || images.size(1) != config.channelsG) {
        throw Error(ErrorKind::Mismatch, "images",
                    "expected (B, " + std::to_string(config.channelsG) + ", H, W)");
    }
    if (!at::isfinite(images).all().item<bool>()) {
        throw Error(ErrorKind::InvalidValue, "images", "contain NaN or infinite values");
    }
    if (config.outDim != config.channelsX) {
        throw Error(ErrorKind::Config, "model.out_dim",
                    "sampling feeds the prediction back as x_t, so out_dim (" +
                        std::to_string(config.outDim) + ") must equal channels_x (" +
                        std::to_string(config.channelsX) + ")");
    }
    EvalModeScope evalMode(*model);
    c10::InferenceMode inference;
    const std::int64_t batch = images.size(0);
    const std::int64_t height = images.size(2);
    const std::int64_t width = images.size(3);
    const at::Tensor g = images.repeat_interleave(members, 0);
    // Catch shape problems before the first step rather than inside the denoiser call.
    model->checkInputs(
        at::empty({batch * members, config.channelsX, height, width}, images.options()), g,
        at::zeros({batch * members}, images.options().dtype(at::kLong)));
    bool looked = !firstLook;
    const EpsilonFunction epsilon = [&](const at::Tensor& x, const at::Tensor& t) {
        const std::int64_t rows = x.size(0);
        if (looked || rows < 2) {
            looked = true;
            return model->forward(x, g, t);
        }
        looked = true;
        const at::Tensor head =
            model->forward(x.narrow(0, 0, 1), g.narrow(0, 0, 1), t.narrow(0, 0, 1));
        firstLook(sampler.x0Estimate(head, x.narrow(0, 0, 1),
                                     static_cast<int>(t[0].item<std::int64_t>())));
        const at::Tensor tail = model->forward(x.narrow(0, 1, rows - 1), g.narrow(0, 1, rows - 1),
                                               t.narrow(0, 1, rows - 1));
        return at::cat({head, tail}, 0);
    };
    // Every member of an image shares its guidance.
    SamplerGuidance perRow;
    if (guidance != nullptr) {
        const auto rows = [&](const at::Tensor& t) {
            return t.defined() ? t.repeat_interleave(members, 0) : t;
        };
        perRow.start = rows(guidance->start);
        perRow.known = rows(guidance->known);
        perRow.values = rows(guidance->values);
        perRow.resampleJumps = guidance->resampleJumps;
    }
    const at::Tensor x0 =
        sampler.sample(epsilon, {batch * members, config.channelsX, height, width},
                       images.options(), callback, cancel, guidance != nullptr ? &perRow : nullptr);
    EnsembleResult result;
    result.samples = x0.view({batch, members, config.channelsX, height, width});
    result.mean = result.samples.mean(1);
    result.mask = result.mean > 0;
    return result;
}

} // namespace diffseg::core::engine
