#pragma once

// Internal to core/data: the parsed form of one transform of an augmentation pipeline, and the
// reader of albumentations-style transform specifications (AugmentationParse.cpp).

#include "AugmentationOps.h"

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

namespace diffseg::core::augmentation {

using StepParams =
    std::variant<ClaheParams, EmbossParams, GaussNoiseParams, HueSaturationValueParams,
                 MultiplicativeNoiseParams, RgbShiftParams, RandomBrightnessContrastParams,
                 RandomGammaParams, RandomToneCurveParams, SharpenParams, SpatterParams,
                 UnsharpMaskParams, AffineParams, CoarseDropoutParams, ElasticTransformParams,
                 HorizontalFlipParams, VerticalFlipParams, FlipParams, RandomRotate90Params,
                 GridDistortionParams, PiecewiseAffineParams, PixelDropoutParams, RotateParams>;

struct PipelineStep
{
    std::string name;
    double p = 0.5; // albumentations' default
    bool alwaysApply = false;
    StepParams params;
};

/// Throws Error(Config) naming `key`.
[[noreturn]] void failConfig(const std::string& key, const std::string& problem);
/// A probability in [0, 1]; Error(Config) naming `key` otherwise.
double readProbabilityValue(const nlohmann::ordered_json& v, const std::string& key);
/// One transform `name` with its parameters `body` (a dict or null), checked against what the
/// transform takes; Error(Config) naming `key` and the parameter otherwise.
PipelineStep parseTransform(const std::string& name, const nlohmann::ordered_json& body,
                            const std::string& key);

} // namespace diffseg::core::augmentation
