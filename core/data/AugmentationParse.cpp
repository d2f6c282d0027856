// Reading albumentations-style transform specifications (names, parameters and their ranges,
// as the reference configs write them) into the parameters of our own transforms.

#include "AugmentationParse.h"

#include "base/Error.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace diffseg::core {

namespace aug = augmentation;
using Json = nlohmann::ordered_json;
using aug::PipelineStep;
using aug::StepParams;

namespace {

[[noreturn]] void fail(const std::string& key, const std::string& problem)
{
    throw Error(ErrorKind::Config, key, problem);
}

double readNumber(const Json& v, const std::string& key)
{
    if (!v.is_number()) {
        fail(key, "expected a number, got " + v.dump());
    }
    const double d = v.get<double>();
    if (!std::isfinite(d)) {
        fail(key, "expected a finite number, got " + v.dump());
    }
    return d;
}

int readInt(const Json& v, const std::string& key)
{
    double d = 0.0;
    if (v.is_number_integer()) {
        d = static_cast<double>(v.get<std::int64_t>());
    } else if (v.is_number_float() && std::isfinite(v.get<double>()) &&
               v.get<double>() == std::floor(v.get<double>())) {
        d = v.get<double>();
    } else {
        fail(key, "expected an integer, got " + v.dump());
    }
    if (std::abs(d) > 1e9) {
        fail(key, "integer out of range: " + v.dump());
    }
    return static_cast<int>(d);
}

bool readBool(const Json& v, const std::string& key)
{
    if (!v.is_boolean()) {
        fail(key, "expected true or false, got " + v.dump());
    }
    return v.get<bool>();
}

double readProbability(const Json& v, const std::string& key)
{
    const double p = readNumber(v, key);
    if (p < 0.0 || p > 1.0) {
        fail(key, "a probability must be in [0, 1], got " + v.dump());
    }
    return p;
}

/// How albumentations' to_tuple() reads a single number x.
enum class Single
{
    Symmetric, ///< (-x, x)
    FromLow,   ///< (min(low, x), max(low, x))
    Fixed      ///< (x, x)
};

aug::Range readRange(const Json& v, const std::string& key, Single single, double low = 0.0)
{
    if (v.is_number()) {
        const double x = readNumber(v, key);
        switch (single) {
        case Single::Symmetric:
            return {-std::abs(x), std::abs(x)};
        case Single::FromLow:
            return {std::min(low, x), std::max(low, x)};
        case Single::Fixed:
            return {x, x};
        }
    }
    if (!v.is_array() || v.size() != 2) {
        fail(key, "expected a number or a list of two numbers, got " + v.dump());
    }
    const aug::Range r{readNumber(v[0], key), readNumber(v[1], key)};
    if (r.lo > r.hi) {
        fail(key, "min > max in " + v.dump());
    }
    return r;
}

std::string formatNumber(double v)
{
    std::ostringstream s;
    s << v;
    return s.str();
}

void requireWithin(const aug::Range& r, double lo, double hi, const Json& v, const std::string& key)
{
    if (r.lo < lo || r.hi > hi) {
        const std::string bounds = std::isinf(hi)
                                       ? ">= " + formatNumber(lo)
                                       : "in [" + formatNumber(lo) + ", " + formatNumber(hi) + "]";
        fail(key, "values must be " + bounds + ", got " + v.dump());
    }
}

aug::FillColor readColor(const Json& v, const std::string& key)
{
    aug::FillColor color;
    if (v.is_number()) {
        color.push_back(readNumber(v, key));
    } else if (v.is_array() && (v.size() == 1 || v.size() == 3)) {
        for (const Json& c : v) {
            color.push_back(readNumber(c, key));
        }
    } else {
        fail(key, "expected a number or a list of 3 numbers (R, G, B), got " + v.dump());
    }
    for (double c : color) {
        if (c < 0.0 || c > 255.0) {
            fail(key, "colour values must be in [0, 255], got " + v.dump());
        }
    }
    return color;
}

int readMaskValue(const Json& v, const std::string& key)
{
    const int value = readInt(v, key);
    if (value != 0 && value != 1) {
        fail(key, "must be 0 or 1 (or null where allowed) so that the mask stays binary, got " +
                      v.dump());
    }
    return value;
}

int readBorderMode(const Json& v, const std::string& key)
{
    const int mode = readInt(v, key);
    if (mode < cv::BORDER_CONSTANT || mode > cv::BORDER_REFLECT_101) {
        fail(key, "expected an OpenCV border mode 0..4 (constant, replicate, reflect, wrap, "
                  "reflect_101), got " +
                      v.dump());
    }
    return mode;
}

int readInterpolation(const Json& v, const std::string& key)
{
    const int flag = readInt(v, key);
    if (flag < cv::INTER_NEAREST || flag > cv::INTER_LANCZOS4) {
        fail(key, "expected an OpenCV interpolation 0..4 (nearest, linear, cubic, area, "
                  "lanczos4), got " +
                      v.dump());
    }
    return flag;
}

void requireNearest(const Json& v, const std::string& key)
{
    if (readInt(v, key) != 0) {
        fail(key,
             "masks are always resampled nearest-neighbour: only 0 is accepted, got " + v.dump());
    }
}

/// The parameters of one transform: lookups by albumentations name, keys for messages.
struct Fields
{
    const Json& body;
    std::string key;

