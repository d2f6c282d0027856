#include "DemoData.h"

#include "PortableRandom.h"
#include "base/Error.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace diffseg::core {

namespace {

constexpr double kPi = 3.14159265358979323846;

// ---------------------------------------------------------------------------------------------
// Portable noise: lattice values come from an integer hash of (seed, lattice point), so the
// pictures depend only on the seed, not on a standard library's random distributions.

std::uint64_t mix64(std::uint64_t z) noexcept
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::uint64_t hashPoint(std::uint64_t seed, std::int64_t a, std::int64_t b, std::int64_t c) noexcept
{
    return mix64(seed ^ (static_cast<std::uint64_t>(a) * 0xD6E8FEB86659FD93ULL +
                         static_cast<std::uint64_t>(b) * 0xA0761D6478BD642FULL +
                         static_cast<std::uint64_t>(c) * 0xE7037ED1A0B428DBULL));
}

double unitOf(std::uint64_t h) noexcept
{
    return static_cast<double>(h >> 11) * 0x1.0p-53;
}

/// Approximately standard normal (Irwin-Hall of four 16-bit uniforms, scaled to unit variance).
double gaussianOf(std::uint64_t h) noexcept
{
    double sum = 0.0;
    for (int i = 0; i < 4; ++i) {
        sum += static_cast<double>((h >> (16 * i)) & 0xFFFFu) / 65536.0;
    }
    return (sum - 2.0) * 1.7320508075688772;
}

double smooth(double t) noexcept
{
    return t * t * (3.0 - 2.0 * t);
}

double smoothstep(double edge0, double edge1, double x) noexcept
{
    return smooth(std::clamp((x - edge0) / (edge1 - edge0), 0.0, 1.0));
}

double lerp(double a, double b, double t) noexcept
{
    return a + (b - a) * t;
}

/// Value noise in [0, 1] with smoothstep interpolation; (x, y) in lattice cells.
double noise2(std::uint64_t seed, double x, double y) noexcept
{
    const double fx = std::floor(x);
    const double fy = std::floor(y);
    const auto ix = static_cast<std::int64_t>(fx);
    const auto iy = static_cast<std::int64_t>(fy);
    const double tx = smooth(x - fx);
    const double ty = smooth(y - fy);
    const double v00 = unitOf(hashPoint(seed, ix, iy, 0));
    const double v10 = unitOf(hashPoint(seed, ix + 1, iy, 0));
    const double v01 = unitOf(hashPoint(seed, ix, iy + 1, 0));
    const double v11 = unitOf(hashPoint(seed, ix + 1, iy + 1, 0));
    return lerp(lerp(v00, v10, tx), lerp(v01, v11, tx), ty);
}

double noise3(std::uint64_t seed, double x, double y, double z) noexcept
{
    const double fx = std::floor(x);
    const double fy = std::floor(y);
    const double fz = std::floor(z);
    const auto ix = static_cast<std::int64_t>(fx);
    const auto iy = static_cast<std::int64_t>(fy);
    const auto iz = static_cast<std::int64_t>(fz);
    const double tx = smooth(x - fx);
    const double ty = smooth(y - fy);
    const double tz = smooth(z - fz);
    double plane[2];
    for (int dz = 0; dz < 2; ++dz) {
        const double v00 = unitOf(hashPoint(seed, ix, iy, iz + dz));
        const double v10 = unitOf(hashPoint(seed, ix + 1, iy, iz + dz));
        const double v01 = unitOf(hashPoint(seed, ix, iy + 1, iz + dz));
        const double v11 = unitOf(hashPoint(seed, ix + 1, iy + 1, iz + dz));
        plane[dz] = lerp(lerp(v00, v10, tx), lerp(v01, v11, tx), ty);
    }
    return lerp(plane[0], plane[1], tz);
}

/// Fractal sum of `octaves` octaves (frequency x2, amplitude x`gain`), normalised to [0, 1].
double fbm2(std::uint64_t seed, double x, double y, int octaves, double gain = 0.5) noexcept
{
    double sum = 0.0;
    double total = 0.0;
    double amplitude = 1.0;
    double frequency = 1.0;
    for (int o = 0; o < octaves; ++o) {
        sum += amplitude *
               noise2(mix64(seed + static_cast<std::uint64_t>(o)), x * frequency, y * frequency);
        total += amplitude;
        amplitude *= gain;
        frequency *= 2.0;
    }
    return sum / total;
}

double fbm3(std::uint64_t seed, double x, double y, double z, int octaves) noexcept
{
    double sum = 0.0;
    double total = 0.0;
    double amplitude = 1.0;
    double frequency = 1.0;
    for (int o = 0; o < octaves; ++o) {
        sum += amplitude * noise3(mix64(seed + static_cast<std::uint64_t>(o)), x * frequency,
                                  y * frequency, z * frequency);
        total += amplitude;
        amplitude *= 0.5;
        frequency *= 2.0;
    }
    return sum / total;
}

/// Fractal noise on a circle: `t` in [0, 1) turns once around; `cells` lattice cells in the first
/// octave, doubled per octave. Periodic, so that an outline built on it closes without a seam.
double periodicFbm(std::uint64_t seed, double t, int cells, int octaves, double gain) noexcept
{
    double sum = 0.0;
    double total = 0.0;
    double amplitude = 1.0;
    for (int o = 0; o < octaves; ++o) {
        const std::int64_t n = static_cast<std::int64_t>(cells) << o;
        const double x = t * static_cast<double>(n);
        const double fx = std::floor(x);
        const auto i = static_cast<std::int64_t>(fx);
        const std::uint64_t s = mix64(seed + static_cast<std::uint64_t>(o));
        const double a = unitOf(hashPoint(s, ((i % n) + n) % n, 0, 0));
        const double b = unitOf(hashPoint(s, (((i + 1) % n) + n) % n, 0, 0));
        sum += amplitude * lerp(a, b, smooth(x - fx));
        total += amplitude;
        amplitude *= gain;
    }
    return sum / total;
}

struct Rgb
{
    double r = 0.0;
    double g = 0.0;
    double b = 0.0;
};

Rgb mixRgb(const Rgb& a, const Rgb& b, double t) noexcept
{
    return {lerp(a.r, b.r, t), lerp(a.g, b.g, t), lerp(a.b, b.b, t)};
}

Rgb scaled(const Rgb& a, double f) noexcept
{
    return {a.r * f, a.g * f, a.b * f};
}

// ---------------------------------------------------------------------------------------------
// Dermoscopy

/// The lesion: an ellipse whose radius is modulated by a few smooth lobes and by fractal noise
/// around the circle, tabulated per angle.
class LesionOutline
{
public:
    static constexpr int kAngles = 4096;

