// Training from the GUI (issue 9) with the real `diffseg train` as the worker: the panel's
// dataset summary and presets; a tiny run started through the panel in the studio window, its
// progress, curves and validation samples arriving, Stop (exit status 3, last.dsckpt), the
// checkpoint in the model chooser, Resume to completion, the run listed after a restart; a worker
// killed with SIGKILL reported as crashed with its checkpoint and resumed; failures (a bad config
// key, unreadable images, a missing executable, a worker that ignores SIGTERM) reported while
// the GUI carries on.

#include "GuiTestSupport.h"
#include "MainWindow.h"
#include "StudioTestSupport.h"
#include "TestSupport.h"
#include "TinyTrainingRun.h"
#include "TrainingController.h"
#include "TrainingProcess.h"
#include "training/TrainingCharts.h"
#include "training/TrainingPanel.h"

#include <QAbstractButton>
#include <QAbstractSpinBox>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTextBlock>
#include <QTextDocument>
#include <QTreeWidget>
#include <QtTest>

#include <csignal>
#include <memory>

using diffseg::app::TrainingController;
using diffseg::app::TrainingProcess;
using diffseg::widgets::TrainingCharts;
using diffseg::widgets::TrainingPanel;

namespace {

/// The tiny config (tests/support/TinyTrainingRun.h) with a sampled Dice on two validation
/// images after every epoch, and `extra` sections appended.
QString writeConfig(const QString& dir, const QString& name = "tiny.yaml",
                    const QString& extra = {})
{
    return test::writeTinyTrainingConfig(
        dir + "/" + name, "  split: {mode: \"fractions\", fractions: [0.75, 0.25, 0.0]}\n",
        "  validation: {dice_every: 1, dice_images: 2, dice_steps: 3}\n", extra);
}

/// Fills the panel's form for a run of the tiny config.
void fillForm(TrainingPanel* panel, const QString& config, const QString& data,
              const QString& runsFolder, const QString& runName, int epochs)
{
    QVERIFY(panel->setConfigFile(config));
    panel->setDatasetFolder(data);
    panel->findChild<QSpinBox*>("trainingEpochs")->setValue(epochs);
    panel->findChild<QSpinBox*>("trainingBatch")->setValue(2);
    panel->findChild<QLineEdit*>("trainingLearningRate")->setText("0.001");
    panel->findChild<QSpinBox*>("trainingThreads")->setValue(1);
    panel->findChild<QLineEdit*>("trainingRunName")->setText(runName);
    panel->setRunsFolder(runsFolder);
}

QString lastEventOf(const QString& runDir)
{
    QFile f(runDir + "/progress.jsonl");
    if (!f.open(QIODevice::ReadOnly)) {
        return {};
    }
    const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
    return QString::fromUtf8(lines.isEmpty() ? QByteArray() : lines.back());
}

/// The tiny config's runs take 3 steps an epoch on the 8 cases (6 train, 2 validation).
constexpr int kStepsPerEpoch = 3;

} // namespace

