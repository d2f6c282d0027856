#include "TestSupport.h"
#include "base/Error.h"
#include "base/SampleData.h"
#include "metrics/MetricsAccumulator.h"
#include "metrics/OtsuBaseline.h"
#include "metrics/SegmentationMetrics.h"

#include <QDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstring>

using namespace diffseg::core;

namespace {

struct Pair
{
    QString id;
    QString set;
    Image2D image; ///< RGB
    Image2D mask;  ///< {0, 1}
};

/// Reads the shared pairs with OpenCV directly (the project's readers live on another branch).
/// Masks: 8-bit PNG {0, 255}, 1-bit BMP {0, 1} and one 24-bit RGB BMP; all become {0, 1} via > 0.
std::vector<Pair> loadPairs(const QString& root)
{
    std::vector<Pair> pairs;
    const struct
    {
        const char* set;
        const char* pattern;
        const char* maskSuffix;
    } sets[] = {{"isic2017", "*.jpg", "_segmentation.png"}, {"ph2", "*.bmp", "_lesion.bmp"}};
    for (const auto& s : sets) {
        const QDir images(root + "/" + s.set + "/images");
        for (const QString& name : images.entryList({s.pattern}, QDir::Files, QDir::Name)) {
            const QString stem = QFileInfo(name).completeBaseName();
            const QString maskPath = root + "/" + s.set + "/masks/" + stem + s.maskSuffix;
            const cv::Mat bgr = cv::imread(images.filePath(name).toStdString(), cv::IMREAD_COLOR);
            const cv::Mat grey = cv::imread(maskPath.toStdString(), cv::IMREAD_GRAYSCALE);
            if (bgr.empty() || grey.empty() || bgr.size() != grey.size()) {
                qWarning() << "cannot use pair" << name << maskPath;
                continue;
            }
            Pair p;
            p.id = stem;
            p.set = s.set;
            p.image = Image2D(bgr.cols, bgr.rows, 3, PixelType::UInt8);
            cv::Mat rgb(bgr.rows, bgr.cols, CV_8UC3, p.image.rawData());
            cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
            p.mask = Image2D(grey.cols, grey.rows, 1, PixelType::UInt8);
            cv::Mat m(grey.rows, grey.cols, CV_8UC1, p.mask.rawData());
            cv::Mat binary = grey > 0;
            binary.convertTo(m, CV_8U, 1.0 / 255.0);
            pairs.push_back(std::move(p));
        }
    }
    return pairs;
}

MetricsSummary evaluate(const std::vector<Pair>& pairs, const OtsuBaselineOptions& options,
                        bool distances)
{
    MetricsOptions mo;
    mo.computeDistances = distances;
    MetricsAccumulator acc(mo);
    for (const Pair& p : pairs) {
        const Image2D pred = otsuLesionMask(p.image, options);
        acc.add(computeCaseMetrics(pred, p.mask, mo, p.id.toStdString()));
    }
    return acc.summary();
}

} // namespace