    explicit LesionOutline(PortableRandom& rng, std::uint64_t noiseSeed, double centreX,
                           double centreY)
        : m_cx(centreX)
        , m_cy(centreY)
        , m_radius(kAngles)
    {
        const double base = rng.uniform(0.16, 0.30);
        const double aspect = rng.uniform(0.65, 1.0);
        const double rotation = rng.uniform(0.0, kPi);
        const double roughness = rng.uniform(0.12, 0.34);
        const int cells = static_cast<int>(rng.uniformInt(5, 9));
        double amp[3];
        double phase[3];
        for (int h = 0; h < 3; ++h) {
            amp[h] = rng.uniform(0.0, 0.18 / (h + 1));
            phase[h] = rng.uniform(0.0, 2.0 * kPi);
        }
        for (int a = 0; a < kAngles; ++a) {
            const double t = static_cast<double>(a) / kAngles;
            const double theta = 2.0 * kPi * t;
            // An ellipse of the area of a circle of radius `base`, elongated by 1/aspect.
            const double c = std::cos(theta - rotation);
            const double s = std::sin(theta - rotation);
            double r = base / std::sqrt(aspect * c * c + s * s / aspect);
            double lobes = 1.0;
            for (int h = 0; h < 3; ++h) {
                lobes += amp[h] * std::sin((h + 2) * theta + phase[h]);
            }
            const double fractal = periodicFbm(noiseSeed, t, cells, 6, 0.55) - 0.5;
            r *= lobes * (1.0 + 2.0 * roughness * fractal);
            m_radius[static_cast<std::size_t>(a)] = r;
            m_maxRadius = std::max(m_maxRadius, r);
        }
    }

    double centreX() const noexcept { return m_cx; }
    double centreY() const noexcept { return m_cy; }
    double maxRadius() const noexcept { return m_maxRadius; }

    /// Boundary radius at `theta` (radians), linearly interpolated.
    double radiusAt(double theta) const noexcept
    {
        double t = theta / (2.0 * kPi);
        t -= std::floor(t);
        const double x = t * kAngles;
        const auto i = static_cast<int>(x) % kAngles;
        const double f = x - std::floor(x);
        return lerp(m_radius[static_cast<std::size_t>(i)],
                    m_radius[static_cast<std::size_t>((i + 1) % kAngles)], f);
    }

