// The 2D lesion workflow of diffseg-studio driven as a user would: open (dialog-free paths, drag
// and drop, recent files), segment with a tiny freshly initialised model on the worker thread,
// browse the steps, brush, undo/redo, save, report; cancel; bad input; autosave and restore.

#include "GuiTestSupport.h"
#include "MainWindow.h"
#include "MaskOps.h"
#include "MenuActions.h"
#include "PhotoMode.h"
#include "SegmentationRunner.h"
#include "StudioTestSupport.h"
#include "TestSupport.h"
#include "TinyCheckpoint.h"
#include "image/ImageView.h"
#include "image/SegmentationView2D.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#include "metrics/ForegroundOverlap.h"
#include "panels/ModelPanel.h"
#include "panels/OverlayPanel.h"
#include "steps/EnsembleGallery.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDialog>
#include <QDockWidget>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableWidget>
#include <QThread>
#include <QTimer>
#include <QToolButton>
#include <QtTest>

using diffseg::widgets::SegmentationView2D;
using diffseg::widgets::StepBrowser;

class TestStudioWorkflow : public QObject
{
    Q_OBJECT

private:
    QString m_dir;
    QString m_checkpoint;
    QString m_photo;     ///< generated photo in <dir>/data/images
    QString m_photoMask; ///< its ground truth in <dir>/data/masks, found automatically

    static QString text(const QAction* a) { return a->text().remove(QLatin1Char('&')); }

    static QPoint at(SegmentationView2D* view, double x, double y)
    {
        return view->imageToWidget(QPointF(x, y)).toPoint();
    }

