#include "ScheduleConfig.h"

#include "base/Error.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace diffseg::core::engine {

namespace {

constexpr int kMaxTimesteps = 100000;

} // namespace

const char* scheduleModeName(ScheduleMode mode) noexcept
{
    switch (mode) {
    case ScheduleMode::Linear:
        return "linear";
    case ScheduleMode::Quadratic:
        return "quadratic";
    case ScheduleMode::Cosine:
        return "cosine";
    case ScheduleMode::Sigmoid:
        return "sigmoid";
    }
    return "unknown";
}

ScheduleMode parseScheduleMode(const std::string& name, const std::string& subject)
{
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    for (ScheduleMode m : {ScheduleMode::Linear, ScheduleMode::Quadratic, ScheduleMode::Cosine,
                           ScheduleMode::Sigmoid}) {
        if (lower == scheduleModeName(m)) {
            return m;
        }
    }
    throw Error(ErrorKind::Config, subject.empty() ? "diffusion.schedule.mode" : subject,
                "unknown schedule mode '" + name +
                    "' (expected linear, quadratic, cosine or sigmoid)");
}

const char* predictionName(Prediction prediction) noexcept
{
    return prediction == Prediction::X0 ? "x0" : "eps";
}

Prediction parsePrediction(const std::string& name, const std::string& subject)
{
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (lower == "eps" || lower == "noise" || lower == "epsilon") {
        return Prediction::Noise;
    }
    if (lower == "x0") {
        return Prediction::X0;
    }
    throw Error(ErrorKind::Config, subject.empty() ? "diffusion.prediction" : subject,
                "unknown prediction '" + name + "' (expected eps or x0)");
}

void ScheduleConfig::validate(const std::string& subject) const
{
    const std::string prefix = subject.empty() ? "diffusion.schedule." : subject + ": ";
    if (timesteps < 2 || timesteps > kMaxTimesteps) {
        throw Error(ErrorKind::Config, prefix + "timesteps",
                    std::to_string(timesteps) + " is out of range [2, " +
                        std::to_string(kMaxTimesteps) + "]");
    }
    if (!std::isfinite(betaStart) || !std::isfinite(betaEnd) || betaStart <= 0.0 ||
        betaEnd >= 1.0 || betaStart > betaEnd) {
        throw Error(ErrorKind::Config, prefix + "beta_start/beta_end",
                    "need 0 < beta_start <= beta_end < 1, got " + std::to_string(betaStart) +
                        " and " + std::to_string(betaEnd));
    }
}

} // namespace diffseg::core::engine
