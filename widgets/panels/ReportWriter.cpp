#include "ReportWriter.h"

#include <QDateTime>
#include <QFileInfo>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>

#include <algorithm>

namespace diffseg::widgets {

namespace {

/// Draws the report into a page of `page` size in device units; `unit` is 1 mm in device units.
void paintReport(QPainter& p, const ReportContent& c, const QRectF& page, double unit)
{
    const double margin = 15 * unit;
    QRectF area = page.adjusted(margin, margin, -margin, -margin);
    p.fillRect(page, Qt::white);

    QFont titleFont(QStringLiteral("DejaVu Sans"));
    titleFont.setPixelSize(static_cast<int>(7 * unit));
    titleFont.setBold(true);
    QFont textFont(QStringLiteral("DejaVu Sans"));
    textFont.setPixelSize(static_cast<int>(3.6 * unit));
    QFont smallFont = textFont;
    smallFont.setPixelSize(static_cast<int>(3.0 * unit));

    p.setPen(QColor(20, 30, 45));
    p.setFont(titleFont);
    const double titleH = 10 * unit;
    p.drawText(QRectF(area.left(), area.top(), area.width(), titleH),
               Qt::AlignLeft | Qt::AlignVCenter,
               c.title.isEmpty() ? QStringLiteral("DiffSeg Studio report") : c.title);
    p.setFont(smallFont);
    p.setPen(QColor(90, 100, 115));
    p.drawText(QRectF(area.left(), area.top() + titleH, area.width(), 6 * unit), Qt::AlignLeft,
               QStringLiteral("%1    %2")
                   .arg(c.source, QDateTime::currentDateTime().toString(Qt::ISODate)));
    double y = area.top() + titleH + 9 * unit;

    // Two images side by side, keeping their aspect ratios.
    const double gap = 6 * unit;
    const double colW = (area.width() - gap) / 2;
    const double imgH = std::min(colW, area.height() * 0.42);
    auto drawImage = [&](const QImage& image, double x, const QString& caption) {
        const QRectF box(x, y, colW, imgH);
        p.setPen(QColor(200, 205, 212));
        p.drawRect(box);
        if (!image.isNull()) {
            QSizeF s = image.size();
            s.scale(box.size(), Qt::KeepAspectRatio);
            const QRectF target(box.center().x() - s.width() / 2, box.center().y() - s.height() / 2,
                                s.width(), s.height());
            p.drawImage(target, image);
        } else {
            p.setPen(QColor(150, 155, 165));
            p.drawText(box, Qt::AlignCenter, QStringLiteral("not available"));
        }
        p.setPen(QColor(60, 70, 85));
        p.setFont(smallFont);
        p.drawText(QRectF(x, y + imgH + unit, colW, 6 * unit), Qt::AlignLeft, caption);
    };
    drawImage(c.overlay, area.left(),
              QStringLiteral("Segmentation (blue), ground truth (yellow) when loaded"));
    drawImage(c.uncertainty, area.left() + colW + gap,
              c.uncertaintyCaption.isEmpty() ? QStringLiteral("Uncertainty")
                                             : c.uncertaintyCaption);
    y += imgH + 7 * unit;
    if (!c.legend.isNull()) {
        const QRectF bar(area.left() + colW + gap, y, colW, 3 * unit);
        p.drawImage(bar, c.legend);
        p.setFont(smallFont);
        p.setPen(QColor(60, 70, 85));
        p.drawText(QRectF(bar.left(), bar.bottom(), colW, 5 * unit), Qt::AlignLeft,
                   QStringLiteral("low"));
        p.drawText(QRectF(bar.left(), bar.bottom(), colW, 5 * unit), Qt::AlignRight,
                   QStringLiteral("high"));
        y += 9 * unit;
    }

    auto drawTable = [&](const QString& heading, const QVector<QPair<QString, QString>>& rows,
                         double x, double w) {
        double ty = y;
        p.setFont(textFont);
        QFont bold = textFont;
        bold.setBold(true);
        p.setFont(bold);
        p.setPen(QColor(20, 30, 45));
        p.drawText(QRectF(x, ty, w, 6 * unit), Qt::AlignLeft, heading);
        ty += 7 * unit;
        p.setFont(textFont);
        for (int i = 0; i < rows.size(); ++i) {
            const QRectF row(x, ty, w, 5.5 * unit);
            if (i % 2 == 0) {
                p.fillRect(row, QColor(243, 245, 248));
            }
            p.setPen(QColor(60, 70, 85));
            p.drawText(row.adjusted(unit, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter,
                       rows[i].first);
            p.setPen(QColor(20, 30, 45));
            p.drawText(row.adjusted(0, 0, -unit, 0), Qt::AlignRight | Qt::AlignVCenter,
                       rows[i].second);
            ty += 5.5 * unit;
        }
        return ty;
    };
    const double endMetrics = drawTable(QStringLiteral("Metrics"), c.metrics, area.left(), colW);
    const double endSettings =
        drawTable(QStringLiteral("Settings"), c.settings, area.left() + colW + gap, colW);
    y = std::max(endMetrics, endSettings) + 6 * unit;
    if (!c.notes.isEmpty()) {
        p.setFont(textFont);
        p.setPen(QColor(60, 70, 85));
        p.drawText(QRectF(area.left(), y, area.width(), area.bottom() - y), Qt::TextWordWrap,
                   c.notes);
    }
    p.setFont(smallFont);
    p.setPen(QColor(150, 155, 165));
    p.drawText(QRectF(area.left(), area.bottom() - 5 * unit, area.width(), 5 * unit),
               Qt::AlignRight,
               QStringLiteral("DiffSeg Studio: research software, not for diagnosis"));
}

QString commit(QSaveFile& file, const QString& path)
{
    if (!file.commit()) {
        return QStringLiteral("%1: could not write the report (%2)").arg(path, file.errorString());
    }
    return {};
}

} // namespace

QString ReportWriter::writePdf(const ReportContent& content, const QString& path)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return QStringLiteral("%1: cannot create the file (%2)").arg(path, file.errorString());
    }
    {
        QPdfWriter writer(&file);
        writer.setPageSize(QPageSize(QPageSize::A4));
        writer.setResolution(300);
        writer.setTitle(content.title);
        writer.setCreator(QStringLiteral("DiffSeg Studio"));
        writer.setPageMargins(QMarginsF(0, 0, 0, 0));
        QPainter painter(&writer);
        if (!painter.isActive()) {
            file.cancelWriting();
            return QStringLiteral("%1: cannot start the PDF writer").arg(path);
        }
        const QRectF page(0, 0, writer.width(), writer.height());
        paintReport(painter, content, page, writer.width() / 210.0);
    }
    return commit(file, path);
}

QImage ReportWriter::render(const ReportContent& content, int width)
{
    const int height = static_cast<int>(width * 297.0 / 210.0);
    QImage image(width, height, QImage::Format_RGB32);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::SmoothPixmapTransform);
    paintReport(painter, content, QRectF(0, 0, width, height), width / 210.0);
    return image;
}

QString ReportWriter::writePng(const ReportContent& content, const QString& path, int width)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return QStringLiteral("%1: cannot create the file (%2)").arg(path, file.errorString());
    }
    if (!render(content, width).save(&file, "PNG")) {
        file.cancelWriting();
        return QStringLiteral("%1: could not encode the PNG").arg(path);
    }
    return commit(file, path);
}

} // namespace diffseg::widgets
