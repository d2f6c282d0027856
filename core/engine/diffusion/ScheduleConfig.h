#pragma once

// The schedule part of a configuration (modes, prediction, T and the betas), apart from the
// schedule itself (NoiseSchedule.h, computed with LibTorch) so that configuration readers stay
// LibTorch-free.

#include <string>

namespace diffseg::core::engine {

/// The four beta schedules of the reference (seed spec §A3).
enum class ScheduleMode
{
    Linear,
    Quadratic,
    Cosine, ///< Nichol & Dhariwal (s = 0.008), betas clipped to [betaStart, betaEnd]
    Sigmoid
};

const char* scheduleModeName(ScheduleMode mode) noexcept;
/// Parses "linear", "quadratic", "cosine" or "sigmoid" (case-insensitive); throws Error(Config)
/// naming `subject` otherwise.
ScheduleMode parseScheduleMode(const std::string& name, const std::string& subject = {});

/// What the denoiser outputs: the reference's noise (epsilon), or the clean mask x0 (ours: a
/// segmentation target the network learns in far fewer steps; the sampler turns it into the
/// noise it implies, eps = (x_t - sqrt(alpha_bar) x0) / sqrt(1 - alpha_bar)).
enum class Prediction
{
    Noise,
    X0
};

const char* predictionName(Prediction prediction) noexcept;
/// "eps" (or "noise", "epsilon") or "x0" (case-insensitive); throws Error(Config) naming
/// `subject` otherwise.
Prediction parsePrediction(const std::string& name, const std::string& subject = {});

/// `diffusion.schedule` of the reference config (plus `diffusion.prediction`, ours). Defaults are
/// the three DermoSegDiff configs'.
struct ScheduleConfig
{
    ScheduleMode mode = ScheduleMode::Linear;
    int timesteps = 250;
    double betaStart = 0.0004;
    double betaEnd = 0.08;
    Prediction prediction = Prediction::Noise;

    /// Throws Error(Config) for T < 2 (or absurdly large) and betas outside 0 < start <= end < 1.
    void validate(const std::string& subject = {}) const;
    bool operator==(const ScheduleConfig& o) const
    {
        return mode == o.mode && timesteps == o.timesteps && betaStart == o.betaStart &&
               betaEnd == o.betaEnd && prediction == o.prediction;
    }
    bool operator!=(const ScheduleConfig& o) const { return !(*this == o); }
};

} // namespace diffseg::core::engine
