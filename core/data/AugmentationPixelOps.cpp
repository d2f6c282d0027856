// The pixel-level transforms of albumentations 1.3.1 (image only). Where the reference converts a
// float result to uint8 with numpy's astype, the value is truncated toward zero, not rounded, and
// so it is here (`truncateToByte`), so that the lookup tables match the reference's.

#include "AugmentationOps.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace diffseg::core::augmentation {

namespace {

std::uint8_t truncateToByte(double v)
{
    if (!(v > 0.0)) {
        return 0; // also NaN
    }
    return v >= 255.0 ? 255 : static_cast<std::uint8_t>(v);
}

/// Applies one 256-entry table to every channel.
void applyLut(cv::Mat& image, const std::array<std::uint8_t, 256>& table)
{
    cv::Mat lut(1, 256, CV_8U);
    std::copy(table.begin(), table.end(), lut.ptr<std::uint8_t>());
    cv::Mat out;
    cv::LUT(image, lut, out);
    image = out;
}

/// Applies one table per channel (R, G, B).
void applyLut(cv::Mat& image, const std::array<std::array<std::uint8_t, 256>, 3>& tables)
{
    cv::Mat lut(1, 256, CV_8UC3);
    auto* dst = lut.ptr<std::uint8_t>();
    for (int i = 0; i < 256; ++i) {
        for (int c = 0; c < 3; ++c) {
            dst[i * 3 + c] = tables[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)];
        }
    }
    cv::Mat out;
    cv::LUT(image, lut, out);
    image = out;
}

void convolve3x3(cv::Mat& image, const cv::Matx33f& kernel)
{
    cv::Mat out;
    cv::filter2D(image, out, -1, kernel); // BORDER_REFLECT_101, as cv2's default
    image = out;
}

float sampleUniform(const Range& r, PortableRandom& rng)
{
    return static_cast<float>(rng.uniform(r.lo, r.hi));
}

/// scipy.ndimage.gaussian_filter (truncate 4.0) on a float matrix; sigma <= 1e-15 is a no-op as
/// in scipy.
void gaussianFilter(cv::Mat& m, double sigma, int borderMode)
{
    if (!(sigma > 1e-15)) {
        return;
    }
    const int radius = static_cast<int>(4.0 * sigma + 0.5);
    cv::Mat out;
    cv::GaussianBlur(m, out, cv::Size(2 * radius + 1, 2 * radius + 1), sigma, sigma, borderMode);
    m = out;
}

/// numpy's float -> uint8 cast on x86: out-of-range values wrap modulo 256 (through an integer
/// conversion) instead of saturating. Spatter's rain mode relies on it.
std::uint8_t wrapToByte(double v)
{
    const double t = std::trunc(v);
    if (!std::isfinite(t)) {
        return 0;
    }
    double m = std::fmod(t, 256.0);
    if (m < 0.0) {
        m += 256.0;
    }
    return static_cast<std::uint8_t>(m);
}

} // namespace

void applyOp(const ClaheParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const double clip = rng.uniform(p.clipLimit.lo, p.clipLimit.hi);
    cv::Mat lab;
    cv::cvtColor(image, lab, cv::COLOR_RGB2Lab);
    cv::Mat channels[3];
    cv::split(lab, channels);
    const cv::Ptr<cv::CLAHE> clahe = cv::createCLAHE(clip, cv::Size(p.tileGrid[0], p.tileGrid[1]));
    cv::Mat lightness;
    clahe->apply(channels[0], lightness);
    channels[0] = lightness;
    cv::merge(channels, 3, lab);
    cv::cvtColor(lab, image, cv::COLOR_Lab2RGB);
}

void applyOp(const EmbossParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const float alpha = sampleUniform(p.alpha, rng);
    const float s = sampleUniform(p.strength, rng);
    const cv::Matx33f identity(0, 0, 0, 0, 1, 0, 0, 0, 0);
    const cv::Matx33f effect(-1 - s, -s, 0, -s, 1, s, 0, s, 1 + s);
    convolve3x3(image, (1.0f - alpha) * identity + alpha * effect);
}

void applyOp(const SharpenParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const float alpha = sampleUniform(p.alpha, rng);
    const float lightness = sampleUniform(p.lightness, rng);
    const cv::Matx33f identity(0, 0, 0, 0, 1, 0, 0, 0, 0);
    const cv::Matx33f effect(-1, -1, -1, -1, 8 + lightness, -1, -1, -1, -1);
    convolve3x3(image, (1.0f - alpha) * identity + alpha * effect);
}

