#include "ScheduleConfig.h"

#include "base/EnumNames.h"
#include "base/Error.h"

#include <cmath>

namespace diffseg::core::engine {

namespace {

constexpr int kMaxTimesteps = 100000;

constexpr EnumName<ScheduleMode> kScheduleModeNames[] = {{ScheduleMode::Linear, "linear"},
                                                         {ScheduleMode::Quadratic, "quadratic"},
                                                         {ScheduleMode::Cosine, "cosine"},
                                                         {ScheduleMode::Sigmoid, "sigmoid"}};

// "eps" is the reference config's spelling; "noise" and "epsilon" are accepted as well.
constexpr EnumName<Prediction> kPredictionNames[] = {{Prediction::Noise, "eps"},
                                                     {Prediction::X0, "x0"},
                                                     {Prediction::Noise, "noise"},
                                                     {Prediction::Noise, "epsilon"}};

/// Both parsers word their error alike: "unknown <what> '<name>' (expected a, b or c)".
template <class E, std::size_t N>
E parseNamed(const EnumName<E> (&table)[N], const std::string& name, const std::string& subject,
             const char* what)
{
    if (const auto value = enumFromName(table, name)) {
        return *value;
    }
    throw Error(ErrorKind::Config, subject,
                std::string("unknown ") + what + " '" + name + "' (expected " + enumChoices(table) +
                    ")");
}

} // namespace

const char* scheduleModeName(ScheduleMode mode) noexcept
{
    return enumName(kScheduleModeNames, mode, "unknown");
}

ScheduleMode parseScheduleMode(const std::string& name, const std::string& subject)
{
    return parseNamed(kScheduleModeNames, name,
                      subject.empty() ? "diffusion.schedule.mode" : subject, "schedule mode");
}

const char* predictionName(Prediction prediction) noexcept
{
    return enumName(kPredictionNames, prediction, "eps");
}

Prediction parsePrediction(const std::string& name, const std::string& subject)
{
    return parseNamed(kPredictionNames, name, subject.empty() ? "diffusion.prediction" : subject,
                      "prediction");
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
