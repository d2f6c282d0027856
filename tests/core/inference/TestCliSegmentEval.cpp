// Runs the real diffseg executable: `segment` on a shared dermoscopy photo and on a folder (every
// output file, JSON lines, metrics, SIGTERM), and `eval` on hand-made masks with known Dice, empty
// masks, 3D label maps and bad input. The checkpoints are freshly initialised tiny networks.

#include "TestSupport.h"
#include "base/LabelMap.h"
#include "data/DemoData.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/model/DermoSegDiff.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#include "io/VolumeWriter.h"

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
#include <cstring>
#include <functional>

using namespace diffseg::core;
using namespace diffseg::core::engine;

using namespace diffseg::test;

namespace {

std::string makeCheckpoint(const QString& path, int timesteps)
{
    const DermoSegDiffConfig config = DermoSegDiffConfig::fromJson(
        R"({"dim_x": 8, "dim_g": 8, "dim_x_mults": [1, 2, 4], "dim_g_mults": [1, 2, 4],
            "resnet_block_groups": 4})");
    torch::manual_seed(11);
    DermoSegDiff model(config);
    Checkpoint checkpoint;
    checkpoint.info.model = config;
    checkpoint.info.schedule = ScheduleConfig{ScheduleMode::Linear, timesteps, 0.0004, 0.08};
    checkpoint.info.inputSize = 64;
    checkpoint.info.source = "TestCliSegmentEval";
    checkpoint.model = namedWeights(*model);
    saveCheckpoint(path.toStdString(), checkpoint);
    return path.toStdString();
}

/// A 1-channel {0, 1} mask of width x height whose foreground is where `inside(x, y)`.
Image2D makeMask(int width, int height, const std::function<bool(int, int)>& inside)
{
    Image2D mask(width, height, 1, PixelType::UInt8);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            mask.at<std::uint8_t>(x, y) = inside(x, y) ? 1 : 0;
        }
    }
    return mask;
}

Image2D makePhoto(int width, int height, double cx)
{
    Image2D image(width, height, 3, PixelType::UInt8);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const double dx = (x - cx * width) / (0.25 * width);
            const double dy = (y - 0.5 * height) / (0.3 * height);
            const bool lesion = dx * dx + dy * dy < 1.0;
            for (int c = 0; c < 3; ++c) {
                image.at<std::uint8_t>(x, y, c) =
                    std::uint8_t(lesion ? 70 + 10 * c : 200 - 20 * c + (x + y) % 7);
            }
        }
    }
    return image;
}

QString readText(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

} // namespace

class TestCliSegmentEval : public QObject
{
    Q_OBJECT

private:
    using Run = diffseg::test::CliRun;

    QString m_dir;
    QString m_checkpoint;     ///< T = 50
    QString m_slowCheckpoint; ///< T = 1000, for cancelling DDPM mid-run

    static Run runCli(const QStringList& args, int timeoutMs = 180000)
    {
        return diffseg::test::runCli(args, timeoutMs);
    }