void applyOp(const GaussNoiseParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const double var = rng.uniform(p.varLimit.lo, p.varLimit.hi);
    const double sigma = std::sqrt(var);
    cv::Mat out(image.size(), CV_8UC3);
    for (int y = 0; y < image.rows; ++y) {
        const auto* src = image.ptr<std::uint8_t>(y);
        auto* dst = out.ptr<std::uint8_t>(y);
        for (int x = 0; x < image.cols; ++x) {
            double shared = p.perChannel ? 0.0 : rng.normal(p.mean, sigma);
            for (int c = 0; c < 3; ++c) {
                const double g = p.perChannel ? rng.normal(p.mean, sigma) : shared;
                dst[x * 3 + c] = truncateToByte(static_cast<float>(src[x * 3 + c]) + g);
            }
        }
    }
    image = out;
}

void applyOp(const HueSaturationValueParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const double hue = rng.uniform(p.hue.lo, p.hue.hi);
    const double sat = rng.uniform(p.sat.lo, p.sat.hi);
    const double val = rng.uniform(p.val.lo, p.val.hi);
    if (hue == 0.0 && sat == 0.0 && val == 0.0) {
        return;
    }
    std::array<std::array<std::uint8_t, 256>, 3> tables{};
    for (int i = 0; i < 256; ++i) {
        const auto k = static_cast<std::size_t>(i);
        double h = i;
        if (hue != 0.0) {
            // Python's modulo: the result takes the divisor's sign.
            h = std::fmod(i + hue, 180.0);
            if (h < 0.0) {
                h += 180.0;
            }
            h = std::min(h, 179.0);
        }
        tables[0][k] = truncateToByte(h);
        tables[1][k] = truncateToByte(sat != 0.0 ? std::clamp(i + sat, 0.0, 255.0) : i);
        tables[2][k] = truncateToByte(val != 0.0 ? std::clamp(i + val, 0.0, 255.0) : i);
    }
    cv::Mat hsv;
    cv::cvtColor(image, hsv, cv::COLOR_RGB2HSV);
    applyLut(hsv, tables);
    cv::cvtColor(hsv, image, cv::COLOR_HSV2RGB);
}

void applyOp(const MultiplicativeNoiseParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const Range& m = p.multiplier;
    const int channels = p.perChannel ? 3 : 1;
    if (m.lo == m.hi || !p.elementwise) {
        // One multiplier per channel (or for all): a lookup table in float32 as the reference.
        std::array<std::array<std::uint8_t, 256>, 3> tables{};
        std::array<float, 3> factors{};
        for (int c = 0; c < channels; ++c) {
            factors[static_cast<std::size_t>(c)] =
                static_cast<float>(m.lo == m.hi ? m.lo : rng.uniform(m.lo, m.hi));
        }
        if (channels == 1) {
            factors[1] = factors[2] = factors[0];
        }
        for (std::size_t c = 0; c < 3; ++c) {
            for (int i = 0; i < 256; ++i) {
                tables[c][static_cast<std::size_t>(i)] =
                    truncateToByte(static_cast<float>(i) * factors[c]);
            }
        }
        applyLut(image, tables);
        return;
    }
    cv::Mat out(image.size(), CV_8UC3);
    for (int y = 0; y < image.rows; ++y) {
        const auto* src = image.ptr<std::uint8_t>(y);
        auto* dst = out.ptr<std::uint8_t>(y);
        for (int x = 0; x < image.cols; ++x) {
            double factor = 1.0;
            for (int c = 0; c < 3; ++c) {
                if (c < channels) {
                    factor = rng.uniform(m.lo, m.hi);
                }
                dst[x * 3 + c] = truncateToByte(static_cast<float>(src[x * 3 + c]) * factor);
            }
        }
    }
    image = out;
}

void applyOp(const RgbShiftParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const std::array<float, 3> shifts{sampleUniform(p.r, rng), sampleUniform(p.g, rng),
                                      sampleUniform(p.b, rng)};
    std::array<std::array<std::uint8_t, 256>, 3> tables{};
    for (std::size_t c = 0; c < 3; ++c) {
        for (int i = 0; i < 256; ++i) {
            tables[c][static_cast<std::size_t>(i)] =
                truncateToByte(static_cast<float>(i) + shifts[c]);
        }
    }
    applyLut(image, tables);
}

void applyOp(const RandomBrightnessContrastParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const float alpha = 1.0f + sampleUniform(p.contrast, rng);
    const float beta = sampleUniform(p.brightness, rng);
    float offset = 0.0f;
    if (beta != 0.0f) {
        if (p.brightnessByMax) {
            offset = beta * 255.0f;
        } else {
            const cv::Scalar means = cv::mean(image);
            const double mean = (means[0] + means[1] + means[2]) / 3.0;
            offset = static_cast<float>(alpha * beta * mean);
        }
    }
    std::array<std::uint8_t, 256> table{};
    for (int i = 0; i < 256; ++i) {
        float v = static_cast<float>(i);
        if (alpha != 1.0f) {
            v *= alpha;
        }
        table[static_cast<std::size_t>(i)] = truncateToByte(v + offset);
    }
    applyLut(image, table);
}

