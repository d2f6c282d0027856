#include "TestSupport.h"
#include "base/Image2D.h"
#include "io/ImageWriter.h"
#include "io/VolumeWriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace diffseg::core;
using diffseg::test::str;
namespace fs = std::filesystem;

/// `diffseg info` run as a user would, on generated files and on the shared data.
class TestCliInfo : public QObject
{
    Q_OBJECT

private:
    using Run = diffseg::test::CliRun;

    static Run info(const QStringList& args)
    {
        return diffseg::test::runCli(QStringList{"info"} + args, 120000);
    }

private Q_SLOTS:
    void describesAMask()
    {
        const std::string dir = str(diffseg::test::scratchDir("cli-mask"));
        Image2D mask(7, 5, 1, PixelType::UInt8);
        mask.at<std::uint8_t>(3, 3) = 1;
        writeMaskPng(mask, dir + "/m.png");
        const Run r = info({QString::fromStdString(dir + "/m.png")});
        QCOMPARE(r.exitCode, 0);
        for (const char* s :
             {"PNG", "7 x 5 pixels", "1 (gray)", "uint8", "binary mask:      yes", "0 255"}) {
            QVERIFY2(r.out.contains(s), qPrintable(r.out));
        }
    }

    void describesVolumeGeometryAsJson()
    {
        const std::string dir = str(diffseg::test::scratchDir("cli-volume"));
        Geometry g;
        g.spacing = {0.5, 0.75, 3.0};
        g.origin = {10.0, -20.0, 30.5};
        g.direction = {0, 0, 1, 1, 0, 0, 0, 1, 0}; // a sagittal frame, as the PSR volume
        Volume v({6, 5, 4}, 1, PixelType::Int16, g);
        v.data<std::int16_t>()[3] = -1000;
        v.data<std::int16_t>()[4] = 2000;
        writeVolume(v, dir + "/ct.nrrd");
        const Run r = info({"--json", QString::fromStdString(dir + "/ct.nrrd")});
        QCOMPARE(r.exitCode, 0);
        const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(j["format"].toString(), QString("NRRD"));
        QCOMPARE(j["pixel_type"].toString(), QString("int16"));
        const QJsonObject geometry = j["geometry"].toObject();
        QCOMPARE(geometry["spacing_mm"].toArray()[1].toDouble(), 0.75);
        QCOMPARE(geometry["origin_mm"].toArray()[2].toDouble(), 30.5);
        QCOMPARE(geometry["direction"].toArray()[0].toArray()[2].toDouble(), 1.0);
        QCOMPARE(geometry["orientation"].toString(), QString("PSL"));
        QCOMPARE(j["intensity"].toArray()[0].toObject()["min"].toDouble(), -1000.0);
        QCOMPARE(j["intensity"].toArray()[0].toObject()["max"].toDouble(), 2000.0);
        // Text output says the same.
        const Run t = info({QString::fromStdString(dir + "/ct.nrrd")});
        for (const char* s :
             {"6 x 5 x 4 voxels", "0.5 x 0.75 x 3 mm", "(10, -20, 30.5) mm", "-1000 .. 2000"}) {
            QVERIFY2(t.out.contains(s), qPrintable(t.out));
        }
    }

    void describesADatasetWithUnpairedFiles()
    {
        const std::string dir = str(diffseg::test::scratchDir("cli-dataset"));
        fs::create_directories(dir + "/images");
        fs::create_directories(dir + "/masks");
        Image2D photo(8, 8, 3, PixelType::UInt8);
        Image2D mask(8, 8, 1, PixelType::UInt8);
        writeImage(photo, dir + "/images/a.png");
        writeMaskPng(mask, dir + "/masks/a_segmentation.png");
        writeImage(photo, dir + "/images/b.png");
        writeMaskPng(mask, dir + "/masks/orphan_mask.png");
        Image2D small(4, 8, 1, PixelType::UInt8);
        writeImage(photo, dir + "/images/c.png");
        writeMaskPng(small, dir + "/masks/c_mask.png");
        const Run r = info({QString::fromStdString(dir)});
        QCOMPARE(r.exitCode, 0);
        for (const char* s : {"images-masks", "pairs:            2", "b.png", "orphan_mask.png"}) {
            QVERIFY2(r.out.contains(s), qPrintable(r.out));
        }
        // --check loads every pair: the mask of the wrong size fails, naming both files.
        const Run c = info({"--check", QString::fromStdString(dir)});
        QCOMPARE(c.exitCode, 1);
        QVERIFY2(c.out.contains("1 failed") && c.out.contains("c_mask.png") &&
                     c.out.contains("c.png is 8x8"),
                 qPrintable(c.out));
    }

    void badInputFailsWithTheFileAndTheProblem()
    {
        const std::string dir = str(diffseg::test::scratchDir("cli-bad"));
        const Run missing = info({QString::fromStdString(dir + "/none.nii.gz")});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("none.nii.gz") && missing.err.contains("not found"),
                 qPrintable(missing.err));
        writeVolume(Volume({40, 40, 40}, 1, PixelType::Int16), dir + "/cut.nii.gz");
        fs::resize_file(dir + "/cut.nii.gz", fs::file_size(dir + "/cut.nii.gz") / 2);
        const Run cut = info({QString::fromStdString(dir + "/cut.nii.gz")});
        QCOMPARE(cut.exitCode, 1);
        QVERIFY2(cut.err.contains("cut.nii.gz"), qPrintable(cut.err));
        std::ofstream(dir + "/notes.txt") << "hello";
        const Run unknown = info({QString::fromStdString(dir + "/notes.txt")});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("notes.txt") && unknown.err.contains("unknown"),
                 qPrintable(unknown.err));
        fs::create_directories(dir + "/empty");
        const Run empty = info({QString::fromStdString(dir + "/empty")});
        QCOMPARE(empty.exitCode, 1);
        QVERIFY2(empty.err.contains("empty"), qPrintable(empty.err));
    }

    void describesTheSharedDicomSeries()
    {
        DIFFSEG_REQUIRE_SHARED(series, "data/volumes/totalsegmentator/ct_abdomen_dicom/series");
        const Run r = info({series});
        QCOMPARE(r.exitCode, 0);
        for (const char* s :
             {"DICOM series", "512 x 512 x 20 voxels", "int16", "UID (empty)", "<- read", "LPS"}) {
            QVERIFY2(r.out.contains(s), qPrintable(r.out));
        }
    }

    void describesTheSharedDermoscopyFolders()
    {
        DIFFSEG_REQUIRE_SHARED(root, "data/dermoscopy/ph2");
        const Run r = info({root});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("pairs:            16"), qPrintable(r.out));
    }
};

QTEST_GUILESS_MAIN(TestCliInfo)
#include "TestCliInfo.moc"
