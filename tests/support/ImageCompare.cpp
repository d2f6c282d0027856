#include "ImageCompare.h"

#include "TestSupport.h"

#include <QColor>
#include <QDir>

#include <algorithm>
#include <cstdlib>

namespace diffseg::test {

ImageDifference compareImages(const QImage& actualIn, const QImage& baselineIn, int delta)
{
    ImageDifference result;
    const QImage a = actualIn.convertToFormat(QImage::Format_RGB888);
    const QImage b = baselineIn.convertToFormat(QImage::Format_RGB888);
    if (a.isNull() || b.isNull() || a.size() != b.size()) {
        return result;
    }
    result.comparable = true;
    result.diff = QImage(a.size(), QImage::Format_RGB888);
    double sum = 0.0;
    long over = 0;
    for (int y = 0; y < a.height(); ++y) {
        const uchar* pa = a.constScanLine(y);
        const uchar* pb = b.constScanLine(y);
        uchar* pd = result.diff.scanLine(y);
        for (int x = 0; x < a.width(); ++x) {
            int worst = 0;
            for (int c = 0; c < 3; ++c) {
                const int d = std::abs(int(pa[3 * x + c]) - int(pb[3 * x + c]));
                sum += d;
                worst = std::max(worst, d);
                pd[3 * x + c] = static_cast<uchar>(std::min(255, d * 4));
            }
            over += worst > delta ? 1 : 0;
        }
    }
    const double pixels = double(a.width()) * a.height();
    result.meanAbsolute = sum / (pixels * 3.0 * 255.0);
    result.fractionOver = over / pixels;
    return result;
}

QString checkAgainstBaseline(const QImage& actual, const QString& name, double maxMeanAbsolute,
                             double maxFractionOver)
{
    const QString baselinePath = QDir(baselineDir()).filePath(name + QStringLiteral(".png"));
    const QString outputPath = QDir(outputDir()).filePath(name + QStringLiteral(".png"));
    actual.save(outputPath);
    const QImage baseline(baselinePath);
    if (baseline.isNull()) {
        return QStringLiteral(
                   "no baseline %1; the rendered image is in %2 (look at it, then copy it "
                   "there to adopt it)")
            .arg(baselinePath, outputPath);
    }
    const ImageDifference d = compareImages(actual, baseline);
    if (!d.comparable) {
        return QStringLiteral("size differs from the baseline: %1x%2 rendered, %3x%4 expected; "
                              "output in %5")
            .arg(actual.width())
            .arg(actual.height())
            .arg(baseline.width())
            .arg(baseline.height())
            .arg(outputPath);
    }
    if (d.meanAbsolute > maxMeanAbsolute || d.fractionOver > maxFractionOver) {
        const QString diffPath = QDir(outputDir()).filePath(name + QStringLiteral(".diff.png"));
        d.diff.save(diffPath);
        return QStringLiteral(
                   "differs from %1: mean abs %2 (max %3), pixels over delta %4 (max %5); "
                   "output %6, difference %7")
            .arg(baselinePath)
            .arg(d.meanAbsolute, 0, 'g', 3)
            .arg(maxMeanAbsolute)
            .arg(d.fractionOver, 0, 'g', 3)
            .arg(maxFractionOver)
            .arg(outputPath, diffPath);
    }
    qInfo("%s: mean abs difference %.4f, pixels over delta %.4f", qPrintable(name), d.meanAbsolute,
          d.fractionOver);
    return {};
}

double fractionDifferentFrom(const QImage& image, const QColor& background, int delta)
{
    const QImage a = image.convertToFormat(QImage::Format_RGB888);
    long count = 0;
    for (int y = 0; y < a.height(); ++y) {
        const uchar* p = a.constScanLine(y);
        for (int x = 0; x < a.width(); ++x) {
            if (std::abs(p[3 * x] - background.red()) > delta ||
                std::abs(p[3 * x + 1] - background.green()) > delta ||
                std::abs(p[3 * x + 2] - background.blue()) > delta) {
                ++count;
            }
        }
    }
    return a.isNull() ? 0.0 : count / (double(a.width()) * a.height());
}

} // namespace diffseg::test
