#include "VolumePreparation.h"

#include "Intensity.h"
#include "Resample.h"
#include "base/EnumNames.h"
#include "base/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

namespace diffseg::core {

namespace {

template <class T>
void toFloat(const Volume& in, float* out)
{
    const T* p = in.data<T>();
    const std::size_t n = in.voxelCount() * static_cast<std::size_t>(in.channels());
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<float>(p[i]);
    }
}

Volume asFloat(const Volume& in)
{
    if (in.pixelType() == PixelType::Float32) {
        return in.clone();
    }
    Volume out(in.size(), in.channels(), PixelType::Float32, in.geometry());
    float* o = out.data<float>();
    switch (in.pixelType()) {
    case PixelType::UInt8:
        toFloat<std::uint8_t>(in, o);
        break;
    case PixelType::Int16:
        toFloat<std::int16_t>(in, o);
        break;
    case PixelType::UInt16:
        toFloat<std::uint16_t>(in, o);
        break;
    case PixelType::Float32:
        break;
    }
    return out;
}

using Normalization = VolumePreparationConfig::Normalization;
constexpr EnumName<Normalization> kNormalizationNames[] = {{Normalization::CtClipZScore, "ct"},
                                                           {Normalization::ZScore, "zscore"},
                                                           {Normalization::None, "none"}};

} // namespace

const char* normalizationName(VolumePreparationConfig::Normalization n) noexcept
{
    return enumName(kNormalizationNames, n, "unknown");
}

VolumePreparationConfig VolumePreparationConfig::fromJson(const std::string& json,
                                                          const std::string& subject)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Config, subject, std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object()) {
        throw Error(ErrorKind::Config, subject, "must be an object");
    }
    VolumePreparationConfig c;
    static const std::set<std::string> known{"normalization",
                                             "crop_to_nonzero",
                                             "target_spacing",
                                             "clip_low",
                                             "clip_high",
                                             "mean",
                                             "std"};
    try {
        for (const auto& [key, value] : j.items()) {
            const std::string where = subject + "." + key;
            if (known.count(key) == 0) {
                throw Error(ErrorKind::Config, where, "unknown key");
            }
            if (key == "normalization") {
                const std::string name = value.get<std::string>();
                // Exact spelling, as the checkpoints written by training store it.
                const auto found = enumFromExactName(kNormalizationNames, name);
                if (!found) {
                    throw Error(ErrorKind::Config, where,
                                "'" + name + "' is not " + enumChoices(kNormalizationNames));
                }
                c.normalization = *found;
            } else if (key == "crop_to_nonzero") {
                c.cropToNonZero = value.get<bool>();
            } else if (key == "target_spacing") {
                if (value.is_null()) {
                    c.targetSpacing.reset();
                } else {
                    const auto v = value.get<std::vector<double>>();
                    if (v.size() != 3) {
                        throw Error(ErrorKind::Config, where, "must list 3 spacings (x, y, z)");
                    }
                    c.targetSpacing = std::array<double, 3>{v[0], v[1], v[2]};
                }
            } else if (key == "clip_low") {
                c.clipLow = value.get<double>();
            } else if (key == "clip_high") {
                c.clipHigh = value.get<double>();
            } else if (key == "mean") {
                c.mean = value.get<double>();
            } else if (key == "std") {
                c.stddev = value.get<double>();
            }
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Config, subject, std::string("wrong type: ") + e.what());
    }
    c.validate(subject);
    return c;
}

std::string VolumePreparationConfig::toJson() const
{
    nlohmann::json j{{"normalization", normalizationName(normalization)},
                     {"crop_to_nonzero", cropToNonZero},
                     {"target_spacing", nullptr},
                     {"clip_low", clipLow},
                     {"clip_high", clipHigh},
                     {"mean", mean},
                     {"std", stddev}};
    if (targetSpacing) {
        j["target_spacing"] = *targetSpacing;
    }
    return j.dump();
}