void applyOp(const RandomGammaParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const double gamma = rng.uniform(p.gammaLimit.lo, p.gammaLimit.hi) / 100.0;
    std::array<std::uint8_t, 256> table{};
    for (int i = 0; i < 256; ++i) {
        table[static_cast<std::size_t>(i)] =
            truncateToByte(std::pow(i * (1.0 / 255.0), gamma) * 255.0);
    }
    applyLut(image, table);
}

void applyOp(const RandomToneCurveParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const double low = std::clamp(rng.normal(0.25, p.scale), 0.0, 1.0);
    const double high = std::clamp(rng.normal(0.75, p.scale), 0.0, 1.0);
    std::array<std::uint8_t, 256> table{};
    for (int i = 0; i < 256; ++i) {
        // A cubic Bezier through (0,0), (.., low), (.., high), (1,1), sampled on 256 points.
        const double t = i * (1.0 / 255.0);
        const double u = 1.0 - t;
        const double y = 3.0 * u * u * t * low + 3.0 * u * t * t * high + t * t * t;
        table[static_cast<std::size_t>(i)] =
            static_cast<std::uint8_t>(std::clamp(std::nearbyint(y * 255.0), 0.0, 255.0));
    }
    applyLut(image, table);
}

void applyOp(const SpatterParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    const int h = image.rows;
    const int w = image.cols;
    const double mean = rng.uniform(p.mean.lo, p.mean.hi);
    const double stddev = rng.uniform(p.std.lo, p.std.hi);
    const double threshold = rng.uniform(p.cutoutThreshold.lo, p.cutoutThreshold.hi);
    const double sigma = rng.uniform(p.gaussSigma.lo, p.gaussSigma.hi);
    const SpatterMode mode =
        p.modes[static_cast<std::size_t>(rng.uniformInt(0, std::int64_t(p.modes.size()) - 1))];
    const double intensity = rng.uniform(p.intensity.lo, p.intensity.hi);
    const std::array<double, 3>& color = mode == SpatterMode::Rain ? p.rainColor : p.mudColor;

    cv::Mat liquid(h, w, CV_64F);
    for (int y = 0; y < h; ++y) {
        auto* row = liquid.ptr<double>(y);
        for (int x = 0; x < w; ++x) {
            row[x] = rng.normal(mean, stddev);
        }
    }
    gaussianFilter(liquid, sigma, cv::BORDER_REPLICATE); // scipy mode "nearest"
    liquid.setTo(0.0, liquid < threshold);

    cv::Mat out(image.size(), CV_8UC3);
    if (mode == SpatterMode::Rain) {
        cv::Mat layer(h, w, CV_8U);
        for (int y = 0; y < h; ++y) {
            const auto* src = liquid.ptr<double>(y);
            auto* dst = layer.ptr<std::uint8_t>(y);
            for (int x = 0; x < w; ++x) {
                dst[x] = wrapToByte(src[x] * 255.0);
            }
        }
        cv::Mat edges;
        cv::Canny(layer, edges, 50, 150);
        const cv::Mat notEdges = 255 - edges;
        cv::Mat dist;
        cv::distanceTransform(notEdges, dist, cv::DIST_L2, 5);
        cv::threshold(dist, dist, 20, 20, cv::THRESH_TRUNC);
        cv::Mat blurred;
        cv::blur(dist, blurred, cv::Size(3, 3));
        cv::Mat dist8(h, w, CV_8U);
        for (int y = 0; y < h; ++y) {
            const auto* src = blurred.ptr<float>(y);
            auto* dst = dist8.ptr<std::uint8_t>(y);
            for (int x = 0; x < w; ++x) {
                dst[x] = truncateToByte(src[x]);
            }
        }
        cv::equalizeHist(dist8, dist8);
        convolve3x3(dist8, cv::Matx33f(-2, -1, 0, -1, 1, 1, 0, 1, 2));
        cv::Mat dist8b;
        cv::blur(dist8, dist8b, cv::Size(3, 3));
        cv::Mat drops(h, w, CV_32F);
        float maxDrop = 0.0f;
        for (int y = 0; y < h; ++y) {
            const auto* l = layer.ptr<std::uint8_t>(y);
            const auto* d = dist8b.ptr<std::uint8_t>(y);
            auto* m = drops.ptr<float>(y);
            for (int x = 0; x < w; ++x) {
                m[x] = static_cast<float>(l[x]) * static_cast<float>(d[x]);
                maxDrop = std::max(maxDrop, m[x]);
            }
        }
        if (!(maxDrop > 0.0f)) {
            // The reference divides 0 by 0 here and its loader later replaces the NaNs; with no
            // drop at all, leaving the image as it is is the meaningful result.
            return;
        }
        const float norm = 1.0f / maxDrop;
        for (int y = 0; y < h; ++y) {
            const auto* src = image.ptr<std::uint8_t>(y);
            const auto* m = drops.ptr<float>(y);
            auto* dst = out.ptr<std::uint8_t>(y);
            for (int x = 0; x < w; ++x) {
                const double drop = static_cast<double>(m[x] * norm) * intensity;
                for (int c = 0; c < 3; ++c) {
                    const double v = static_cast<float>(src[x * 3 + c]) * (1.0f / 255.0f) +
                                     drop * (color[static_cast<std::size_t>(c)] / 255.0);
                    dst[x * 3 + c] = truncateToByte(v * 255.0);
                }
            }
        }
    } else {
        cv::Mat m(h, w, CV_32F);
        for (int y = 0; y < h; ++y) {
            const auto* src = liquid.ptr<double>(y);
            auto* dst = m.ptr<float>(y);
            for (int x = 0; x < w; ++x) {
                dst[x] = src[x] > threshold ? 1.0f : 0.0f;
            }
        }
        gaussianFilter(m, sigma, cv::BORDER_REPLICATE);
        m.setTo(0.0f, m < 1.2 * threshold);
        for (int y = 0; y < h; ++y) {
            const auto* src = image.ptr<std::uint8_t>(y);
            const auto* mud = m.ptr<float>(y);
            auto* dst = out.ptr<std::uint8_t>(y);
            for (int x = 0; x < w; ++x) {
                for (int c = 0; c < 3; ++c) {
                    const double v =
                        static_cast<float>(src[x * 3 + c]) * (1.0f / 255.0f) * (1.0 - mud[x]) +
                        mud[x] * (color[static_cast<std::size_t>(c)] / 255.0);
                    dst[x * 3 + c] = truncateToByte(v * 255.0);
                }
            }
        }
    }
    image = out;
}

