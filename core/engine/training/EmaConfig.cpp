#include "EmaConfig.h"

#include "base/Error.h"

#include <cmath>

namespace diffseg::core::engine {

void EmaConfig::validate(const std::string& subject) const
{
    auto bad = [&](const char* key, const std::string& problem) {
        throw Error(ErrorKind::Config, subject + "." + key, problem);
    };
    if (!(beta >= 0.0 && beta <= 1.0)) {
        bad("beta", "must lie in [0, 1]");
    }
    if (updateAfterStep < 0) {
        bad("update_after_step", "must not be negative");
    }
    if (updateEvery < 1) {
        bad("update_every", "must be at least 1");
    }
    if (!(invGamma > 0.0) || !std::isfinite(invGamma)) {
        bad("inv_gamma", "must be a positive number");
    }
    if (!(power > 0.0) || !std::isfinite(power)) {
        bad("power", "must be a positive number");
    }
    if (!(minValue >= 0.0 && minValue <= beta)) {
        bad("min_value", "must lie in [0, beta]");
    }
}

} // namespace diffseg::core::engine