    /// Open -> segment -> browse -> brush -> undo/redo -> save -> report, on one image.
    void runWorkflow(const QString& imagePath, const QString& tag, bool expectGroundTruth)
    {
        MainWindow window(test::testOptions(m_dir, tag));
        window.resize(1440, 900);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY2(window.openPath(imagePath, true), qPrintable(window.lastError()));
        SegmentationView2D* view = window.photoMode()->view();
        const int w = view->image2D().width();
        const int h = view->image2D().height();
        QCOMPARE(view->hasGroundTruth(), expectGroundTruth);
        window.grab().save(QDir(test::outputDir()).filePath("Studio_" + tag + "_opened.png"));

        window.addModel(m_checkpoint);
        QCOMPARE(window.photoMode()->modelPanel()->currentCheckpoint(),
                 QFileInfo(m_checkpoint).absoluteFilePath());
        test::useFastSampling(window, 8, 3);

        // Only the GUI thread may touch widgets: every frame shown comes through it.
        bool offThread = false;
        connect(window.photoMode()->stepBrowser(), &StepBrowser::frameChanged, this,
                [&] { offThread = offThread || QThread::currentThread() != qApp->thread(); });
        QSignalSpy ended(&window, &MainWindow::segmentationEnded);
        QVERIFY(window.startSegmentation());
        QVERIFY(window.isSegmenting());
        QTRY_VERIFY_WITH_TIMEOUT(!window.isSegmenting(), 120000);
        QCOMPARE(ended.count(), 1);
        QCOMPARE(ended.first().first().toBool(), true);
        QVERIFY(!offThread);
        QVERIFY(window.photoMode()->runner()->output());
        const core::SegmentResult& result = *window.photoMode()->runner()->output()->photo();
        QCOMPARE(result.originalWidth, w);
        QCOMPARE(int(result.timesteps.size()), 8);
        QCOMPARE(window.photoMode()->stepBrowser()->availableSteps().size(), std::size_t(8));
        QCOMPARE(window.photoMode()->ensembleGallery()->members(), 3);
        // The mask was empty: the result became the mask.
        QCOMPARE(test::lesionPixels(view->mask()), test::lesionPixels(result.mask));
        window.grab().save(QDir(test::outputDir()).filePath("Studio_" + tag + "_segmented.png"));
        if (auto* ensemble = window.findChild<QDockWidget*>(QStringLiteral("galleryDock"))) {
            ensemble->raise();
            QApplication::processEvents();
            window.grab().save(QDir(test::outputDir()).filePath("Studio_" + tag + "_ensemble.png"));
            window.findChild<QDockWidget*>(QStringLiteral("stepDock"))->raise();
        }

        // Browse: the displayed frame changes, instantly.
        StepBrowser* browser = window.photoMode()->stepBrowser();
        browser->setFollowing(false);
        const double firstSwitch = test::msUntilPainted(view, [&] { browser->setCurrentStep(0); });
        QCOMPARE(window.photoMode()->shownStep(), 0);
        const QImage first = window.photoMode()->stepFrameView()->image();
        const double lastSwitch = test::msUntilPainted(view, [&] { browser->setCurrentStep(7); });
        QCOMPARE(window.photoMode()->shownStep(), 7);
        const QImage last = window.photoMode()->stepFrameView()->image();
        QVERIFY(!first.isNull() && !last.isNull());
        QVERIFY2(first != last, "step 0 and step 7 show the same frame");
        qInfo("step switch until the view has repainted (%dx%d image): %.1f ms, %.1f ms", w, h,
              firstSwitch, lastSwitch);
        QVERIFY2(firstSwitch >= 0 && lastSwitch >= 0, "the view was not repainted");
        // Generous for loaded CI machines with software OpenGL; the figures test measures it.
        QVERIFY2(std::max(firstSwitch, lastSwitch) < 1000, "switching steps is not instant");
        // x_t frames are kept too.
        auto* modeBox = browser->findChild<QComboBox*>(QStringLiteral("modeBox"));
        QVERIFY(modeBox);
        modeBox->setCurrentIndex(1);
        Q_EMIT modeBox->activated(1);
        QCOMPARE(browser->view(), diffseg::widgets::StepView::Noisy);
        QVERIFY(!window.photoMode()->stepFrameView()->image().isNull());
        QVERIFY(window.photoMode()->stepFrameView()->image() != last);
        modeBox->setCurrentIndex(0);
        Q_EMIT modeBox->activated(0);

        // Accept an early step: one undo step named after it.
        Q_EMIT browser->acceptStepRequested(2, -1);
        const core::Image2D step3 = view->mask().clone();
        if (view->undoStack().canUndo()) {
            QVERIFY(text(window.photoMode()->undoAction()).startsWith("Undo"));
        }

        // Brush a stroke through the middle with simulated mouse events.
        view->setFocus();
        window.findChild<QAction*>(QStringLiteral("toolBrush"))->trigger();
        QCOMPARE(view->tool(), SegmentationView2D::Tool::Brush);
        view->setBrushRadius(std::max(3.0, w / 40.0));
        const core::Image2D before = view->mask().clone();
        QList<QPoint> stroke;
        for (int i = 0; i <= 10; ++i) {
            stroke << at(view, w * (0.2 + 0.06 * i), h * 0.5);
        }
        test::drag(view, Qt::LeftButton, stroke);
        const core::Image2D painted = view->mask().clone();
        for (int i = 0; i <= 10; ++i) {
            QCOMPARE(int(painted.at<std::uint8_t>(int(w * (0.2 + 0.06 * i)), h / 2)), 1);
        }
        QCOMPARE(text(window.photoMode()->undoAction()), QStringLiteral("Undo Brush stroke"));
        QVERIFY(window.photoMode()->undoAction()->isEnabled());

        // Ctrl+Z and Ctrl+Shift+Z as the user types them.
        QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier);
        QVERIFY(std::memcmp(view->mask().rawData(), before.rawData(), before.byteSize()) == 0);
        QCOMPARE(text(window.photoMode()->redoAction()), QStringLiteral("Redo Brush stroke"));
        QTest::keyClick(view, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
        QVERIFY(std::memcmp(view->mask().rawData(), painted.rawData(), painted.byteSize()) == 0);
        QCOMPARE(text(window.photoMode()->undoAction()), QStringLiteral("Undo Brush stroke"));
        Q_UNUSED(step3);

        // Live metrics follow the edits.
        if (expectGroundTruth) {
            auto* metrics = window.photoMode()->overlayPanel()->findChild<QLabel*>(
                QStringLiteral("liveMetrics"));
            QTRY_VERIFY(metrics->text().contains(QStringLiteral("Dice")));
            const double dice = diffseg::core::foregroundDice(view->mask(), view->groundTruth());
            QTRY_VERIFY2(metrics->text().contains(QString::number(dice, 'f', 3)),
                         qPrintable(metrics->text()));
        }
        window.grab().save(QDir(test::outputDir()).filePath("Studio_" + tag + "_edited.png"));

        // Save: a 0/255 PNG of the image's size holding the mask.
        const QString maskPath = QDir(test::scratchDir("save-" + tag)).filePath("mask.png");
        QVERIFY2(window.photoMode()->saveMaskTo(maskPath, true), qPrintable(window.lastError()));
        QVERIFY(!window.photoMode()->hasUnsavedEdits());
        const QImage saved(maskPath);
        QCOMPARE(saved.size(), QSize(w, h));
        const QImage gray = saved.convertToFormat(QImage::Format_Grayscale8);
        std::size_t on = 0;
        for (int y = 0; y < gray.height(); ++y) {
            const uchar* line = gray.constScanLine(y);
            for (int x = 0; x < gray.width(); ++x) {
                QVERIFY(line[x] == 0 || line[x] == 255);
                on += line[x] == 255;
                if ((line[x] == 255) != (view->mask().at<std::uint8_t>(x, y) != 0)) {
                    QFAIL(qPrintable(QString("saved mask differs at %1,%2").arg(x).arg(y)));
                }
            }
        }
        QCOMPARE(on, test::lesionPixels(view->mask()));

        // A screenshot of the view and the report, as PDF and PNG.
        const QString out = test::scratchDir("report-" + tag);
        QVERIFY(window.photoMode()->saveViewScreenshot(QDir(out).filePath("view.png"), true));
        QCOMPARE(QImage(QDir(out).filePath("view.png")).size(), view->size());
        QVERIFY2(window.photoMode()->exportReport(QDir(out).filePath("report.pdf"), true),
                 qPrintable(window.lastError()));
        QFile pdf(QDir(out).filePath("report.pdf"));
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        QVERIFY(pdf.read(5) == "%PDF-");
        QVERIFY(pdf.size() > 20000);
        QVERIFY2(window.photoMode()->exportReport(QDir(out).filePath("report.png"), true),
                 qPrintable(window.lastError()));
        const QImage page(QDir(out).filePath("report.png"));
        QCOMPARE(page.width(), 1240);
        QVERIFY(std::abs(page.height() - 1240 * 297.0 / 210.0) < 2);
        page.save(QDir(test::outputDir()).filePath("Studio_" + tag + "_report.png"));
        QVERIFY(!window.photoMode()->exportReport(QDir(out).filePath("report.txt"), true));
        QVERIFY(window.lastError().contains("report.txt"));
    }

private Q_SLOTS:
    void initTestCase()
    {
        DIFFSEG_REQUIRE_GL_DISPLAY();
        m_dir = test::studioScratchDir("studio-workflow");
        m_checkpoint = test::writeTinyCheckpoint(QDir(m_dir).filePath("tiny.dsckpt"), 64, 50, 1);
        QDir(m_dir).mkpath("data/images");
        QDir(m_dir).mkpath("data/masks");
        m_photo = QDir(m_dir).filePath("data/images/lesion_0001.png");
        m_photoMask = QDir(m_dir).filePath("data/masks/lesion_0001_segmentation.png");
        core::writeImage(test::syntheticPhoto(480, 360), m_photo.toStdString());
        core::writeMaskPng(test::syntheticLesionMask(480, 360), m_photoMask.toStdString());
    }