class TestTrainingPanel : public QObject
{
    Q_OBJECT

private:
    QString m_dir;
    QString m_data;
    QString m_config;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!TrainingProcess::findExecutable().isEmpty(), "set DIFFSEG_CLI to diffseg");
        m_dir = test::scratchDir("training-panel");
        m_data = m_dir + "/data";
        test::makeLesionPairs(m_data, 8);
        m_config = writeConfig(m_dir);
    }

    void presetsDatasetAndCommandLine()
    {
        TrainingPanel panel;
        // The shipped presets are found through the resources folder.
        QStringList files;
        for (const auto& p : panel.presets()) {
            QVERIFY2(QFileInfo(p.configPath).isFile(), qPrintable(p.configPath));
            files << QFileInfo(p.configPath).fileName();
            QVERIFY(p.epochs > 0 && p.batchSize > 0 && p.learningRate > 0);
        }
        for (const char* expected :
             {"isic2018.yaml", "ph2.yaml", "small-cpu.yaml", "nifti-small-cpu.yaml"}) {
            QVERIFY2(files.contains(expected), qPrintable(files.join(", ")));
        }
        const auto smallCpu =
            std::find_if(panel.presets().begin(), panel.presets().end(),
                         [](const auto& p) { return p.configPath.endsWith("/small-cpu.yaml"); });
        QCOMPARE(smallCpu->epochs, 200);
        QCOMPARE(smallCpu->batchSize, 8);
        QCOMPARE(smallCpu->learningRate, 0.0005);

        // No dataset yet: Start explains instead of starting.
        QSignalSpy starts(&panel, &TrainingPanel::startRequested);
        panel.startButton()->click();
        QCOMPARE(starts.count(), 0);
        QVERIFY2(panel.message().contains("dataset"), qPrintable(panel.message()));

        // The layout, its counts and the split a run would make.
        QVERIFY(panel.setConfigFile(m_config));
        panel.setDatasetFolder(m_data);
        QVERIFY2(panel.datasetSummary().ok, qPrintable(panel.datasetSummary().error));
        QCOMPARE(panel.datasetSummary().layout, QString("images-masks"));
        QCOMPARE(panel.datasetSummary().cases, 8);
        QCOMPARE(panel.datasetSummary().train, 6);
        QCOMPARE(panel.datasetSummary().val, 2);
        QVERIFY(!panel.datasetSummary().volumes);
        const QString info = panel.findChild<QLabel*>("trainingDataInfo")->text();
        QVERIFY2(info.contains("images-masks") && info.contains("8") && info.contains("6 train"),
                 qPrintable(info));
        // A Diff-UNet preset on 2D images is pointed out.
        for (int i = 0; i < int(panel.presets().size()); ++i) {
            if (panel.presets()[i].volumetric) {
                panel.findChild<QComboBox*>("trainingPreset")->setCurrentIndex(i);
                break;
            }
        }
        QVERIFY2(panel.datasetSummary().text().contains("3D volumes"),
                 qPrintable(panel.datasetSummary().text()));
        // The Decathlon's own layout, described by its dataset.json, with the recipe of the
        // packaged hippocampus model.
        const QString hippocampus = test::sharedPath("data/volumes/msd_hippocampus");
        if (!hippocampus.isEmpty()) {
            for (int i = 0; i < int(panel.presets().size()); ++i) {
                if (panel.presets()[i].configPath.endsWith("/hippocampus-cpu.yaml")) {
                    panel.findChild<QComboBox*>("trainingPreset")->setCurrentIndex(i);
                }
            }
            panel.setDatasetFolder(hippocampus);
            const auto& s = panel.datasetSummary();
            QVERIFY2(s.ok, qPrintable(s.error));
            QCOMPARE(s.layout, QString("decathlon"));
            QVERIFY(s.volumes);
            QCOMPARE(s.cases, 208);
            QCOMPARE(s.train, 166);
            QCOMPARE(s.val, 42);
            QVERIFY2(s.text().contains("Hippocampus (MRI)") && s.text().contains("2 Posterior") &&
                         s.text().contains("CC-BY-SA 4.0"),
                     qPrintable(s.text()));
        }
        panel.setDatasetFolder(m_dir + "/nowhere");
        QVERIFY(!panel.datasetSummary().ok);
        QVERIFY(!panel.validate().isEmpty());

        // The command line the worker gets.
        diffseg::app::TrainingCommand c;
        c.configPath = m_config;
        c.dataDir = m_data;
        c.runDir = m_dir + "/runs/x";
        c.epochs = 7;
        c.batchSize = 4;
        c.learningRate = 2.5e-4;
        c.device = "cpu";
        c.threads = 1;
        QCOMPARE(c.arguments(), QStringList({"train", "-c", m_config, "--data-dir", m_data,
                                             "--run-dir", m_dir + "/runs/x", "-e", "7", "-b", "4",
                                             "-l", "0.00025", "--device", "cpu", "--threads", "1",
                                             "--progress", m_dir + "/runs/x/gui-progress.jsonl"}));
        c.resume = true;
        QCOMPARE(c.arguments().last(), QString("--resume"));
        // Data-parallel processes from the panel's Processes box become --nproc.
        auto* processes = panel.findChild<QSpinBox*>("trainingProcesses");
        QVERIFY(processes != nullptr);
        processes->setValue(2);
        QCOMPARE(panel.request().processes, 2);
        c.processes = panel.request().processes;
        const QStringList withRanks = c.arguments();
        QCOMPARE(withRanks.at(withRanks.indexOf("--nproc") + 1), QString("2"));

        // Errors are red in the log, and the lines after them are not.
        panel.appendLog("the worker said no", true);
        panel.appendLog("the worker carries on");
        const QTextDocument* log = panel.logView()->document();
        const auto colourOf = [log](int fromEnd) {
            const QTextBlock block = log->findBlockByNumber(log->blockCount() - fromEnd);
            return block.begin().fragment().charFormat().foreground().color();
        };
        QCOMPARE(log->lastBlock().text(), QString("the worker carries on"));
        QCOMPARE(colourOf(2), QColor(192, 40, 40));
        QVERIFY(colourOf(1) != QColor(192, 40, 40));

        // Every control says what it does.
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QStringList missing;
        for (QWidget* w : panel.findChildren<QWidget*>()) {
            const bool control = qobject_cast<QAbstractButton*>(w) || qobject_cast<QComboBox*>(w) ||
                                 qobject_cast<QLineEdit*>(w) || qobject_cast<QAbstractSpinBox*>(w);
            if (!control || !w->isVisibleTo(&panel) || w->parent()->inherits("QAbstractSpinBox") ||
                w->parent()->inherits("QComboBox") || w->parent()->inherits("QTabBar")) {
                continue;
            }
            if (w->toolTip().isEmpty()) {
                missing << QString::fromLatin1(w->metaObject()->className()) + " " +
                               w->objectName();
            }
        }
        QVERIFY2(missing.isEmpty(), qPrintable(missing.join("\n")));
    }

    /// Start -> progress, curves, samples -> Stop (status 3) -> the chooser offers the checkpoint
    /// -> Resume -> completed -> listed after a restart.
    void trainStopResumeInTheStudio()
    {
        const QString runs = m_dir + "/runs-studio";
        const QString runDir = runs + "/gui-tiny";
        auto window = std::make_unique<MainWindow>(test::testOptions(m_dir, "studio"));
        window->resize(1440, 900);
        window->show();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        QAction* train = window->findChild<QAction*>("train");
        QVERIFY(train);
        train->trigger();
        QVERIFY(window->trainingDock()->isVisible());
        TrainingController* controller = window->trainingController();
        TrainingPanel* panel = controller->panel();
        fillForm(panel, m_config, m_data, runs, "gui-tiny", 400);
        QSignalSpy ended(controller->process(), &TrainingProcess::finished);
        QSignalSpy offered(controller, &TrainingController::checkpointAvailable);

        QTest::mouseClick(panel->startButton(), Qt::LeftButton);
        QVERIFY2(controller->isRunning(), qPrintable(controller->lastError()));
        QVERIFY(!panel->startButton()->isEnabled() && panel->stopButton()->isEnabled());
        QCOMPARE(panel->runStatus(runDir), QString("running"));
        QVERIFY(controller->process()->processId() > 0);

        // Progress, the loss curve, the validation curves and samples arrive.
        // While the worker prepares the dataset the bar counts per mille of that (0..1000); the
        // optimizer steps come after it.
        QTRY_VERIFY_WITH_TIMEOUT(panel->progressBar()->maximum() == 400 * kStepsPerEpoch &&
                                     panel->progressBar()->value() >= 2,
                                 120000);
        QTRY_VERIFY_WITH_TIMEOUT(panel->charts()->pointCount(TrainingCharts::Series::Dice) >= 2,
                                 180000);
        QTRY_VERIFY(panel->charts()->shownPointCount(TrainingCharts::Series::StepLoss) >= 6);
        QVERIFY(panel->charts()->pointCount(TrainingCharts::Series::SmoothedLoss) >= 6);
        QVERIFY(panel->charts()->pointCount(TrainingCharts::Series::EpochLoss) >= 2);
        QVERIFY(panel->charts()->pointCount(TrainingCharts::Series::ValidationLoss) >= 2);
        QVERIFY(panel->sampleThumbnailCount() >= 4); // 2 images x 2 validations
        QVERIFY2(panel->progressBar()->text().contains("left"),
                 qPrintable(panel->progressBar()->text()));
        QVERIFY2(panel->statusText().contains("Epoch"), qPrintable(panel->statusText()));
        QVERIFY(panel->logView()->toPlainText().contains("diffseg train"));
        QTRY_VERIFY(panel->logView()->toPlainText().contains("epoch"));
        window->grab().save(QDir(test::outputDir()).filePath("Training_window_live.png"));
        panel->grab().save(QDir(test::outputDir()).filePath("Training_panel_live.png"));

        // Stop: SIGTERM, the worker saves last.dsckpt and exits with status 3.
        QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
        QCOMPARE(panel->stopButton()->text(), QString("Stopping..."));
        QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 60000);
        QCOMPARE(ended.count(), 1);
        QCOMPARE(ended[0][0].value<TrainingProcess::Outcome>(), TrainingProcess::Outcome::Stopped);
        QVERIFY(QFileInfo::exists(runDir + "/last.dsckpt"));
        QVERIFY2(lastEventOf(runDir).contains("\"reason\":\"stopped\""),
                 qPrintable(lastEventOf(runDir)));
        QCOMPARE(panel->runStatus(runDir), QString("stopped"));
        QVERIFY2(panel->message().contains("Stopped") && panel->message().contains("last.dsckpt"),
                 qPrintable(panel->message()));
        QVERIFY(panel->startButton()->isEnabled());
        QCOMPARE(panel->selectedRun(), runDir);
        QVERIFY(panel->resumeButton()->isEnabled());

        // The model chooser offers the run's checkpoints.
        QCOMPARE(offered.count(), 1);
        auto* chooser = window->findChild<QComboBox*>("checkpointBox");
        QVERIFY(chooser->findData(offered[0][0].toString()) >= 0);
        QVERIFY(chooser->findText("run gui-tiny: last") >= 0);

        // Resume to two epochs past where it stopped, and see it complete.
        const int done = panel->runInfo(runDir).epoch;
        const qint64 stoppedAt = panel->runInfo(runDir).step;
        QVERIFY(stoppedAt > 0);
        panel->resumeEpochsBox()->setValue(done + 2);
        QTest::mouseClick(panel->resumeButton(), Qt::LeftButton);
        QVERIFY2(controller->isRunning(), qPrintable(controller->lastError()));
        QVERIFY(controller->process()->command().resume);
        QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 180000);
        QCOMPARE(ended.count(), 2);
        QCOMPARE(ended[1][0].value<TrainingProcess::Outcome>(),
                 TrainingProcess::Outcome::Completed);
        QCOMPARE(panel->runStatus(runDir), QString("completed"));
        QCOMPARE(panel->progressBar()->value(), panel->progressBar()->maximum());
        QCOMPARE(panel->progressBar()->maximum(), (done + 2) * kStepsPerEpoch);
        // The resumed worker repeated no step in the curve: one point per step.
        QCOMPARE(panel->charts()->pointCount(TrainingCharts::Series::StepLoss),
                 (done + 2) * kStepsPerEpoch);
        QVERIFY(QFileInfo::exists(runDir + "/best.dsckpt"));
        QVERIFY(chooser->findText("run gui-tiny: best") >= 0);

        // After a restart the run is listed with its status and its curves come back.
        window.reset();
        window = std::make_unique<MainWindow>(test::testOptions(m_dir, "studio"));
        panel = window->trainingController()->panel();
        QCOMPARE(panel->runStatus(runDir), QString("completed"));
        QCOMPARE(panel->runsFolder(), QFileInfo(runs).absoluteFilePath());
        panel->selectRun(runDir);
        QCOMPARE(panel->charts()->pointCount(TrainingCharts::Series::StepLoss),
                 (done + 2) * kStepsPerEpoch);
        QVERIFY(panel->sampleThumbnailCount() >= 2);
        chooser = window->findChild<QComboBox*>("checkpointBox");
        QVERIFY(chooser->findText("run gui-tiny: best") >= 0);
        QVERIFY(chooser->findText("run gui-tiny: last") >= 0);
    }

    /// A worker killed with SIGKILL: reported as crashed with its last checkpoint, still so after
    /// a restart, and resumable to completion.
    void killedWorkerIsReportedAndResumable()
    {
        const QString runs = m_dir + "/runs-kill";
        const QString runDir = runs + "/gui-kill";
        QSettings settings(m_dir + "/kill.ini", QSettings::IniFormat);
        auto panel = std::make_unique<TrainingPanel>();
        auto controller = std::make_unique<TrainingController>(panel.get(), settings);
        fillForm(panel.get(), m_config, m_data, runs, "gui-kill", 400);
        QVERIFY(controller->start(panel->request()));
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(runDir + "/last.dsckpt") &&
                                     panel->progressBar()->value() >= 5,
                                 120000);
        const qint64 pid = controller->process()->processId();
        QVERIFY(pid > 0);
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 30000);
        QCOMPARE(panel->runStatus(runDir), QString("crashed"));
        QVERIFY2(panel->message().contains("died") && panel->message().contains("last.dsckpt"),
                 qPrintable(panel->message()));
        QVERIFY(controller->lastError().contains("last checkpoint"));
        QVERIFY(panel->startButton()->isEnabled());
        QVERIFY(panel->resumeButton()->isEnabled());

        // A restart still knows it crashed.
        controller.reset();
        panel = std::make_unique<TrainingPanel>();
        controller = std::make_unique<TrainingController>(panel.get(), settings);
        QCOMPARE(panel->runStatus(runDir), QString("crashed"));
        QVERIFY(panel->runInfo(runDir).resumable());
        const int done = panel->runInfo(runDir).epoch;

        panel->selectRun(runDir);
        QVERIFY(panel->charts()->pointCount(TrainingCharts::Series::StepLoss) >= 5);
        panel->resumeEpochsBox()->setValue(done + 1);
        panel->resumeButton()->click(); // the panel is not shown
        QVERIFY2(controller->isRunning(), qPrintable(controller->lastError()));
        QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 180000);
        QCOMPARE(panel->runStatus(runDir), QString("completed"));
        QVERIFY2(lastEventOf(runDir).contains("\"reason\":\"completed\""),
                 qPrintable(lastEventOf(runDir)));
    }

    /// Two data-parallel processes from the panel's Processes box: the run trains with a global
    /// batch of 2 x 2 (rank 0's progress says so), completes, and a killed rank shows as a
    /// failed run with its last checkpoint, as a crashed single worker does.
    void twoProcessesFromThePanel()
    {
        const QString runs = m_dir + "/runs-ddp";
        const QString runDir = runs + "/gui-ddp";
        QSettings settings(m_dir + "/ddp.ini", QSettings::IniFormat);
        auto panel = std::make_unique<TrainingPanel>();
        auto controller = std::make_unique<TrainingController>(panel.get(), settings);
        fillForm(panel.get(), m_config, m_data, runs, "gui-ddp", 2);
        panel->findChild<QSpinBox*>("trainingProcesses")->setValue(2);
        QSignalSpy ended(controller->process(), &TrainingProcess::finished);
        QVERIFY(controller->start(panel->request()));
        QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 180000);
        QCOMPARE(ended.count(), 1);
        QCOMPARE(ended[0][0].value<TrainingProcess::Outcome>(),
                 TrainingProcess::Outcome::Completed);
        QCOMPARE(panel->runStatus(runDir), QString("completed"));
        QFile progress(runDir + "/progress.jsonl");
        QVERIFY(progress.open(QIODevice::ReadOnly));
        const QByteArray log = progress.readAll();
        QVERIFY2(log.contains("\"world_size\":2") && log.contains("\"global_batch_size\":4"),
                 log.left(2000).constData());
        // 6 training cases in global batches of 4: 2 steps an epoch, one curve point each.
        QCOMPARE(panel->charts()->pointCount(TrainingCharts::Series::StepLoss), 2 * 2);

        // A long run whose rank 1 is killed: the job ends, reported as failed, resumable.
        const QString failedDir = runs + "/gui-ddp-kill";
        fillForm(panel.get(), m_config, m_data, runs, "gui-ddp-kill", 400);
        panel->findChild<QSpinBox*>("trainingProcesses")->setValue(2);
        QVERIFY(controller->start(panel->request()));
        QTRY_VERIFY_WITH_TIMEOUT(panel->progressBar()->maximum() == 400 * 2 &&
                                     panel->progressBar()->value() >= 3,
                                 120000);
        // The launcher's children are the ranks, in rank order.
        const qint64 launcher = controller->process()->processId();
        QFile children(QString("/proc/%1/task/%1/children").arg(launcher));
        QVERIFY(children.open(QIODevice::ReadOnly));
        const QList<QByteArray> ranks = children.readAll().trimmed().split(' ');
        QCOMPARE(ranks.size(), 2);
        ::kill(static_cast<pid_t>(ranks[1].toLongLong()), SIGKILL);
        QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 60000);
        QCOMPARE(ended.count(), 2);
        QCOMPARE(ended[1][0].value<TrainingProcess::Outcome>(), TrainingProcess::Outcome::Failed);
        QCOMPARE(panel->runStatus(failedDir), QString("failed"));
        QVERIFY2(panel->message().contains("another rank died"), qPrintable(panel->message()));
        QVERIFY(panel->runInfo(failedDir).resumable());
    }

    /// A run on real photos (the shared ISIC 2017 pairs, copied so that the image cache is
    /// written here and not into the shared folder) shown while it trains: the layout and split
    /// found, the validation samples of those photos; the README's screenshots.
    void trainingOnPhotosWhileShown()
    {
        DIFFSEG_REQUIRE_SHARED(source, "data/dermoscopy/isic2017");
        const QString data = m_dir + "/isic2017";
        for (const char* sub : {"images", "masks"}) {
            QVERIFY(QDir().mkpath(data + "/" + sub));
            const QDir from(source + "/" + sub);
            for (const QString& name : from.entryList(QDir::Files)) {
                QVERIFY(QFile::copy(from.filePath(name), data + "/" + sub + "/" + name));
            }
        }
        // The tiny network at 48x48 with all four validation photos sampled.
        QFile tiny(m_config);
        QVERIFY(tiny.open(QIODevice::ReadOnly));
        QString yaml = QString::fromUtf8(tiny.readAll());
        yaml.replace("input_size: 32", "input_size: 48")
            .replace("dice_images: 2", "dice_images: 4");
        const QString config = m_dir + "/photos.yaml";
        QFile out(config);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(yaml.toUtf8());
        out.close();

        const QString runs = m_dir + "/runs-photos";
        const QString runDir = runs + "/isic-tiny";
        MainWindow window(test::testOptions(m_dir, "photos"));
        window.resize(1600, 1000);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.findChild<QAction*>("train")->trigger();
        TrainingController* controller = window.trainingController();
        TrainingPanel* panel = controller->panel();
        fillForm(panel, config, data, runs, "isic-tiny", 40);
        QCOMPARE(panel->datasetSummary().layout, QString("images-masks"));
        QCOMPARE(panel->datasetSummary().cases, 16);
        QCOMPARE(panel->datasetSummary().train, 12);
        QCOMPARE(panel->datasetSummary().val, 4);
        QVERIFY(controller->start(panel->request()));

        QTRY_VERIFY_WITH_TIMEOUT(panel->charts()->pointCount(TrainingCharts::Series::Dice) >= 3,
                                 240000);
        QCOMPARE(panel->progressBar()->maximum(), 40 * 6);
        QVERIFY(panel->sampleThumbnailCount() >= 12); // 4 photos x 3 validations
        int photos = 0;
        for (const QLabel* label : panel->findChildren<QLabel*>()) {
            photos += !label->pixmap().isNull() && label->toolTip().startsWith("ISIC_") ? 1 : 0;
        }
        QVERIFY2(photos >= 12, qPrintable(QString::number(photos)));
        panel->charts()->flush();
        QTest::qWait(50);
        window.grab().save(QDir(test::outputDir()).filePath("Training_window_photos.png"));
        panel->grab().save(QDir(test::outputDir()).filePath("Training_panel_photos.png"));

        controller->stop();
        QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 60000);
        QCOMPARE(panel->runStatus(runDir), QString("stopped"));
        QVERIFY(!QFileInfo::exists(source + "/.diffseg-cache"));
    }

    /// Failures end the run, say why, and leave the GUI working.
    void failuresAreReported()
    {
        QSettings settings(m_dir + "/fail.ini", QSettings::IniFormat);
        TrainingPanel panel;
        TrainingController controller(&panel, settings);
        const QString runs = m_dir + "/runs-fail";

        // A misspelt key: diffseg names it.
        fillForm(&panel, writeConfig(m_dir, "bad.yaml", "testing: {ensembel: 3}\n"), m_data, runs,
                 "bad-key", 3);
        QVERIFY(controller.start(panel.request()));
        QTRY_VERIFY_WITH_TIMEOUT(!controller.isRunning(), 60000);
        QCOMPARE(panel.runStatus(runs + "/bad-key"), QString("failed"));
        QVERIFY2(panel.message().contains("testing.ensembel"), qPrintable(panel.message()));
        QVERIFY(panel.logView()->toPlainText().contains("testing.ensembel"));

        // Images that cannot be decoded: the worker's `failed` event says which.
        const QString broken = m_dir + "/broken";
        test::makeLesionPairs(broken, 4);
        QFile garbage(broken + "/images/lesion01.png");
        QVERIFY(garbage.open(QIODevice::WriteOnly | QIODevice::Truncate));
        garbage.write("not a PNG at all");
        garbage.close();
        fillForm(&panel, m_config, broken, runs, "broken-data", 3);
        QVERIFY(controller.start(panel.request()));
        QTRY_VERIFY_WITH_TIMEOUT(!controller.isRunning(), 60000);
        QCOMPARE(panel.runStatus(runs + "/broken-data"), QString("failed"));
        QVERIFY2(panel.message().contains("lesion01"), qPrintable(panel.message()));

        // A run folder that already holds a checkpoint is not started over.
        QDir().mkpath(runs + "/taken");
        QFile(runs + "/taken/last.dsckpt").open(QIODevice::WriteOnly);
        fillForm(&panel, m_config, m_data, runs, "taken", 3);
        QVERIFY(!controller.start(panel.request()));
        QVERIFY2(controller.lastError().contains("Resume"), qPrintable(controller.lastError()));

        // No executable.
        fillForm(&panel, m_config, m_data, runs, "no-exe", 3);
        controller.process()->setExecutable(m_dir + "/no-such-diffseg");
        controller.start(panel.request());
        QTRY_VERIFY_WITH_TIMEOUT(!controller.isRunning(), 10000);
        QCOMPARE(panel.runStatus(runs + "/no-exe"), QString("failed"));
        QVERIFY2(panel.message().contains("no-such-diffseg"), qPrintable(panel.message()));

        // A worker that runs out of memory (CUDA's allocator: a `failed` event, exit status 1):
        // a stand-in that speaks the protocol, since no test machine can be made to run out.
        const QString oomRun = QFileInfo(runs + "/oom").absoluteFilePath();
        const QString oomCheckpoint = oomRun + "/last.dsckpt";
        QByteArray events;
        for (const QJsonObject& e :
             {QJsonObject{{"event", "started"}, {"epochs", 10}, {"total_steps", 30}},
              QJsonObject{{"event", "step"},
                          {"epoch", 1},
                          {"epochs", 10},
                          {"step", 3},
                          {"total_steps", 30},
                          {"loss", 0.9}},
              QJsonObject{
                  {"event", "checkpoint"}, {"kind", "last"}, {"path", oomCheckpoint}, {"step", 3}},
              QJsonObject{{"event", "failed"},
                          {"reason", "CUDA out of memory. Tried to allocate 2.00 GiB"},
                          {"error_kind", "out of memory"},
                          {"last_checkpoint", oomCheckpoint}}}) {
            events += QJsonDocument(e).toJson(QJsonDocument::Compact) + "\n";
        }
        const QString oom = m_dir + "/oom.sh";
        QFile oomScript(oom);
        QVERIFY(oomScript.open(QIODevice::WriteOnly));
        oomScript.write("#!/bin/sh\ncd '" + oomRun.toUtf8() + "' || exit 9\n: > last.dsckpt\n" +
                        "cat > progress.jsonl <<'EOF'\n" + events +
                        "EOF\ncat progress.jsonl >> gui-progress.jsonl\n" +
                        "echo 'failed: CUDA out of memory' >&2\nexit 1\n");
        oomScript.close();
        oomScript.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        controller.process()->setExecutable(oom);
        fillForm(&panel, m_config, m_data, runs, "oom", 3);
        QVERIFY(controller.start(panel.request()));
        QTRY_VERIFY_WITH_TIMEOUT(!controller.isRunning(), 10000);
        QCOMPARE(panel.runStatus(oomRun), QString("failed"));
        QVERIFY2(panel.message().contains("out of memory") &&
                     panel.message().contains("smaller batch size") &&
                     panel.message().contains(oomCheckpoint),
                 qPrintable(panel.message()));
        QCOMPARE(panel.charts()->pointCount(TrainingCharts::Series::StepLoss), 1);
        QCOMPARE(panel.selectedRun(), oomRun);
        QVERIFY(panel.resumeButton()->isEnabled());
        QVERIFY(panel.startButton()->isEnabled());

        // A worker that ignores SIGTERM is killed after the stop timeout, with a message.
        const QString stubborn = m_dir + "/stubborn.sh";
        QFile script(stubborn);
        QVERIFY(script.open(QIODevice::WriteOnly));
        script.write("#!/bin/sh\ntrap '' TERM\necho \"working OMP_WAIT_POLICY=$OMP_WAIT_POLICY "
                     "OMP_NUM_THREADS=$OMP_NUM_THREADS\"\nexec sleep 30\n");
        script.close();
        script.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        controller.process()->setExecutable(stubborn);
        controller.process()->setStopTimeout(1500);
        fillForm(&panel, m_config, m_data, runs, "stubborn", 3);
        // The worker's OpenMP threads sleep while they wait whatever the studio inherited:
        // spinning ones made steps 3-8x slower on two cores.
        const QByteArray inherited = qgetenv("OMP_WAIT_POLICY");
        qputenv("OMP_WAIT_POLICY", "ACTIVE");
        const bool started = controller.start(panel.request());
        qputenv("OMP_WAIT_POLICY", inherited);
        QVERIFY(started);
        QTRY_VERIFY(panel.logView()->toPlainText().contains("working"));
        QVERIFY2(panel.logView()->toPlainText().contains(
                     "working OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1"),
                 qPrintable(panel.logView()->toPlainText()));
        controller.stop();
        QTRY_VERIFY_WITH_TIMEOUT(!controller.isRunning(), 10000);
        QVERIFY2(panel.message().contains("did not stop") && panel.message().contains("killed"),
                 qPrintable(panel.message()));
        QVERIFY(panel.startButton()->isEnabled());
    }
};

DIFFSEG_GUI_TEST_MAIN(TestTrainingPanel)

#include "TestTrainingPanel.moc"
