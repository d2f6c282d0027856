#pragma once

#include "base/Image2D.h"
#include "image/ColorMap.h"
#include "panels/ReportWriter.h"

#include <QPair>
#include <QString>
#include <QVector>

namespace diffseg::app {

/// What the studio knows when the user exports a report.
struct ReportInputs
{
    QString source;            ///< the image's file
    core::Image2D image;       ///< RGB uint8
    core::Image2D mask;        ///< uint8 {0,1}, the image's size
    core::Image2D groundTruth; ///< may be empty
    core::Image2D uncertainty; ///< float [0,1] at the image's size, may be empty
    QString uncertaintyName;   ///< e.g. "Predictive entropy"
    widgets::ColorMap::Name colorMap = widgets::ColorMap::Name::Inferno;
    QVector<QPair<QString, QString>> metrics;
    QVector<QPair<QString, QString>> settings;
    QString notes;
    int maxSide = 1400; ///< pictures are drawn at most this large
};

/// Turns the studio's state into a ReportWriter page: the image with the mask (cyan) and the
/// ground truth (yellow) outlined, the uncertainty heatmap over the image with its colour bar,
/// and the metrics and settings tables. Pure function of its inputs (any thread with a
/// QGuiApplication); throws core::Error when the mask or maps do not match the image.
widgets::ReportContent composeReport(const ReportInputs& inputs);

/// A duration as the studio shows it: "0.42 s", "12.3 s".
QString formatSeconds(double seconds);

} // namespace diffseg::app