    /// Distance from the centre over the boundary radius in that direction: < 1 inside.
    double relativeDistance(double u, double v) const noexcept
    {
        const double dx = u - m_cx;
        const double dy = v - m_cy;
        return std::sqrt(dx * dx + dy * dy) / radiusAt(std::atan2(dy, dx));
    }

private:
    double m_cx;
    double m_cy;
    double m_maxRadius = 0.0;
    std::vector<double> m_radius;
};

/// A hair: a cubic Bezier stroke in image units (multiples of the short side).
struct Hair
{
    double px[4];
    double py[4];
    double halfWidthPx;
    double opacity;
    Rgb colour;
};

Hair makeHair(PortableRandom& rng, const LesionOutline& lesion, double aspectW, double aspectH,
              bool overLesion, double side)
{
    Hair h{};
    double cx = 0.0;
    double cy = 0.0;
    if (overLesion) {
        const double angle = rng.uniform(0.0, 2.0 * kPi);
        const double r = rng.uniform(0.0, 0.6) * lesion.radiusAt(angle);
        cx = lesion.centreX() + r * std::cos(angle);
        cy = lesion.centreY() + r * std::sin(angle);
    } else {
        cx = rng.uniform(0.0, aspectW);
        cy = rng.uniform(0.0, aspectH);
    }
    const double direction = rng.uniform(0.0, 2.0 * kPi);
    const double length = rng.uniform(0.45, 1.3);
    const double before = rng.uniform(0.3, 0.7) * length;
    const double dx = std::cos(direction);
    const double dy = std::sin(direction);
    const double x0 = cx - dx * before;
    const double y0 = cy - dy * before;
    const double bend1 = rng.uniform(-0.18, 0.18) * length;
    const double bend2 = rng.uniform(-0.18, 0.18) * length;
    for (int k = 0; k < 4; ++k) {
        const double along = length * k / 3.0;
        const double bend = k == 1 ? bend1 : (k == 2 ? bend2 : 0.0);
        h.px[k] = x0 + dx * along - dy * bend;
        h.py[k] = y0 + dy * along + dx * bend;
    }
    h.halfWidthPx = std::max(0.5, side * rng.uniform(0.0015, 0.0035));
    h.opacity = rng.uniform(0.85, 0.97);
    const double shade = rng.uniform(0.5, 1.4);
    h.colour = {40.0 * shade, 28.0 * shade, 22.0 * shade};
    return h;
}

/// Draws `hair` into the linear RGB buffer with antialiased coverage; marks `hairMask` where the
/// stroke covers at least 3/4 of a pixel. `coverage` is a zeroed scratch buffer (left zeroed).
void drawHair(const Hair& hair, int width, int height, double side, std::vector<float>& rgb,
              std::vector<float>& coverage, std::vector<std::size_t>& touched,
              std::uint8_t* hairMask)
{
    auto pointAt = [&](double t, double& x, double& y) {
        const double a = (1 - t) * (1 - t) * (1 - t);
        const double b = 3 * (1 - t) * (1 - t) * t;
        const double c = 3 * (1 - t) * t * t;
        const double d = t * t * t;
        x = (a * hair.px[0] + b * hair.px[1] + c * hair.px[2] + d * hair.px[3]) * side - 0.5;
        y = (a * hair.py[0] + b * hair.py[1] + c * hair.py[2] + d * hair.py[3]) * side - 0.5;
    };
    double chord = 0.0;
    for (int k = 0; k < 3; ++k) {
        chord += std::hypot(hair.px[k + 1] - hair.px[k], hair.py[k + 1] - hair.py[k]);
    }
    const int segments = std::max(8, static_cast<int>(std::ceil(chord * side / 0.7)));
    touched.clear();
    double ax = 0.0;
    double ay = 0.0;
    pointAt(0.0, ax, ay);
    for (int s = 1; s <= segments; ++s) {
        const double t = static_cast<double>(s) / segments;
        double bx = 0.0;
        double by = 0.0;
        pointAt(t, bx, by);
        // Thinner towards the ends, as a hair tapers and leaves the focal plane.
        const double hw = hair.halfWidthPx * (0.55 + 0.45 * std::sin(kPi * (t - 0.5 / segments)));
        const int x0 = std::max(0, static_cast<int>(std::floor(std::min(ax, bx) - hw - 1)));
        const int x1 = std::min(width - 1, static_cast<int>(std::ceil(std::max(ax, bx) + hw + 1)));
        const int y0 = std::max(0, static_cast<int>(std::floor(std::min(ay, by) - hw - 1)));
        const int y1 = std::min(height - 1, static_cast<int>(std::ceil(std::max(ay, by) + hw + 1)));
        const double ex = bx - ax;
        const double ey = by - ay;
        const double len2 = std::max(1e-12, ex * ex + ey * ey);
        for (int y = y0; y <= y1; ++y) {
            for (int x = x0; x <= x1; ++x) {
                const double f = std::clamp(((x - ax) * ex + (y - ay) * ey) / len2, 0.0, 1.0);
                const double dist = std::hypot(x - (ax + f * ex), y - (ay + f * ey));
                const auto c = static_cast<float>(std::clamp(hw + 0.5 - dist, 0.0, 1.0));
                if (c <= 0.0f) {
                    continue;
                }
                const std::size_t i = static_cast<std::size_t>(y) * width + x;
                if (coverage[i] == 0.0f) {
                    touched.push_back(i);
                }
                coverage[i] = std::max(coverage[i], c);
            }
        }
        ax = bx;
        ay = by;
    }
    for (const std::size_t i : touched) {
        const double a = coverage[i] * hair.opacity;
        rgb[3 * i + 0] = static_cast<float>(lerp(rgb[3 * i + 0], hair.colour.r, a));
        rgb[3 * i + 1] = static_cast<float>(lerp(rgb[3 * i + 1], hair.colour.g, a));
        rgb[3 * i + 2] = static_cast<float>(lerp(rgb[3 * i + 2], hair.colour.b, a));
        if (coverage[i] >= 0.75f) {
            hairMask[i] = 1;
        }
        coverage[i] = 0.0f;
    }
}

/// Lesion colour for a darkness in [0, 1]: light brown, brown, dark brown, almost black.
Rgb pigmentColour(double darkness) noexcept
{
    static const Rgb stops[] = {{182, 124, 92}, {136, 82, 56}, {84, 50, 36}, {46, 32, 32}};
    const double x = std::clamp(darkness, 0.0, 1.0) * 3.0;
    const int i = std::min(2, static_cast<int>(x));
    return mixRgb(stops[i], stops[i + 1], x - i);
}

std::uint8_t toByte(double v) noexcept
{
    return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

// ---------------------------------------------------------------------------------------------
// CT phantom

/// Anatomy of the phantom in LPS millimetres around the volume centre, drawn from the seed.
struct Anatomy
{
    std::uint64_t seed = 0;
    double bodyA = 160.0; ///< semi-axis left-right
    double bodyB = 112.0; ///< semi-axis anterior-posterior
    double bodyY = 5.0;   ///< centre of the body outline along y
    double fat = 18.0;    ///< subcutaneous fat thickness
    double wall = 10.0;   ///< muscle wall thickness
    double spineY = 62.0;
    double domeRight = 55.0; ///< top of the right hemidiaphragm (z, mm)
    double domeLeft = 42.0;
    double liverZ = 10.0;
    double liverA = 88.0;
    double liverB = 80.0;
    double liverC = 78.0;
    double liverX = -62.0;
    double lesionX = 0.0;
    double lesionY = 0.0;
    double lesionZ = 0.0;
    double lesionR = 18.0;
    double lesionHu = 45.0;
    double liverHu = 100.0;
    double aortaHu = 190.0;

    /// Height of the diaphragm at (x, y): two domes, the right one higher, above the liver.
    double diaphragm(double x, double y) const noexcept
    {
        const double r = ((x + 65) / 105) * ((x + 65) / 105) + ((y + 5) / 110) * ((y + 5) / 110);
        const double l = ((x - 65) / 105) * ((x - 65) / 105) + ((y + 5) / 110) * ((y + 5) / 110);
        const double right = domeRight - 45.0 * std::min(r, 1.5);
        const double left = domeLeft - 45.0 * std::min(l, 1.5);
        return std::max(right, left);
    }

    /// Liver membership (before the lesion and the vessels are carved out) without the warp;
    /// < 1 inside. The right lobe plus a left lobe reaching across the midline anteriorly.
    double liverField(double x, double y, double z) const noexcept
    {
        const double a = std::sqrt(((x - liverX) / liverA) * ((x - liverX) / liverA) +
                                   ((y + 5) / liverB) * ((y + 5) / liverB) +
                                   ((z - liverZ) / liverC) * ((z - liverZ) / liverC));
        const double b =
            std::sqrt(((x - 22) / 58) * ((x - 22) / 58) + ((y + 48) / 30) * ((y + 48) / 30) +
                      ((z - liverZ - 22) / 45) * ((z - liverZ - 22) / 45));
        return std::min(a, b);
    }
};

std::int16_t toHu(double v) noexcept
{
    return static_cast<std::int16_t>(std::clamp(std::lround(v), -1024L, 3071L));
}

} // namespace

// ---------------------------------------------------------------------------------------------

DermoscopyDemo generateDermoscopyDemo(int width, int height, std::uint64_t seed)
{
    if (width < 16 || height < 16 || width > Image2D::kMaxSide || height > Image2D::kMaxSide) {
        throw Error(ErrorKind::InvalidValue, "",
                    "demo image size " + std::to_string(width) + "x" + std::to_string(height) +
                        " must be between 16 and " + std::to_string(Image2D::kMaxSide) +
                        " pixels per side");
    }
    const double side = std::min(width, height);
    const double aspectW = width / side; // image extent in units of the short side
    const double aspectH = height / side;
    PortableRandom rng = PortableRandom::derived(seed, 0x5EED0001);
    const std::uint64_t noise = mix64(seed ^ 0xD1B54A32D192ED03ULL);

    // Skin: a tone between light and tanned, a warm/cool cast, furrows at two angles.
    const Rgb light{238, 198, 182};
    const Rgb tanned{190, 134, 102};
    Rgb skin = mixRgb(light, tanned, rng.uniform());
    skin.r += rng.uniform(-6.0, 6.0);
    skin.b += rng.uniform(-8.0, 8.0);
    const double furrowAngle = rng.uniform(0.0, kPi);
    const double furrowAngle2 = furrowAngle + rng.uniform(0.9, 1.5);
    const double furrowFrequency = rng.uniform(18.0, 30.0);
    const double furrowDepth = rng.uniform(0.04, 0.09);

    // The lesion near the centre.
    const double lesionX = aspectW / 2 + rng.uniform(-0.07, 0.07);
    const double lesionY = aspectH / 2 + rng.uniform(-0.07, 0.07);
    const LesionOutline lesion(rng, mix64(noise + 1), lesionX, lesionY);
    const double edgeSoftness = rng.uniform(0.03, 0.14);
    const double coreStrength = rng.uniform(0.35, 0.85);
    const double baseDarkness = rng.uniform(0.0, 0.3);
    const double variegation = rng.uniform(0.2, 0.5);
    const double redThreshold = rng.uniform(0.55, 0.8);
    const double networkStrength = rng.uniform(0.0, 0.25);
    const bool veil = rng.chance(0.4);
    const double veilThreshold = rng.uniform(0.4, 0.55);

    // A dark lens border in about a third of the images, only where it leaves the lesion whole.
    const double halfDiagonal = 0.5 * std::hypot(aspectW, aspectH);
    const double lensRadius = rng.uniform(0.62, 0.78) * halfDiagonal;
    const bool lens = rng.chance(0.3) && std::hypot(lesionX - aspectW / 2, lesionY - aspectH / 2) +
                                                 lesion.maxRadius() <
                                             0.92 * lensRadius;

    DermoscopyDemo out{Image2D(width, height, 3, PixelType::UInt8),
                       Image2D(width, height, 1, PixelType::UInt8),
                       Image2D(width, height, 1, PixelType::UInt8), veil};
    std::vector<float> rgb(static_cast<std::size_t>(width) * height * 3);
    std::uint8_t* mask = out.mask.data<std::uint8_t>();

    const double cosA = std::cos(furrowAngle);
    const double sinA = std::sin(furrowAngle);
    const double cosB = std::cos(furrowAngle2);
    const double sinB = std::sin(furrowAngle2);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const double u = (x + 0.5) / side;
            const double v = (y + 0.5) / side;
            // Skin: lighting and blotchy redness at low frequency, fine grain, furrows.
            const double low = fbm2(noise + 10, u * 3, v * 3, 4);
            const double red = fbm2(noise + 11, u * 5, v * 5, 3);
            const double grain = fbm2(noise + 12, u * 70, v * 70, 2);
            const double lighting = 0.9 + 0.2 * (low - 0.5);
            Rgb c{skin.r + 22 * (red - 0.5), skin.g - 12 * (red - 0.5), skin.b - 8 * (red - 0.5)};
            c = scaled(c, 0.97 + 0.06 * grain);
            const double warp = 2.5 * fbm2(noise + 13, u * 4, v * 4, 2);
            const double lineA =
                std::abs(std::sin(kPi * ((u * cosA + v * sinA) * furrowFrequency + warp)));
            const double lineB = std::abs(
                std::sin(kPi * ((u * cosB + v * sinB) * furrowFrequency * 0.7 + warp * 1.3)));
            c = scaled(c, 1.0 - furrowDepth * (smoothstep(0.15, 0.0, lineA) +
                                               0.6 * smoothstep(0.12, 0.0, lineB)));

            // Lesion.
            const double q = lesion.relativeDistance(u, v);
            const std::size_t i = static_cast<std::size_t>(y) * width + x;
            mask[i] = q < 1.0 ? 1 : 0;
            if (q < 1.0 + 2.0 * edgeSoftness) {
                const double depth = std::clamp(1.0 - q, 0.0, 1.0);
                const double pigment = fbm2(noise + 20, u * 7, v * 7, 4);
                const double variation = fbm2(noise + 21, u * 4, v * 4, 3);
                double darkness = baseDarkness + coreStrength * smoothstep(0.0, 0.75, depth) +
                                  2.0 * variegation * (pigment - 0.5);
                // Pigment network: iso-lines of a fine noise form an irregular mesh, strongest
                // towards the rim.
                const double net = fbm2(noise + 22, u * 22, v * 22, 2);
                darkness += networkStrength * smoothstep(0.045, 0.0, std::abs(net - 0.5)) *
                            (1.0 - 0.6 * depth);
                Rgb l = pigmentColour(darkness);
                // Reddish (vascular) areas.
                l = mixRgb(l, Rgb{168, 86, 82},
                           0.6 * smoothstep(redThreshold, redThreshold + 0.1, variation));
                if (veil) {
                    const double vv = fbm2(noise + 23, u * 5, v * 5, 3);
                    const double amount = 0.55 *
                                          smoothstep(veilThreshold, veilThreshold + 0.25, vv) *
                                          smoothstep(0.1, 0.4, depth);
                    const double haze = 30.0 * grain;
                    l = mixRgb(l, Rgb{124 + haze, 134 + haze, 156 + haze}, amount);
                }
                const double alpha = 1.0 - smoothstep(1.0 - edgeSoftness, 1.0 + edgeSoftness, q);
                c = mixRgb(c, l, alpha * (0.85 + 0.15 * smoothstep(0.0, 0.3, depth)));
            }
            c = scaled(c, lighting);
            // Vignetting of the dermatoscope, and its dark lens border.
            const double rr = std::hypot(u - aspectW / 2, v - aspectH / 2) / halfDiagonal;
            c = scaled(c, 1.0 - 0.22 * smoothstep(0.45, 1.0, rr));
            if (lens) {
                const double r = rr * halfDiagonal;
                c = scaled(c, 0.06 + 0.94 * smoothstep(lensRadius, lensRadius - 0.03, r));
            }
            rgb[3 * i + 0] = static_cast<float>(c.r);
            rgb[3 * i + 1] = static_cast<float>(c.g);
            rgb[3 * i + 2] = static_cast<float>(c.b);
        }
    }

    // Pores (small dark dots on the skin) and globules (dark dots inside the lesion).
    auto drawDot = [&](double u, double v, double radiusPx, const Rgb& colour, double strength) {
        const double px = u * side - 0.5;
        const double py = v * side - 0.5;
        const int x0 = std::max(0, static_cast<int>(std::floor(px - radiusPx - 1)));
        const int x1 = std::min(width - 1, static_cast<int>(std::ceil(px + radiusPx + 1)));
        const int y0 = std::max(0, static_cast<int>(std::floor(py - radiusPx - 1)));
        const int y1 = std::min(height - 1, static_cast<int>(std::ceil(py + radiusPx + 1)));
        for (int y = y0; y <= y1; ++y) {
            for (int x = x0; x <= x1; ++x) {
                const double a =
                    strength * std::clamp(radiusPx + 0.5 - std::hypot(x - px, y - py), 0.0, 1.0);
                const std::size_t i = static_cast<std::size_t>(y) * width + x;
                rgb[3 * i + 0] = static_cast<float>(lerp(rgb[3 * i + 0], colour.r, a));
                rgb[3 * i + 1] = static_cast<float>(lerp(rgb[3 * i + 1], colour.g, a));
                rgb[3 * i + 2] = static_cast<float>(lerp(rgb[3 * i + 2], colour.b, a));
            }
        }
    };
    const int pores = static_cast<int>(aspectW * aspectH * rng.uniform(150.0, 400.0));
    for (int p = 0; p < pores; ++p) {
        const double u = rng.uniform(0.0, aspectW);
        const double v = rng.uniform(0.0, aspectH);
        if (lesion.relativeDistance(u, v) < 1.1) {
            continue;
        }
        drawDot(u, v, std::max(0.4, side * rng.uniform(0.0015, 0.004)), scaled(skin, 0.72),
                rng.uniform(0.2, 0.45));
    }
    const int globules = static_cast<int>(rng.uniformInt(0, 24));
    for (int g = 0; g < globules; ++g) {
        const double angle = rng.uniform(0.0, 2.0 * kPi);
        const double r = rng.uniform(0.25, 0.9) * lesion.radiusAt(angle);
        drawDot(lesion.centreX() + r * std::cos(angle), lesion.centreY() + r * std::sin(angle),
                std::max(0.5, side * rng.uniform(0.003, 0.009)), Rgb{52, 34, 30},
                rng.uniform(0.5, 0.85));
    }

    // Hairs, one in four or so over the lesion (at least one).
    const int hairs = static_cast<int>(rng.uniformInt(3, 12));
    std::vector<float> coverage(static_cast<std::size_t>(width) * height, 0.0f);
    std::vector<std::size_t> touched;
    for (int h = 0; h < hairs; ++h) {
        const bool overLesion = h == 0 || rng.chance(0.25);
        const Hair hair = makeHair(rng, lesion, aspectW, aspectH, overLesion, side);
        drawHair(hair, width, height, side, rgb, coverage, touched, out.hair.data<std::uint8_t>());
    }

    // Sensor noise, then 8 bits.
    const std::uint64_t sensor = mix64(noise + 30);
    std::uint8_t* pixels = out.image.data<std::uint8_t>();
    for (std::size_t i = 0; i < rgb.size(); ++i) {
        const double n = 2.5 * gaussianOf(hashPoint(sensor, static_cast<std::int64_t>(i), 0, 0));
        pixels[i] = toByte(rgb[i] + n);
    }
    return out;
}

