#include "Intensity.h"

#include "base/EnumNames.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace diffseg::core {

namespace {

void checkMask(const Volume& volume, const LabelMap* mask)
{
    if (mask && !mask->isAlignedWith(volume, 1e-3)) {
        throw Error(ErrorKind::Mismatch, "",
                    "mask " + mask->describe() + " is not on the grid of the volume " +
                        volume.describe());
    }
}

void checkChannel(const Volume& volume, int channel)
{
    if (channel < 0 || channel >= volume.channels()) {
        throw Error(ErrorKind::InvalidValue, "",
                    "channel " + std::to_string(channel) + " does not exist (volume has " +
                        std::to_string(volume.channels()) + ")");
    }
}

bool inMask(const LabelMap* mask, std::size_t i)
{
    if (!mask) {
        return true;
    }
    return mask->pixelType() == PixelType::UInt8 ? mask->data<std::uint8_t>()[i] != 0
                                                 : mask->data<std::uint16_t>()[i] != 0;
}

/// Values of one channel (inside the mask) as doubles, for order statistics.
std::vector<double> channelValues(const Volume& volume, int channel, const LabelMap* mask)
{
    checkChannel(volume, channel);
    checkMask(volume, mask);
    std::vector<double> values;
    values.reserve(volume.voxelCount());
    dispatchPixelType(volume.pixelType(), [&](auto t) {
        using T = decltype(t);
        const T* p = volume.channelData<T>(channel);
        for (std::size_t i = 0; i < volume.voxelCount(); ++i) {
            if (inMask(mask, i)) {
                values.push_back(static_cast<double>(p[i]));
            }
        }
    });
    if (values.empty()) {
        throw Error(ErrorKind::InvalidValue, "", "the mask selects no voxel");
    }
    return values;
}

double percentileOfSorted(const std::vector<double>& sorted, double percent)
{
    const double position = percent / 100.0 * static_cast<double>(sorted.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, sorted.size() - 1);
    const double t = position - static_cast<double>(below);
    return sorted[below] + t * (sorted[above] - sorted[below]);
}

template <class T>
T clampTo(double v, double low, double high)
{
    v = std::clamp(v, low, high);
    if constexpr (std::is_integral_v<T>) {
        return static_cast<T>(std::lround(v));
    } else {
        return static_cast<T>(v);
    }
}

// "abdomen" is the radiologists' name for the soft-tissue window.
constexpr EnumName<CtWindowPreset> kCtWindowNames[] = {{CtWindowPreset::Lung, "lung"},
                                                       {CtWindowPreset::Mediastinum, "mediastinum"},
                                                       {CtWindowPreset::SoftTissue, "soft-tissue"},
                                                       {CtWindowPreset::Bone, "bone"},
                                                       {CtWindowPreset::Brain, "brain"},
                                                       {CtWindowPreset::SoftTissue, "abdomen"}};

} // namespace

WindowLevel ctWindow(CtWindowPreset preset) noexcept
{
    switch (preset) {
    case CtWindowPreset::Lung:
        return {-600.0, 1500.0};
    case CtWindowPreset::Mediastinum:
        return {50.0, 350.0};
    case CtWindowPreset::SoftTissue:
        return {40.0, 400.0};
    case CtWindowPreset::Bone:
        return {400.0, 1800.0};
    case CtWindowPreset::Brain:
        return {40.0, 80.0};
    }
    return {};
}

const char* ctWindowName(CtWindowPreset preset) noexcept
{
    return enumName(kCtWindowNames, preset, "unknown");
}

std::optional<CtWindowPreset> ctWindowFromName(const std::string& name)
{
    std::string n = name;
    for (char& c : n) { // "soft_tissue" and "soft tissue" spell "soft-tissue" too
        if (c == '_' || c == ' ') {
            c = '-';
        }
    }
    return enumFromName(kCtWindowNames, n);
}

Volume applyWindow(const Volume& volume, const WindowLevel& window, double outMin, double outMax)
{
    if (!(window.width > 0.0) || !std::isfinite(window.center)) {
        throw Error(ErrorKind::InvalidValue, "", "window width must be positive and center finite");
    }
    Volume out(volume.size(), volume.channels(), PixelType::Float32, volume.geometry());
    const double low = window.center - window.width / 2.0;
    const double scale = (outMax - outMin) / window.width;
    float* dst = out.data<float>();
    dispatchPixelType(volume.pixelType(), [&](auto t) {
        using T = decltype(t);
        const T* src = volume.data<T>();
        const std::size_t n = volume.voxelCount() * static_cast<std::size_t>(volume.channels());
        for (std::size_t i = 0; i < n; ++i) {
            const double v = (static_cast<double>(src[i]) - low) * scale + outMin;
            dst[i] = static_cast<float>(
                std::clamp(v, std::min(outMin, outMax), std::max(outMin, outMax)));
        }
    });
    return out;
}

IntensityStats intensityStats(const Volume& volume, int channel, const LabelMap* mask)
{
    checkChannel(volume, channel);
    checkMask(volume, mask);
    IntensityStats s;
    s.min = std::numeric_limits<double>::infinity();
    s.max = -std::numeric_limits<double>::infinity();
    double sum = 0.0;
    double sumSq = 0.0;
    dispatchPixelType(volume.pixelType(), [&](auto t) {
        using T = decltype(t);
        const T* p = volume.channelData<T>(channel);
        for (std::size_t i = 0; i < volume.voxelCount(); ++i) {
            if (!inMask(mask, i)) {
                continue;
            }
            const double v = static_cast<double>(p[i]);
            s.min = std::min(s.min, v);
            s.max = std::max(s.max, v);
            sum += v;
            sumSq += v * v;
            ++s.count;
        }
    });
    if (s.count == 0) {
        throw Error(ErrorKind::InvalidValue, "", "the mask selects no voxel");
    }
    const double n = static_cast<double>(s.count);
    s.mean = sum / n;
    s.stddev = std::sqrt(std::max(0.0, sumSq / n - s.mean * s.mean));
    return s;
}