    void groundTruthIsFoundNextToTheImage()
    {
        QCOMPARE(MainWindow::findGroundTruthFor(m_photo),
                 QFileInfo(m_photoMask).absoluteFilePath());
        // A name that only starts with the stem is not its mask.
        core::writeImage(test::syntheticPhoto(40, 30),
                         QDir(m_dir).filePath("data/images/lesion_00012.png").toStdString());
        QCOMPARE(
            MainWindow::findGroundTruthFor(QDir(m_dir).filePath("data/images/lesion_00012.png")),
            QString());
    }

    void workflowOnGeneratedImage() { runWorkflow(m_photo, "generated", true); }

    void workflowOnSharedIsicImage()
    {
        DIFFSEG_REQUIRE_SHARED(isic, "data/dermoscopy/isic2017/images/ISIC_0012099.jpg");
        runWorkflow(isic, "isic", true);
    }

    void cancelStopsSamplingAndKeepsTheSteps()
    {
        MainWindow window(test::testOptions(m_dir, "cancel"));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openPath(m_photo, true));
        window.addModel(m_checkpoint);
        test::useFastSampling(window, 50, 5, false); // DDPM: all 50 steps, several seconds
        // The GUI keeps serving events while the worker samples.
        int ticks = 0;
        QTimer heartbeat;
        connect(&heartbeat, &QTimer::timeout, [&] { ++ticks; });
        heartbeat.start(10);
        QSignalSpy ended(&window, &MainWindow::segmentationEnded);
        QVERIFY(window.startSegmentation());
        QTRY_VERIFY_WITH_TIMEOUT(window.photoMode()->stepBrowser()->availableSteps().size() >= 3,
                                 60000);
        QVERIFY(window.isSegmenting());
        QVERIFY2(ticks >= 5, qPrintable(QString("only %1 timer ticks while sampling").arg(ticks)));
        QVERIFY(window.photoMode()->shownStep() >= 0); // follow mode shows the newest step
        auto* cancel = window.photoMode()->modelPanel()->findChild<QPushButton*>(
            QStringLiteral("cancelButton"));
        QVERIFY(cancel && cancel->isEnabled());
        QTest::mouseClick(cancel, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.isSegmenting(), 30000);
        QCOMPARE(ended.count(), 1);
        QCOMPARE(ended.first().first().toBool(), false);
        const std::size_t kept = window.photoMode()->stepBrowser()->availableSteps().size();
        QVERIFY(kept >= 3 && kept < 50);
        QCOMPARE(test::lesionPixels(window.photoMode()->view()->mask()), std::size_t(0));
        QVERIFY(window.photoMode()->runner()->stepsProduced() < 50);
        // The steps so far stay browsable.
        window.photoMode()->stepBrowser()->setCurrentStep(0);
        QCOMPARE(window.photoMode()->shownStep(), 0);
        QVERIFY(!window.photoMode()->stepFrameView()->image().isNull());
        // And a new run starts normally afterwards.
        test::useFastSampling(window, 4, 2);
        QVERIFY(window.startSegmentation());
        QTRY_VERIFY_WITH_TIMEOUT(!window.isSegmenting(), 60000);
        QCOMPARE(window.photoMode()->stepBrowser()->availableSteps().size(), std::size_t(4));
    }

    void badInputShowsAMessageNamingTheFile()
    {
        MainWindow window(test::testOptions(m_dir, "errors", true));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QString dir = test::scratchDir("studio-bad");

        // An unreadable image.
        QFile truncated(dir + "/truncated.png");
        QVERIFY(truncated.open(QIODevice::WriteOnly));
        truncated.write("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
        truncated.close();
        QString box =
            test::catchMessageBox([&] { QVERIFY(!window.openPath(truncated.fileName())); });
        QVERIFY2(box.contains("truncated.png"), qPrintable(box));

        // A ground truth of the wrong size.
        QVERIFY(window.openPath(m_photo, true));
        core::writeMaskPng(test::syntheticLesionMask(100, 80),
                           (dir + "/small_mask.png").toStdString());
        box = test::catchMessageBox(
            [&] { QVERIFY(!window.photoMode()->loadGroundTruth(dir + "/small_mask.png")); });
        QVERIFY2(box.contains("small_mask.png") && box.contains("100 x 80"), qPrintable(box));

        // A mask that is not binary.
        core::writeImage(test::syntheticPhoto(480, 360), (dir + "/photo_mask.png").toStdString());
        box = test::catchMessageBox(
            [&] { QVERIFY(!window.photoMode()->loadGroundTruth(dir + "/photo_mask.png")); });
        QVERIFY2(box.contains("photo_mask.png"), qPrintable(box));

        // A corrupt checkpoint: the run fails with a message naming it, the window carries on.
        QFile corrupt(dir + "/corrupt.dsckpt");
        QVERIFY(corrupt.open(QIODevice::WriteOnly));
        corrupt.write(QByteArray(4096, 'x'));
        corrupt.close();
        window.addModel(corrupt.fileName());
        box = test::catchMessageBox([&] {
            QVERIFY(window.startSegmentation());
            QTRY_VERIFY_WITH_TIMEOUT(!window.isSegmenting(), 30000);
        });
        QVERIFY2(box.contains("corrupt.dsckpt"), qPrintable(box));
        QVERIFY(!window.isSegmenting());
        QVERIFY(window.photoMode()->view()->image2D().width() == 480);
        // The good model still works after the bad one.
        window.addModel(m_checkpoint);
        test::useFastSampling(window, 3, 2);
        QVERIFY(window.startSegmentation());
        QTRY_VERIFY_WITH_TIMEOUT(!window.isSegmenting(), 60000);
        QVERIFY(window.photoMode()->runner()->output());
    }

    void autosaveIsOfferedAfterACrash()
    {
        const QString name = "autosave";
        core::Image2D painted;
        QString sessionFolder;
        {
            auto crashed = std::make_unique<MainWindow>(test::testOptions(m_dir, name));
            crashed->show();
            QVERIFY(QTest::qWaitForWindowExposed(crashed.get()));
            QVERIFY(crashed->openPath(m_photo, true));
            SegmentationView2D* view = crashed->photoMode()->view();
            view->setTool(SegmentationView2D::Tool::Brush);
            view->setBrushRadius(10);
            test::drag(view, Qt::LeftButton, {at(view, 100, 100), at(view, 200, 120)});
            QVERIFY(crashed->photoMode()->hasUnsavedEdits());
            // The debounced autosave follows the gesture.
            sessionFolder = crashed->autosave().sessionFolder();
            QTRY_VERIFY(QFileInfo::exists(sessionFolder + "/mask.png"));
            QVERIFY(QFileInfo::exists(sessionFolder + "/session.json"));
            painted = view->mask().clone();
            // A second window meanwhile does not see a live session as recoverable.
            MainWindow other(test::testOptions(m_dir, name));
            QVERIFY(other.photoMode()->recoverableAutosaves().empty());
            // "Crash": the window goes away without closing.
        }
        MainWindow next(test::testOptions(m_dir, name));
        next.show();
        QVERIFY(QTest::qWaitForWindowExposed(&next));
        const auto records = next.photoMode()->recoverableAutosaves();
        QCOMPARE(records.size(), std::size_t(1));
        QCOMPARE(records[0].imagePath, QFileInfo(m_photo).absoluteFilePath());
        QCOMPARE(records[0].edits, 1);
        {
            // Interactive: the start-up question names the photo; closing it keeps the autosave.
            MainWindow prompted(test::testOptions(m_dir, name, true));
            const QString box =
                test::catchMessageBox([&] { prompted.photoMode()->offerAutosaveRestore(); });
            QVERIFY2(box.contains("lesion_0001.png") && box.contains("Restore"), qPrintable(box));
            QCOMPARE(prompted.currentPath(), QString());
        }
        QCOMPARE(next.photoMode()->recoverableAutosaves().size(), std::size_t(1));
        next.photoMode()->offerAutosaveRestore(); // not interactive: asks nothing, changes nothing
        QCOMPARE(next.currentPath(), QString());
        QVERIFY(next.photoMode()->restoreAutosave(records[0]));
        QCOMPARE(next.currentPath(), QFileInfo(m_photo).absoluteFilePath());
        const core::Image2D& restored = next.photoMode()->view()->mask();
        QVERIFY(std::memcmp(restored.rawData(), painted.rawData(), painted.byteSize()) == 0);
        QCOMPARE(text(next.photoMode()->undoAction()),
                 QStringLiteral("Undo Restore autosaved edits"));
        QVERIFY(next.photoMode()->view()->hasGroundTruth());
        QVERIFY(!QFileInfo::exists(sessionFolder));
        // A clean close leaves nothing to restore.
        QVERIFY(next.close());
        MainWindow after(test::testOptions(m_dir, name));
        QVERIFY(after.photoMode()->recoverableAutosaves().empty());
    }

    void recentFilesSurviveARestartAndMissingOnesArePruned()
    {
        const QString dir = test::scratchDir("studio-recent");
        const QString a = dir + "/a.png";
        const QString b = dir + "/b.png";
        core::writeImage(test::syntheticPhoto(64, 48), a.toStdString());
        core::writeImage(test::syntheticPhoto(64, 48), b.toStdString());
        {
            MainWindow window(test::testOptions(dir, "recent"));
            QVERIFY(window.openPath(a, true));
            QVERIFY(window.openPath(b, true));
        }
        MainWindow window(test::testOptions(dir, "recent"));
        QAction* recent = test::findMenuAction(window, "File", "Open Recent");
        QVERIFY(recent && recent->menu());
        QList<QAction*> items = recent->menu()->actions();
        QVERIFY(items.size() >= 2);
        QCOMPARE(items[0]->data().toString(), QFileInfo(b).absoluteFilePath());
        QCOMPARE(items[1]->data().toString(), QFileInfo(a).absoluteFilePath());
        items[1]->trigger();
        QCOMPARE(window.currentPath(), QFileInfo(a).absoluteFilePath());
        QVERIFY(QFile::remove(b));
        items = recent->menu()->actions();
        QAction* missing = nullptr;
        for (QAction* item : items) {
            if (item->data().toString() == QFileInfo(b).absoluteFilePath()) {
                missing = item;
            }
        }
        QVERIFY(missing);
        missing->trigger();
        QVERIFY2(window.lastError().contains("b.png") && window.lastError().contains("no longer"),
                 qPrintable(window.lastError()));
        QSettings settings(dir + "/recent.ini", QSettings::IniFormat);
        QCOMPARE(settings.value("recentFiles").toStringList(),
                 QStringList{QFileInfo(a).absoluteFilePath()});
        // A file gone between sessions is dropped at start, with a message.
        QVERIFY(QFile::remove(a));
        MainWindow restarted(test::testOptions(dir, "recent"));
        QVERIFY2(restarted.statusBar()->currentMessage().contains("a.png"),
                 qPrintable(restarted.statusBar()->currentMessage()));
        settings.sync();
        QVERIFY(settings.value("recentFiles").toStringList().isEmpty());
    }

    void dragAndDropOpensImagesGroundTruthAndModels()
    {
        MainWindow window(test::testOptions(m_dir, "drop"));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto drop = [&](const QString& path) {
            QMimeData data;
            data.setUrls({QUrl::fromLocalFile(path)});
            QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &data, Qt::LeftButton,
                                  Qt::NoModifier);
            QApplication::sendEvent(&window, &enter);
            QVERIFY(enter.isAccepted());
            QDropEvent dropEvent(QPointF(50, 50), Qt::CopyAction, &data, Qt::LeftButton,
                                 Qt::NoModifier);
            QApplication::sendEvent(&window, &dropEvent);
        };
        drop(m_photo);
        QCOMPARE(window.currentPath(), QFileInfo(m_photo).absoluteFilePath());
        window.photoMode()->view()->clearGroundTruth();
        drop(m_photoMask);
        QCOMPARE(window.currentPath(), QFileInfo(m_photo).absoluteFilePath());
        QVERIFY(window.photoMode()->view()->hasGroundTruth());
        drop(m_checkpoint);
        QCOMPARE(window.photoMode()->modelPanel()->currentCheckpoint(),
                 QFileInfo(m_checkpoint).absoluteFilePath());
    }

    void modelChooserListsTrainingRuns()
    {
        const QString dir = test::scratchDir("studio-runs");
        QDir(dir).mkpath("runs/small_cpu");
        QDir(dir).mkpath("runs/empty");
        QDir(dir).mkpath("models");
        QFile::copy(m_checkpoint, dir + "/runs/small_cpu/best.dsckpt");
        QFile::copy(m_checkpoint, dir + "/runs/small_cpu/last.dsckpt");
        QFile::copy(m_checkpoint, dir + "/models/mine.dsckpt");
        QFile::copy(m_checkpoint, dir + "/models/ph2_reference.pth");
        MainWindow window(test::testOptions(dir, "runs"));
        window.setRunsFolder(dir + "/runs");
        window.setModelsFolder(dir + "/models");
        auto* box = window.photoMode()->modelPanel()->findChild<QComboBox*>(
            QStringLiteral("checkpointBox"));
        QVERIFY(box);
        QStringList labels;
        for (int i = 0; i < box->count(); ++i) {
            labels << box->itemText(i);
        }
        QVERIFY2(labels.contains("run small_cpu: best") && labels.contains("run small_cpu: last") &&
                     labels.contains("mine.dsckpt") &&
                     labels.contains("ph2_reference.pth (reference, ph2)"),
                 qPrintable(labels.join(", ")));
        // The loaded model is reused while the checkpoint and device stay the same.
        QVERIFY(window.openPath(m_photo, true));
        window.photoMode()->modelPanel()->setCurrentCheckpoint(
            QFileInfo(dir + "/runs/small_cpu/best.dsckpt").absoluteFilePath());
        test::useFastSampling(window, 2, 1);
        QVERIFY(window.startSegmentation());
        QTRY_VERIFY_WITH_TIMEOUT(!window.isSegmenting(), 60000);
        const double load = window.photoMode()->runner()->output()->photo()->timings.load;
        QVERIFY(window.startSegmentation());
        QTRY_VERIFY_WITH_TIMEOUT(!window.isSegmenting(), 60000);
        QCOMPARE(window.photoMode()->runner()->output()->photo()->timings.load, load);
        QCOMPARE(QString::fromStdString(window.photoMode()->runner()->output()->model.path),
                 QFileInfo(dir + "/runs/small_cpu/best.dsckpt").absoluteFilePath());
    }

    void keysZoomFitAndChangeTheBrush()
    {
        MainWindow window(test::testOptions(m_dir, "keys"));
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY(window.openPath(m_photo, true));
        SegmentationView2D* view = window.photoMode()->view();
        view->setFocus();
        const double fit = view->zoom();
        QTest::keyClick(view, Qt::Key_Equal, Qt::ControlModifier);
        QVERIFY(view->zoom() > fit * 1.2);
        QTest::keyClick(view, Qt::Key_Minus, Qt::ControlModifier);
        QTest::keyClick(view, Qt::Key_Minus, Qt::ControlModifier);
        QVERIFY(view->zoom() < fit);
        QTest::keyClick(view, Qt::Key_0, Qt::ControlModifier);
        QCOMPARE(view->zoom(), fit);
        const double radius = view->brushRadius();
        QTest::keyClick(view, Qt::Key_BracketRight);
        QVERIFY(view->brushRadius() > radius);
        QCOMPARE(window.findChild<QSpinBox*>(QStringLiteral("brushSize"))->value(),
                 int(std::lround(view->brushRadius())));
        QTest::keyClick(view, Qt::Key_BracketLeft);
        QTest::keyClick(view, Qt::Key_BracketLeft);
        QVERIFY(view->brushRadius() < radius);
        QTest::keyClick(view, Qt::Key_B);
        QCOMPARE(view->tool(), SegmentationView2D::Tool::Brush);
        QTest::keyClick(view, Qt::Key_E);
        QCOMPARE(view->tool(), SegmentationView2D::Tool::Eraser);
        QTest::keyClick(view, Qt::Key_L);
        QCOMPARE(view->tool(), SegmentationView2D::Tool::Polygon);
        QTest::keyClick(view, Qt::Key_G);
        QCOMPARE(view->tool(), SegmentationView2D::Tool::Fill);
        QTest::keyClick(view, Qt::Key_V);
        QCOMPARE(view->tool(), SegmentationView2D::Tool::Navigate);
        // Fill with a click: one undo step named after it.
        QTest::keyClick(view, Qt::Key_G);
        QTest::mouseClick(view, Qt::LeftButton, Qt::NoModifier, at(view, 10, 10));
        QCOMPARE(text(window.photoMode()->undoAction()), QStringLiteral("Undo Fill region"));
        QCOMPARE(test::lesionPixels(view->mask()), std::size_t(480 * 360));
    }

    void shortcutsAreListedAndControlsExplained()
    {
        MainWindow window(test::testOptions(m_dir, "help"));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.showShortcuts();
        auto* dialog = window.findChild<QDialog*>(QStringLiteral("shortcutsDialog"));
        QVERIFY(dialog);
        auto* table = dialog->findChild<QTableWidget*>();
        QStringList rows;
        for (int i = 0; i < table->rowCount(); ++i) {
            rows << table->item(i, 0)->text() + " = " + table->item(i, 1)->text();
        }
        const QString all = rows.join("\n");
        for (const char* expected :
             {"Ctrl+Z = Undo", "Ctrl+Shift+Z", "Ctrl+O = Open", "[ = Smaller Brush",
              "] = Larger Brush", "N = Next Uncertain Region", "B = Brush", "Ctrl+0 = Fit",
              "Ctrl+S = Save Mask", ", = Previous Step", ". = Next Step"}) {
            QVERIFY2(all.contains(QLatin1String(expected)),
                     qPrintable(expected + QString("\n") + all));
        }
        window.grab().save(QDir(test::outputDir()).filePath("Studio_shortcuts.png"));
        dialog->grab().save(QDir(test::outputDir()).filePath("Studio_shortcuts_dialog.png"));
        dialog->close();

        // Every action in the menus says what it does; every control has a tooltip.
        for (QAction* menu : window.menuBar()->actions()) {
            for (QAction* a : menu->menu()->actions()) {
                if (!a->isSeparator() && !a->menu() && !a->objectName().isEmpty() &&
                    !a->objectName().startsWith("qt_")) {
                    QVERIFY2(!a->toolTip().isEmpty() && a->toolTip() != a->text().remove('&'),
                             qPrintable(a->objectName()));
                }
            }
        }
        QStringList missing;
        for (QWidget* w : window.findChildren<QWidget*>()) {
            const bool control = qobject_cast<QAbstractButton*>(w) || qobject_cast<QComboBox*>(w) ||
                                 qobject_cast<QAbstractSpinBox*>(w) || qobject_cast<QSlider*>(w);
            const QString cls = QString::fromLatin1(w->metaObject()->className());
            if (!control || cls.startsWith("QDockWidget") ||
                w->parent()->inherits("QAbstractSpinBox") || cls == "QToolBarExtension" ||
                !w->isVisibleTo(&window)) {
                continue;
            }
            QString tip = w->toolTip();
            if (auto* b = qobject_cast<QToolButton*>(w); b && b->defaultAction()) {
                tip = b->defaultAction()->toolTip();
            }
            if (tip.isEmpty()) {
                missing << cls + " " + w->objectName() + " '" +
                               (qobject_cast<QAbstractButton*>(w)
                                    ? qobject_cast<QAbstractButton*>(w)->text()
                                    : QString()) +
                               "'";
            }
        }
        QVERIFY2(missing.isEmpty(), qPrintable(missing.join("\n")));
    }
};

DIFFSEG_GUI_TEST_MAIN(TestStudioWorkflow)

#include "TestStudioWorkflow.moc"
