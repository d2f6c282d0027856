// Runs the real `diffseg train` as the GUI will: JSON progress lines, a bad config key, SIGTERM
// (checkpoint, exit status 3), and kill -9 at a random moment followed by --resume, which must
// follow the uninterrupted run's loss curve step for step and end with the same weights.

#include "TestSupport.h"
#include "TinyTrainingRun.h"
#include "engine/checkpoint/Checkpoint.h"

#include <QProcess>
#include <QRandomGenerator>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <map>

namespace {

QString cli()
{
    return QString::fromLocal8Bit(qgetenv("DIFFSEG_CLI"));
}

/// The tiny config in `dir`, reading its pairs from dir/data, with `extra` sections appended.
QString writeConfig(const QString& dir, const QString& extra = {})
{
    return diffseg::test::writeTinyTrainingConfig(
        dir + "/tiny.yaml",
        "  data_dir: \"data\"\n  split: {mode: \"fractions\", fractions: [0.8, 0.2, 0.0]}\n", {},
        extra);
}

/// `cases` lesion pairs in dir/data and the tiny config (with `extra`) in `dir`; returns the
/// config's path.
QString prepareRun(const QString& dir, int cases, const QString& extra = {})
{
    diffseg::test::makeLesionPairs(dir + "/data", cases);
    return writeConfig(dir, extra);
}

std::vector<nlohmann::json> readEvents(const QString& path)
{
    std::vector<nlohmann::json> events;
    std::ifstream in(path.toStdString());
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
            try {
                events.push_back(nlohmann::json::parse(line));
            } catch (const nlohmann::json::exception&) {
                // A line cut by kill -9 is the only acceptable damage.
            }
        }
    }
    return events;
}

std::map<std::int64_t, double> lossesOf(const std::vector<nlohmann::json>& events)
{
    std::map<std::int64_t, double> out;
    for (const auto& e : events) {
        if (e.value("event", "") == "step") {
            out[e["step"].get<std::int64_t>()] = e["loss"].get<double>();
        }
    }
    return out;
}

int countSteps(const QString& path)
{
    return static_cast<int>(lossesOf(readEvents(path)).size());
}

} // namespace

