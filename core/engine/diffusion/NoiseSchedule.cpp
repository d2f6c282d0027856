#include "NoiseSchedule.h"

#include "base/Error.h"

#include <ATen/ATen.h>

#include <cmath>

namespace diffseg::core::engine {

namespace {

// Python's math.pi, which the reference multiplies by.
constexpr double kPi = 3.141592653589793;

// The reference builds its betas as float32 tensors; the same ATen operations in the same order
// reproduce them bit for bit (checked against the parity fixture at 0 error).
at::Tensor referenceBetas(const ScheduleConfig& c)
{
    const auto f32 = at::TensorOptions().dtype(at::kFloat);
    const int64_t T = c.timesteps;
    switch (c.mode) {
    case ScheduleMode::Linear:
        return at::linspace(c.betaStart, c.betaEnd, T, f32);
    case ScheduleMode::Quadratic:
        return at::pow(at::linspace(std::sqrt(c.betaStart), std::sqrt(c.betaEnd), T, f32), 2);
    case ScheduleMode::Sigmoid:
        return at::add(at::mul(at::sigmoid(at::linspace(-6, 6, T, f32)), c.betaEnd - c.betaStart),
                       c.betaStart);
    case ScheduleMode::Cosine: {
        const double s = 0.008;
        const at::Tensor x = at::linspace(0, T, T + 1, f32);
        at::Tensor angle = at::div(at::add(at::div(x, T), s), 1 + s);
        angle = at::mul(at::mul(angle, kPi), 0.5);
        at::Tensor alphasCumprod = at::pow(at::cos(angle), 2);
        alphasCumprod = at::div(alphasCumprod, alphasCumprod[0]);
        const at::Tensor betas =
            at::rsub(at::div(alphasCumprod.slice(0, 1), alphasCumprod.slice(0, 0, T)), 1);
        return at::clamp(betas, c.betaStart, c.betaEnd);
    }
    }
    throw Error(ErrorKind::Internal, "diffusion.schedule.mode", "unhandled schedule mode");
}

} // namespace

NoiseSchedule::NoiseSchedule(const ScheduleConfig& config)
    : m_config(config)
{
    config.validate();
    const at::Tensor betas = referenceBetas(config).to(at::kDouble).contiguous();
    const double* b = betas.data_ptr<double>();
    const auto T = static_cast<std::size_t>(config.timesteps);
    m_betas.assign(b, b + T);
    for (std::size_t t = 0; t < T; ++t) {
        if (!(m_betas[t] > 0.0 && m_betas[t] < 1.0)) {
            throw Error(ErrorKind::Config, "diffusion.schedule",
                        "beta_" + std::to_string(t) + " = " + std::to_string(m_betas[t]) +
                            " is outside (0, 1)");
        }
    }
    m_alphas.resize(T);
    m_alphasCumprod.resize(T);
    m_alphasCumprodPrev.resize(T);
    m_sqrtRecipAlphas.resize(T);
    m_sqrtAlphasCumprod.resize(T);
    m_sqrtOneMinusAlphasCumprod.resize(T);
    m_posteriorVariance.resize(T);
    double cumprod = 1.0;
    for (std::size_t t = 0; t < T; ++t) {
        m_alphas[t] = 1.0 - m_betas[t];
        m_alphasCumprodPrev[t] = cumprod;
        cumprod *= m_alphas[t];
        m_alphasCumprod[t] = cumprod;
        m_sqrtRecipAlphas[t] = std::sqrt(1.0 / m_alphas[t]);
        m_sqrtAlphasCumprod[t] = std::sqrt(cumprod);
        m_sqrtOneMinusAlphasCumprod[t] = std::sqrt(1.0 - cumprod);
        m_posteriorVariance[t] = m_betas[t] * (1.0 - m_alphasCumprodPrev[t]) / (1.0 - cumprod);
    }
}

double NoiseSchedule::alphaBar(int t) const
{
    if (t == -1) {
        return 1.0;
    }
    if (t < -1 || t >= m_config.timesteps) {
        throw Error(ErrorKind::InvalidValue, "timestep",
                    std::to_string(t) + " is outside [-1, " +
                        std::to_string(m_config.timesteps - 1) + "]");
    }
    return m_alphasCumprod[static_cast<std::size_t>(t)];
}

} // namespace diffseg::core::engine
