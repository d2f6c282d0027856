#pragma once

// Internal to core/data: the albumentations 1.3.1 transforms behind Augmentation, on OpenCV
// matrices (image CV_8UC3 RGB, mask CV_8UC1 {0, 1}). Not installed, not for other modules.
// Parameter names in comments are albumentations' keys; defaults are albumentations 1.3.1's.

#include "PortableRandom.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <vector>

namespace diffseg::core::augmentation {

/// A sampling interval [lo, hi] (lo == hi: a fixed value).
struct Range
{
    double lo = 0.0;
    double hi = 0.0;
};

/// An image fill colour: 1 value (all channels) or 3 (R, G, B), 0..255.
using FillColor = std::vector<double>;

// ---- pixel-level (image only) ----

struct ClaheParams
{
    Range clipLimit{1.0, 4.0};         ///< clip_limit
    std::array<int, 2> tileGrid{8, 8}; ///< tile_grid_size (columns, rows) as cv::Size
};
struct EmbossParams
{
    Range alpha{0.2, 0.5};
    Range strength{0.2, 0.7};
};
struct GaussNoiseParams
{
    Range varLimit{10.0, 50.0}; ///< var_limit
    double mean = 0.0;
    bool perChannel = true;
};
struct HueSaturationValueParams
{
    Range hue{-20.0, 20.0}; ///< hue_shift_limit (OpenCV 8-bit hue units, 0..179)
    Range sat{-30.0, 30.0};
    Range val{-20.0, 20.0};
};
struct MultiplicativeNoiseParams
{
    Range multiplier{0.9, 1.1};
    bool perChannel = false;
    bool elementwise = false;
};
struct RgbShiftParams
{
    Range r{-20.0, 20.0};
    Range g{-20.0, 20.0};
    Range b{-20.0, 20.0};
};
struct RandomBrightnessContrastParams
{
    Range brightness{-0.2, 0.2};
    Range contrast{-0.2, 0.2};
    bool brightnessByMax = true;
};
struct RandomGammaParams
{
    Range gammaLimit{80.0, 120.0}; ///< percent: gamma = value / 100
};
struct RandomToneCurveParams
{
    double scale = 0.1;
};
struct SharpenParams
{
    Range alpha{0.2, 0.5};
    Range lightness{0.5, 1.0};
};
enum class SpatterMode
{
    Rain,
    Mud
};
struct SpatterParams
{
    Range mean{0.65, 0.65};
    Range std{0.3, 0.3};
    Range gaussSigma{2.0, 2.0};
    Range cutoutThreshold{0.68, 0.68};
    Range intensity{0.6, 0.6};
    std::vector<SpatterMode> modes{SpatterMode::Rain};
    std::array<double, 3> rainColor{238.0, 238.0, 175.0};
    std::array<double, 3> mudColor{20.0, 42.0, 63.0};
};
struct UnsharpMaskParams
{
    int blurMin = 3; ///< blur_limit: odd kernel sizes or 0 (from sigma)
    int blurMax = 7;
    Range sigma{0.0, 0.0};
    Range alpha{0.2, 0.5};
    double threshold = 10.0;
};

// ---- spatial-level (image and mask) ----

struct AffineParams
{
    Range scaleX{1.0, 1.0};
    Range scaleY{1.0, 1.0};
    bool translateInPixels = true; ///< translate_px (integers) rather than translate_percent
    Range translateX{0.0, 0.0};
    Range translateY{0.0, 0.0};
    Range rotate{0.0, 0.0};
    Range shearX{0.0, 0.0};
    Range shearY{0.0, 0.0};
    bool keepRatio = false;
    int interpolation = cv::INTER_LINEAR;
    FillColor cval{0.0};
    int cvalMask = 0;
    int borderMode = cv::BORDER_CONSTANT; ///< `mode`
};
struct CoarseDropoutParams
{
    int minHoles = 8;
    int maxHoles = 8;
    bool fractional = false; ///< heights/widths are fractions of the image size
    double minHeight = 8.0;
    double maxHeight = 8.0;
    double minWidth = 8.0;
    double maxWidth = 8.0;
    FillColor fill{0.0};
    int maskFill = -1; ///< -1: mask unchanged (mask_fill_value None)
};
struct ElasticTransformParams
{
    double alpha = 1.0;
    double sigma = 50.0;
    double alphaAffine = 50.0;
    int interpolation = cv::INTER_LINEAR;
    int borderMode = cv::BORDER_REFLECT_101;
    FillColor value{0.0};
    int maskValue = 0;
    bool approximate = false;
    bool sameDxDy = false;
};
struct HorizontalFlipParams
{};
struct VerticalFlipParams
{};
struct FlipParams
{};
struct RandomRotate90Params
{};
struct GridDistortionParams
{
    int numSteps = 5;
    Range distortLimit{-0.3, 0.3};
    int interpolation = cv::INTER_LINEAR;
    int borderMode = cv::BORDER_REFLECT_101;
    FillColor value{0.0};
    int maskValue = 0;
    bool normalized = false;
};
struct PiecewiseAffineParams
{
    Range scale{0.03, 0.05};
    int rowsMin = 4;
    int rowsMax = 4;
    int colsMin = 4;
    int colsMax = 4;
    int interpolation = cv::INTER_LINEAR; ///< from skimage's order
    double cval = 0.0;
    int cvalMask = 0;
    int borderMode = cv::BORDER_CONSTANT; ///< from skimage's mode name
    bool absoluteScale = false;
};
struct PixelDropoutParams
{
    double dropoutProb = 0.01;
    bool perChannel = false;
    bool randomDropValue = false; ///< drop_value None
    FillColor dropValue{0.0};
    int maskDropValue = -1; ///< -1: mask unchanged (None)
};
struct RotateParams
{
    Range limit{-90.0, 90.0};
    int interpolation = cv::INTER_LINEAR;
    int borderMode = cv::BORDER_REFLECT_101;
    FillColor value{0.0};
    int maskValue = 0;
};

// Each op draws its random parameters from `rng` and replaces `image` (and `mask` for spatial
// ops) with the result; sizes and types never change.
void applyOp(const ClaheParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const EmbossParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const GaussNoiseParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const HueSaturationValueParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const MultiplicativeNoiseParams& p, cv::Mat& image, cv::Mat& mask,
             PortableRandom& rng);
void applyOp(const RgbShiftParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const RandomBrightnessContrastParams& p, cv::Mat& image, cv::Mat& mask,
             PortableRandom& rng);
void applyOp(const RandomGammaParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const RandomToneCurveParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const SharpenParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const SpatterParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const UnsharpMaskParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);

void applyOp(const AffineParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const CoarseDropoutParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const ElasticTransformParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const HorizontalFlipParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const VerticalFlipParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const FlipParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const RandomRotate90Params& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const GridDistortionParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const PiecewiseAffineParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const PixelDropoutParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);
void applyOp(const RotateParams& p, cv::Mat& image, cv::Mat& mask, PortableRandom& rng);

} // namespace diffseg::core::augmentation
