#include "SampleData.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace diffseg::core {

namespace {

constexpr double kPi = 3.14159265358979323846;

/// Smooth value noise in [0,1] on a grid of `cells` cells, bilinearly interpolated.
class ValueNoise
{
public:
    ValueNoise(int cells, std::mt19937& rng)
        : m_cells(cells)
        , m_values((cells + 1) * (cells + 1))
    {
        std::uniform_real_distribution<double> u(0.0, 1.0);
        for (double& v : m_values) {
            v = u(rng);
        }
    }

    double at(double x, double y) const
    {
        const double fx = std::clamp(x, 0.0, 0.999999) * m_cells;
        const double fy = std::clamp(y, 0.0, 0.999999) * m_cells;
        const int ix = static_cast<int>(fx);
        const int iy = static_cast<int>(fy);
        const double tx = smooth(fx - ix);
        const double ty = smooth(fy - iy);
        const double a = value(ix, iy) * (1 - tx) + value(ix + 1, iy) * tx;
        const double b = value(ix, iy + 1) * (1 - tx) + value(ix + 1, iy + 1) * tx;
        return a * (1 - ty) + b * ty;
    }

private:
    static double smooth(double t) { return t * t * (3.0 - 2.0 * t); }
    double value(int x, int y) const { return m_values[y * (m_cells + 1) + x]; }

    int m_cells;
    std::vector<double> m_values;
};

/// Sum of octaves of value noise, normalised to about [0,1].
class FractalNoise
{
public:
    FractalNoise(int baseCells, int octaves, std::mt19937& rng)
    {
        for (int o = 0; o < octaves; ++o) {
            m_octaves.emplace_back(baseCells << o, rng);
        }
    }
    double at(double x, double y) const
    {
        double sum = 0.0;
        double weight = 1.0;
        double total = 0.0;
        for (const ValueNoise& n : m_octaves) {
            sum += weight * n.at(x, y);
            total += weight;
            weight *= 0.5;
        }
        return sum / total;
    }

private:
    std::vector<ValueNoise> m_octaves;
};

std::uint8_t toByte(double v)
{
    return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

} // namespace

SampleLesion makeSampleLesion(int size, std::uint32_t seed)
{
    if (size < 16) {
        throw Error(ErrorKind::InvalidValue, "", "sample image size must be at least 16");
    }
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);

    // Lesion outline: a radius modulated by a few random harmonics, so that it is irregular.
    const double cx = 0.5 + 0.08 * (u(rng) - 0.5);
    const double cy = 0.5 + 0.08 * (u(rng) - 0.5);
    const double baseRadius = 0.22 + 0.08 * u(rng);
    double amp[5];
    double phase[5];
    for (int h = 0; h < 5; ++h) {
        amp[h] = (0.10 / (h + 1)) * u(rng);
        phase[h] = 2 * kPi * u(rng);
    }
    auto radiusAt = [&](double angle) {
        double r = baseRadius;
        for (int h = 0; h < 5; ++h) {
            r += baseRadius * amp[h] * std::sin((h + 2) * angle + phase[h]);
        }
        return r;
    };

    FractalNoise skin(4, 5, rng);
    FractalNoise pigment(6, 4, rng);
    FractalNoise network(24, 2, rng);

    SampleLesion out{Image2D(size, size, 3, PixelType::UInt8),
                     Image2D(size, size, 1, PixelType::UInt8)};
    const double skinR = 205 + 25 * u(rng);
    const double skinG = 150 + 20 * u(rng);
    const double skinB = 125 + 20 * u(rng);
    for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
            const double fx = (x + 0.5) / size;
            const double fy = (y + 0.5) / size;
            const double dx = fx - cx;
            const double dy = fy - cy;
            const double dist = std::sqrt(dx * dx + dy * dy);
            const double rEdge = radiusAt(std::atan2(dy, dx));
            // Soft edge over a few percent of the radius, as real lesions fade into the skin.
            const double inside = std::clamp((rEdge - dist) / (0.06 * rEdge) + 0.5, 0.0, 1.0);
            const double s = skin.at(fx, fy);
            // Dermoscopy vignetting: darker towards the corners.
            const double vignette =
                1.0 - 0.35 * std::pow(std::min(1.0, 1.6 * std::hypot(fx - 0.5, fy - 0.5)), 2.5);
            double r = skinR * (0.85 + 0.3 * s);
            double g = skinG * (0.85 + 0.3 * s);
            double b = skinB * (0.85 + 0.3 * s);
            if (inside > 0.0) {
                const double p = pigment.at(fx, fy);
                const double net = network.at(fx, fy);
                const double darkness = 0.35 + 0.45 * p + 0.2 * (net > 0.55 ? 1.0 : 0.0);
                const double lr = 120 - 70 * darkness;
                const double lg = 80 - 50 * darkness;
                const double lb = 60 - 35 * darkness;
                r = r * (1 - inside) + lr * inside;
                g = g * (1 - inside) + lg * inside;
                b = b * (1 - inside) + lb * inside;
            }
            out.image.at<std::uint8_t>(x, y, 0) = toByte(r * vignette);
            out.image.at<std::uint8_t>(x, y, 1) = toByte(g * vignette);
            out.image.at<std::uint8_t>(x, y, 2) = toByte(b * vignette);
            out.mask.at<std::uint8_t>(x, y) = dist <= rEdge ? 1 : 0;
        }
    }

    // Hairs: dark quadratic curves drawn over skin and lesion (they are not part of the mask).
    const int hairs = 3 + static_cast<int>(u(rng) * 5);
    for (int h = 0; h < hairs; ++h) {
        double x0 = u(rng), y0 = u(rng);
        double x2 = u(rng), y2 = u(rng);
        double x1 = (x0 + x2) / 2 + 0.3 * (u(rng) - 0.5), y1 = (y0 + y2) / 2 + 0.3 * (u(rng) - 0.5);
        const double width = std::max(1.0, size / 300.0 * (1.0 + u(rng)));
        const int samples = size * 3;
        for (int i = 0; i <= samples; ++i) {
            const double t = static_cast<double>(i) / samples;
            const double px = ((1 - t) * (1 - t) * x0 + 2 * (1 - t) * t * x1 + t * t * x2) * size;
            const double py = ((1 - t) * (1 - t) * y0 + 2 * (1 - t) * t * y1 + t * t * y2) * size;
            const int w = static_cast<int>(std::ceil(width));
            for (int oy = -w; oy <= w; ++oy) {
                for (int ox = -w; ox <= w; ++ox) {
                    const int qx = static_cast<int>(px) + ox;
                    const int qy = static_cast<int>(py) + oy;
                    if (qx < 0 || qy < 0 || qx >= size || qy >= size ||
                        std::hypot(ox, oy) > width) {
                        continue;
                    }
                    for (int c = 0; c < 3; ++c) {
                        auto& v = out.image.at<std::uint8_t>(qx, qy, c);
                        v = toByte(v * 0.25 + 20);
                    }
                }
            }
        }
    }
    return out;
}