std::vector<double> percentiles(const Volume& volume, const std::vector<double>& percents,
                                int channel, const LabelMap* mask)
{
    for (double p : percents) {
        if (!(p >= 0.0 && p <= 100.0)) {
            throw Error(ErrorKind::InvalidValue, "",
                        "percentile " + std::to_string(p) + " is outside 0..100");
        }
    }
    std::vector<double> values = channelValues(volume, channel, mask);
    std::sort(values.begin(), values.end());
    std::vector<double> result;
    for (double p : percents) {
        result.push_back(percentileOfSorted(values, p));
    }
    return result;
}

std::vector<float> sampleVoxels(const Volume& volume, int channel, std::size_t samples)
{
    std::vector<float> values;
    const std::size_t n = volume.voxelCount();
    const std::size_t stride = std::max<std::size_t>(1, n / std::max<std::size_t>(samples, 1));
    values.reserve(n / stride + 1);
    dispatchPixelType(volume.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        const T* p = volume.channelData<T>(channel);
        for (std::size_t i = 0; i < n; i += stride) {
            const float v = static_cast<float>(p[i]);
            if (std::isfinite(v)) {
                values.push_back(v);
            }
        }
    });
    return values;
}

std::optional<std::array<double, 2>> sampledPercentiles(const Volume& volume, int channel,
                                                        std::size_t samples)
{
    std::vector<float> values = sampleVoxels(volume, channel, samples);
    if (values.empty()) {
        return std::nullopt;
    }
    std::sort(values.begin(), values.end());
    const std::size_t k = values.size() / 100;
    return std::array<double, 2>{values[k], values[values.size() - 1 - k]};
}

bool looksLikeCt(const Volume& volume, const std::string& dicomModality)
{
    if (!dicomModality.empty()) {
        return dicomModality == "CT";
    }
    const auto p = sampledPercentiles(volume, 0, 100000);
    return p && (*p)[0] <= -500.0 && (*p)[1] >= 100.0;
}

Volume clipIntensity(const Volume& volume, double low, double high)
{
    if (!(low <= high)) {
        throw Error(ErrorKind::InvalidValue, "", "clip range is empty (low > high)");
    }
    Volume out = volume.clone();
    dispatchPixelType(out.pixelType(), [&](auto t) {
        using T = decltype(t);
        T* p = out.data<T>();
        const std::size_t n = out.voxelCount() * static_cast<std::size_t>(out.channels());
        for (std::size_t i = 0; i < n; ++i) {
            p[i] = clampTo<T>(static_cast<double>(p[i]), low, high);
        }
    });
    return out;
}

Volume percentileClip(const Volume& volume, double lowPercent, double highPercent,
                      const LabelMap* mask)
{
    if (!(lowPercent <= highPercent)) {
        throw Error(ErrorKind::InvalidValue, "", "low percentile above high percentile");
    }
    Volume out = volume.clone();
    for (int c = 0; c < volume.channels(); ++c) {
        const std::vector<double> bounds = percentiles(volume, {lowPercent, highPercent}, c, mask);
        dispatchPixelType(out.pixelType(), [&](auto t) {
            using T = decltype(t);
            T* p = out.channelData<T>(c);
            for (std::size_t i = 0; i < out.voxelCount(); ++i) {
                p[i] = clampTo<T>(static_cast<double>(p[i]), bounds[0], bounds[1]);
            }
        });
    }
    return out;
}

Volume zScore(const Volume& volume, const ZScoreOptions& options)
{
    Volume out(volume.size(), volume.channels(), PixelType::Float32, volume.geometry());
    for (int c = 0; c < volume.channels(); ++c) {
        const IntensityStats s = intensityStats(volume, c, options.mask);
        const double scale = 1.0 / std::max(s.stddev, 1e-8);
        float* dst = out.channelData<float>(c);
        dispatchPixelType(volume.pixelType(), [&](auto t) {
            using T = decltype(t);
            const T* src = volume.channelData<T>(c);
            for (std::size_t i = 0; i < volume.voxelCount(); ++i) {
                const bool outside = options.zeroOutsideMask && !inMask(options.mask, i);
                dst[i] = outside
                             ? 0.0f
                             : static_cast<float>((static_cast<double>(src[i]) - s.mean) * scale);
            }
        });
    }
    return out;
}

Image2D minMaxNormalize(const Image2D& image)
{
    Image2D out(image.width(), image.height(), image.channels(), PixelType::Float32);
    out.setSpacing(image.spacing());
    const std::size_t n = image.pixelCount() * static_cast<std::size_t>(image.channels());
    dispatchPixelType(image.pixelType(), [&](auto t) {
        using T = decltype(t);
        const T* src = image.data<T>();
        const auto [lo, hi] = std::minmax_element(src, src + n);
        const double low = static_cast<double>(*lo);
        const double range = static_cast<double>(*hi) - low;
        float* dst = out.data<float>();
        for (std::size_t i = 0; i < n; ++i) {
            dst[i] = range > 0.0 ? static_cast<float>((static_cast<double>(src[i]) - low) / range)
                                 : 0.0f;
        }
    });
    return out;
}

} // namespace diffseg::core