void VolumePreparationConfig::validate(const std::string& subject) const
{
    if (targetSpacing) {
        for (const double s : *targetSpacing) {
            if (!(s > 0.0 && s < 1000.0)) {
                throw Error(ErrorKind::Config, subject + ".target_spacing",
                            "spacings must lie in (0, 1000) mm");
            }
        }
    }
    if (!std::isfinite(clipLow) || !std::isfinite(clipHigh) || clipLow >= clipHigh) {
        throw Error(ErrorKind::Config, subject + ".clip_low", "needs clip_low < clip_high");
    }
    if (!std::isfinite(mean) || !(stddev > 0.0) || !std::isfinite(stddev)) {
        throw Error(ErrorKind::Config, subject + ".std", "needs a finite mean and std > 0");
    }
}

PreparedVolume prepareVolume(const Volume& image, const VolumePreparationConfig& config,
                             const std::string& name)
{
    if (image.empty()) {
        throw Error(ErrorKind::InvalidValue, name, "empty volume");
    }
    PreparedVolume out;
    out.sourceSize = image.size();
    out.sourceGeometry = image.geometry();
    out.box.end = image.size();
    if (config.cropToNonZero) {
        if (const auto box = nonZeroBoundingBox(image)) {
            out.box = *box;
        }
    }
    Volume cropped =
        out.box == BoundingBox{{0, 0, 0}, image.size()} ? image : cropVolume(image, out.box);
    out.croppedSize = cropped.size();
    out.croppedGeometry = cropped.geometry();

    Volume values = asFloat(cropped);
    float* v = values.data<float>();
    const std::size_t n = values.voxelCount() * static_cast<std::size_t>(values.channels());
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(v[i])) {
            throw Error(ErrorKind::InvalidValue, name, "contains NaN or infinite voxels");
        }
    }
    switch (config.normalization) {
    case VolumePreparationConfig::Normalization::CtClipZScore: {
        const auto low = static_cast<float>(config.clipLow);
        const auto high = static_cast<float>(config.clipHigh);
        const auto mean = static_cast<float>(config.mean);
        const float scale = 1.0f / static_cast<float>(std::max(config.stddev, 1e-8));
        for (std::size_t i = 0; i < n; ++i) {
            v[i] = (std::clamp(v[i], low, high) - mean) * scale;
        }
        break;
    }
    case VolumePreparationConfig::Normalization::ZScore:
        values = zScore(values);
        break;
    case VolumePreparationConfig::Normalization::None:
        break;
    }
    if (config.targetSpacing) {
        values = resampleToSpacing(values, *config.targetSpacing, Interpolation::Linear);
    }
    out.image = values;
    return out;
}

LabelMap prepareLabels(const LabelMap& labels, const PreparedVolume& prepared)
{
    if (labels.size() != prepared.sourceSize) {
        throw Error(ErrorKind::Mismatch, "label map",
                    "its grid differs from the image it belongs to");
    }
    LabelMap cropped = prepared.box == BoundingBox{{0, 0, 0}, prepared.sourceSize}
                           ? labels
                           : cropLabelMap(labels, prepared.box);
    if (cropped.size() == prepared.image.size()) {
        return cropped;
    }
    return resampleLabelMapToGrid(cropped, prepared.image.size(), prepared.image.geometry());
}