class TestOtsuBaseline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void maskIsBinaryAtTheInputSize()
    {
        const SampleLesion s = makeSampleLesion(200, 5);
        Image2D image = s.image.clone();
        image.setSpacing({0.02, 0.03});
        const OtsuBaselineResult r = otsuBaseline(image);
        QCOMPARE(r.mask.width(), 200);
        QCOMPARE(r.mask.height(), 200);
        QCOMPARE(r.mask.channels(), 1);
        QCOMPARE(r.mask.pixelType(), PixelType::UInt8);
        QCOMPARE(r.mask.spacing()[1], 0.03);
        std::size_t ones = 0;
        for (std::size_t n = 0; n < r.mask.pixelCount(); ++n) {
            const std::uint8_t v = r.mask.data<std::uint8_t>()[n];
            QVERIFY(v <= 1);
            ones += v;
        }
        QVERIFY(r.threshold > 0 && r.threshold < 255);
        QCOMPARE(r.lesionFraction, double(ones) / r.mask.pixelCount());
        // The procedural lesion is a dark blob on skin: the baseline must find most of it.
        Image2D truth = s.mask.clone();
        truth.setSpacing(image.spacing());
        const CaseMetrics m = computeCaseMetrics(r.mask, truth);
        qInfo("procedural lesion: Dice %.4f", m.overlap.dice);
        QVERIFY2(m.overlap.dice > 0.7, qPrintable(QString::number(m.overlap.dice)));
    }

    void holesAreFilledAndOneComponentIsKept()
    {
        // Grey input: a dark ring (with a bright hole) in the centre and a dark corner blob.
        Image2D grey(120, 100, 1, PixelType::UInt8);
        for (int y = 0; y < 100; ++y) {
            for (int x = 0; x < 120; ++x) {
                const double r = std::hypot(x - 60.0, y - 50.0);
                const bool ring = r < 25.0 && r > 8.0;
                const bool corner = x < 14 && y < 14;
                grey.at<std::uint8_t>(x, y) = ring || corner ? 40 : 200;
            }
        }
        OtsuBaselineOptions o;
        o.blurFraction = 0.0;
        const Image2D mask = otsuLesionMask(grey, o);
        QCOMPARE(mask.at<std::uint8_t>(60, 50), std::uint8_t(1)); // the hole is filled
        QCOMPARE(mask.at<std::uint8_t>(3, 3), std::uint8_t(0));   // the corner blob is dropped
        o.fillHoles = false;
        QCOMPARE(otsuLesionMask(grey, o).at<std::uint8_t>(60, 50), std::uint8_t(0));
    }

    void flatImageGivesAnEmptyMask()
    {
        Image2D flat(64, 64, 3, PixelType::UInt8);
        std::memset(flat.rawData(), 128, flat.byteSize());
        const OtsuBaselineResult r = otsuBaseline(flat);
        QCOMPARE(r.threshold, -1);
        QCOMPARE(r.lesionFraction, 0.0);
    }

    void badInputIsRejected()
    {
        QVERIFY_THROWS_EXCEPTION(Error, otsuBaseline(Image2D()));
        QVERIFY_THROWS_EXCEPTION(Error, otsuBaseline(Image2D(8, 8, 3, PixelType::Float32)));
        QVERIFY_THROWS_EXCEPTION(Error, otsuBaseline(Image2D(8, 8, 2, PixelType::UInt8)));
        OtsuBaselineOptions o;
        o.blurFraction = -0.1;
        QVERIFY_THROWS_EXCEPTION(Error, otsuBaseline(Image2D(8, 8, 3, PixelType::UInt8), o));
        o = {};
        o.workingSide = 4;
        try {
            otsuBaseline(Image2D(8, 8, 3, PixelType::UInt8), o);
            QFAIL("no exception");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Config);
            QVERIFY(std::strstr(e.what(), "workingSide"));
        }
    }

    void sharedDermoscopyPairs()
    {
        DIFFSEG_REQUIRE_SHARED(root, "data/dermoscopy");
        const std::vector<Pair> pairs = loadPairs(root);
        QCOMPARE(pairs.size(), std::size_t(32));

        const MetricsSummary s = evaluate(pairs, {}, true);
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            const CaseMetrics& c = s.cases[i];
            qInfo("%-9s %-14s Dice %.4f  IoU %.4f  HD95 %7.1f px", qPrintable(pairs[i].set),
                  c.caseId.c_str(), c.overlap.dice, c.overlap.iou, c.surface.hd95Mm);
        }
        for (const char* set : {"isic2017", "ph2"}) {
            std::vector<CaseMetrics> part;
            for (std::size_t i = 0; i < pairs.size(); ++i) {
                if (pairs[i].set == set) {
                    part.push_back(s.cases[i]);
                }
            }
            const MetricsSummary p = summarizeCases(part);
            qInfo("%s: pooled Dice %.4f, mean Dice %.4f +- %.4f over %zu images", set,
                  p.pooled.dice, p.statistics(Metric::Dice).mean, p.statistics(Metric::Dice).std,
                  part.size());
        }
        const double pooled = s.pooled.dice;
        const double mean = s.statistics(Metric::Dice).mean;
        qInfo("all: pooled Dice %.4f, mean Dice %.4f +- %.4f, mean HD95 %.1f px", pooled, mean,
              s.statistics(Metric::Dice).std, s.statistics(Metric::Hd95).mean);
        // Measured 0.85 pooled / 0.89 mean when this test was written; the floors sit below.
        QVERIFY2(pooled > 0.80, qPrintable(QString::number(pooled)));
        QVERIFY2(mean > 0.84, qPrintable(QString::number(mean)));

        // The design choices, checked on the same data: the blue channel beats luminance and
        // min(R,G,B), and the centre weighting beats the plain largest component.
        OtsuBaselineOptions largest;
        largest.component = ComponentChoice::Largest;
        OtsuBaselineOptions luminance;
        luminance.channel = OtsuChannel::Luminance;
        OtsuBaselineOptions minRgb;
        minRgb.channel = OtsuChannel::MinRgb;
        const double pLargest = evaluate(pairs, largest, false).pooled.dice;
        const double pLuminance = evaluate(pairs, luminance, false).pooled.dice;
        const double pMin = evaluate(pairs, minRgb, false).pooled.dice;
        qInfo("pooled Dice: largest component %.4f, luminance %.4f, min(R,G,B) %.4f", pLargest,
              pLuminance, pMin);
        QVERIFY(pooled >= pLargest);
        QVERIFY(pooled > pLuminance);
        QVERIFY(pooled > pMin);
    }
};

QTEST_GUILESS_MAIN(TestOtsuBaseline)
#include "TestOtsuBaseline.moc"