    /// The value, or nullptr when absent or null (albumentations' None).
    const Json* get(const char* name) const
    {
        const auto it = body.find(name);
        return it == body.end() || it->is_null() ? nullptr : &*it;
    }
    std::string at(const char* name) const { return key + "." + name; }
};

// ---- pixel transforms ----

StepParams parseClahe(const Fields& f)
{
    aug::ClaheParams p;
    if (const Json* v = f.get("clip_limit")) {
        p.clipLimit = readRange(*v, f.at("clip_limit"), Single::FromLow, 1.0);
        requireWithin(p.clipLimit, 0.0, INFINITY, *v, f.at("clip_limit"));
    }
    if (const Json* v = f.get("tile_grid_size")) {
        if (!v->is_array() || v->size() != 2) {
            fail(f.at("tile_grid_size"), "expected a list of two integers, got " + v->dump());
        }
        for (std::size_t i = 0; i < 2; ++i) {
            p.tileGrid[i] = readInt((*v)[i], f.at("tile_grid_size"));
            if (p.tileGrid[i] < 1) {
                fail(f.at("tile_grid_size"), "tile counts must be positive, got " + v->dump());
            }
        }
    }
    return p;
}

StepParams parseEmboss(const Fields& f)
{
    aug::EmbossParams p;
    if (const Json* v = f.get("alpha")) {
        p.alpha = readRange(*v, f.at("alpha"), Single::FromLow, 0.0);
        requireWithin(p.alpha, 0.0, 1.0, *v, f.at("alpha"));
    }
    if (const Json* v = f.get("strength")) {
        p.strength = readRange(*v, f.at("strength"), Single::FromLow, 0.0);
        requireWithin(p.strength, 0.0, INFINITY, *v, f.at("strength"));
    }
    return p;
}

StepParams parseSharpen(const Fields& f)
{
    aug::SharpenParams p;
    if (const Json* v = f.get("alpha")) {
        p.alpha = readRange(*v, f.at("alpha"), Single::FromLow, 0.0);
        requireWithin(p.alpha, 0.0, 1.0, *v, f.at("alpha"));
    }
    if (const Json* v = f.get("lightness")) {
        p.lightness = readRange(*v, f.at("lightness"), Single::FromLow, 0.0);
        requireWithin(p.lightness, 0.0, INFINITY, *v, f.at("lightness"));
    }
    return p;
}

StepParams parseGaussNoise(const Fields& f)
{
    aug::GaussNoiseParams p;
    if (const Json* v = f.get("var_limit")) {
        p.varLimit = readRange(*v, f.at("var_limit"), Single::FromLow, 0.0);
        requireWithin(p.varLimit, 0.0, INFINITY, *v, f.at("var_limit"));
    }
    if (const Json* v = f.get("mean")) {
        p.mean = readNumber(*v, f.at("mean"));
    }
    if (const Json* v = f.get("per_channel")) {
        p.perChannel = readBool(*v, f.at("per_channel"));
    }
    return p;
}

StepParams parseHueSaturationValue(const Fields& f)
{
    aug::HueSaturationValueParams p;
    if (const Json* v = f.get("hue_shift_limit")) {
        p.hue = readRange(*v, f.at("hue_shift_limit"), Single::Symmetric);
    }
    if (const Json* v = f.get("sat_shift_limit")) {
        p.sat = readRange(*v, f.at("sat_shift_limit"), Single::Symmetric);
    }
    if (const Json* v = f.get("val_shift_limit")) {
        p.val = readRange(*v, f.at("val_shift_limit"), Single::Symmetric);
    }
    return p;
}

StepParams parseMultiplicativeNoise(const Fields& f)
{
    aug::MultiplicativeNoiseParams p;
    if (const Json* v = f.get("multiplier")) {
        p.multiplier = readRange(*v, f.at("multiplier"), Single::Fixed);
        requireWithin(p.multiplier, 0.0, INFINITY, *v, f.at("multiplier"));
    }
    if (const Json* v = f.get("per_channel")) {
        p.perChannel = readBool(*v, f.at("per_channel"));
    }
    if (const Json* v = f.get("elementwise")) {
        p.elementwise = readBool(*v, f.at("elementwise"));
    }
    return p;
}

StepParams parseRgbShift(const Fields& f)
{
    aug::RgbShiftParams p;
    if (const Json* v = f.get("r_shift_limit")) {
        p.r = readRange(*v, f.at("r_shift_limit"), Single::Symmetric);
    }
    if (const Json* v = f.get("g_shift_limit")) {
        p.g = readRange(*v, f.at("g_shift_limit"), Single::Symmetric);
    }
    if (const Json* v = f.get("b_shift_limit")) {
        p.b = readRange(*v, f.at("b_shift_limit"), Single::Symmetric);
    }
    return p;
}

StepParams parseRandomBrightnessContrast(const Fields& f)
{
    aug::RandomBrightnessContrastParams p;
    if (const Json* v = f.get("brightness_limit")) {
        p.brightness = readRange(*v, f.at("brightness_limit"), Single::Symmetric);
    }
    if (const Json* v = f.get("contrast_limit")) {
        p.contrast = readRange(*v, f.at("contrast_limit"), Single::Symmetric);
    }
    if (const Json* v = f.get("brightness_by_max")) {
        p.brightnessByMax = readBool(*v, f.at("brightness_by_max"));
    }
    return p;
}

StepParams parseRandomGamma(const Fields& f)
{
    aug::RandomGammaParams p;
    if (const Json* v = f.get("gamma_limit")) {
        p.gammaLimit = readRange(*v, f.at("gamma_limit"), Single::Symmetric);
        if (!(p.gammaLimit.lo > 0.0)) {
            fail(f.at("gamma_limit"), "gamma (in percent) must be positive, got " + v->dump());
        }
    }
    if (const Json* v = f.get("eps")) {
        readNumber(*v, f.at("eps")); // deprecated in albumentations and unused
    }
    return p;
}

StepParams parseRandomToneCurve(const Fields& f)
{
    aug::RandomToneCurveParams p;
    if (const Json* v = f.get("scale")) {
        p.scale = readNumber(*v, f.at("scale"));
        if (p.scale < 0.0 || p.scale > 1.0) {
            fail(f.at("scale"), "must be in [0, 1], got " + v->dump());
        }
    }
    return p;
}

aug::SpatterMode readSpatterMode(const Json& v, const std::string& key)
{
    if (v.is_string() && v.get<std::string>() == "rain") {
        return aug::SpatterMode::Rain;
    }
    if (v.is_string() && v.get<std::string>() == "mud") {
        return aug::SpatterMode::Mud;
    }
    fail(key, "expected \"rain\" or \"mud\", got " + v.dump());
}

std::array<double, 3> readRgb(const Json& v, const std::string& key)
{
    const aug::FillColor c = readColor(v, key);
    if (c.size() != 3) {
        fail(key, "expected a list of 3 numbers (R, G, B), got " + v.dump());
    }
    return {c[0], c[1], c[2]};
}

StepParams parseSpatter(const Fields& f)
{
    aug::SpatterParams p;
    if (const Json* v = f.get("mean")) {
        p.mean = readRange(*v, f.at("mean"), Single::Fixed);
    }
    if (const Json* v = f.get("std")) {
        p.std = readRange(*v, f.at("std"), Single::Fixed);
        requireWithin(p.std, 0.0, INFINITY, *v, f.at("std"));
    }
    if (const Json* v = f.get("gauss_sigma")) {
        p.gaussSigma = readRange(*v, f.at("gauss_sigma"), Single::Fixed);
        requireWithin(p.gaussSigma, 0.0, INFINITY, *v, f.at("gauss_sigma"));
    }
    if (const Json* v = f.get("cutout_threshold")) {
        p.cutoutThreshold = readRange(*v, f.at("cutout_threshold"), Single::Fixed);
    }
    if (const Json* v = f.get("intensity")) {
        p.intensity = readRange(*v, f.at("intensity"), Single::Fixed);
    }
    if (const Json* v = f.get("mode")) {
        p.modes.clear();
        if (v->is_array()) {
            for (const Json& m : *v) {
                p.modes.push_back(readSpatterMode(m, f.at("mode")));
            }
        } else {
            p.modes.push_back(readSpatterMode(*v, f.at("mode")));
        }
        if (p.modes.empty()) {
            fail(f.at("mode"), "expected at least one mode");
        }
    }
    bool mixed = false;
    for (aug::SpatterMode m : p.modes) {
        mixed = mixed || m != p.modes.front();
    }
    if (const Json* v = f.get("color")) {
        const std::string key = f.at("color");
        if (v->is_object()) {
            for (const auto& [name, value] : v->items()) {
                const aug::SpatterMode m = readSpatterMode(Json(name), key);
                (m == aug::SpatterMode::Rain ? p.rainColor : p.mudColor) =
                    readRgb(value, key + "." + name);
            }
            for (aug::SpatterMode m : p.modes) {
                const char* name = m == aug::SpatterMode::Rain ? "rain" : "mud";
                if (v->find(name) == v->end()) {
                    fail(key, std::string("no colour for mode \"") + name + "\"");
                }
            }
        } else {
            if (mixed) {
                fail(key, "with several modes the colour must be a dict {mode: [R, G, B]}");
            }
            (p.modes.front() == aug::SpatterMode::Rain ? p.rainColor : p.mudColor) =
                readRgb(*v, key);
        }
    }
    return p;
}

StepParams parseUnsharpMask(const Fields& f)
{
    aug::UnsharpMaskParams p;
    if (const Json* v = f.get("blur_limit")) {
        const std::string key = f.at("blur_limit");
        const aug::Range r = readRange(*v, key, Single::FromLow, 3.0);
        for (double k : {r.lo, r.hi}) {
            if (k < 0.0 || k != std::floor(k) || (k != 0.0 && static_cast<int>(k) % 2 != 1)) {
                fail(key, "kernel sizes must be odd integers or 0, got " + v->dump());
            }
        }
        p.blurMin = static_cast<int>(r.lo);
        p.blurMax = static_cast<int>(r.hi);
    }
    if (const Json* v = f.get("sigma_limit")) {
        p.sigma = readRange(*v, f.at("sigma_limit"), Single::FromLow, 0.0);
        requireWithin(p.sigma, 0.0, INFINITY, *v, f.at("sigma_limit"));
    }
    if (const Json* v = f.get("alpha")) {
        p.alpha = readRange(*v, f.at("alpha"), Single::FromLow, 0.0);
        requireWithin(p.alpha, 0.0, 1.0, *v, f.at("alpha"));
    }
    if (const Json* v = f.get("threshold")) {
        p.threshold = readNumber(*v, f.at("threshold"));
        if (p.threshold < 0.0 || p.threshold > 255.0) {
            fail(f.at("threshold"), "must be in [0, 255], got " + v->dump());
        }
    }
    if (p.blurMin == 0 && p.sigma.lo == 0.0) {
        fail(f.key, "blur_limit and sigma_limit minimum values cannot both be 0");
    }
    return p;
}

// ---- spatial transforms ----

/// Affine's number | [a, b] | {"x": ..., "y": ...} arguments.
void readAxes(const Json& v, const std::string& key, double missing, aug::Range& x, aug::Range& y)
{
    if (v.is_object()) {
        if (v.find("x") == v.end() && v.find("y") == v.end()) {
            fail(key, "a dict needs the key \"x\" and/or \"y\"");
        }
        x = y = {missing, missing};
        for (const auto& [axis, value] : v.items()) {
            if (axis != "x" && axis != "y") {
                fail(key + "." + axis, "unknown axis (expected x or y)");
            }
            (axis == "x" ? x : y) = readRange(value, key + "." + axis, Single::Fixed);
        }
        return;
    }
    x = y = readRange(v, key, Single::Fixed);
}

StepParams parseAffine(const Fields& f)
{
    aug::AffineParams p;
    const Json* scale = f.get("scale");
    const Json* percent = f.get("translate_percent");
    const Json* pixels = f.get("translate_px");
    const Json* rotate = f.get("rotate");
    const Json* shear = f.get("shear");
    if (!scale && !percent && !pixels && !rotate && !shear) {
        // albumentations' defaults when none of the five is given
        p.scaleX = p.scaleY = {0.9, 1.1};
        p.translateInPixels = false;
        p.translateX = p.translateY = {-0.1, 0.1};
        p.rotate = {-15.0, 15.0};
        p.shearX = p.shearY = {-10.0, 10.0};
    }
    if (scale) {
        readAxes(*scale, f.at("scale"), 1.0, p.scaleX, p.scaleY);
        if (!(p.scaleX.lo > 0.0) || !(p.scaleY.lo > 0.0)) {
            fail(f.at("scale"), "scale factors must be positive, got " + scale->dump());
        }
    }
    if (percent && pixels) {
        fail(f.at("translate_px"), "give translate_percent or translate_px, not both");
    }
    if (percent) {
        p.translateInPixels = false;
        readAxes(*percent, f.at("translate_percent"), 0.0, p.translateX, p.translateY);
    }
    if (pixels) {
        p.translateInPixels = true;
        readAxes(*pixels, f.at("translate_px"), 1.0, p.translateX, p.translateY);
        for (double t : {p.translateX.lo, p.translateX.hi, p.translateY.lo, p.translateY.hi}) {
            if (t != std::floor(t)) {
                fail(f.at("translate_px"), "expected integers, got " + pixels->dump());
            }
        }
    }
    if (rotate) {
        p.rotate = readRange(*rotate, f.at("rotate"), Single::Fixed);
    }
    if (shear) {
        readAxes(*shear, f.at("shear"), 1.0, p.shearX, p.shearY);
    }
    if (const Json* v = f.get("interpolation")) {
        p.interpolation = readInterpolation(*v, f.at("interpolation"));
    }
    if (const Json* v = f.get("mask_interpolation")) {
        requireNearest(*v, f.at("mask_interpolation"));
    }
    if (const Json* v = f.get("cval")) {
        p.cval = readColor(*v, f.at("cval"));
    }
    if (const Json* v = f.get("cval_mask")) {
        p.cvalMask = readMaskValue(*v, f.at("cval_mask"));
    }
    if (const Json* v = f.get("mode")) {
        p.borderMode = readBorderMode(*v, f.at("mode"));
    }
    if (const Json* v = f.get("fit_output")) {
        if (readBool(*v, f.at("fit_output"))) {
            fail(f.at("fit_output"), "not supported: the output keeps the input size");
        }
    }
    if (const Json* v = f.get("keep_ratio")) {
        p.keepRatio = readBool(*v, f.at("keep_ratio"));
        if (p.keepRatio && (p.scaleX.lo != p.scaleY.lo || p.scaleX.hi != p.scaleY.hi)) {
            fail(f.at("keep_ratio"), "needs identical x and y scale ranges");
        }
    }
    if (const Json* v = f.get("rotate_method")) {
        if (!v->is_string() ||
            (v->get<std::string>() != "largest_box" && v->get<std::string>() != "ellipse")) {
            fail(f.at("rotate_method"),
                 "expected \"largest_box\" or \"ellipse\", got " + v->dump());
        }
    }
    return p;
}

/// CoarseDropout's sizes: integers are pixels, floats fractions of the image side.
double readHoleSize(const Json& v, const std::string& key, bool& isFraction)
{
    isFraction = v.is_number_float();
    const double size = readNumber(v, key);
    if (isFraction ? (size < 0.0 || size >= 1.0) : size <= 0.0) {
        fail(key, isFraction ? "a fraction must be in [0, 1), got " + v.dump()
                             : "a size in pixels must be positive, got " + v.dump());
    }
    return size;
}

StepParams parseCoarseDropout(const Fields& f)
{
    aug::CoarseDropoutParams p;
    if (const Json* v = f.get("max_holes")) {
        p.maxHoles = readInt(*v, f.at("max_holes"));
    }
    p.minHoles = p.maxHoles;
    if (const Json* v = f.get("min_holes")) {
        p.minHoles = readInt(*v, f.at("min_holes"));
    }
    if (p.minHoles <= 0 || p.minHoles > p.maxHoles) {
        fail(f.at(f.get("min_holes") ? "min_holes" : "max_holes"),
             "needs 0 < min_holes <= max_holes, got " + std::to_string(p.minHoles) + " and " +
                 std::to_string(p.maxHoles));
    }
    bool fractions[4] = {false, false, false, false};
    if (const Json* v = f.get("max_height")) {
        p.maxHeight = readHoleSize(*v, f.at("max_height"), fractions[0]);
    }
    p.minHeight = p.maxHeight;
    fractions[1] = fractions[0];
    if (const Json* v = f.get("min_height")) {
        p.minHeight = readHoleSize(*v, f.at("min_height"), fractions[1]);
    }
    if (const Json* v = f.get("max_width")) {
        p.maxWidth = readHoleSize(*v, f.at("max_width"), fractions[2]);
    }
    p.minWidth = p.maxWidth;
    fractions[3] = fractions[2];
    if (const Json* v = f.get("min_width")) {
        p.minWidth = readHoleSize(*v, f.at("min_width"), fractions[3]);
    }
    if (!(fractions[0] == fractions[1] && fractions[1] == fractions[2] &&
          fractions[2] == fractions[3])) {
        fail(f.key, "min/max height/width must all be integers (pixels) or all floats (fractions)");
    }
    p.fractional = fractions[0];
    if (p.minHeight > p.maxHeight) {
        fail(f.at("min_height"), "min_height > max_height");
    }
    if (p.minWidth > p.maxWidth) {
        fail(f.at("min_width"), "min_width > max_width");
    }
    if (const Json* v = f.get("fill_value")) {
        p.fill = readColor(*v, f.at("fill_value"));
    }
    if (const Json* v = f.get("mask_fill_value")) {
        p.maskFill = readMaskValue(*v, f.at("mask_fill_value"));
    }
    return p;
}

StepParams parseElasticTransform(const Fields& f)
{
    aug::ElasticTransformParams p;
    if (const Json* v = f.get("alpha")) {
        p.alpha = readNumber(*v, f.at("alpha"));
    }
    if (const Json* v = f.get("sigma")) {
        p.sigma = readNumber(*v, f.at("sigma"));
        if (p.sigma < 0.0) {
            fail(f.at("sigma"), "must not be negative, got " + v->dump());
        }
    }
    if (const Json* v = f.get("alpha_affine")) {
        p.alphaAffine = readNumber(*v, f.at("alpha_affine"));
        if (p.alphaAffine < 0.0) {
            fail(f.at("alpha_affine"), "must not be negative, got " + v->dump());
        }
    }
    if (const Json* v = f.get("interpolation")) {
        p.interpolation = readInterpolation(*v, f.at("interpolation"));
    }
    if (const Json* v = f.get("border_mode")) {
        p.borderMode = readBorderMode(*v, f.at("border_mode"));
    }
    if (const Json* v = f.get("value")) {
        p.value = readColor(*v, f.at("value"));
    }
    if (const Json* v = f.get("mask_value")) {
        p.maskValue = readMaskValue(*v, f.at("mask_value"));
    }
    if (const Json* v = f.get("approximate")) {
        p.approximate = readBool(*v, f.at("approximate"));
    }
    if (const Json* v = f.get("same_dxdy")) {
        p.sameDxDy = readBool(*v, f.at("same_dxdy"));
    }
    return p;
}

StepParams parseGridDistortion(const Fields& f)
{
    aug::GridDistortionParams p;
    if (const Json* v = f.get("num_steps")) {
        p.numSteps = readInt(*v, f.at("num_steps"));
        if (p.numSteps < 1) {
            fail(f.at("num_steps"), "must be at least 1, got " + v->dump());
        }
    }
    if (const Json* v = f.get("distort_limit")) {
        p.distortLimit = readRange(*v, f.at("distort_limit"), Single::Symmetric);
    }
    if (const Json* v = f.get("interpolation")) {
        p.interpolation = readInterpolation(*v, f.at("interpolation"));
    }
    if (const Json* v = f.get("border_mode")) {
        p.borderMode = readBorderMode(*v, f.at("border_mode"));
    }
    if (const Json* v = f.get("value")) {
        p.value = readColor(*v, f.at("value"));
    }
    if (const Json* v = f.get("mask_value")) {
        p.maskValue = readMaskValue(*v, f.at("mask_value"));
    }
    if (const Json* v = f.get("normalized")) {
        p.normalized = readBool(*v, f.at("normalized"));
    }
    return p;
}

void readCount(const Json& v, const std::string& key, int& lo, int& hi)
{
    if (v.is_array()) {
        if (v.size() != 2) {
            fail(key, "expected an integer or a list of two integers, got " + v.dump());
        }
        lo = readInt(v[0], key);
        hi = readInt(v[1], key);
    } else {
        lo = hi = readInt(v, key);
    }
    if (lo > hi) {
        fail(key, "min > max in " + v.dump());
    }
    if (lo < 2) {
        fail(key, "the grid needs at least 2 points per side, got " + v.dump());
    }
}

StepParams parsePiecewiseAffine(const Fields& f)
{
    aug::PiecewiseAffineParams p;
    if (const Json* v = f.get("scale")) {
        p.scale = readRange(*v, f.at("scale"), Single::Fixed);
        requireWithin(p.scale, 0.0, INFINITY, *v, f.at("scale"));
    }
    if (const Json* v = f.get("nb_rows")) {
        readCount(*v, f.at("nb_rows"), p.rowsMin, p.rowsMax);
    }
    if (const Json* v = f.get("nb_cols")) {
        readCount(*v, f.at("nb_cols"), p.colsMin, p.colsMax);
    }
    if (const Json* v = f.get("interpolation")) {
        // skimage spline orders 0..5 on OpenCV's nearest, linear, cubic and Lanczos
        const int order = readInt(*v, f.at("interpolation"));
        if (order < 0 || order > 5) {
            fail(f.at("interpolation"), "expected a spline order 0..5, got " + v->dump());
        }
        static const int kFlags[6] = {cv::INTER_NEAREST, cv::INTER_LINEAR,   cv::INTER_CUBIC,
                                      cv::INTER_CUBIC,   cv::INTER_LANCZOS4, cv::INTER_LANCZOS4};
        p.interpolation = kFlags[order];
    }
    if (const Json* v = f.get("mask_interpolation")) {
        requireNearest(*v, f.at("mask_interpolation"));
    }
    if (const Json* v = f.get("cval")) {
        if (!v->is_number()) {
            fail(f.at("cval"), "expected a number, got " + v->dump());
        }
        p.cval = readColor(*v, f.at("cval")).front();
    }
    if (const Json* v = f.get("cval_mask")) {
        p.cvalMask = readMaskValue(*v, f.at("cval_mask"));
    }
    if (const Json* v = f.get("mode")) {
        // skimage/numpy.pad mode names
        static const std::pair<const char*, int> kModes[] = {{"constant", cv::BORDER_CONSTANT},
                                                             {"edge", cv::BORDER_REPLICATE},
                                                             {"symmetric", cv::BORDER_REFLECT},
                                                             {"reflect", cv::BORDER_REFLECT_101},
                                                             {"wrap", cv::BORDER_WRAP}};
        bool found = false;
        for (const auto& [name, mode] : kModes) {
            if (v->is_string() && v->get<std::string>() == name) {
                p.borderMode = mode;
                found = true;
            }
        }
        if (!found) {
            fail(f.at("mode"), "expected \"constant\", \"edge\", \"symmetric\", \"reflect\" or "
                               "\"wrap\", got " +
                                   v->dump());
        }
    }
    if (const Json* v = f.get("absolute_scale")) {
        p.absoluteScale = readBool(*v, f.at("absolute_scale"));
    }
    if (const Json* v = f.get("keypoints_threshold")) {
        readNumber(*v, f.at("keypoints_threshold")); // keypoints only
    }
    return p;
}

StepParams parsePixelDropout(const Fields& f)
{
    aug::PixelDropoutParams p;
    if (const Json* v = f.get("dropout_prob")) {
        p.dropoutProb = readProbability(*v, f.at("dropout_prob"));
    }
    if (const Json* v = f.get("per_channel")) {
        p.perChannel = readBool(*v, f.at("per_channel"));
    }
    if (f.body.contains("drop_value") && f.body["drop_value"].is_null()) {
        p.randomDropValue = true;
    } else if (const Json* v = f.get("drop_value")) {
        p.dropValue = readColor(*v, f.at("drop_value"));
    }
    if (const Json* v = f.get("mask_drop_value")) {
        p.maskDropValue = readMaskValue(*v, f.at("mask_drop_value"));
        if (p.perChannel) {
            fail(f.at("mask_drop_value"), "needs per_channel false");
        }
    }
    return p;
}

StepParams parseRotate(const Fields& f)
{
    aug::RotateParams p;
    if (const Json* v = f.get("limit")) {
        p.limit = readRange(*v, f.at("limit"), Single::Symmetric);
    }
    if (const Json* v = f.get("interpolation")) {
        p.interpolation = readInterpolation(*v, f.at("interpolation"));
    }
    if (const Json* v = f.get("border_mode")) {
        p.borderMode = readBorderMode(*v, f.at("border_mode"));
    }
    if (const Json* v = f.get("value")) {
        p.value = readColor(*v, f.at("value"));
    }
    if (const Json* v = f.get("mask_value")) {
        p.maskValue = readMaskValue(*v, f.at("mask_value"));
    }
    if (const Json* v = f.get("rotate_method")) {
        if (!v->is_string() ||
            (v->get<std::string>() != "largest_box" && v->get<std::string>() != "ellipse")) {
            fail(f.at("rotate_method"),
                 "expected \"largest_box\" or \"ellipse\", got " + v->dump());
        }
    }
    if (const Json* v = f.get("crop_border")) {
        if (readBool(*v, f.at("crop_border"))) {
            fail(f.at("crop_border"), "not supported: the output keeps the input size");
        }
    }
    return p;
}

template <class P>
StepParams parseNoParams(const Fields&)
{
    return P{};
}

struct TransformSpec
{
    const char* name;
    std::vector<const char*> params;
    StepParams (*parse)(const Fields&);
};

const std::vector<TransformSpec>& transformSpecs()
{
    static const std::vector<TransformSpec> specs = {
        {"CLAHE", {"clip_limit", "tile_grid_size"}, parseClahe},
        {"Emboss", {"alpha", "strength"}, parseEmboss},
        {"GaussNoise", {"var_limit", "mean", "per_channel"}, parseGaussNoise},
        {"HueSaturationValue",
         {"hue_shift_limit", "sat_shift_limit", "val_shift_limit"},
         parseHueSaturationValue},
        {"MultiplicativeNoise",
         {"multiplier", "per_channel", "elementwise"},
         parseMultiplicativeNoise},
        {"RGBShift", {"r_shift_limit", "g_shift_limit", "b_shift_limit"}, parseRgbShift},
        {"RandomBrightnessContrast",
         {"brightness_limit", "contrast_limit", "brightness_by_max"},
         parseRandomBrightnessContrast},
        {"RandomGamma", {"gamma_limit", "eps"}, parseRandomGamma},
        {"RandomToneCurve", {"scale"}, parseRandomToneCurve},
        {"Sharpen", {"alpha", "lightness"}, parseSharpen},
        {"Spatter",
         {"mean", "std", "gauss_sigma", "cutout_threshold", "intensity", "mode", "color"},
         parseSpatter},
        {"UnsharpMask", {"blur_limit", "sigma_limit", "alpha", "threshold"}, parseUnsharpMask},
        {"Affine",
         {"scale", "translate_percent", "translate_px", "rotate", "shear", "interpolation",
          "mask_interpolation", "cval", "cval_mask", "mode", "fit_output", "keep_ratio",
          "rotate_method"},
         parseAffine},
        {"CoarseDropout",
         {"max_holes", "max_height", "max_width", "min_holes", "min_height", "min_width",
          "fill_value", "mask_fill_value"},
         parseCoarseDropout},
        {"ElasticTransform",
         {"alpha", "sigma", "alpha_affine", "interpolation", "border_mode", "value", "mask_value",
          "approximate", "same_dxdy"},
         parseElasticTransform},
        {"HorizontalFlip", {}, parseNoParams<aug::HorizontalFlipParams>},
        {"VerticalFlip", {}, parseNoParams<aug::VerticalFlipParams>},
        {"Flip", {}, parseNoParams<aug::FlipParams>},
        {"GridDistortion",
         {"num_steps", "distort_limit", "interpolation", "border_mode", "value", "mask_value",
          "normalized"},
         parseGridDistortion},
        {"PiecewiseAffine",
         {"scale", "nb_rows", "nb_cols", "interpolation", "mask_interpolation", "cval", "cval_mask",
          "mode", "absolute_scale", "keypoints_threshold"},
         parsePiecewiseAffine},
        {"PixelDropout",
         {"dropout_prob", "per_channel", "drop_value", "mask_drop_value"},
         parsePixelDropout},
        {"RandomRotate90", {}, parseNoParams<aug::RandomRotate90Params>},
        {"Rotate",
         {"limit", "interpolation", "border_mode", "value", "mask_value", "rotate_method",
          "crop_border"},
         parseRotate},
    };
    return specs;
}

std::string joined(const std::vector<const char*>& names)
{
    std::string out;
    for (const char* n : names) {
        out += (out.empty() ? "" : ", ") + std::string(n);
    }
    return out;
}

PipelineStep parseStep(const std::string& name, const Json& body, const std::string& key)
{
    const TransformSpec* spec = nullptr;
    for (const TransformSpec& s : transformSpecs()) {
        if (name == s.name) {
            spec = &s;
        }
    }
    if (!spec) {
        std::vector<const char*> names;
        for (const TransformSpec& s : transformSpecs()) {
            names.push_back(s.name);
        }
        fail(key, "unknown transform (supported: " + joined(names) + ")");
    }
    if (!body.is_null() && !body.is_object()) {
        fail(key, "expected a dict of parameters, got " + body.dump());
    }
    // A named copy: iterating over a temporary would dangle.
    const Json params = body.is_object() ? body : Json::object();
    std::vector<const char*> allowed = spec->params;
    allowed.push_back("p");
    allowed.push_back("always_apply");
    for (const auto& item : params.items()) {
        bool known = false;
        for (const char* a : allowed) {
            known = known || item.key() == a;
        }
        if (!known) {
            fail(key + "." + item.key(),
                 "unknown parameter of " + name + " (expected: " + joined(allowed) + ")");
        }
    }
    PipelineStep step;
    step.name = name;
    const Fields fields{params, key};
    if (const Json* v = fields.get("p")) {
        step.p = readProbability(*v, fields.at("p"));
    }
    if (const Json* v = fields.get("always_apply")) {
        step.alwaysApply = readBool(*v, fields.at("always_apply"));
    }
    step.params = spec->parse(fields);
    return step;
}

} // namespace

namespace augmentation {

void failConfig(const std::string& key, const std::string& problem)
{
    fail(key, problem);
}

double readProbabilityValue(const nlohmann::ordered_json& v, const std::string& key)
{
    return readProbability(v, key);
}

PipelineStep parseTransform(const std::string& name, const nlohmann::ordered_json& body,
                            const std::string& key)
{
    return parseStep(name, body, key);
}

} // namespace augmentation

} // namespace diffseg::core
