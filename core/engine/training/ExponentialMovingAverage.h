#pragma once

#include "engine/model/NamedTensors.h"
#include "engine/training/EmaConfig.h"

#include <cstdint>
#include <string>

namespace torch::nn {
class Module;
}

namespace diffseg::core::engine {

/// The EMA shadow of a model's float parameters and buffers, with ema-pytorch 0.2.3's schedule:
/// update() first increments the step counter k (starting at 0); calls whose pre-increment k is not
/// a multiple of updateEvery do nothing; while k <= updateAfterStep the shadow is a plain copy;
/// afterwards it is lerp(shadow, online, 1 - decay) with decay = decayAt(k + 1).
///
/// The shadow lives on the online model's device and is matched to it by parameter name. Not
/// thread-safe; call update() on the training thread after each optimizer step.
class ExponentialMovingAverage
{
public:
    /// Snapshots the float (fp32/fp16) parameters and buffers of `online`.
    ExponentialMovingAverage(const torch::nn::Module& online, const EmaConfig& config);

    void update(const torch::nn::Module& online);

    /// ema-pytorch's get_current_decay() for a step counter value (already incremented): with
    /// e = max(0, counter - updateAfterStep - 1), 0 if e == 0, else
    /// clamp(1 - (1 + e / invGamma)^-power, minValue, beta). E.g. 0.998 at e = 1000.
    static double decayAt(const EmaConfig& config, std::int64_t counter);
    double currentDecay() const { return decayAt(m_config, m_step); }

    std::int64_t step() const noexcept { return m_step; }
    bool initted() const noexcept { return m_initted; }
    const EmaConfig& config() const noexcept { return m_config; }

    /// The shadow weights (shared with this object: clone to keep them past the next update).
    const NamedTensors& weights() const noexcept { return m_shadow; }
    /// Writes the shadow into `target` (same architecture), e.g. a model used for validation.
    void copyTo(torch::nn::Module& target) const;
    /// Restores a saved state (names must match the shadow); throws Error(Mismatch) otherwise.
    void restore(const NamedTensors& weights, std::int64_t step, bool initted);

private:
    void copyFrom(const torch::nn::Module& online);

    EmaConfig m_config;
    NamedTensors m_shadow;
    std::int64_t m_step = 0;
    bool m_initted = false;
};

} // namespace diffseg::core::engine
