#include "ReportComposer.h"

#include "MaskOps.h"
#include "base/Error.h"
#include "image/ImageConversion.h"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace diffseg::app {

namespace {

void requireSize(const core::Image2D& layer, const core::Image2D& image, const char* what)
{
    if (!layer.empty() && (layer.width() != image.width() || layer.height() != image.height())) {
        throw core::Error(core::ErrorKind::Mismatch, what, "does not have the image's size");
    }
}

} // namespace

widgets::ReportContent composeReport(const ReportInputs& in)
{
    if (in.image.empty()) {
        throw core::Error(core::ErrorKind::InvalidValue, "report", "there is no image");
    }
    requireSize(in.mask, in.image, "mask");
    requireSize(in.groundTruth, in.image, "ground truth");
    requireSize(in.uncertainty, in.image, "uncertainty map");

    const QImage full = widgets::toQImage(in.image).convertToFormat(QImage::Format_RGB32);
    const double f =
        std::min(1.0, in.maxSide / static_cast<double>(std::max(full.width(), full.height())));
    const QSize size(std::max(1, static_cast<int>(std::lround(full.width() * f))),
                     std::max(1, static_cast<int>(std::lround(full.height() * f))));
    const QImage base = full.scaled(size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);

    widgets::ReportContent c;
    c.title = QStringLiteral("Lesion segmentation report");
    c.source = in.source;
    c.overlay = base;
    {
        QPainter p(&c.overlay);
        p.setRenderHint(QPainter::Antialiasing);
        p.scale(f, f);
        auto outline = [&](const core::Image2D& mask, const QColor& color) {
            if (mask.empty()) {
                return;
            }
            QPen pen(color, 2.5);
            pen.setCosmetic(true);
            p.setPen(pen);
            p.drawPath(maskOutline(mask));
        };
        outline(in.groundTruth, QColor(255, 215, 0));
        outline(in.mask, QColor(0, 190, 255));
    }
    if (!in.uncertainty.empty()) {
        const widgets::ColorMap map(in.colorMap);
        QImage heat =
            base.convertToFormat(QImage::Format_Grayscale8).convertToFormat(QImage::Format_RGB32);
        for (int y = 0; y < heat.height(); ++y) {
            auto* line = reinterpret_cast<QRgb*>(heat.scanLine(y));
            const int sy = std::min(in.image.height() - 1, static_cast<int>(y / f));
            const float* row = &in.uncertainty.at<float>(0, sy);
            for (int x = 0; x < heat.width(); ++x) {
                const int sx = std::min(in.image.width() - 1, static_cast<int>(x / f));
                const float v = row[sx];
                const double a = 0.85 * std::clamp(v / 0.5, 0.0, 1.0);
                const QRgb c1 = map.color(v);
                const QRgb c0 = line[x];
                auto mix = [a](int lo, int hi) {
                    return static_cast<int>(lo + a * (hi - lo));
                };
                line[x] = qRgb(mix(qRed(c0), qRed(c1)), mix(qGreen(c0), qGreen(c1)),
                               mix(qBlue(c0), qBlue(c1)));
            }
        }
        c.uncertainty = heat;
        c.uncertaintyCaption =
            QStringLiteral("%1 (0 = certain, 1 = most uncertain)").arg(in.uncertaintyName);
        c.legend = map.strip(256, 14);
    }
    c.metrics = in.metrics;
    c.settings = in.settings;
    c.notes = in.notes;
    return c;
}

QString formatSeconds(double s)
{
    return s < 10 ? QStringLiteral("%1 s").arg(s, 0, 'f', 2)
                  : QStringLiteral("%1 s").arg(s, 0, 'f', 1);
}

} // namespace diffseg::app