Volume restoreScores(const Volume& scores, const PreparedVolume& prepared,
                     const std::vector<double>& fill)
{
    if (scores.size() != prepared.image.size() || scores.pixelType() != PixelType::Float32) {
        throw Error(ErrorKind::Mismatch, "scores", "must be Float32 on the prepared grid");
    }
    Volume onCrop = scores.size() == prepared.croppedSize
                        ? scores
                        : resampleToGrid(scores, prepared.croppedSize, prepared.croppedGeometry,
                                         Interpolation::Linear);
    const int channels = scores.channels();
    Volume out(prepared.sourceSize, channels, PixelType::Float32, prepared.sourceGeometry);
    float* o = out.data<float>();
    const float* in = onCrop.data<float>();
    const auto [nx, ny, nz] = prepared.sourceSize;
    const auto crop = prepared.croppedSize;
    for (int c = 0; c < channels; ++c) {
        float* channel = o + static_cast<std::size_t>(c) * out.voxelCount();
        std::fill(channel, channel + out.voxelCount(),
                  static_cast<float>(
                      c < static_cast<int>(fill.size()) ? fill[static_cast<std::size_t>(c)] : 0.0));
        const float* source = in + static_cast<std::size_t>(c) * onCrop.voxelCount();
        for (std::int64_t k = 0; k < crop[2]; ++k) {
            for (std::int64_t j = 0; j < crop[1]; ++j) {
                const std::int64_t z = k + prepared.box.begin[2];
                const std::int64_t y = j + prepared.box.begin[1];
                std::memcpy(channel + (z * ny + y) * nx + prepared.box.begin[0],
                            source + (k * crop[1] + j) * crop[0],
                            static_cast<std::size_t>(crop[0]) * sizeof(float));
            }
        }
    }
    (void)nz;
    return out;
}

LabelMap restoreLabels(const LabelMap& labels, const PreparedVolume& prepared)
{
    LabelMap onCrop =
        labels.size() == prepared.croppedSize
            ? labels
            : resampleLabelMapToGrid(labels, prepared.croppedSize, prepared.croppedGeometry);
    LabelMap out =
        uncropLabelMap(onCrop, prepared.box, prepared.sourceSize, prepared.sourceGeometry);
    out.setGeometry(prepared.sourceGeometry);
    return out;
}

VolumePreparationConfig ctStatistics(const std::vector<const Volume*>& images,
                                     const std::vector<const LabelMap*>& labels,
                                     std::size_t samplesPerCase)
{
    if (images.size() != labels.size()) {
        throw Error(ErrorKind::Mismatch, "CT statistics", "one label map per image is needed");
    }
    std::vector<double> values;
    for (std::size_t i = 0; i < images.size(); ++i) {
        const Volume image = asFloat(*images[i]);
        const float* v = image.data<float>();
        std::vector<std::size_t> foreground;
        const LabelMap& l = *labels[i];
        for (std::size_t p = 0; p < l.voxelCount(); ++p) {
            const bool on = l.pixelType() == PixelType::UInt8 ? l.data<std::uint8_t>()[p] != 0
                                                              : l.data<std::uint16_t>()[p] != 0;
            if (on) {
                foreground.push_back(p);
            }
        }
        const std::size_t take = std::min(samplesPerCase, foreground.size());
        for (std::size_t s = 0; s < take; ++s) {
            values.push_back(v[foreground[s * foreground.size() / take]]);
        }
    }
    if (values.empty()) {
        throw Error(ErrorKind::InvalidValue, "CT statistics", "no foreground voxel in any case");
    }
    std::sort(values.begin(), values.end());
    const auto percentile = [&](double q) {
        const double pos = q / 100.0 * static_cast<double>(values.size() - 1);
        const auto lo = static_cast<std::size_t>(std::floor(pos));
        const std::size_t hi = std::min(lo + 1, values.size() - 1);
        return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
    };
    VolumePreparationConfig c;
    c.normalization = VolumePreparationConfig::Normalization::CtClipZScore;
    c.clipLow = percentile(0.5);
    c.clipHigh = percentile(99.5);
    if (c.clipHigh <= c.clipLow) {
        c.clipHigh = c.clipLow + 1.0;
    }
    // nnU-Net's CTNormalization: mean and std of the (unclipped) foreground samples.
    double sum = 0.0;
    double squares = 0.0;
    for (const double y : values) {
        sum += y;
        squares += y * y;
    }
    c.mean = sum / static_cast<double>(values.size());
    c.stddev = std::max(
        std::sqrt(std::max(0.0, squares / static_cast<double>(values.size()) - c.mean * c.mean)),
        1e-8);
    return c;
}

} // namespace diffseg::core