class TestCliTrain : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpListsTheReferenceFlags()
    {
        QProcess p;
        p.start(cli(), {"train", "--help"});
        QVERIFY(p.waitForFinished(30000));
        const QString out = QString::fromUtf8(p.readAllStandardOutput());
        for (const char* flag : {"--model_name",
                                 "--input_size",
                                 "--batch_size",
                                 "--learning_rate",
                                 "--timesteps",
                                 "--ds_mode",
                                 "--epochs",
                                 "--beta_start",
                                 "--beta_end",
                                 "--model_dim_mults",
                                 "--ensemble",
                                 "--model_dim_x",
                                 "--model_dim_g",
                                 "--model_dim_x_mults",
                                 "--model_dim_g_mults",
                                 "--training_optimizer_betas",
                                 "--training_scheduler_factor",
                                 "--training_scheduler_patience",
                                 "--augmentation_p",
                                 "--resume",
                                 "--device",
                                 "--progress"}) {
            QVERIFY2(out.contains(QLatin1String(flag)), flag);
        }
    }

    void badKeyIsNamed()
    {
        const QString dir = diffseg::test::scratchDir("cli-train-bad");
        const QString config = prepareRun(dir, 4, "testing: {ensemble: 5, ensembel: 3}\n");
        QProcess p;
        p.setWorkingDirectory(dir);
        p.start(cli(), {"train", "-c", config});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(err.contains("testing.ensembel") && err.contains("tiny.yaml"), qPrintable(err));

        // The reference's flags override the file (and a bad value is named too).
        p.start(cli(), {"train", "-c", writeConfig(dir), "-S", "cubic"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 2); // CLI11 rejects it before any work
        p.start(cli(), {"train", "-c", writeConfig(dir), "-l", "20"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains("lr"));
    }

    void relativePathsFollowTheirOrigin()
    {
        // The config says data_dir "data" (relative to the config's folder); the command line's
        // --data-dir is relative to the working directory.
        const QString dir = diffseg::test::scratchDir("cli-train-paths");
        QDir().mkpath(dir + "/configs");
        QDir().mkpath(dir + "/work");
        diffseg::test::makeLesionPairs(dir + "/configs/data", 4);
        diffseg::test::makeLesionPairs(dir + "/work/mine", 5);
        const QString config = writeConfig(dir + "/configs");
        QProcess p;
        p.setWorkingDirectory(dir + "/work");
        // From the file: configs/data (4 pairs), wherever the command runs.
        p.start(cli(), {"train", "-c", config, "--max-steps", "1", "--run-dir", "run-a",
                        "--progress", "a.jsonl"});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QVERIFY(QFileInfo::exists(dir + "/work/run-a/last.dsckpt"));
        const auto started = [](const QString& progress) {
            for (const auto& e : readEvents(progress)) {
                if (e.value("event", "") == "started") {
                    return e;
                }
            }
            return nlohmann::json();
        };
        nlohmann::json a = started(dir + "/work/a.jsonl");
        QCOMPARE(a["dataset"]["cases"].get<int>(), 4);
        // From the command line: work/mine (5 pairs), not configs/mine.
        p.start(cli(),
                {"train", "-c", config, "--data-dir", "mine", "--max-steps", "1", "--run-dir",
                 "run-b", "--progress", "b.jsonl", "--set", "dataset.cache_dir=cache"});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        nlohmann::json b = started(dir + "/work/b.jsonl");
        QCOMPARE(b["dataset"]["cases"].get<int>(), 5);
        QVERIFY2(QString::fromStdString(b["dataset"]["cache"].get<std::string>())
                     .startsWith(QDir(dir + "/work/cache").absolutePath()),
                 b["dataset"]["cache"].dump().c_str());
        // --help says so.
        p.start(cli(), {"train", "--help"});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(QString::fromUtf8(p.readAllStandardOutput()).contains("working directory"));
    }

    void sigtermSavesAndExits()
    {
        const QString dir = diffseg::test::scratchDir("cli-train-term");
        const QString config = prepareRun(dir, 6);
        QProcess p;
        p.setWorkingDirectory(dir);
        p.setStandardOutputFile(dir + "/stdout.jsonl");
        p.start(cli(), {"train", "-c", config, "-e", "500", "--threads", "1"});
        QVERIFY(p.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(countSteps(dir + "/stdout.jsonl") >= 3, 60000);
        p.terminate(); // SIGTERM, as the GUI's Stop button sends
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 3);
        const auto events = readEvents(dir + "/stdout.jsonl");
        QVERIFY(!events.empty());
        // Dataset caching reports come first, then "started", then the steps.
        const auto started = std::find_if(events.begin(), events.end(),
                                          [](const auto& e) { return e["event"] == "started"; });
        const auto firstStep = std::find_if(events.begin(), events.end(),
                                            [](const auto& e) { return e["event"] == "step"; });
        QVERIFY(started != events.end() && started < firstStep);
        QCOMPARE((*started)["dataset"]["train"].get<int>(), 5);
        QCOMPARE(events.back()["event"].get<std::string>(), std::string("finished"));
        QCOMPARE(events.back()["reason"].get<std::string>(), std::string("stopped"));
        const auto ckpt =
            diffseg::core::engine::loadCheckpoint((dir + "/runs/tiny/last.dsckpt").toStdString());
        QCOMPARE(*ckpt.info.step, static_cast<std::int64_t>(lossesOf(events).rbegin()->first));
    }

    void killNineThenResumeFollowsTheSameCurve()
    {
        const QString dir = diffseg::test::scratchDir("cli-train-kill");
        const QString config = prepareRun(dir, 10);

        // The uninterrupted run.
        QProcess whole;
        whole.setWorkingDirectory(dir);
        whole.start(cli(), {"train", "-c", config, "--run-dir", "whole", "--threads", "1",
                            "--progress", dir + "/whole.jsonl"});
        QVERIFY(whole.waitForFinished(300000));
        QCOMPARE(whole.exitCode(), 0);
        const auto reference = lossesOf(readEvents(dir + "/whole.jsonl"));
        QCOMPARE(reference.size(), std::size_t{24}); // 8 images, batches of 2, 6 epochs

        // Killed with SIGKILL after a random number of steps, then resumed.
        const int killAfter = QRandomGenerator::global()->bounded(2, 21);
        qInfo("kill -9 after %d logged steps", killAfter);
        QProcess victim;
        victim.setWorkingDirectory(dir);
        victim.start(cli(), {"train", "-c", config, "--run-dir", "split", "--threads", "1",
                             "--progress", dir + "/first.jsonl"});
        QVERIFY(victim.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(countSteps(dir + "/first.jsonl") >= killAfter, 120000);
        ::kill(static_cast<pid_t>(victim.processId()), SIGKILL);
        QVERIFY(victim.waitForFinished(30000));
        QCOMPARE(victim.exitStatus(), QProcess::CrashExit);
        const auto before = lossesOf(readEvents(dir + "/first.jsonl"));

        QProcess resumed;
        resumed.setWorkingDirectory(dir);
        resumed.start(cli(), {"train", "-c", config, "--run-dir", "split", "--threads", "1",
                              "--resume", "--progress", dir + "/second.jsonl"});
        QVERIFY(resumed.waitForFinished(300000));
        QVERIFY2(resumed.exitCode() == 0, resumed.readAllStandardError().constData());
        const auto after = lossesOf(readEvents(dir + "/second.jsonl"));
        QVERIFY(!after.empty());
        QVERIFY(after.begin()->first <= before.rbegin()->first + 1); // nothing skipped
        QCOMPARE(after.rbegin()->first, std::int64_t{24});
        for (const auto& part : {before, after}) {
            for (const auto& [step, loss] : part) {
                QVERIFY2(std::abs(loss - reference.at(step)) <= 1e-6 * std::abs(loss) + 1e-9,
                         qPrintable(QString("step %1: %2 vs %3")
                                        .arg(step)
                                        .arg(loss, 0, 'g', 10)
                                        .arg(reference.at(step), 0, 'g', 10)));
            }
        }
        const auto a =
            diffseg::core::engine::loadCheckpoint((dir + "/whole/last.dsckpt").toStdString());
        const auto b =
            diffseg::core::engine::loadCheckpoint((dir + "/split/last.dsckpt").toStdString());
        for (std::size_t i = 0; i < a.model.size(); ++i) {
            QVERIFY2(a.model[i].second.allclose(b.model[i].second, 1e-5, 1e-6),
                     a.model[i].first.c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestCliTrain)
#include "TestCliTrain.moc"
