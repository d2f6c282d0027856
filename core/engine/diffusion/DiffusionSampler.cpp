#include "DiffusionSampler.h"

#include "base/Error.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <sstream>

namespace diffseg::core::engine {

namespace {

std::string shapeText(const at::Tensor& t)
{
    std::ostringstream s;
    s << t.sizes();
    return s.str();
}

/// One CPU generator per batch row, so that a row's noise never depends on the other rows.
class RowNoise
{
public:
    RowNoise(std::uint64_t seed, std::int64_t rows)
    {
        m_generators.reserve(static_cast<std::size_t>(rows));
        for (std::int64_t r = 0; r < rows; ++r) {
            m_generators.push_back(
                at::make_generator<at::CPUGeneratorImpl>(seed + static_cast<std::uint64_t>(r)));
        }
    }

    at::Tensor normal(at::IntArrayRef shape, const at::TensorOptions& options)
    {
        const std::vector<std::int64_t> rowShape(shape.begin() + 1, shape.end());
        const auto cpuFloat = at::TensorOptions().dtype(at::kFloat);
        std::vector<at::Tensor> rows;
        rows.reserve(m_generators.size());
        for (auto& generator : m_generators) {
            rows.push_back(at::randn(rowShape, generator, cpuFloat));
        }
        return at::stack(rows).to(options);
    }

private:
    std::vector<at::Generator> m_generators;
};

std::vector<int> ddimTimesteps(int T, int steps)
{
    std::vector<int> ts;
    if (steps == 1) {
        return {T - 1};
    }
    for (int i = steps - 1; i >= 0; --i) {
        ts.push_back(static_cast<int>(
            std::lround(static_cast<double>(i) * (T - 1) / static_cast<double>(steps - 1))));
    }
    return ts;
}

} // namespace

const char* samplerKindName(SamplerKind kind) noexcept
{
    return kind == SamplerKind::Ddpm ? "ddpm" : "ddim";
}

at::Tensor qSample(const NoiseSchedule& schedule, const at::Tensor& x0, const at::Tensor& t,
                   const at::Tensor& noise)
{
    if (!x0.defined() || !t.defined() || !noise.defined() || x0.dim() < 1) {
        throw Error(ErrorKind::InvalidValue, "q_sample", "x0, t and noise must be set");
    }
    if (!noise.sizes().equals(x0.sizes())) {
        throw Error(ErrorKind::Mismatch, "q_sample noise",
                    "shape " + shapeText(noise) + " differs from x0 " + shapeText(x0));
    }
    if (t.dim() != 1 || t.size(0) != x0.size(0) || at::isFloatingType(t.scalar_type())) {
        throw Error(ErrorKind::Mismatch, "q_sample t",
                    "expected (" + std::to_string(x0.size(0)) + ") integer timesteps, got " +
                        shapeText(t));
    }
    const at::Tensor tCpu = t.to(at::kCPU, at::kLong);
    const std::int64_t T = schedule.timesteps();
    if (t.numel() > 0 &&
        (tCpu.min().item<std::int64_t>() < 0 || tCpu.max().item<std::int64_t>() >= T)) {
        throw Error(ErrorKind::InvalidValue, "q_sample t",
                    "timesteps must lie in [0, " + std::to_string(T - 1) + "]");
    }
    std::vector<std::int64_t> coeffShape(static_cast<std::size_t>(x0.dim()), 1);
    coeffShape[0] = x0.size(0);
    const auto table = [&](const std::vector<double>& values) {
        const at::Tensor all =
            at::from_blob(const_cast<double*>(values.data()), {T}, at::TensorOptions(at::kDouble));
        return all.index_select(0, tCpu).to(x0.options()).view(coeffShape);
    };
    return table(schedule.sqrtAlphasCumprod()) * x0 +
           table(schedule.sqrtOneMinusAlphasCumprod()) * noise;
}

DiffusionSampler::DiffusionSampler(NoiseSchedule schedule, SamplerOptions options)
    : m_schedule(std::move(schedule))
    , m_options(options)
{
    const int T = m_schedule.timesteps();
    if (options.kind == SamplerKind::Ddpm) {
        if (options.steps != 0 && options.steps != T) {
            throw Error(ErrorKind::Config, "sampler.steps",
                        "DDPM runs all " + std::to_string(T) + " steps; got " +
                            std::to_string(options.steps) + " (use DDIM to skip steps)");
        }
        for (int t = T - 1; t >= 0; --t) {
            m_timesteps.push_back(t);
        }
    } else {
        if (options.steps < 0 || options.steps > T) {
            throw Error(ErrorKind::Config, "sampler.steps",
                        std::to_string(options.steps) + " is outside [1, " + std::to_string(T) +
                            "] (0 means all)");
        }
        if (!(options.eta >= 0.0 && options.eta <= 1.0)) {
            throw Error(ErrorKind::Config, "sampler.eta",
                        std::to_string(options.eta) + " is outside [0, 1]");
        }
        m_timesteps = ddimTimesteps(T, options.steps == 0 ? T : options.steps);
    }
}

at::Tensor DiffusionSampler::sample(const EpsilonFunction& epsilon, at::IntArrayRef shape,
                                    const at::TensorOptions& options,
                                    const SamplerCallback& callback,
                                    const CancelToken& cancel) const
{
    if (shape.empty() || shape[0] < 1) {
        throw Error(ErrorKind::InvalidValue, "sampler shape", "needs at least one batch row");
    }
    const std::int64_t rows = shape[0];
    RowNoise noise(m_options.seed, rows);
    at::Tensor x = noise.normal(shape, options);
    const auto timeOptions = at::TensorOptions().dtype(at::kLong).device(options.device());
    const int count = stepCount();
    for (int i = 0; i < count; ++i) {
        cancel.throwIfCancelled("sampling");
        const int t = m_timesteps[static_cast<std::size_t>(i)];
        const int tNext = i + 1 < count ? m_timesteps[static_cast<std::size_t>(i + 1)] : -1;
        const auto ti = static_cast<std::size_t>(t);
        const at::Tensor output = epsilon(x, at::full({rows}, t, timeOptions));
        if (!output.defined() || !output.sizes().equals(x.sizes())) {
            throw Error(ErrorKind::Mismatch, "denoiser output",
                        "expected shape " + shapeText(x) + ", got " +
                            (output.defined() ? shapeText(output) : std::string("nothing")));
        }
        const double alphaBar = m_schedule.alphasCumprod()[ti];
        const double sqrtOneMinus = m_schedule.sqrtOneMinusAlphasCumprod()[ti];
        // Both forms of the same prediction: the noise and the clean estimate it implies.
        at::Tensor eps;
        at::Tensor x0Hat;
        if (m_schedule.config().prediction == Prediction::X0) {
            x0Hat = output;
            eps = (x - std::sqrt(alphaBar) * x0Hat) / sqrtOneMinus;
        } else {
            eps = output;
            x0Hat = (x - sqrtOneMinus * eps) / std::sqrt(alphaBar);
        }
        at::Tensor xNext;
        if (m_options.kind == SamplerKind::Ddpm) {
            // mu = 1/sqrt(alpha_t) (x - beta_t / sqrt(1 - alpha_bar_t) eps); no clipping.
            const double coeff = m_schedule.betas()[ti] / sqrtOneMinus;
            xNext = m_schedule.sqrtRecipAlphas()[ti] * (x - coeff * eps);
            if (t > 0) {
                xNext = xNext + std::sqrt(m_schedule.posteriorVariance()[ti]) *
                                    noise.normal(shape, options);
            }
        } else {
            const double alphaBarNext = m_schedule.alphaBar(tNext);
            const double sigma = m_options.eta *
                                 std::sqrt((1.0 - alphaBarNext) / (1.0 - alphaBar)) *
                                 std::sqrt(1.0 - alphaBar / alphaBarNext);
            const double direction = std::sqrt(std::max(0.0, 1.0 - alphaBarNext - sigma * sigma));
            at::Tensor epsUsed = eps;
            if (m_options.clipX0) {
                // The mask lives in [-1, 1]; an unclipped estimate from an imperfect denoiser is
                // amplified by 1/sqrt(alpha_bar) (175x at t = T-1) at every jump and diverges.
                x0Hat = x0Hat.clamp(-1.0, 1.0);
                epsUsed = (x - std::sqrt(alphaBar) * x0Hat) / sqrtOneMinus;
            }
            xNext = std::sqrt(alphaBarNext) * x0Hat + direction * epsUsed;
            if (sigma > 0.0) {
                xNext = xNext + sigma * noise.normal(shape, options);
            }
        }
        // One small reduction per step; a diverging denoiser is reported instead of being shown
        // as a NaN mask.
        if (!at::isfinite(xNext).all().item<bool>()) {
            throw Error(ErrorKind::InvalidValue, "sampling",
                        "step " + std::to_string(i) + " (t = " + std::to_string(t) +
                            ") produced NaN or infinite values: the denoiser diverged");
        }
        if (callback) {
            callback(SamplerStep{i, count, t, tNext, x, eps, x0Hat, xNext});
        }
        x = std::move(xNext);
    }
    return x;
}

} // namespace diffseg::core::engine
