#pragma once

#include <QImage>
#include <QString>

namespace diffseg::test {

/// Result of comparing a rendered image with its baseline.
struct ImageDifference
{
    bool comparable = false;   ///< same size (after conversion to RGB888)
    double meanAbsolute = 1.0; ///< mean |a-b| over all channels, in [0,1]
    double fractionOver = 1.0; ///< fraction of pixels whose max channel difference > delta
    QImage diff;               ///< |a-b| amplified x4, for a human to look at
};

ImageDifference compareImages(const QImage& actual, const QImage& baseline, int delta = 24);

/// f3d's baseline flow: compares `actual` with tests/baselines/<name>.png.
/// - missing baseline: writes Testing/Temporary/<name>.png and fails (inspect it, then copy it
///   into tests/baselines to adopt it);
/// - difference over the thresholds: writes the output and <name>.diff.png, and fails;
/// - otherwise passes. Returns an empty string on success, else the reason.
QString checkAgainstBaseline(const QImage& actual, const QString& name,
                             double maxMeanAbsolute = 0.02, double maxFractionOver = 0.02);

/// Fraction of pixels that differ from `background` by more than `delta` (any channel).
double fractionDifferentFrom(const QImage& image, const QColor& background, int delta = 12);

} // namespace diffseg::test
