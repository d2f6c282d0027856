#pragma once

#include <QImage>
#include <QPair>
#include <QString>
#include <QVector>

namespace diffseg::widgets {

/// What a segmentation report shows: the image with the mask (and ground truth) outlined, the
/// uncertainty map, and tables of metrics and settings.
struct ReportContent
{
    QString title;
    QString source;                            ///< the image's file, or a description
    QImage overlay;                            ///< image with mask / ground-truth outlines
    QImage uncertainty;                        ///< uncertainty heatmap (may be null)
    QString uncertaintyCaption;                ///< e.g. "Predictive entropy (0 = certain)"
    QImage legend;                             ///< colour bar for the heatmap (may be null)
    QVector<QPair<QString, QString>> metrics;  ///< name, value
    QVector<QPair<QString, QString>> settings; ///< name, value
    QString notes;                             ///< free text (e.g. which step was accepted)
};

/// Lays a report out on an A4 page and writes it as PDF (QPdfWriter) or PNG. Both outputs are
/// drawn by the same painter code, so they look the same. Writes are atomic (temporary file +
/// rename). Returns an empty string on success, else a message naming the file and the problem.
/// GUI thread or any thread with a QGuiApplication (QPainter on images is thread-safe).
class ReportWriter
{
public:
    static QString writePdf(const ReportContent& content, const QString& path);
    /// `width` in pixels; the height follows the A4 aspect ratio.
    static QString writePng(const ReportContent& content, const QString& path, int width = 1240);
    /// The page rendered into an image (for previews and tests).
    static QImage render(const ReportContent& content, int width = 1240);
};

} // namespace diffseg::widgets