    QStringList fastSampling() const
    {
        return {"--sampler", "ddim",      "--steps", "4",        "--ensemble",
                "2",         "--threads", "2",       "--device", "cpu"};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!qgetenv("DIFFSEG_CLI").isEmpty(), "DIFFSEG_CLI is not set");
        m_dir = diffseg::test::scratchDir("cli-segment-eval");
        m_checkpoint = QString::fromStdString(makeCheckpoint(m_dir + "/tiny.dsckpt", 50));
        m_slowCheckpoint = QString::fromStdString(makeCheckpoint(m_dir + "/slow.dsckpt", 1000));
    }

    void segmentWritesEveryOutputForASharedPhoto()
    {
        DIFFSEG_REQUIRE_SHARED(image, "data/dermoscopy/isic2017/images/ISIC_0012099.jpg");
        DIFFSEG_REQUIRE_SHARED(gt, "data/dermoscopy/isic2017/masks/ISIC_0012099_segmentation.png");
        const QString out = m_dir + "/isic";
        const Run r = runCli(QStringList{"segment", "--model", m_checkpoint, "--input", image,
                                         "--gt", gt, "--out", out, "--save-steps", "every:2",
                                         "--baseline", "--seed", "3"} +
                             fastSampling());
        // Not a terminal: one JSON object per line on stdout.
        const QList<QJsonObject> events = finishedRunEvents(r);
        QVERIFY2(!events.isEmpty(), qPrintable(r.out + r.err));
        QCOMPARE(events.front().value("input_size").toInt(), 64);
        QCOMPARE(countEvents(events, "step"), 4);
        QCOMPARE(events.back().value("failed").toInt(), 0);

        const QString dir = out + "/ISIC_0012099";
        for (const char* file : {"mask.png",
                                 "probability.png",
                                 "uncertainty_std.png",
                                 "uncertainty_entropy.png",
                                 "uncertainty_instability.png",
                                 "baseline_mask.png",
                                 "summary.json",
                                 "input_size/mask.png",
                                 "input_size/mean_x0.tif",
                                 "input_size/probability.tif",
                                 "input_size/uncertainty_std.tif",
                                 "input_size/uncertainty_entropy.tif",
                                 "input_size/uncertainty_instability.tif",
                                 "input_size/member_0_x0.tif",
                                 "input_size/member_1_x0.tif",
                                 "steps/step_000_t49_mean.png",
                                 "steps/step_000_t49_member0.png",
                                 "steps/step_000_t49_member1.png",
                                 "steps/step_002_t16_mean.png",
                                 "steps/step_003_t0_mean.png",
                                 "steps/step_003_t0_member1.png"}) {
            QVERIFY2(QFileInfo::exists(dir + "/" + file), file);
        }
        QVERIFY(!QFileInfo::exists(dir + "/steps/step_001_t33_mean.png"));
        for (const char* file :
             {"metrics.csv", "metrics.json", "metrics_input_size.csv", "baseline_metrics.csv"}) {
            QVERIFY2(QFileInfo::exists(out + "/" + file), file);
        }
        // Nothing half-written is left behind.
        QCOMPARE(QDir(out).entryList(QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot).size(), 1);

        // mask.png: the photo's size, stored as 0/255.
        const Image2D mask = readImage((dir + "/mask.png").toStdString());
        QCOMPARE(mask.width(), 3008);
        QCOMPARE(mask.height(), 2000);
        QCOMPARE(mask.channels(), 1);
        const std::uint8_t* m = mask.data<std::uint8_t>();
        for (std::size_t i = 0; i < mask.pixelCount(); ++i) {
            QVERIFY(m[i] == 0 || m[i] == 255);
        }
        const Image2D probability = readImage((dir + "/probability.png").toStdString());
        QCOMPARE(probability.width(), 3008);
        const Image2D floatProbability =
            readImage((dir + "/input_size/probability.tif").toStdString());
        QCOMPARE(floatProbability.width(), 64);
        QCOMPARE(floatProbability.pixelType(), PixelType::Float32);

        const QJsonObject summary = readJson(dir + "/summary.json");
        QVERIFY(!summary.isEmpty());
        QCOMPARE(summary["model"].toObject()["input_size"].toInt(), 64);
        QVERIFY(summary["model"].toObject()["id"].toString().startsWith("dsd-"));
        QCOMPARE(summary["settings"].toObject()["sampler"].toString(), QString("ddim"));
        QCOMPARE(summary["settings"].toObject()["ensemble"].toInt(), 2);
        // auto: bf16 where this CPU has it, float32 elsewhere; named in the summary.
        const QString precision = summary["settings"].toObject()["precision"].toString();
        QVERIFY2(precision == "bf16" || precision == "fp32", qPrintable(precision));
        QCOMPARE(summary["model"].toObject()["precision"].toString(), precision);
        QCOMPARE(summary["model"].toObject()["schedule"].toObject()["prediction"].toString(),
                 QString("eps"));
        QCOMPARE(summary["input"].toObject()["width"].toInt(), 3008);
        const QJsonObject metrics = summary["metrics"].toObject();
        QVERIFY(metrics.contains("dice"));
        const double dice = metrics["dice"].toDouble(-1.0);
        QVERIFY(dice >= 0.0 && dice <= 1.0);
        QVERIFY(summary["metrics_input_size"].toObject().contains("dice"));
        // The Otsu baseline finds this lesion well (it scored 0.94 here).
        const double baselineDice =
            summary["baseline"].toObject()["metrics"].toObject()["dice"].toDouble(-1.0);
        QVERIFY2(baselineDice > 0.8, qPrintable(QString::number(baselineDice)));
        const QJsonObject timings = summary["timings_s"].toObject();
        for (const char* stage :
             {"read", "load", "preprocess", "sampling", "postprocess", "first_preview", "write"}) {
            QVERIFY2(timings.contains(stage) && timings[stage].toDouble(-1.0) >= 0.0, stage);
        }
        const QJsonObject std = summary["outputs"].toObject()["uncertainty_std"].toObject();
        QCOMPARE(std["file"].toString(), QString("uncertainty_std.png"));
        QVERIFY(std::abs(std["scale"].toDouble() - 0.5 / 255.0) < 1e-12);
        QCOMPARE(summary["steps"].toObject()["saved"].toArray().size(), 3);
    }

    void segmentsAFolderAndEvalReadsItsOutput()
    {
        const QString in = m_dir + "/folder-in";
        const QString gt = m_dir + "/folder-gt";
        const QString out = m_dir + "/folder-out";
        QDir().mkpath(in);
        QDir().mkpath(gt);
        writeImage(makePhoto(90, 70, 0.4), (in + "/b.png").toStdString());
        writeImage(makePhoto(64, 80, 0.6), (in + "/a.png").toStdString());
        writeImage(makePhoto(50, 50, 0.5), (in + "/c.png").toStdString());
        writeMaskPng(makeMask(90, 70, [](int x, int) { return x < 40; }),
                     (gt + "/b_segmentation.png").toStdString());
        writeMaskPng(makeMask(64, 80, [](int x, int y) { return x > 20 && y > 30; }),
                     (gt + "/a_segmentation.png").toStdString());
        const Run r = runCli(QStringList{"segment", "--model", m_checkpoint, "--input", in, "--gt",
                                         gt, "--out", out, "--progress", "json"} +
                             fastSampling());
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QList<QJsonObject> events = jsonLines(r.out);
        QCOMPARE(countEvents(events, "case"), 3);
        QCOMPARE(countEvents(events, "step"), 12);
        QCOMPARE(events.back().value("without_ground_truth").toInt(), 1);
        QVERIFY2(r.err.contains("no ground-truth mask") && r.err.contains("c.png"),
                 qPrintable(r.err));
        // Sorted: a before b before c.
        QStringList order;
        for (const QJsonObject& e : events) {
            if (e.value("event").toString() == "input") {
                order << e.value("stem").toString();
            }
        }
        QCOMPARE(order, (QStringList{"a", "b", "c"}));
        QVERIFY(readJson(out + "/c/summary.json")["metrics"].isNull());
        QVERIFY(!readJson(out + "/c/summary.json")["settings"].toObject()["first_look"].toBool());
        // --first-look: one event per photo before its steps, the same masks.
        const Run look =
            runCli(QStringList{"segment", "--model", m_checkpoint, "--input", in + "/a.png",
                               "--out", m_dir + "/look", "--progress", "json", "--first-look"} +
                   fastSampling());
        QVERIFY2(look.exitCode == 0, qPrintable(look.out + look.err));
        const QList<QJsonObject> lookEvents = jsonLines(look.out);
        QCOMPARE(countEvents(lookEvents, "first_look"), 1);
        QCOMPARE(countEvents(lookEvents, "step"), 4);
        QVERIFY(
            readJson(m_dir + "/look/a/summary.json")["settings"].toObject()["first_look"].toBool());
        const Image2D lookMask = readImage((m_dir + "/look/a/mask.png").toStdString());
        const Image2D plainMask = readImage((out + "/a/mask.png").toStdString());
        QVERIFY(lookMask.byteSize() == plainMask.byteSize() &&
                std::memcmp(lookMask.rawData(), plainMask.rawData(), plainMask.byteSize()) == 0);
        QCOMPARE(readImage((out + "/a/mask.png").toStdString()).height(), 80);
        const QString csv = readText(out + "/metrics.csv");
        QVERIFY(csv.contains("case,a,") && csv.contains("case,b,") && !csv.contains("case,c,"));

        // eval pairs DIR/<stem>/mask.png with the ground truth and agrees with segment.
        const Run e = runCli({"eval", "--pred", out, "--gt", gt, "--json", m_dir + "/eval.json"});
        QVERIFY2(e.exitCode == 0, qPrintable(e.out + e.err));
        const QJsonObject report = readJson(m_dir + "/eval.json");
        const QJsonArray cases = report["cases"].toArray();
        QCOMPARE(cases.size(), 2);
        for (const QJsonValue& c : cases) {
            const QString stem = c.toObject()["case"].toString();
            const double segmentDice = readJson(out + "/" + stem + "/summary.json")["metrics"]
                                           .toObject()["dice"]
                                           .toDouble();
            QVERIFY(std::abs(c.toObject()["dice"].toDouble() - segmentDice) < 1e-9);
        }
        QVERIFY(std::abs(report["pooled"].toObject()["dice"].toDouble() -
                         readJson(out + "/metrics.json")["pooled"].toObject()["dice"].toDouble()) <
                1e-9);
    }

    void precisionIsHonouredAndNamed()
    {
        DIFFSEG_REQUIRE_SHARED(image, "data/dermoscopy/isic2017/images/ISIC_0012099.jpg");
        for (const QString& precision : {QStringLiteral("fp32"), QStringLiteral("bf16")}) {
            const QString out = m_dir + "/precision-" + precision;
            const Run r =
                runCli(QStringList{"segment", "--model", m_checkpoint, "--input", image, "--out",
                                   out, "--precision", precision, "--progress", "json"} +
                       fastSampling());
            QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
            // The progress start event names it too.
            QVERIFY2(r.out.contains("\"precision\":\"" + precision + "\""), qPrintable(r.out));
            const QJsonObject summary = readJson(out + "/ISIC_0012099/summary.json");
            QCOMPARE(summary["settings"].toObject()["precision"].toString(), precision);
        }
    }

    void exportedModelCarriesItsCardAndDefaults()
    {
        // A training checkpoint (with EMA weights) exported with a card: one set of weights, the
        // card in `info`, and `segment` using the validated settings unless told otherwise.
        const QString card = m_dir + "/card.json";
        {
            QFile file(card);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(R"json({"name": "Tiny test model", "input_kind": "photo",
                "training_data": "nothing (random weights)", "licence": "test only",
                "validated": {"sampler": "ddim", "steps": 4, "ensemble": 3, "start_from_otsu": 0.5},
                "scores": {"pooled Dice": 0.5}})json");
        }
        const QString exported = m_dir + "/exported.dsckpt";
        Run r = runCli({"export-model", "--checkpoint", m_checkpoint, "--out", exported,
                        "--weights", "online", "--card", card});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        r = runCli({"info", exported});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("Tiny test model") && r.out.contains("Licence: test only") &&
                     r.out.contains("steps 4") && r.out.contains("pooled Dice 0.5"),
                 qPrintable(r.out));
        r = runCli({"info", m_checkpoint});
        QVERIFY2(r.out.contains("card:") && r.out.contains("none"), qPrintable(r.out));

        DIFFSEG_REQUIRE_SHARED(image, "data/dermoscopy/ph2/images/IMD002.bmp");
        const QString out = m_dir + "/card-defaults";
        r = runCli({"segment", "--model", exported, "--input", image, "--out", out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QJsonObject settings = readJson(out + "/IMD002/summary.json")["settings"].toObject();
        QCOMPARE(settings["sampler"].toString(), QString("ddim"));
        QCOMPARE(settings["steps"].toInt(), 4);
        QCOMPARE(settings["ensemble"].toInt(), 3);
        // It started from the threshold's outline at half the schedule (T = 50: timestep 25).
        QCOMPARE(settings["start_from_otsu"].toDouble(), 0.5);
        QCOMPARE(settings["first_timestep"].toInt(), 25);
        // The command line wins over the card.
        r = runCli({"segment", "--model", exported, "--input", image, "--out", out, "--ensemble",
                    "2", "--steps", "3", "--start-from-otsu", "0"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        settings = readJson(out + "/IMD002/summary.json")["settings"].toObject();
        QCOMPARE(settings["ensemble"].toInt(), 2);
        QCOMPARE(settings["steps"].toInt(), 3);
        QCOMPARE(settings["start_from_otsu"].toDouble(), 0.0);
        QCOMPARE(settings["first_timestep"].toInt(), 49);
        // A start from the model's own draft, with its time in the summary.
        r = runCli({"segment", "--model", exported, "--input", image, "--out", out,
                    "--start-from-draft", "0.8"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QJsonObject summary = readJson(out + "/IMD002/summary.json");
        settings = summary["settings"].toObject();
        QCOMPARE(settings["start_from_draft"].toDouble(), 0.8);
        QCOMPARE(settings["first_timestep"].toInt(), 39);
        QVERIFY(summary["timings_s"].toObject()["draft"].toDouble() > 0.0);

        // No EMA in the source: --weights ema is refused, naming the file.
        r = runCli({"export-model", "--checkpoint", exported, "--out", m_dir + "/x.dsckpt"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("exported.dsckpt") && r.err.contains("EMA"), qPrintable(r.err));
    }

    void withoutAModelThePackagedOneIsUsed()
    {
        DIFFSEG_REQUIRE_SHARED(image, "data/dermoscopy/ph2/images/IMD002.bmp");
        const QString out = m_dir + "/packaged";
        const Run r = runCli({"segment", "--input", image, "--out", out, "--progress", "none"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        // It says which model it took.
        QVERIFY2(r.err.contains("using the packaged photo model") && r.err.contains(".dsckpt"),
                 qPrintable(r.err));
        const QJsonObject model = readJson(out + "/IMD002/summary.json")["model"].toObject();
        QVERIFY(model["path"].toString().contains("resources/models/dermoscopy-"));
    }

    void evalInteractivePlaysTheSimulatedUser()
    {
        // Two generated photos; every method with the same clicks, two clicks each.
        const QString in = m_dir + "/interactive/images";
        const QString gt = m_dir + "/interactive/masks";
        QVERIFY(QDir().mkpath(in) && QDir().mkpath(gt));
        for (int seed : {31, 32}) {
            const diffseg::core::DermoscopyDemo demo =
                diffseg::core::generateDermoscopyDemo(96, 80, static_cast<std::uint64_t>(seed));
            const QString stem = QStringLiteral("case_%1").arg(seed);
            diffseg::core::writeImage(demo.image, (in + "/" + stem + ".png").toStdString());
            diffseg::core::writeMaskPng(demo.mask,
                                        (gt + "/" + stem + "_segmentation.png").toStdString());
        }
        const QString json = m_dir + "/interactive/result.json";
        Run r = runCli({"eval-interactive",
                        "--model",
                        m_checkpoint,
                        "--input",
                        in,
                        "--gt",
                        gt,
                        "--max-clicks",
                        "2",
                        "--threads",
                        "2",
                        "--json",
                        json,
                        "--sampler",
                        "ddim",
                        "--steps",
                        "4",
                        "--ensemble",
                        "2",
                        "--precision",
                        "fp32"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("NoC90") && r.out.contains("grabcut"), qPrintable(r.out));
        QVERIFY(QFileInfo::exists(m_dir + "/interactive/result.png"));
        const QJsonObject o = readJson(json);
        QCOMPARE(o["images"].toInt(), 2);
        QCOMPARE(o["max_clicks"].toInt(), 2);
        const QJsonObject methods = o["methods"].toObject();
        QCOMPARE(methods.keys(), (QStringList{"clicks-only", "diffusion", "grabcut"}));
        for (const QString& name : methods.keys()) {
            const QJsonObject m = methods[name].toObject();
            const QJsonArray dice = m["dice_at"].toArray();
            QCOMPARE(dice.size(), 3);
            for (const QJsonValue& d : dice) {
                QVERIFY(d.toDouble() >= 0.0 && d.toDouble() <= 1.0);
            }
            QVERIFY(m["noc85"].toDouble() >= 0.0 && m["noc85"].toDouble() <= 2.0);
            QVERIFY(m["noc90"].toDouble() >= m["noc85"].toDouble());
            QVERIFY(m["seconds_per_click"].toDouble() >= 0.0);
        }
        // The click disks alone start from nothing and only gain from clicks on a lesion.
        const QJsonArray disks = methods["clicks-only"].toObject()["dice_at"].toArray();
        QCOMPARE(disks[0].toDouble(), 0.0);
        QVERIFY(disks[2].toDouble() > 0.0);

        r = runCli({"eval-interactive", "--model", m_checkpoint, "--input", in, "--gt", gt,
                    "--methods", "diffusion,magic"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("--methods") && r.err.contains("magic"), qPrintable(r.err));
    }

    void sigtermCancelsCleanly()
    {
        const QString in = m_dir + "/cancel-in";
        const QString out = m_dir + "/cancel-out";
        QDir().mkpath(in);
        writeImage(makePhoto(64, 64, 0.5), (in + "/photo.png").toStdString());
        QProcess p;
        p.start(QString::fromLocal8Bit(qgetenv("DIFFSEG_CLI")),
                {"segment", "--model", m_slowCheckpoint, "--input", in + "/photo.png", "--out", out,
                 "--sampler", "ddpm", "--ensemble", "1", "--threads", "1", "--device", "cpu",
                 "--progress", "json"});
        QVERIFY(p.waitForStarted());
        QByteArray stdoutText;
        QElapsedTimer timer;
        timer.start();
        while (!stdoutText.contains("\"event\":\"step\"") && timer.elapsed() < 60000) {
            p.waitForReadyRead(1000);
            stdoutText += p.readAllStandardOutput();
        }
        QVERIFY2(stdoutText.contains("\"event\":\"step\""), stdoutText.constData());
        p.terminate(); // SIGTERM
        QVERIFY(p.waitForFinished(60000));
        stdoutText += p.readAllStandardOutput();
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 3);
        QVERIFY2(stdoutText.contains("\"event\":\"cancelled\""), stdoutText.constData());
        QVERIFY2(err.contains("cancel"), qPrintable(err));
        QVERIFY(!stdoutText.contains("\"event\":\"case\""));
        // No output folder for the cancelled image, and no partial one.
        QCOMPARE(QDir(out).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot).size(),
                 0);
    }

    void segmentRefusesBadInputWithTheFileNamed()
    {
        const QString photo = m_dir + "/bad-photo.png";
        writeImage(makePhoto(40, 30, 0.5), photo.toStdString());
        const QString out = m_dir + "/bad-out";
        const QString wrongSize = m_dir + "/bad-gt.png";
        writeMaskPng(makeMask(41, 30, [](int x, int) { return x < 9; }), wrongSize.toStdString());
        // Each is refused naming what is wrong: with exit status 1, or as a usage error (another
        // non-zero status).
        const struct
        {
            QStringList args; ///< of segment, besides --out
            QStringList named;
            bool usage = false;
        } refused[] = {
            {{"--model", m_dir + "/missing.dsckpt", "--input", photo}, {"missing.dsckpt"}},
            {{"--model", m_checkpoint, "--input", m_dir + "/none.png"}, {"none.png"}},
            {{"--model", m_checkpoint, "--input", photo, "--sampler", "ddpm", "--steps", "10"},
             {"--steps"}},
            {QStringList{"--model", m_checkpoint, "--input", photo, "--save-steps", "1,99"} +
                 fastSampling(),
             {"--save-steps"}},
            {QStringList{"--model", m_checkpoint, "--input", photo, "--gt", wrongSize} +
                 fastSampling(),
             {"bad-gt.png", "41x30"}},
            {{"--model", m_checkpoint, "--input", photo, "--sampler", "euler"},
             {"--sampler"},
             true},
            {{"--model", m_checkpoint, "--input", photo, "--precision", "fp16"},
             {"--precision"},
             true},
            // A reference .pth without its config says what to pass.
            {{"--model", QStringLiteral(DIFFSEG_ENGINE_TEST_DATA "/reference_tiny.pth"), "--input",
              photo},
             {"--reference-config"}}};
        for (const auto& c : refused) {
            const Run r = runCli(QStringList{"segment", "--out", out} + c.args);
            const QString what = c.args.join(' ') + ": " + r.err;
            if (c.usage) {
                QVERIFY2(r.exitCode != 0 && r.exitCode != 1, qPrintable(what));
            } else {
                QVERIFY2(r.exitCode == 1, qPrintable(what));
            }
            for (const QString& name : c.named) {
                QVERIFY2(r.err.contains(name), qPrintable(what));
            }
        }
        QVERIFY(!QFileInfo::exists(out + "/bad-photo"));
    }

    void evalComputesKnownMetrics()
    {
        const QString pred = m_dir + "/eval-pred";
        const QString gt = m_dir + "/eval-gt";
        QDir().mkpath(pred + "/e");
        QDir().mkpath(gt);
        const auto left = [](int limit) {
            return [limit](int x, int) {
                return x < limit;
            };
        };
        const auto none = [](int, int) {
            return false;
        };
        const auto all = [](int, int) {
            return true;
        };
        // a: 100 of 200 found (Dice 2*100/(200+100) = 2/3); b: both empty (Dice 1 by our
        // convention); c: empty prediction (Dice 0); f: empty reference (Dice 0); e: segment's
        // layout, all foreground in both (Dice 1); d: no ground truth.
        writeMaskPng(makeMask(20, 20, left(5)), (pred + "/a.png").toStdString());
        writeMaskPng(makeMask(20, 20, left(10)), (gt + "/a_segmentation.png").toStdString());
        writeMaskPng(makeMask(20, 20, none), (pred + "/b.png").toStdString());
        writeMaskPng(makeMask(20, 20, none), (gt + "/b_segmentation.png").toStdString());
        writeMaskPng(makeMask(20, 20, none), (pred + "/c.png").toStdString());
        writeMaskPng(makeMask(20, 20, left(10)), (gt + "/c_segmentation.png").toStdString());
        writeMaskPng(makeMask(20, 20, left(5)), (pred + "/f.png").toStdString());
        writeMaskPng(makeMask(20, 20, none), (gt + "/f.png").toStdString());
        writeMaskPng(makeMask(20, 20, all), (pred + "/e/mask.png").toStdString());
        writeMaskPng(makeMask(20, 20, all), (gt + "/e_lesion.png").toStdString());
        writeMaskPng(makeMask(20, 20, all), (pred + "/d.png").toStdString());

        const Run r = runCli({"eval", "--pred", pred, "--gt", gt, "--csv", m_dir + "/eval.csv",
                              "--json", m_dir + "/known.json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY(r.out.contains("pooled"));
        QVERIFY2(r.err.contains("d.png"), qPrintable(r.err));
        const QJsonObject report = readJson(m_dir + "/known.json");
        QMap<QString, QJsonObject> byCase;
        for (const QJsonValue& c : report["cases"].toArray()) {
            byCase[c.toObject()["case"].toString()] = c.toObject();
        }
        QCOMPARE(byCase.keys(), (QStringList{"a", "b", "c", "e", "f"}));
        QVERIFY(std::abs(byCase["a"]["dice"].toDouble() - 2.0 / 3.0) < 1e-9);
        QVERIFY(std::abs(byCase["a"]["iou"].toDouble() - 0.5) < 1e-9);
        const double hd95 = byCase["a"]["hd95_mm"].toDouble(-1.0);
        QVERIFY(hd95 > 0.0);
        QCOMPARE(byCase["b"]["dice"].toDouble(), 1.0);
        QVERIFY(byCase["b"]["prediction_empty"].toBool() &&
                byCase["b"]["reference_empty"].toBool());
        QVERIFY(byCase["b"]["hd95_mm"].isNull());
        QCOMPARE(byCase["c"]["dice"].toDouble(), 0.0);
        QVERIFY(byCase["c"]["prediction_empty"].toBool());
        QCOMPARE(byCase["f"]["dice"].toDouble(), 0.0);
        QVERIFY(byCase["f"]["reference_empty"].toBool());
        QCOMPARE(byCase["e"]["dice"].toDouble(), 1.0);
        // Pooled over all 2000 pixels: TP = 100 + 400, FP = 100 (f), FN = 100 (a) + 200 (c).
        const QJsonObject pooled = report["pooled"].toObject();
        const QJsonObject counts = pooled["counts"].toObject();
        QCOMPARE(counts["tp"].toInt(), 500);
        QCOMPARE(counts["fp"].toInt(), 100);
        QCOMPARE(counts["fn"].toInt(), 300);
        QCOMPARE(counts["tn"].toInt(), 1100);
        QVERIFY(std::abs(pooled["dice"].toDouble() - 1000.0 / 1400.0) < 1e-9);
        QCOMPARE(report["unpaired"].toObject()["predictions"].toArray().size(), 1);
        const QString csv = readText(m_dir + "/eval.csv");
        QVERIFY(csv.startsWith("kind,case,tp,fp,tn,fn,dice"));
        QVERIFY(csv.contains("pooled,"));

        // Pixel size in mm scales the distances; --min-dice turns a low score into status 4.
        const Run mm =
            runCli({"eval", "--pred", pred + "/a.png", "--gt", gt + "/a_segmentation.png",
                    "--spacing", "0.5,0.5", "--json", m_dir + "/mm.json"});
        QVERIFY2(mm.exitCode == 0, qPrintable(mm.err));
        QCOMPARE(
            readJson(m_dir + "/mm.json")["cases"].toArray()[0].toObject()["hd95_mm"].toDouble(),
            0.5 * hd95);
        QCOMPARE(runCli({"eval", "--pred", pred, "--gt", gt, "--min-dice", "0.9"}).exitCode, 4);
    }

    void evalScoresLabelMaps()
    {
        const QString pred = m_dir + "/eval3d-pred";
        const QString gt = m_dir + "/eval3d-gt";
        QDir().mkpath(pred);
        QDir().mkpath(gt);
        Geometry geometry;
        geometry.spacing = {2.0, 1.0, 1.5};
        LabelMap p({10, 8, 6}, geometry);
        LabelMap g({10, 8, 6}, geometry);
        for (std::int64_t z = 0; z < 6; ++z) {
            for (std::int64_t y = 0; y < 8; ++y) {
                for (std::int64_t x = 0; x < 10; ++x) {
                    const std::size_t i = std::size_t((z * 8 + y) * 10 + x);
                    p.data<std::uint8_t>()[i] = x < 4 ? 1 : 0;
                    g.data<std::uint8_t>()[i] = x < 4 ? 1 : (x >= 8 ? 2 : 0);
                }
            }
        }
        writeLabelMap(p, (pred + "/case1.nii.gz").toStdString());
        writeLabelMap(g, (gt + "/case1.nii.gz").toStdString());
        Run r = runCli(
            {"eval", "--pred", pred, "--gt", gt, "--label", "1", "--json", m_dir + "/3d.json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QCOMPARE(readJson(m_dir + "/3d.json")["cases"].toArray()[0].toObject()["dice"].toDouble(),
                 1.0);
        r = runCli({"eval", "--pred", pred, "--gt", gt, "--json", m_dir + "/3d-any.json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        // Any non-zero label: 4 of 6 columns foreground in the reference, 4 in the prediction.
        QVERIFY(std::abs(readJson(m_dir + "/3d-any.json")["cases"]
                             .toArray()[0]
                             .toObject()["dice"]
                             .toDouble() -
                         2.0 * 4 / (4 + 6)) < 1e-9);
        // A 2D prediction against a 3D reference is refused, naming the file.
        writeMaskPng(makeMask(10, 8, [](int x, int) { return x < 4; }),
                     (pred + "/case2.png").toStdString());
        writeLabelMap(g, (gt + "/case2.nii.gz").toStdString());
        r = runCli({"eval", "--pred", pred, "--gt", gt});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("case2.png"), qPrintable(r.err));
    }

    void evalRefusesBadInputWithTheFileNamed()
    {
        const QString pred = m_dir + "/evalbad-pred";
        const QString gt = m_dir + "/evalbad-gt";
        QDir().mkpath(pred);
        QDir().mkpath(gt);
        writeMaskPng(makeMask(20, 20, [](int x, int) { return x < 5; }),
                     (pred + "/a.png").toStdString());
        Run r = runCli({"eval", "--pred", pred, "--gt", m_dir + "/no-such-gt"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("no-such-gt"), qPrintable(r.err));
        writeMaskPng(makeMask(20, 21, [](int x, int) { return x < 5; }),
                     (gt + "/a_segmentation.png").toStdString());
        r = runCli({"eval", "--pred", pred, "--gt", gt});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("a.png") && r.err.contains("20x21"), qPrintable(r.err));
        // A grey-level image is not a mask.
        writeImage(makePhoto(20, 20, 0.5), (gt + "/a_segmentation.png").toStdString());
        r = runCli({"eval", "--pred", pred, "--gt", gt});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("a_segmentation.png"), qPrintable(r.err));
        // Nothing pairs.
        QFile::remove(gt + "/a_segmentation.png");
        writeMaskPng(makeMask(20, 20, [](int x, int) { return x < 5; }),
                     (gt + "/zzz.png").toStdString());
        r = runCli({"eval", "--pred", pred, "--gt", gt});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("no prediction pairs"), qPrintable(r.err));
        QCOMPARE(runCli({"eval", "--pred", pred, "--gt", gt, "--spacing", "1,0"}).exitCode, 1);
    }
};

QTEST_GUILESS_MAIN(TestCliSegmentEval)
#include "TestCliSegmentEval.moc"