void applyOp(const UnsharpMaskParams& p, cv::Mat& image, cv::Mat&, PortableRandom& rng)
{
    // Kernel sizes lo, lo+2, ..., as random.randrange(lo, hi + 1, 2); from lo = 0 the reference
    // would also draw even sizes, which OpenCV refuses, so they become the next odd size.
    const int choices = (p.blurMax - p.blurMin) / 2 + 1;
    int ksize = p.blurMin + 2 * static_cast<int>(rng.uniformInt(0, choices - 1));
    if (ksize != 0 && ksize % 2 == 0) {
        ksize += 1;
    }
    const double sigma = rng.uniform(p.sigma.lo, p.sigma.hi);
    const float alpha = sampleUniform(p.alpha, rng);
    if (ksize == 0 && !(sigma > 0.0)) {
        ksize = 3; // OpenCV needs a size or a sigma; the reference would fail here
    }
    cv::Mat imageF;
    image.convertTo(imageF, CV_32F, 1.0 / 255.0);
    cv::Mat blur;
    cv::GaussianBlur(imageF, blur, cv::Size(ksize, ksize), sigma);
    const cv::Mat residual = imageF - blur;
    cv::Mat sharpMask;
    const cv::Mat absResidual = cv::abs(residual) * 255.0;
    cv::threshold(absResidual, sharpMask, p.threshold, 1.0, cv::THRESH_BINARY);
    cv::Mat softMask;
    cv::GaussianBlur(sharpMask, softMask, cv::Size(ksize, ksize), sigma);
    cv::Mat out(image.size(), CV_8UC3);
    for (int y = 0; y < image.rows; ++y) {
        const auto* r = residual.ptr<float>(y);
        const auto* m = softMask.ptr<float>(y);
        const auto* o = imageF.ptr<float>(y);
        auto* dst = out.ptr<std::uint8_t>(y);
        for (int i = 0; i < image.cols * 3; ++i) {
            // Clipping the sharpened value avoids colour artefacts (as the reference).
            const float sharp = std::clamp(o[i] + alpha * r[i], 0.0f, 1.0f);
            dst[i] = truncateToByte((m[i] * sharp + (1.0f - m[i]) * o[i]) * 255.0f);
        }
    }
    image = out;
}

} // namespace diffseg::core::augmentation
