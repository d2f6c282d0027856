#pragma once

// The EMA settings of a training configuration, apart from the averaging itself
// (ExponentialMovingAverage.h, LibTorch) so that configuration readers stay LibTorch-free.

#include <string>

namespace diffseg::core::engine {

/// `training.ema.params` of the reference (lucidrains/ema-pytorch 0.2.3 arguments). Defaults are
/// the ISIC2018/PH2 configs' values; the library's own defaults differ (100, 10, power 2/3).
struct EmaConfig
{
    double beta = 0.9999;      ///< the decay cap
    int updateAfterStep = 500; ///< plain copies while the step counter is at most this
    int updateEvery = 1;
    double invGamma = 1.0;
    double power = 0.9; ///< 0.95 in the HAM10000 config
    double minValue = 0.0;

    /// Throws Error(Config) naming the key for values that make the formula meaningless.
    void validate(const std::string& subject = "training.ema.params") const;
};

} // namespace diffseg::core::engine
