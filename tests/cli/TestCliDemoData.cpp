#include "TestSupport.h"
#include "base/Image2D.h"
#include "data/DemoData.h"
#include "io/ImageReader.h"
#include "io/VolumeReader.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <cstring>

using namespace diffseg::core;
using diffseg::test::CliRun;
using diffseg::test::runCli;

/// `diffseg demo-data` run as a user would: the files it writes hold exactly what the generators
/// make, `diffseg info` sees a dataset in them, and bad options fail with a message.
class TestCliDemoData : public QObject
{
    Q_OBJECT

private:
    static QByteArray fileBytes(const QString& path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

private Q_SLOTS:
    void writesADermoscopyDatasetAndCtPhantoms()
    {
        const QString dir = diffseg::test::scratchDir(QStringLiteral("cli-demo-data"));
        const CliRun r = runCli({"demo-data", "--out", dir, "--count", "3", "--size", "96x64",
                                 "--seed", "40", "--volume", "--volume-size", "40x32x24"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains(QStringLiteral("wrote 3 dermoscopy image(s) and 1 CT phantom(s)")),
                 qPrintable(r.out));
        for (int i = 0; i < 3; ++i) {
            const QString stem = QStringLiteral("demo_%1").arg(i, 4, 10, QLatin1Char('0'));
            const DermoscopyDemo expected = generateDermoscopyDemo(96, 64, 40 + i);
            const Image2D image =
                readImage((dir + QStringLiteral("/images/") + stem + ".png").toStdString());
            const Image2D mask = readMask(
                (dir + QStringLiteral("/masks/") + stem + "_segmentation.png").toStdString());
            QCOMPARE(image.width(), 96);
            QCOMPARE(image.height(), 64);
            QCOMPARE(image.channels(), 3);
            QVERIFY(std::memcmp(image.rawData(), expected.image.rawData(), image.byteSize()) == 0);
            QVERIFY(std::memcmp(mask.rawData(), expected.mask.rawData(), mask.byteSize()) == 0);
        }
        const CtPhantomDemo expected = generateCtPhantomDemo({40, 32, 24}, 40);
        const LoadedVolume ct = readVolume((dir + "/ct/images/ct_0000.nii.gz").toStdString());
        QCOMPARE(ct.volume.pixelType(), PixelType::Int16);
        QVERIFY(ct.volume.geometry().isClose(expected.volume.geometry()));
        QVERIFY(std::memcmp(ct.volume.rawData(), expected.volume.rawData(),
                            expected.volume.byteSize()) == 0);
        const LoadedLabelMap labels =
            readLabelMap((dir + "/ct/masks/ct_0000.nii.gz").toStdString());
        QVERIFY(labels.labels.isAlignedWith(ct.volume));
        QVERIFY(std::memcmp(labels.labels.rawData(), expected.labels.rawData(),
                            expected.labels.byteSize()) == 0);

        // The manifest, and `diffseg info` sees two images/ + masks/ datasets.
        const QJsonObject manifest =
            QJsonDocument::fromJson(fileBytes(dir + "/demo-data.json")).object();
        QCOMPARE(manifest.value("seed").toInt(), 40);
        QCOMPARE(manifest.value("dermoscopy").toObject().value("cases").toArray().size(), 3);
        QCOMPARE(manifest.value("ct").toObject().value("labels").toObject().value("2").toString(),
                 QStringLiteral("lesion"));
        CliRun info = runCli({"info", "--check", dir});
        QVERIFY2(info.exitCode == 0, qPrintable(info.out + info.err));
        QVERIFY2(info.out.contains("images-masks") && info.out.contains("3 loaded, 0 failed"),
                 qPrintable(info.out));
        info = runCli({"info", "--check", dir + "/ct"});
        QVERIFY2(info.exitCode == 0, qPrintable(info.out + info.err));
        QVERIFY2(info.out.contains("1 loaded, 0 failed"), qPrintable(info.out));
    }

    void sameSeedSameFiles()
    {
        const QString a = diffseg::test::scratchDir(QStringLiteral("cli-demo-data-a"));
        const QString b = diffseg::test::scratchDir(QStringLiteral("cli-demo-data-b"));
        for (const QString& dir : {a, b}) {
            const CliRun r =
                runCli({"demo-data", "--out", dir, "--count", "1", "--size", "80x80", "--quiet"});
            QVERIFY2(r.exitCode == 0 && r.out.isEmpty(), qPrintable(r.out + r.err));
        }
        QCOMPARE(fileBytes(a + "/images/demo_0000.png"), fileBytes(b + "/images/demo_0000.png"));
        QVERIFY(!QFile::exists(a + "/ct"));
    }

    void badOptionsFail()
    {
        const QString dir = diffseg::test::scratchDir(QStringLiteral("cli-demo-data-bad"));
        CliRun r = runCli({"demo-data", "--out", dir, "--size", "64"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("--size") && r.err.contains("'64'"), qPrintable(r.err));
        r = runCli({"demo-data", "--out", dir, "--count", "0"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("nothing to write"), qPrintable(r.err));
        r = runCli({"demo-data", "--out", dir, "--size", "8x8"});
        QCOMPARE(r.exitCode, 1);
        r = runCli({"demo-data", "--out", dir, "--volume", "--volume-size", "32x32"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("--volume-size"), qPrintable(r.err));
        r = runCli({"demo-data"});
        QCOMPARE(r.exitCode, 2);
    }
};

QTEST_GUILESS_MAIN(TestCliDemoData)
#include "TestCliDemoData.moc"
