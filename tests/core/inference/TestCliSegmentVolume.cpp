// Runs the real diffseg executable on volumes: `segment3d` on the shared spinal-cord NIfTI with
// --gt (every output file, labels reopened aligned with the input, metrics in summary.json), a
// folder of generated volumes with --format nrrd and mirror TTA, `segment` handing volumes over
// (and refusing 2D-only options), SIGTERM, and bad inputs (a 2D checkpoint, a volume with the
// wrong channel count, missing files) that exit 1 naming the file. Tiny freshly initialised
// Diff-UNets keep each run to seconds.

#include "CheckpointTestSupport.h"
#include "TestSupport.h"
#include "base/LabelMap.h"
#include "data/DemoData.h"
#include "engine/checkpoint/Checkpoint.h"
#include "io/ImageWriter.h"
#include "io/VolumeReader.h"
#include "io/VolumeWriter.h"
#include "runtime/ResourcePaths.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <torch/utils.h>

#include <cmath>

using namespace diffseg::core;
using namespace diffseg::core::engine;

using namespace diffseg::test;

namespace {

std::string makeCheckpoint(const QString& path, int in, int classes, int inputSize,
                           const std::string& preprocessing)
{
    diffseg::test::saveFreshDiffUNet(path.toStdString(),
                                     diffseg::test::tinyDiffUNetConfig(in, classes), inputSize,
                                     preprocessing, 21, "TestCliSegmentVolume");
    return path.toStdString();
}

/// A small volume with a zero border and a bright blob, on an oblique grid.
Volume blobVolume(const std::array<std::int64_t, 3>& size, int channels, double shift)
{
    Geometry g;
    g.spacing = {1.5, 1.25, 2.0};
    g.origin = {-20.0 + shift, 5.0, 30.0};
    g.direction = {0, 1, 0, -1, 0, 0, 0, 0, 1};
    Volume v(size, channels, PixelType::Float32, g);
    for (int c = 0; c < channels; ++c) {
        for (std::int64_t k = 1; k < size[2] - 1; ++k) {
            for (std::int64_t j = 1; j < size[1] - 1; ++j) {
                for (std::int64_t i = 1; i < size[0] - 1; ++i) {
                    const double d =
                        std::hypot(i - size[0] / 2.0, j - size[1] / 2.0, k - size[2] / 2.0);
                    v.channelData<float>(c)[v.linearIndex(i, j, k)] =
                        static_cast<float>((d < 6.0 ? 200.0 : 50.0) + 10.0 * std::sin(i + j + k));
                }
            }
        }
    }
    return v;
}

} // namespace

class TestCliSegmentVolume : public QObject
{
    Q_OBJECT

private:
    using Run = diffseg::test::CliRun;

    QString m_dir;
    QString m_model;   ///< (1, 2), input 32, z-score, crop, 2 mm
    QString m_model16; ///< (1, 2), input 16, z-score, crop, native grid: many windows
    QString m_twoD;    ///< a DermoSegDiff checkpoint header (dummy weights)

    static Run runCli(const QStringList& args, int timeoutMs = 240000)
    {
        return diffseg::test::runCli(args, timeoutMs);
    }

    static QStringList cpu() { return {"--device", "cpu", "--threads", "2"}; }

    /// Writes blobVolume(size, channels) as m_dir/`name` and returns its path.
    QString writeBlob(const QString& name, const std::array<std::int64_t, 3>& size,
                      int channels = 1) const
    {
        const QString path = m_dir + "/" + name;
        writeVolume(blobVolume(size, channels, 0.0), path.toStdString());
        return path;
    }

