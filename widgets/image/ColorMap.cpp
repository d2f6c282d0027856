#include "ColorMap.h"

#include <cmath>
#include <vector>

namespace diffseg::widgets {

namespace {

struct Stop
{
    double t;
    int r, g, b;
};

// Control points sampled from matplotlib's maps at 1/8 intervals (sRGB).
const std::vector<Stop> kViridis = {
    {0.000, 68, 1, 84},    {0.125, 71, 44, 122},  {0.250, 59, 81, 139},
    {0.375, 44, 113, 142}, {0.500, 33, 144, 141}, {0.625, 39, 173, 129},
    {0.750, 92, 200, 99},  {0.875, 170, 220, 50}, {1.000, 253, 231, 37}};
const std::vector<Stop> kInferno = {
    {0.000, 0, 0, 4},      {0.125, 31, 12, 72},   {0.250, 85, 15, 109},
    {0.375, 136, 34, 106}, {0.500, 186, 54, 85},  {0.625, 227, 89, 51},
    {0.750, 249, 140, 10}, {0.875, 249, 201, 50}, {1.000, 252, 255, 164}};
const std::vector<Stop> kMagma = {
    {0.000, 0, 0, 4},      {0.125, 28, 16, 68},    {0.250, 79, 18, 123},
    {0.375, 129, 37, 129}, {0.500, 181, 54, 122},  {0.625, 229, 80, 100},
    {0.750, 251, 135, 97}, {0.875, 254, 194, 135}, {1.000, 252, 253, 191}};
const std::vector<Stop> kBlueRed = {{0.0, 59, 76, 192},
                                    {0.25, 144, 178, 254},
                                    {0.5, 221, 221, 221},
                                    {0.75, 245, 156, 125},
                                    {1.0, 180, 4, 38}};

const std::vector<Stop>& stops(ColorMap::Name name)
{
    switch (name) {
    case ColorMap::Name::Inferno:
        return kInferno;
    case ColorMap::Name::Magma:
        return kMagma;
    case ColorMap::Name::BlueRed:
        return kBlueRed;
    case ColorMap::Name::Viridis:
        break;
    }
    return kViridis;
}

} // namespace

ColorMap::ColorMap(Name name)
    : m_name(name)
{
    const std::vector<Stop>& s = stops(name);
    for (int i = 0; i < 256; ++i) {
        const double t = i / 255.0;
        std::size_t k = 1;
        while (k + 1 < s.size() && s[k].t < t) {
            ++k;
        }
        const Stop& a = s[k - 1];
        const Stop& b = s[k];
        const double f = (t - a.t) / (b.t - a.t);
        auto mix = [f](int x, int y) {
            return static_cast<int>(std::lround(x + f * (y - x)));
        };
        m_table[static_cast<std::size_t>(i)] = qRgb(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b));
    }
}

QImage ColorMap::strip(int width, int height) const
{
    QImage image(width, height, QImage::Format_RGB32);
    for (int x = 0; x < width; ++x) {
        const QRgb c = color(width > 1 ? double(x) / (width - 1) : 0.0);
        for (int y = 0; y < height; ++y) {
            image.setPixel(x, y, c);
        }
    }
    return image;
}

QString ColorMap::displayName(Name name)
{
    switch (name) {
    case Name::Inferno:
        return QStringLiteral("Inferno");
    case Name::Magma:
        return QStringLiteral("Magma");
    case Name::BlueRed:
        return QStringLiteral("Blue-red");
    case Name::Viridis:
        break;
    }
    return QStringLiteral("Viridis");
}

QStringList ColorMap::allNames()
{
    return {displayName(Name::Viridis), displayName(Name::Inferno), displayName(Name::Magma),
            displayName(Name::BlueRed)};
}

} // namespace diffseg::widgets
