#include "DiffusionSampler.h"

#include "base/EnumNames.h"
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

constexpr EnumName<SamplerKind> kSamplerKindNames[] = {{SamplerKind::Ddpm, "ddpm"},
                                                       {SamplerKind::Ddim, "ddim"}};

} // namespace

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

const char* samplerKindName(SamplerKind kind) noexcept
{
    return enumName(kSamplerKindNames, kind, "ddim");
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
    if (options.startTimestep < -1 || options.startTimestep >= T) {
        throw Error(ErrorKind::Config, "sampler.start",
                    std::to_string(options.startTimestep) + " is outside [0, " +
                        std::to_string(T - 1) + "] (-1: from pure noise)");
    }
    // The span a run covers: all T steps, or those up to the start of a refinement.
    const int span = options.startTimestep < 0 ? T : options.startTimestep + 1;
    if (options.kind == SamplerKind::Ddpm) {
        if (options.steps != 0 && options.steps != T && options.steps != span) {
            throw Error(ErrorKind::Config, "sampler.steps",
                        "DDPM runs all " + std::to_string(span) + " steps; got " +
                            std::to_string(options.steps) + " (use DDIM to skip steps)");
        }
        for (int t = span - 1; t >= 0; --t) {
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
        const int steps = options.steps == 0 ? span : std::min(options.steps, span);
        m_timesteps = ddimTimesteps(span, steps);
    }
}

at::Tensor DiffusionSampler::sample(const EpsilonFunction& epsilon, at::IntArrayRef shape,
                                    const at::TensorOptions& options,
                                    const SamplerCallback& callback, const CancelToken& cancel,
                                    const SamplerGuidance* guidance) const
{
    if (shape.empty() || shape[0] < 1) {
        throw Error(ErrorKind::InvalidValue, "sampler shape", "needs at least one batch row");
    }
    const std::int64_t rows = shape[0];
    RowNoise noise(m_options.seed, rows);
    const auto checkShape = [&](const at::Tensor& t, const char* name) {
        if (t.defined() && !t.sizes().equals(shape)) {
            throw Error(ErrorKind::Mismatch, std::string("guidance ") + name,
                        "has shape " + shapeText(t) + ", the sample " +
                            shapeText(at::empty(shape, at::kFloat)));
        }
    };
    const bool holds = guidance != nullptr && guidance->known.defined();
    at::Tensor known;
    at::Tensor values;
    if (guidance != nullptr) {
        checkShape(guidance->start, "start");
        checkShape(guidance->known, "known");
        if (holds) {
            checkShape(guidance->values, "values");
            known = guidance->known.to(options.device()).to(at::kBool);
            values = guidance->values.to(options);
        }
    }
    // Known pixels at timestep t: their values noised to that level (-1: the clean values).
    const auto holdKnown = [&](const at::Tensor& state, int t) {
        if (!holds) {
            return state;
        }
        if (t < 0) {
            return at::where(known, values, state);
        }
        const double ab = m_schedule.alphaBar(t);
        return at::where(
            known, std::sqrt(ab) * values + std::sqrt(1.0 - ab) * noise.normal(shape, options),
            state);
    };
    at::Tensor x;
    const int first = m_timesteps.front();
    if (guidance != nullptr && guidance->start.defined()) {
        const double ab = m_schedule.alphaBar(first);
        x = std::sqrt(ab) * guidance->start.to(options) +
            std::sqrt(1.0 - ab) * noise.normal(shape, options);
    } else {
        x = noise.normal(shape, options);
    }
    x = holdKnown(x, first);
    const int jumps = guidance != nullptr ? std::max(0, guidance->resampleJumps) : 0;
    const auto timeOptions = at::TensorOptions().dtype(at::kLong).device(options.device());
    const int count = stepCount();
    for (int i = 0; i < count; ++i) {
        cancel.throwIfCancelled("sampling");
        const int t = m_timesteps[static_cast<std::size_t>(i)];
        const int tNext = i + 1 < count ? m_timesteps[static_cast<std::size_t>(i + 1)] : -1;
        StepState step;
        for (int jump = 0;; ++jump) {
            step = denoise(epsilon, x, t, tNext, noise, timeOptions);
            step.xNext = holdKnown(step.xNext, tNext);
            if (jump >= jumps || tNext < 0) {
                break;
            }
            // RePaint's resampling: back from tNext to t with fresh noise, then the step again.
            const double back = m_schedule.alphaBar(t) / m_schedule.alphaBar(tNext);
            x = std::sqrt(back) * step.xNext + std::sqrt(1.0 - back) * noise.normal(shape, options);
        }
        // One small reduction per step; a diverging denoiser is reported instead of being shown
        // as a NaN mask.
        if (!at::isfinite(step.xNext).all().item<bool>()) {
            throw Error(ErrorKind::InvalidValue, "sampling",
                        "step " + std::to_string(i) + " (t = " + std::to_string(t) +
                            ") produced NaN or infinite values: the denoiser diverged");
        }
        if (callback) {
            // What the user sees of this step: the known pixels as they are known.
            const at::Tensor x0Shown = holds ? at::where(known, values, step.x0Hat) : step.x0Hat;
            callback(SamplerStep{i, count, t, tNext, x, step.eps, x0Shown, step.xNext});
        }
        x = std::move(step.xNext);
    }
    return x;
}

at::Tensor DiffusionSampler::x0Estimate(const at::Tensor& output, const at::Tensor& x, int t) const
{
    const auto ti = static_cast<std::size_t>(t);
    at::Tensor x0 = output;
    if (m_schedule.config().prediction != Prediction::X0) {
        x0 = (x - m_schedule.sqrtOneMinusAlphasCumprod()[ti] * output) /
             std::sqrt(m_schedule.alphasCumprod()[ti]);
    }
    return m_options.kind == SamplerKind::Ddim && m_options.clipX0 ? x0.clamp(-1.0, 1.0) : x0;
}

DiffusionSampler::StepState DiffusionSampler::denoise(const EpsilonFunction& epsilon,
                                                      const at::Tensor& x, int t, int tNext,
                                                      RowNoise& noise,
                                                      const at::TensorOptions& timeOptions) const
{
    const auto ti = static_cast<std::size_t>(t);
    const at::Tensor output = epsilon(x, at::full({x.size(0)}, t, timeOptions));
    if (!output.defined() || !output.sizes().equals(x.sizes())) {
        throw Error(ErrorKind::Mismatch, "denoiser output",
                    "expected shape " + shapeText(x) + ", got " +
                        (output.defined() ? shapeText(output) : std::string("nothing")));
    }
    const double alphaBar = m_schedule.alphasCumprod()[ti];
    const double sqrtOneMinus = m_schedule.sqrtOneMinusAlphasCumprod()[ti];
    StepState s;
    // Both forms of the same prediction: the noise and the clean estimate it implies.
    if (m_schedule.config().prediction == Prediction::X0) {
        s.x0Hat = output;
        s.eps = (x - std::sqrt(alphaBar) * s.x0Hat) / sqrtOneMinus;
    } else {
        s.eps = output;
        s.x0Hat = (x - sqrtOneMinus * s.eps) / std::sqrt(alphaBar);
    }
    if (m_options.kind == SamplerKind::Ddpm) {
        // mu = 1/sqrt(alpha_t) (x - beta_t / sqrt(1 - alpha_bar_t) eps); no clipping.
        const double coeff = m_schedule.betas()[ti] / sqrtOneMinus;
        s.xNext = m_schedule.sqrtRecipAlphas()[ti] * (x - coeff * s.eps);
        if (t > 0) {
            s.xNext = s.xNext + std::sqrt(m_schedule.posteriorVariance()[ti]) *
                                    noise.normal(x.sizes(), x.options());
        }
        return s;
    }
    const double alphaBarNext = m_schedule.alphaBar(tNext);
    const double sigma = m_options.eta * std::sqrt((1.0 - alphaBarNext) / (1.0 - alphaBar)) *
                         std::sqrt(1.0 - alphaBar / alphaBarNext);
    const double direction = std::sqrt(std::max(0.0, 1.0 - alphaBarNext - sigma * sigma));
    at::Tensor epsUsed = s.eps;
    if (m_options.clipX0) {
        // The mask lives in [-1, 1]; an unclipped estimate from an imperfect denoiser is
        // amplified by 1/sqrt(alpha_bar) (175x at t = T-1) at every jump and diverges.
        s.x0Hat = s.x0Hat.clamp(-1.0, 1.0);
        epsUsed = (x - std::sqrt(alphaBar) * s.x0Hat) / sqrtOneMinus;
    }
    s.xNext = std::sqrt(alphaBarNext) * s.x0Hat + direction * epsUsed;
    if (sigma > 0.0) {
        s.xNext = s.xNext + sigma * noise.normal(x.sizes(), x.options());
    }
    return s;
}

} // namespace diffseg::core::engine