    /// A case of a dataset folder: blobVolume at `image`, every third voxel labelled 1 at `mask`
    /// (their folders made).
    static void writeBlobCase(const QString& image, const QString& mask)
    {
        QDir().mkpath(QFileInfo(image).path());
        QDir().mkpath(QFileInfo(mask).path());
        const Volume volume = blobVolume({20, 18, 12}, 1, 1.0);
        writeVolume(volume, image.toStdString());
        LabelMap labels = LabelMap::like(volume);
        for (std::size_t i = 0; i < labels.voxelCount(); i += 3) {
            labels.data<std::uint8_t>()[i] = 1;
        }
        writeLabelMap(labels, mask.toStdString());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!qgetenv("DIFFSEG_CLI").isEmpty(), "DIFFSEG_CLI is not set");
        m_dir = diffseg::test::scratchDir("cli-segment-volume");
        m_model = QString::fromStdString(makeCheckpoint(
            m_dir + "/tiny3d.dsckpt", 1, 2, 32,
            R"({"normalization": "zscore", "crop_to_nonzero": true, "target_spacing": [2, 2, 2]})"));
        m_model16 = QString::fromStdString(
            makeCheckpoint(m_dir + "/tiny3d16.dsckpt", 1, 2, 16, R"({"normalization": "zscore"})"));
        Checkpoint dsd;
        dsd.info.network = "dermosegdiff";
        dsd.model.emplace_back("w", torch::zeros({1}));
        m_twoD = m_dir + "/photo_model.dsckpt";
        saveCheckpoint(m_twoD.toStdString(), dsd);
    }

    void segment3dOnASharedNiftiWithGroundTruth()
    {
        DIFFSEG_REQUIRE_SHARED(input, "data/volumes/sct_spinalcord/t2/t2.nii.gz");
        DIFFSEG_REQUIRE_SHARED(gt, "data/volumes/sct_spinalcord/t2/t2_seg-manual.nii.gz");
        const QString out = m_dir + "/cord";
        const Run r = runCli(QStringList{"segment3d", "--model", m_model, "--input", input, "--gt",
                                         gt, "--out", out, "--steps", "2", "--seed", "4"} +
                             cpu());
        const QList<QJsonObject> events = finishedRunEvents(r);
        QVERIFY2(!events.isEmpty(), qPrintable(r.out + r.err));
        QCOMPARE(events.front().value("roi").toInt(), 32);
        QCOMPARE(countEvents(events, "step_volume"), 2);
        QVERIFY(events.back().contains("pooled_dice"));

        const QString dir = out + "/t2";
        for (const char* file :
             {"labels.nii.gz", "probabilities.nii.gz", "uncertainty_entropy.nii.gz",
              "uncertainty_steps.nii.gz", "steps/step_00_labels.nii.gz",
              "steps/step_00_foreground.nii.gz", "steps/step_01_labels.nii.gz",
              "steps/step_01_foreground.nii.gz", "summary.json"}) {
            QVERIFY2(QFileInfo::exists(dir + "/" + file), file);
        }
        QVERIFY(!QFileInfo::exists(dir + "/uncertainty_mirror.nii.gz"));
        QVERIFY(QFileInfo::exists(out + "/metrics.csv"));
        QVERIFY(QFileInfo::exists(out + "/metrics.json"));
        QCOMPARE(QDir(out).entryList(QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot).size(), 1);

        // The label map overlays the input exactly.
        const Volume image = readVolume(input.toStdString()).volume;
        const LabelMap labels = readLabelMap((dir + "/labels.nii.gz").toStdString()).labels;
        QVERIFY(labels.isAlignedWith(image));
        QVERIFY(labels.maxLabel() <= 1);
        const Volume probabilities =
            readVolume((dir + "/probabilities.nii.gz").toStdString()).volume;
        QCOMPARE(probabilities.channels(), 2);
        QCOMPARE(probabilities.size(), image.size());
        QVERIFY(probabilities.geometry().isClose(image.geometry()));
        const LabelMap step1 =
            readLabelMap((dir + "/steps/step_01_labels.nii.gz").toStdString()).labels;
        QVERIFY(step1.isAlignedWith(image));

        const QJsonObject summary = readJson(dir + "/summary.json");
        QVERIFY(!summary.isEmpty());
        QCOMPARE(summary["input"].toObject()["orientation"].toString(), QString("PSR"));
        QVERIFY(summary["model"].toObject()["id"].toString().startsWith("dun-"));
        QCOMPARE(summary["model"].toObject()["network"].toString(), QString("diffunet"));
        QCOMPARE(summary["settings"].toObject()["steps"].toInt(), 2);
        QCOMPARE(summary["settings"].toObject()["fusion"].toString(), QString("mean"));
        QVERIFY(summary["outputs"].toObject()["labels"].toObject()["verified_geometry"].toBool());
        const QJsonObject metrics = summary["metrics"].toObject();
        const double dice = metrics["foreground"].toObject()["dice"].toDouble(-1.0);
        QVERIFY(dice >= 0.0 && dice <= 1.0);
        QVERIFY(metrics["labels"].toObject().contains("1"));
        QVERIFY(metrics["foreground"].toObject().contains("hd95_mm"));
        QVERIFY(summary["steps"].toObject()["cache"].toObject()["bytes_used"].toDouble() ==
                2.0 * 60 * 55 * 52);
        QCOMPARE(summary["steps"].toObject()["saved"].toArray().size(), 2);
        const QJsonObject timings = summary["timings_s"].toObject();
        for (const char* stage : {"read", "load", "prepare", "windows", "postprocess",
                                  "first_step_volume", "write", "metrics", "case_total"}) {
            QVERIFY2(timings.contains(stage) && timings[stage].toDouble(-1.0) >= 0.0, stage);
        }
        QVERIFY(summary["windows"].toObject()["count"].toInt() >= 1);
    }

    void folderNrrdAndMirrorTta()
    {
        const QString in = m_dir + "/volumes";
        QDir().mkpath(in);
        writeVolume(blobVolume({22, 20, 14}, 1, 0.0), (in + "/case_a.nii.gz").toStdString());
        writeVolume(blobVolume({18, 24, 12}, 1, 3.0), (in + "/case_b.mha").toStdString());
        const QString out = m_dir + "/folder";
        const Run r =
            runCli(QStringList{"segment3d", "--model", m_model, "--input", in, "--out", out,
                               "--steps", "1", "--tta", "--format", "nrrd", "--uncertainty",
                               "mirror", "--save-steps", "none", "--window-batch", "2"} +
                   cpu());
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QList<QJsonObject> events = jsonLines(r.out);
        QCOMPARE(countEvents(events, "case"), 2);
        int flips = 0;
        for (const QJsonObject& e : events) {
            if (e["event"].toString() == "step") {
                flips = std::max(flips, e["flips"].toInt());
            }
        }
        QCOMPARE(flips, 8);
        for (const char* id : {"case_a", "case_b"}) {
            const QString dir = out + "/" + id;
            QVERIFY2(QFileInfo::exists(dir + "/labels.nrrd"), id);
            QVERIFY2(QFileInfo::exists(dir + "/uncertainty_mirror.nii.gz"), id);
            QVERIFY(QDir(dir + "/steps").entryList(QDir::Files).isEmpty());
            const QJsonObject summary = readJson(dir + "/summary.json");
            QCOMPARE(summary["uncertainty"].toObject()["shown"].toString(), QString("mirror"));
            QCOMPARE(summary["windows"].toObject()["mirror_passes"].toInt(), 8);
        }
        const Volume b = readVolume((in + "/case_b.mha").toStdString()).volume;
        const LabelMap labels = readLabelMap((out + "/case_b/labels.nrrd").toStdString()).labels;
        QVERIFY(labels.isAlignedWith(b));
    }

    void dicomFolderAndDatasetLayout()
    {
        // An oblique 4-slice DICOM MR series: the labels carry its geometry.
        DIFFSEG_REQUIRE_SHARED(series, "data/volumes/dicom2nifti_mr/hitachi_anatomical_001/series");
        const QString out = m_dir + "/dicom";
        Run r = runCli(QStringList{"segment3d", "--model", m_model, "--input", series, "--out", out,
                                   "--steps", "1", "--format", "mha"} +
                       cpu());
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const Volume mr = readVolume(series.toStdString()).volume;
        const LabelMap labels = readLabelMap((out + "/series/labels.mha").toStdString()).labels;
        QVERIFY(labels.isAlignedWith(mr));
        QCOMPARE(readJson(out + "/series/summary.json")["input"].toObject()["format"].toString(),
                 QString("DICOM series"));

        // images/ + masks/: the masks are the ground truth.
        const QString root = m_dir + "/dataset";
        writeBlobCase(root + "/images/p01.nii.gz", root + "/masks/p01_seg.nii.gz");
        r = runCli(QStringList{"segment3d", "--model", m_model, "--input", root, "--out",
                               m_dir + "/dataset_out", "--steps", "1"} +
                   cpu());
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QJsonObject summary = readJson(m_dir + "/dataset_out/p01/summary.json");
        QCOMPARE(summary["ground_truth"].toObject()["from"].toString(), QString("dataset"));
        QVERIFY(summary["metrics"].toObject()["foreground"].toObject().contains("dice"));
        QVERIFY(QFileInfo::exists(m_dir + "/dataset_out/metrics.csv"));
    }

    void decathlonNamesAndCardSettings()
    {
        // A Decathlon folder of one case, and a model that names its labels and was validated
        // (its card) with 2 steps and the largest component kept.
        const QString root = m_dir + "/decathlon";
        writeBlobCase(root + "/imagesTr/blob_001.nii.gz", root + "/labelsTr/blob_001.nii.gz");
        QFile json(root + "/dataset.json");
        QVERIFY(json.open(QIODevice::WriteOnly));
        json.write(R"({"name": "Blobs", "modality": {"0": "MRI"},
            "labels": {"0": "background", "1": "Blob"},
            "training": [{"image": "./imagesTr/blob_001.nii.gz",
                          "label": "./labelsTr/blob_001.nii.gz"}]})");
        json.close();
        Checkpoint named = loadCheckpoint(m_model.toStdString());
        named.info.labelNames = {"background", "Blob"};
        named.info.channelNames = {"MRI"};
        named.info.cardJson =
            R"({"name": "blob", "validated": {"steps": 2, "largest_component": true}})";
        const QString model = m_dir + "/named.dsckpt";
        saveCheckpoint(model.toStdString(), named);

        Run r = runCli(QStringList{"segment3d", "--model", model, "--input", root, "--out",
                                   m_dir + "/decathlon_out"} +
                       cpu());
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QJsonObject summary = readJson(m_dir + "/decathlon_out/blob_001/summary.json");
        QCOMPARE(summary["ground_truth"].toObject()["from"].toString(), QString("dataset"));
        const QJsonObject names =
            summary["outputs"].toObject()["labels"].toObject()["labels"].toObject();
        QCOMPARE(names["1"].toString(), QString("Blob"));
        QJsonObject settings = summary["settings"].toObject();
        QCOMPARE(settings["steps"].toInt(), 2);
        QVERIFY(settings["largest_component"].toBool());
        QCOMPARE(settings["from_model_card"].toArray().size(), 2);

        // What the command line gives wins over the card.
        r = runCli(QStringList{"segment3d", "--model", model, "--input", root, "--out",
                               m_dir + "/decathlon_out1", "--steps", "1"} +
                   cpu());
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        settings = readJson(m_dir + "/decathlon_out1/blob_001/summary.json")["settings"].toObject();
        QCOMPARE(settings["steps"].toInt(), 1);
        QCOMPARE(settings["from_model_card"].toArray().size(), 1);

        // eval takes the Decathlon folder as the ground truth and names the label.
        r = runCli({"eval", "--pred", m_dir + "/decathlon_out", "--gt", root, "--label", "1",
                    "--json", m_dir + "/decathlon_eval.json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("label 1: Blob"), qPrintable(r.out));
        QCOMPARE(readJson(m_dir + "/decathlon_eval.json")["label_name"].toString(),
                 QString("Blob"));
    }

    void packagedModelsByModality()
    {
        // Without --model: an MRI gets the packaged hippocampus model with its card's settings
        // (a held-out case it never trained on), a CT the packaged demo CT model.
        DIFFSEG_REQUIRE_SHARED(data, "data/volumes/msd_hippocampus");
        const QString model =
            QString::fromStdString(resourcePath("models/diffunet-hippocampus.dsckpt"));
        if (model.isEmpty()) {
            QSKIP("resources/models/diffunet-hippocampus.dsckpt is not installed");
        }
        Run r =
            runCli(QStringList{"segment3d", "--input", data + "/imagesTr/hippocampus_006.nii.gz",
                               "--gt", data + "/labelsTr/hippocampus_006.nii.gz", "--out",
                               m_dir + "/hippocampus", "--save-steps", "none"} +
                   cpu());
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.err.contains("diffunet-hippocampus.dsckpt (the input looks like MRI)"),
                 qPrintable(r.err));
        const QJsonObject summary = readJson(m_dir + "/hippocampus/hippocampus_006/summary.json");
        const QJsonObject names =
            summary["outputs"].toObject()["labels"].toObject()["labels"].toObject();
        QCOMPARE(names["1"].toString(), QString("Anterior"));
        QCOMPARE(names["2"].toString(), QString("Posterior"));
        const QJsonObject settings = summary["settings"].toObject();
        QCOMPARE(settings["steps"].toInt(), 3);
        QVERIFY(settings["largest_component"].toBool());
        const QJsonObject labels = summary["metrics"].toObject()["labels"].toObject();
        for (const char* label : {"1", "2"}) {
            const double dice = labels[label].toObject()["dice"].toDouble();
            QVERIFY2(dice > 0.8, qPrintable(QString("label %1: Dice %2").arg(label).arg(dice)));
        }

        const QString demo = QString::fromStdString(resourcePath("models/diffunet-demo.dsckpt"));
        if (!demo.isEmpty()) {
            const QString ct = m_dir + "/phantom_ct.nii.gz";
            writeVolume(generateCtPhantomDemo({48, 48, 16}, 3).volume, ct.toStdString());
            r = runCli(QStringList{"segment3d", "--input", ct, "--out", m_dir + "/ct_default",
                                   "--save-steps", "none", "--steps", "1"} +
                       cpu());
            QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
            QVERIFY2(r.err.contains("diffunet-demo.dsckpt (the input looks like CT)"),
                     qPrintable(r.err));
        }
    }

    void evalInteractiveOnAVolume()
    {
        // The simulated user in 3D: the volume model refines from the clicks, and the clicks'
        // spheres alone, on a generated phantom with its labels. The native-grid model: the 2 mm
        // one would resample the 10 mm phantom to 200 x 200 x 100 voxels, 864 windows per click
        // (over 4 minutes on a 2-core CPU).
        const CtPhantomDemo phantom = generateCtPhantomDemo({40, 40, 20}, 12);
        const QString volume = m_dir + "/interactive_ct.nii.gz";
        const QString labels = m_dir + "/interactive_ct_seg.nii.gz";
        writeVolume(phantom.volume, volume.toStdString());
        writeLabelMap(phantom.labels, labels.toStdString());
        const QString json = m_dir + "/interactive_ct.json";
        Run r = runCli({"eval-interactive", "--model", m_model16, "--input", volume, "--gt", labels,
                        "--max-clicks", "2", "--methods", "diffusion,clicks-only", "--steps", "2",
                        "--threads", "2", "--json", json});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QJsonObject o = readJson(json);
        QCOMPARE(o["images"].toInt(), 1);
        const QJsonObject methods = o["methods"].toObject();
        QCOMPARE(methods.keys(), (QStringList{"clicks-only", "diffusion"}));
        for (const QString& name : methods.keys()) {
            QCOMPARE(methods[name].toObject()["dice_at"].toArray().size(), 3);
        }
        const double defaultSpheres =
            methods["clicks-only"].toObject()["dice_at"].toArray()[2].toDouble();
        QVERIFY(defaultSpheres > 0.0);
        QVERIFY(QFileInfo::exists(m_dir + "/interactive_ct.png"));
        // --click-radius sizes the spheres (a fraction of the longer extent): larger ones paint
        // more of the structure.
        r = runCli({"eval-interactive", "--input", volume, "--gt", labels, "--max-clicks", "2",
                    "--methods", "clicks-only", "--click-radius", "0.2", "--json",
                    m_dir + "/interactive_wide.json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const double wideSpheres = readJson(m_dir + "/interactive_wide.json")["methods"]
                                       .toObject()["clicks-only"]
                                       .toObject()["dice_at"]
                                       .toArray()[2]
                                       .toDouble();
        QVERIFY2(wideSpheres > defaultSpheres,
                 qPrintable(QString("%1 vs %2").arg(wideSpheres).arg(defaultSpheres)));
        r = runCli({"eval-interactive", "--model", m_model, "--input", volume, "--gt", labels,
                    "--methods", "grabcut"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("grabcut segments photos"), qPrintable(r.err));
    }

    void segmentHandsVolumesOver()
    {
        const QString volume = writeBlob("single.nii.gz", {20, 20, 12});
        const QString out = m_dir + "/dispatch";
        // `segment` with a volume: segment3d's options pass through.
        const Run r = runCli(QStringList{"segment", "--model", m_model, "--input", volume, "--out",
                                         out, "--steps", "1", "--fusion", "uncertainty",
                                         "--overlap", "0.25", "--progress", "json"} +
                             cpu());
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY(QFileInfo::exists(out + "/single/labels.nii.gz"));
        const QJsonObject summary = readJson(out + "/single/summary.json");
        QCOMPARE(summary["settings"].toObject()["fusion"].toString(), QString("uncertainty"));
        QCOMPARE(summary["settings"].toObject()["overlap"].toDouble(), 0.25);
        // An images/ + masks/ folder of volumes is recognised by its content: with a 2D
        // checkpoint the volume path names the checkpoint as the problem. (Its own folder: the
        // test that makes one for segment3d skips without the shared data.)
        const QString root = m_dir + "/dispatch_dataset";
        writeBlobCase(root + "/images/p01.nii.gz", root + "/masks/p01_seg.nii.gz");
        const Run dataset = runCli(
            QStringList{"segment", "--model", m_twoD, "--input", root, "--out", out} + cpu());
        QCOMPARE(dataset.exitCode, 1);
        QVERIFY2(dataset.err.contains(m_twoD) && dataset.err.contains("2D"),
                 qPrintable(dataset.err));
        // A 2D-only option with a volume is a usage error naming it.
        const Run sampler = runCli(QStringList{"segment", "--model", m_model, "--input", volume,
                                               "--out", out, "--sampler", "ddpm"} +
                                   cpu());
        QCOMPARE(sampler.exitCode, 2);
        QVERIFY2(sampler.err.contains("--sampler"), qPrintable(sampler.err));
        // A 3D-only option with a 2D image is one too.
        Image2D photo(16, 16, 3, PixelType::UInt8);
        const QString png = m_dir + "/photo.png";
        writeImage(photo, png.toStdString());
        const Run fusion = runCli(QStringList{"segment", "--model", m_twoD, "--input", png, "--out",
                                              out, "--fusion", "mean"} +
                                  cpu());
        QCOMPARE(fusion.exitCode, 2);
        QVERIFY2(fusion.err.contains("--fusion"), qPrintable(fusion.err));
    }

    void sigtermCancels()
    {
        // The native grid with 16^3 windows, 8 mirror passes and 50 steps takes long enough.
        const QString volume = writeBlob("large.nii.gz", {48, 48, 40});
        const QString out = m_dir + "/cancel";
        QProcess p;
        p.start(QString::fromLocal8Bit(qgetenv("DIFFSEG_CLI")),
                QStringList{"segment3d", "--model", m_model16, "--input", volume, "--out", out,
                            "--steps", "50", "--tta"} +
                    cpu());
        QVERIFY(p.waitForStarted());
        QString seen;
        while (!seen.contains("\"event\":\"step\"") && p.waitForReadyRead(60000)) {
            seen += QString::fromUtf8(p.readAllStandardOutput());
        }
        QVERIFY2(seen.contains("\"event\":\"step\""), qPrintable(seen));
        p.terminate(); // SIGTERM
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 3);
        seen += QString::fromUtf8(p.readAllStandardOutput());
        QVERIFY2(seen.contains("\"event\":\"cancelled\""), qPrintable(seen));
        // Nothing half-written stays.
        QVERIFY(QDir(out).entryList(QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot).isEmpty());
    }

    void badInputsNameTheFile()
    {
        const QString volume = writeBlob("ok.nii.gz", {16, 16, 10});
        const QString twoChannels = writeBlob("two_channels.nii.gz", {16, 16, 10}, 2);
        const QString missing = m_dir + "/missing.nii.gz";
        const QString missingModel = m_dir + "/missing.dsckpt";
        const QString otherGrid = m_dir + "/other_grid.nii.gz";
        writeLabelMap(LabelMap({16, 16, 11}, Geometry{}), otherGrid.toStdString());
        // Each is refused with exit status 1, the message naming what is wrong.
        const struct
        {
            QStringList args; ///< of segment3d, besides --out and the device
            QStringList named;
        } refused[] = {// A 2D checkpoint.
                       {{"--model", m_twoD, "--input", volume}, {m_twoD, "2D"}},
                       // A volume with the wrong channel count.
                       {{"--model", m_model, "--input", twoChannels}, {twoChannels, "2 channel"}},
                       // Missing files.
                       {{"--model", m_model, "--input", missing}, {missing}},
                       {{"--model", missingModel, "--input", volume}, {missingModel}},
                       // A ground truth on another grid.
                       {{"--model", m_model, "--input", volume, "--gt", otherGrid}, {otherGrid}},
                       // Options: a roi the network cannot take, AIIB without its CT statistics.
                       {{"--model", m_model, "--input", volume, "--roi", "30"}, {"--roi"}},
                       {{"--model", m_model, "--input", volume, "--reference-config", "aiib2023"},
                        {"--preprocessing"}}};
        for (const auto& c : refused) {
            const Run r =
                runCli(QStringList{"segment3d", "--out", m_dir + "/bad"} + c.args + cpu());
            QVERIFY2(r.exitCode == 1, qPrintable(c.args.join(' ') + ": " + r.err));
            for (const QString& name : c.named) {
                QVERIFY2(r.err.contains(name), qPrintable(c.args.join(' ') + ": " + r.err));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestCliSegmentVolume)
#include "TestCliSegmentVolume.moc"