SamplePhantom makeSamplePhantom(int size, double spacingMm, std::uint32_t seed)
{
    if (size < 16) {
        throw Error(ErrorKind::InvalidValue, "", "sample volume size must be at least 16");
    }
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::normal_distribution<double> noise(0.0, 6.0);

    Geometry geometry;
    geometry.spacing = {spacingMm, spacingMm, spacingMm};
    const double half = 0.5 * (size - 1) * spacingMm;
    geometry.origin = {-half, -half, -half};
    SamplePhantom out{Volume({size, size, size}, 1, PixelType::Int16, geometry), {}};
    out.labels = LabelMap::like(out.volume);

    // The lesion sits in the liver-like organ on the patient's right (LPS: -x), as in a real scan.
    const double lx = -0.32 + 0.08 * u(rng), ly = -0.05 + 0.1 * u(rng), lz = 0.1 * (u(rng) - 0.5);
    const double lr = 0.14 + 0.04 * u(rng);
    const double lobes = 3.0 + std::floor(3.0 * u(rng));
    auto* hu = out.volume.data<std::int16_t>();
    auto* lab = out.labels.data<std::uint8_t>();
    std::size_t idx = 0;
    for (int k = 0; k < size; ++k) {
        for (int j = 0; j < size; ++j) {
            for (int i = 0; i < size; ++i, ++idx) {
                // Normalised coordinates in [-1, 1]: x towards the patient's left, y posterior,
                // z superior. The body is an elliptic cylinder along z.
                const double x = 2.0 * i / (size - 1) - 1.0;
                const double y = 2.0 * j / (size - 1) - 1.0;
                const double z = 2.0 * k / (size - 1) - 1.0;
                const double body = (x / 0.85) * (x / 0.85) + (y / 0.62) * (y / 0.62);
                double v = -1000.0;
                if (body < 1.0 && std::abs(z) < 0.92) {
                    v = body > 0.82 ? -100.0 : 35.0; // subcutaneous fat, soft tissue
                    const double liver =
                        std::hypot((x + 0.35) / 0.42, (y + 0.02) / 0.45, (z + 0.15) / 0.6);
                    if (liver < 1.0) {
                        v = 60.0;
                    }
                    const double lung = std::min(std::hypot((x + 0.42) / 0.28, (y + 0.05) / 0.38),
                                                 std::hypot((x - 0.42) / 0.28, (y + 0.05) / 0.38));
                    if (lung < 1.0 && z > 0.35) {
                        v = -850.0;
                    }
                    if (std::hypot(x / 0.11, (y - 0.42) / 0.11) < 1.0) {
                        v = 650.0; // vertebral column
                    }
                    if (std::hypot((x - 0.08) / 0.07, (y + 0.1) / 0.07) < 1.0) {
                        v = 180.0; // contrast-filled aorta
                    }
                    const double angle = std::atan2(y - ly, x - lx);
                    const double wobble = 1.0 + 0.18 * std::sin(lobes * angle + 2.0 * z);
                    const double ld =
                        std::sqrt((x - lx) * (x - lx) + (y - ly) * (y - ly) + (z - lz) * (z - lz));
                    if (ld < lr * wobble) {
                        v = 110.0;
                        lab[idx] = 1;
                    }
                    v += noise(rng);
                }
                hu[idx] = static_cast<std::int16_t>(std::clamp(v, -1024.0, 3071.0));
            }
        }
    }
    return out;
}

} // namespace diffseg::core
