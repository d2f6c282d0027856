#pragma once

#include "ScheduleConfig.h"

#include <vector>

namespace diffseg::core::engine {

/// A noise schedule and its derived per-timestep coefficients, indexed by t = 0..T-1.
///
/// The betas are computed with LibTorch in float32 with the reference's operation sequence, so
/// they equal the reference's betas bit for bit (its schedules are float32 tensors); they are
/// stored as double. Every derived coefficient is then computed in double from those betas
/// (the reference derives them in float32; the difference is below 1e-6 relative), which keeps
/// 1 - alpha_bar accurate near t = 0.
///
/// Immutable after construction; safe to share between threads. No LibTorch in this header.
class NoiseSchedule
{
public:
    /// Throws Error(Config) when `config` fails validate().
    explicit NoiseSchedule(const ScheduleConfig& config = {});

    const ScheduleConfig& config() const noexcept { return m_config; }
    int timesteps() const noexcept { return m_config.timesteps; }

    const std::vector<double>& betas() const noexcept { return m_betas; }
    const std::vector<double>& alphas() const noexcept { return m_alphas; }
    /// alpha_bar_t = prod_{s<=t} alpha_s.
    const std::vector<double>& alphasCumprod() const noexcept { return m_alphasCumprod; }
    /// alpha_bar_{t-1}, with alpha_bar_{-1} = 1.
    const std::vector<double>& alphasCumprodPrev() const noexcept { return m_alphasCumprodPrev; }
    const std::vector<double>& sqrtRecipAlphas() const noexcept { return m_sqrtRecipAlphas; }
    const std::vector<double>& sqrtAlphasCumprod() const noexcept { return m_sqrtAlphasCumprod; }
    const std::vector<double>& sqrtOneMinusAlphasCumprod() const noexcept
    {
        return m_sqrtOneMinusAlphasCumprod;
    }
    /// beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t); 0 at t = 0.
    const std::vector<double>& posteriorVariance() const noexcept { return m_posteriorVariance; }

    /// alpha_bar at t, with alphaBar(-1) = 1 (the clean end of a DDIM jump). Throws
    /// Error(InvalidValue) for t outside [-1, T-1].
    double alphaBar(int t) const;

private:
    ScheduleConfig m_config;
    std::vector<double> m_betas;
    std::vector<double> m_alphas;
    std::vector<double> m_alphasCumprod;
    std::vector<double> m_alphasCumprodPrev;
    std::vector<double> m_sqrtRecipAlphas;
    std::vector<double> m_sqrtAlphasCumprod;
    std::vector<double> m_sqrtOneMinusAlphasCumprod;
    std::vector<double> m_posteriorVariance;
};

} // namespace diffseg::core::engine