CtPhantomDemo generateCtPhantomDemo(const std::array<std::int64_t, 3>& size, std::uint64_t seed)
{
    for (const std::int64_t n : size) {
        if (n < 16 || n > 1024) {
            throw Error(ErrorKind::InvalidValue, "",
                        "demo volume size " + std::to_string(size[0]) + "x" +
                            std::to_string(size[1]) + "x" + std::to_string(size[2]) +
                            " must be between 16 and 1024 voxels per side");
        }
    }
    PortableRandom rng = PortableRandom::derived(seed, 0x5EED0002);
    Anatomy an;
    an.seed = mix64(seed ^ 0x8CB92BA72F3D8DD7ULL);
    an.bodyA = rng.uniform(150.0, 172.0);
    an.bodyB = rng.uniform(104.0, 120.0);
    an.bodyY = rng.uniform(0.0, 10.0);
    an.fat = rng.uniform(10.0, 26.0);
    an.wall = rng.uniform(8.0, 13.0);
    an.spineY = an.bodyY + an.bodyB - rng.uniform(52.0, 60.0);
    an.domeRight = rng.uniform(38.0, 52.0);
    an.domeLeft = an.domeRight - rng.uniform(6.0, 16.0);
    an.liverX = rng.uniform(-70.0, -55.0);
    an.liverA = rng.uniform(80.0, 95.0);
    an.liverB = rng.uniform(72.0, 85.0);
    an.liverC = rng.uniform(70.0, 85.0);
    an.liverZ = rng.uniform(0.0, 15.0);
    an.liverHu = rng.uniform(100.0, 112.0);
    an.lesionHu = rng.uniform(50.0, 62.0);
    an.aortaHu = rng.uniform(170.0, 220.0);
    an.lesionR = rng.uniform(16.0, 30.0);
    // The lesion well inside the liver's right lobe and under the diaphragm.
    bool placed = false;
    for (int attempt = 0; attempt < 200 && !placed; ++attempt) {
        an.lesionX = an.liverX + rng.uniform(-0.5, 0.5) * an.liverA;
        an.lesionY = -5.0 + rng.uniform(-0.5, 0.5) * an.liverB;
        an.lesionZ = an.liverZ + rng.uniform(-0.5, 0.5) * an.liverC;
        placed = true;
        const double r = an.lesionR * 1.25;
        for (int axis = 0; axis < 6 && placed; ++axis) {
            const double d = axis % 2 ? r : -r;
            const double x = an.lesionX + (axis / 2 == 0 ? d : 0.0);
            const double y = an.lesionY + (axis / 2 == 1 ? d : 0.0);
            const double z = an.lesionZ + (axis / 2 == 2 ? d : 0.0);
            placed = an.liverField(x, y, z) < 0.8 && z < an.diaphragm(x, y) - 12.0 &&
                     std::hypot(x + 22.0, y - an.spineY + 24.0) > 11.0 + 6.0;
        }
    }
    if (!placed) {
        an.lesionX = an.liverX;
        an.lesionY = -5.0;
        an.lesionZ = an.liverZ - 10.0;
        an.lesionR = 14.0;
    }

    Geometry geometry;
    geometry.spacing = {400.0 / static_cast<double>(size[0]), 400.0 / static_cast<double>(size[1]),
                        200.0 / static_cast<double>(size[2])};
    for (int a = 0; a < 3; ++a) {
        geometry.origin[a] = -0.5 * static_cast<double>(size[a] - 1) * geometry.spacing[a];
    }
    CtPhantomDemo out{Volume(size, 1, PixelType::Int16, geometry), {}, {}};
    out.labels = LabelMap::like(out.volume);
    out.tissues = LabelMap::like(out.volume);
    std::int16_t* hu = out.volume.data<std::int16_t>();
    std::uint8_t* labels = out.labels.data<std::uint8_t>();
    std::uint8_t* tissues = out.tissues.data<std::uint8_t>();
    const std::uint64_t s = an.seed;
    const double aortaX = 18.0;
    const double aortaY = an.spineY - 27.0;
    const double ivcX = -22.0;
    const double ivcY = an.spineY - 24.0;
    const double canalY = an.spineY + 32.0;

    std::size_t index = 0;
    for (std::int64_t k = 0; k < size[2]; ++k) {
        const double z = geometry.origin[2] + k * geometry.spacing[2];
        for (std::int64_t j = 0; j < size[1]; ++j) {
            const double y = geometry.origin[1] + j * geometry.spacing[1];
            for (std::int64_t i = 0; i < size[0]; ++i, ++index) {
                const double x = geometry.origin[0] + i * geometry.spacing[0];
                CtTissue tissue = CtTissue::Air;
                double value = -1000.0;
                // Body outline: an ellipse with a slightly flattened back, wobbling along z.
                const double dy = y - an.bodyY;
                const double b = dy > 0 ? an.bodyB * 0.96 : an.bodyB;
                const double ra = an.bodyA * (1.0 + 0.03 * std::sin(z / 45.0));
                const double e = std::sqrt((x / ra) * (x / ra) + (dy / b) * (dy / b));
                const double boundary =
                    1.0 + 0.03 * (noise3(s + 1, x / 60.0, y / 60.0, z / 60.0) - 0.5);
                const double rho = std::hypot(x, dy) / std::max(e, 1e-9); // radius along the ray
                const double depth = (boundary - e) * rho;                // mm inside the skin
                const double cavity = an.fat + an.wall;
                if (depth > 0.0) {
                    if (depth < an.fat) {
                        tissue = CtTissue::Fat;
                        value = -100.0 + 10.0 * (fbm3(s + 2, x / 20, y / 20, z / 20, 2) - 0.5);
                    } else {
                        tissue = CtTissue::SoftTissue;
                        value = 50.0;
                    }
                    const double dome = an.diaphragm(x, y);
                    const bool inCavity = depth > cavity;
                    if (inCavity) {
                        if (z < dome) {
                            // Abdomen: bowel and mesentery (soft tissue with fat and some gas).
                            const double t = fbm3(s + 3, x / 28, y / 28, z / 28, 2);
                            value = 30.0 + 20.0 * (t - 0.5);
                            if (t > 0.62) {
                                tissue = CtTissue::Fat;
                                value = -90.0 + 15.0 * (t - 0.62);
                            } else if (z < -20.0 && t < 0.42 &&
                                       noise3(s + 4, x / 7, y / 7, z / 7) > 0.86) {
                                tissue = CtTissue::Air;
                                value = -950.0;
                            }
                        } else {
                            // Thorax above the diaphragm: lungs around the heart and mediastinum.
                            tissue = CtTissue::Lung;
                            value = -850.0 + 40.0 * (fbm3(s + 5, x / 15, y / 15, z / 15, 2) - 0.5);
                            const double heart = std::sqrt(((x - 22) / 62) * ((x - 22) / 62) +
                                                           ((y + 30) / 52) * ((y + 30) / 52) +
                                                           ((z - an.domeLeft - 40) / 48) *
                                                               ((z - an.domeLeft - 40) / 48));
                            if (heart < 1.0) {
                                tissue = CtTissue::Organ;
                                value = 130.0;
                            } else if (std::abs(x - 5) < 28 && y > -70 && y < an.spineY) {
                                tissue = CtTissue::Fat; // mediastinal fat
                                value = -80.0;
                            }
                        }
                    }
                    // Paraspinal muscles.
                    for (const double side : {-1.0, 1.0}) {
                        const double px = (x - side * 42.0) / 28.0;
                        const double py = (y - an.spineY - 38.0) / 24.0;
                        if (px * px + py * py < 1.0 && depth > an.fat) {
                            tissue = CtTissue::SoftTissue;
                            value = 55.0;
                        }
                    }
                    if (inCavity && z < dome) {
                        // Kidneys (lower), spleen (left, under the dome).
                        for (const double side : {-1.0, 1.0}) {
                            const double kx = (x - side * 72.0) / 27.0;
                            const double ky = (y - an.spineY + 8.0) / 22.0;
                            const double kz = (z + 45.0 + (side < 0 ? 12.0 : 0.0)) / 50.0;
                            const double kd = std::sqrt(kx * kx + ky * ky + kz * kz);
                            if (kd < 1.0) {
                                tissue = CtTissue::Organ;
                                value = kd > 0.6 ? 160.0 : 115.0; // cortex, medulla
                            }
                        }
                        const double sx = (x - 92.0) / 30.0;
                        const double sy = (y - 25.0) / 45.0;
                        const double sz = (z - an.domeLeft + 35.0) / 42.0;
                        if (sx * sx + sy * sy + sz * sz < 1.0) {
                            tissue = CtTissue::Organ;
                            value = 105.0;
                        }
                        // Liver, its boundary warped by noise, under the right dome.
                        double lf = an.liverField(x, y, z);
                        if (lf < 1.3) {
                            lf += 0.12 * (fbm3(s + 6, x / 30, y / 30, z / 30, 2) - 0.5);
                            if (lf < 1.0 && z < dome - 3.0 && depth > cavity + 2.0) {
                                tissue = CtTissue::Liver;
                                value = an.liverHu +
                                        8.0 * (fbm3(s + 7, x / 12, y / 12, z / 12, 2) - 0.5);
                                const double lx = x - an.lesionX;
                                const double ly = y - an.lesionY;
                                const double lz = z - an.lesionZ;
                                const double ld = std::sqrt(lx * lx + ly * ly + lz * lz);
                                if (ld < an.lesionR * 1.4) {
                                    const double wobble =
                                        1.0 + 0.45 * (fbm3(s + 8, x / 10, y / 10, z / 10, 2) - 0.5);
                                    if (ld < an.lesionR * wobble) {
                                        tissue = CtTissue::Lesion;
                                        value = an.lesionHu +
                                                12.0 * smoothstep(0.6, 1.0, ld / an.lesionR);
                                    }
                                }
                            }
                        }
                    }
                    // Great vessels: aorta and inferior vena cava along z.
                    if (std::hypot(x - aortaX, y - aortaY) < 12.5) {
                        tissue = CtTissue::Vessel;
                        value = an.aortaHu;
                    } else if (std::hypot(x - ivcX, y - ivcY) < 11.0 && z < an.domeRight) {
                        tissue = CtTissue::Vessel;
                        value = 0.65 * an.aortaHu;
                    }
                    // Spine: vertebral bodies (shell and core) with discs every 30 mm, the canal,
                    // the arch and the spinous and transverse processes.
                    const double phase = z + 100.0 - 30.0 * std::floor((z + 100.0) / 30.0);
                    const bool disc = phase < 7.0;
                    const double rb = std::hypot(x, y - an.spineY);
                    const double rc = std::hypot(x, y - canalY);
                    if (rb < 22.0) {
                        if (disc) {
                            tissue = CtTissue::IntervertebralDisc;
                            value = 90.0;
                        } else {
                            tissue = CtTissue::Bone;
                            value = rb > 19.5
                                        ? 700.0
                                        : 240.0 + 40.0 * (noise3(s + 9, x / 4, y / 4, z / 4) - 0.5);
                        }
                    } else if (rc < 9.0) {
                        tissue = CtTissue::SoftTissue;
                        value = 20.0; // spinal canal
                    } else if (phase > 9.0 && phase < 27.0 &&
                               ((rc < 15.0 && y > an.spineY + 14.0) ||
                                (std::abs(x) < 4.5 && y > canalY && y < canalY + 36.0) ||
                                (std::abs(y - canalY + 4.0) < 5.0 && std::abs(x) < 38.0))) {
                        tissue = CtTissue::Bone;
                        value = 520.0;
                    }
                    // Ribs in the wall, running around the body and sloping down towards the
                    // front, so that an axial slice cuts each one into a short segment.
                    if (z > -45.0 && depth > an.fat - 2.0 && depth < cavity + 3.0 &&
                        !(std::abs(x) < 45.0 && y < 0.0)) {
                        const double around = std::abs(std::atan2(x, y - an.bodyY)) * 130.0;
                        const double rib = z + 0.55 * around;
                        const double rp = rib + 200.0 - 24.0 * std::floor((rib + 200.0) / 24.0);
                        if (rp < 9.0) {
                            tissue = CtTissue::Bone;
                            value = rp < 1.5 || rp > 7.5 ? 650.0 : 350.0;
                        }
                    }
                }
                const double sigma = tissue == CtTissue::Air && depth <= 0.0 ? 6.0 : 12.0;
                value += sigma * gaussianOf(hashPoint(s + 10, i, j, k));
                hu[index] = toHu(value);
                tissues[index] = static_cast<std::uint8_t>(tissue);
                labels[index] =
                    tissue == CtTissue::Liver
                        ? CtPhantomDemo::kLiverLabel
                        : (tissue == CtTissue::Lesion ? CtPhantomDemo::kLesionLabel : 0);
            }
        }
    }
    return out;
}

} // namespace diffseg::core
