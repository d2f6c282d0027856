#pragma once

#include <QImage>
#include <QRgb>
#include <QString>
#include <QStringList>

#include <array>

namespace diffseg::widgets {

/// Perceptually ordered colour maps for heatmaps (probability, uncertainty). 256-entry lookup
/// tables interpolated from published control points (matplotlib's viridis/inferno/magma and a
/// diverging blue-white-red), so that equal steps in value look like equal steps in colour.
class ColorMap
{
public:
    enum class Name
    {
        Viridis,
        Inferno,
        Magma,
        BlueRed
    };

    explicit ColorMap(Name name = Name::Viridis);

    Name name() const noexcept { return m_name; }
    /// Colour of t in [0,1] (clamped), opaque.
    QRgb color(double t) const noexcept
    {
        const double c = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
        return m_table[static_cast<std::size_t>(c * 255.0 + 0.5)];
    }
    const std::array<QRgb, 256>& table() const noexcept { return m_table; }
    /// A horizontal gradient strip, for legends.
    QImage strip(int width, int height) const;

    static QString displayName(Name name);
    static QStringList allNames();

private:
    Name m_name;
    std::array<QRgb, 256> m_table{};
};

} // namespace diffseg::widgets
