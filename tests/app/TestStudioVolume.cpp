// The volume (CT/MRI) workflow of diffseg-studio driven as a user would, on a generated CT phantom
// (always) and on the shared TotalSegmentator CT (when present): open (paths, drag and drop, a
// DICOM folder with two series), segment with a tiny freshly initialised Diff-UNet on the worker
// thread, browse the steps, heat maps in the slices and in 3D, scroll the slices, brush on the
// model's result, undo, save as NIfTI and NRRD and reopen aligned with the input; cancel; bad
// input; the photo and volume workspaces keep their own keys.

#include "GuiTestSupport.h"
#include "MainWindow.h"
#include "PhotoMode.h"
#include "StudioTestSupport.h"
#include "TestSupport.h"
#include "TinyCheckpoint.h"
#include "TinyVolumeCheckpoint.h"
#include "VolumeMode.h"
#include "data/DemoData.h"
#include "io/VolumeReader.h"
#include "io/VolumeWriter.h"
#include "panels/ModelPanel.h"
#include "panels/VolumePanel.h"
#include "runtime/ResourcePaths.h"
#include "steps/StepBrowser.h"
#include "volume/SliceView.h"
#include "volume/VolumeView3D.h"
#include "volume/VolumeWorkspace.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QMimeData>
#include <QSignalSpy>
#include <QStatusBar>
#include <QThread>
#include <QTimer>
#include <QtTest>

#include <cstring>

using diffseg::app::VolumeMode;
using diffseg::widgets::SliceView;
using diffseg::widgets::StepBrowser;
using diffseg::widgets::StepView;
using diffseg::widgets::VolumeWorkspace;

namespace {

bool sameVoxels(const core::Volume& a, const core::Volume& b)
{
    return a.byteSize() == b.byteSize() && a.pixelType() == b.pixelType() &&
           std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

void wheel(QWidget* w, const QPoint& at, int notches)
{
    QWheelEvent e(QPointF(at), w->mapToGlobal(QPointF(at)), QPoint(), QPoint(0, 120 * notches),
                  Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(w, &e);
}

void dropOn(QWidget* window, const QString& path)
{
    QMimeData data;
    data.setUrls({QUrl::fromLocalFile(path)});
    QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(window, &enter);
    QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(window, &drop);
}

} // namespace

class TestStudioVolume : public QObject
{
    Q_OBJECT

private:
    QString m_dir;
    QString m_checkpoint;      ///< tiny Diff-UNet
    QString m_photoCheckpoint; ///< tiny DermoSegDiff
    QString m_phantom;         ///< generated CT phantom, NIfTI
    QString m_phantomLabels;   ///< its liver/lesion labels, found next to it

    /// Open -> segment -> browse -> heat maps -> scroll -> brush -> undo -> save -> reopen.
    void runWorkflow(const QString& volumePath, const QString& tag, const QString& groundTruth)
    {
        MainWindow window(test::testOptions(m_dir, tag));
        window.resize(1440, 900);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY2(window.openPath(volumePath, true), qPrintable(window.volumeMode()->lastError()));
        VolumeMode* vm = window.volumeMode();
        QVERIFY(vm->isActive());
        // The 3D view's OpenGL widget made Qt re-create the native window: activate it again for
        // the window shortcuts (Xvfb has no window manager to do it).
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        const core::LoadedVolume input = core::readVolume(volumePath.toStdString());
        VolumeWorkspace* ws = vm->workspace();
        QCOMPARE(ws->volume().size(), input.volume.size());
        QVERIFY(ws->volume().geometry().isClose(input.volume.geometry(), 0.0));
        // The photo workspace's docks, tool bar and keys are away; the volume's are there.
        QVERIFY(window.findChild<QDockWidget*>("modelDock")->isHidden());
        QVERIFY(window.findChild<QDockWidget*>("volumePanelDock")->isVisible());
        QVERIFY(window.findChild<QDockWidget*>("volumeStepsDock")->isVisible());
        QVERIFY(!window.findChild<QAction*>("saveMask")->isVisible());
        QVERIFY(!window.findChild<QAction*>("undo")->isVisible());
        QVERIFY(vm->action("volumeSave")->isVisible());
        QVERIFY(vm->action("volumeUndo")->isVisible());
        auto* gl = ws->view3D()->renderWidget();
        QTRY_VERIFY_WITH_TIMEOUT(gl->renderCount() > 0, 60000);
        if (!groundTruth.isEmpty()) {
            if (ws->groundTruth().empty()) {
                QVERIFY2(vm->loadLabelMap(groundTruth, VolumeMode::LabelRole::GroundTruth, true),
                         qPrintable(vm->lastError()));
            }
            QVERIFY(!ws->groundTruth().empty());
        }

        // The volume chooser lists the Diff-UNet only; the photo chooser keeps the photo model.
        window.addModel(m_photoCheckpoint);
        window.addModel(m_checkpoint);
        QCOMPARE(vm->panel()->currentCheckpoint(), QFileInfo(m_checkpoint).absoluteFilePath());
        // ... and the packaged Diff-UNets (demo, hippocampus), which both choosers always offer.
        auto* volumeBox = vm->panel()->findChild<QComboBox*>("volumeCheckpoint");
        const bool packaged = QFileInfo::exists(
            QString::fromStdString(core::resourcePath("models/diffunet-demo.dsckpt")));
        QCOMPARE(volumeBox->count(),
                 1 + int(core::packagedModels(core::PackagedModelKind::Volume).size()));
        bool demoListed = false;
        for (int i = 0; i < volumeBox->count(); ++i) {
            demoListed = demoListed || volumeBox->itemText(i).contains("diffunet-demo");
        }
        QCOMPARE(demoListed, packaged);
        QCOMPARE(window.photoMode()->modelPanel()->currentCheckpoint(),
                 QFileInfo(m_photoCheckpoint).absoluteFilePath());
        test::useVolumeSampling(vm, 3, 0.25, 1);

        // Only the GUI thread touches widgets; the GUI serves a timer while the model runs.
        bool offThread = false;
        connect(vm->stepBrowser(), &StepBrowser::frameChanged, this,
                [&] { offThread = offThread || QThread::currentThread() != qApp->thread(); });
        int ticks = 0;
        QTimer ticker;
        ticker.setInterval(10);
        connect(&ticker, &QTimer::timeout, this, [&] { ++ticks; });
        QSignalSpy ended(&window, &MainWindow::segmentationEnded);
        QSignalSpy progress(vm->runner(), &diffseg::app::SegmentationRunner::progressAvailable);
        QElapsedTimer clock;
        clock.start();
        QVERIFY(window.startSegmentation()); // Ctrl+R's target: the volume workspace is shown
        QVERIFY(vm->isSegmenting());
        ticker.start();
        QTRY_VERIFY_WITH_TIMEOUT(!vm->isSegmenting(), 600000);
        ticker.stop();
        const double seconds = clock.elapsed() / 1000.0;
        QCOMPARE(ended.count(), 1);
        QCOMPARE(ended.first().first().toBool(), true);
        QVERIFY(!offThread);
        QVERIFY(progress.count() >= 1);
        qInfo("FIGURE %s: segmented in %.2f s; GUI served %d of ~%d 10 ms timer ticks; %d progress "
              "notifications (%d coalesced)",
              qPrintable(tag), seconds, ticks, static_cast<int>(seconds * 100),
              vm->runner()->progressPosted(), vm->runner()->progressSkipped());
        QVERIFY(vm->output());
        const core::Segment3DResult& r = *vm->output()->volume();
        QVERIFY(r.labels.isAlignedWith(input.volume, 0.0));
        QCOMPARE(r.steps, 3);
        QCOMPARE(vm->stepFrames().size(), std::size_t(3));
        for (const auto& frame : vm->stepFrames()) {
            QVERIFY(frame.labels.isAlignedWith(input.volume, 0.0));
            QCOMPARE(frame.foreground.pixelType(), core::PixelType::UInt8);
        }
        StepBrowser* browser = vm->stepBrowser();
        QCOMPARE(browser->availableSteps(), (std::vector<int>{0, 1, 2}));
        QVERIFY(vm->stepCacheBytes() > 0);
        // The labels were empty: the result became the labels, one undo step.
        QCOMPARE(ws->undoStack().size(), std::size_t(1));
        QCOMPARE(ws->undoStack().undoTitle(), std::string("Accept AI result"));
        QVERIFY(sameVoxels(ws->labels(), r.labels));
        QVERIFY(vm->action("volumeUndo")->text().contains("Accept AI result"));
        window.grab().save(
            QDir(test::outputDir()).filePath("StudioVolume_" + tag + "_segmented.png"));

        // Browse: each step's outline (magenta) in the slices, instantly; its probability as the
        // heat map; its labels as the 3D surface.
        auto* axial = ws->sliceView(core::SliceOrientation::Axial);
        browser->setFollowing(false);
        for (int s : {0, 2, 1}) {
            const double ms = test::msUntilPainted(axial, [&] { browser->setCurrentStep(s); });
            QVERIFY2(ms >= 0.0 && ms < 3000.0, qPrintable(QString::number(ms)));
            qInfo("FIGURE %s: step %d shown in the slices after %.1f ms", qPrintable(tag), s, ms);
            QCOMPARE(browser->currentStep(), s);
        }
        browser->setView(StepView::Probability);
        QCOMPARE(ws->overlay().pixelType(), core::PixelType::UInt8);
        QVERIFY(sameVoxels(ws->overlay(), vm->stepFrames()[1].foreground));
        browser->setView(StepView::Labels);
        browser->setSurfaceIn3d(true);
        QVERIFY(!test::renderedFrame(gl).isNull());
        browser->setSurfaceIn3d(false);
        browser->setPreviewInViews(false);

        // Heat maps: probability, entropy and step entropy, in the slices and in 3D.
        vm->setHeatMap(1);
        QVERIFY(sameVoxels(ws->overlay(), vm->output()->foreground));
        vm->setHeatMap(2);
        QVERIFY(ws->overlay().rawData() == r.entropy.rawData());
        vm->setHeatMap(3);
        QVERIFY(ws->overlay().rawData() == r.stepEntropy.rawData());
        // What `diffseg-studio --heatmap N --segment VOLUME` calls: the volume's heat maps.
        window.setHeatmapChoice(1);
        QCOMPARE(vm->panel()->heatMap(), 1);
        QVERIFY(sameVoxels(ws->overlay(), vm->output()->foreground));
        window.setHeatmapChoice(3);
        QCOMPARE(vm->panel()->heatMap(), 3);
        QVERIFY(vm->panel()->findChild<QLabel*>("volumeLegend")->isVisible());
        ws->view3D()->setOverlayMode(diffseg::widgets::VolumeScene::OverlayMode::Surface);
        QVERIFY(!test::renderedFrame(gl).isNull());
        window.grab().save(
            QDir(test::outputDir()).filePath("StudioVolume_" + tag + "_uncertainty.png"));
        ws->view3D()->setOverlayMode(diffseg::widgets::VolumeScene::OverlayMode::Hidden);

        // Scroll: wheel, Up/Down, PgUp, Home/End; the crosshair follows in the other views.
        axial->setFocus();
        const int first = axial->slice();
        const QPoint centre = axial->rect().center();
        wheel(axial, centre, 1);
        QCOMPARE(axial->slice(), std::min(first + 1, axial->sliceCount() - 1));
        wheel(axial, centre, -2);
        QCOMPARE(axial->slice(), std::max(first - 1, 0));
        QTest::keyClick(axial, Qt::Key_Up);
        QCOMPARE(axial->slice(), first);
        QTest::keyClick(axial, Qt::Key_End);
        QCOMPARE(axial->slice(), axial->sliceCount() - 1);
        QTest::keyClick(axial, Qt::Key_Home);
        QCOMPARE(axial->slice(), 0);
        auto* coronal = ws->sliceView(core::SliceOrientation::Coronal);
        QCOMPARE(static_cast<int>(coronal->crosshair()[2]), 0);
        axial->setSlice(axial->sliceCount() / 2);

        // Brush on the model's result in the axial view, then Ctrl+Z back to the result.
        vm->action("volumeToolBrush")->trigger();
        QCOMPARE(axial->tool(), SliceView::Tool::Brush);
        ws->setBrushRadiusMm(3.0 * ws->volume().geometry().spacing[0]);
        ws->setPaintLabel(
            2); // a label the two-class model never predicts: the stroke changes labels
        const auto size = axial->image().size();
        const QList<QPoint> stroke = {
            axial->imageToWidget(QPointF(size.width() * 0.3, size.height() * 0.4)).toPoint(),
            axial->imageToWidget(QPointF(size.width() * 0.5, size.height() * 0.5)).toPoint(),
            axial->imageToWidget(QPointF(size.width() * 0.6, size.height() * 0.6)).toPoint()};
        test::drag(axial, Qt::LeftButton, stroke);
        QCOMPARE(ws->undoStack().size(), std::size_t(2));
        QCOMPARE(ws->undoStack().undoTitle(), std::string("Brush stroke"));
        QVERIFY(!sameVoxels(ws->labels(), r.labels));
        QVERIFY(vm->hasUnsavedEdits());
        QTest::keySequence(&window, QKeySequence::Undo);
        QVERIFY(sameVoxels(ws->labels(), r.labels));
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z));
        QVERIFY(!sameVoxels(ws->labels(), r.labels));

        // Save as NIfTI and NRRD in the source geometry; reopen: aligned with the input, equal.
        const QString out = test::scratchDir("volume-save-" + tag);
        for (const QString& name : {tag + "_labels.nii.gz", tag + "_labels.nrrd"}) {
            const QString path = QDir(out).filePath(name);
            QVERIFY2(vm->saveLabelMap(path, true), qPrintable(vm->lastError()));
            QVERIFY(!vm->hasUnsavedEdits());
            const core::LoadedLabelMap saved = core::readLabelMap(path.toStdString());
            QVERIFY2(saved.labels.isAlignedWith(input.volume), qPrintable(name));
            QVERIFY(saved.labels.geometry().orientationCode() ==
                    input.volume.geometry().orientationCode());
            QVERIFY(sameVoxels(saved.labels, ws->labels()));
        }
        // The saved file dropped on the window comes back as a label map (one undo step).
        vm->action("volumeClear")->trigger();
        QCOMPARE(ws->labels().maxLabel(), 0);
        dropOn(&window, QDir(out).filePath(tag + "_labels.nii.gz"));
        QVERIFY2(ws->undoStack().undoTitle().rfind("Load ", 0) == 0,
                 ws->undoStack().undoTitle().c_str());
        QVERIFY(ws->labels().maxLabel() > 0);
        window.grab().save(QDir(test::outputDir()).filePath("StudioVolume_" + tag + "_edited.png"));

        // Back to the photo workspace: its docks, tool bar and keys return.
        window.findChild<QAction*>("workspacePhoto")->trigger();
        QVERIFY(!vm->isActive());
        QVERIFY(!window.findChild<QDockWidget*>("modelDock")->isHidden());
        QVERIFY(window.findChild<QDockWidget*>("volumePanelDock")->isHidden());
        QVERIFY(window.findChild<QAction*>("undo")->isVisible());
        QVERIFY(!vm->action("volumeUndo")->isVisible());
        window.findChild<QAction*>("workspaceVolume")->trigger();
        QVERIFY(vm->isActive());
        // A photo that cannot be read leaves the volume workspace as it was.
        const QString broken = QDir(out).filePath("broken.png");
        {
            QFile file(broken);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("not a png");
        }
        QVERIFY(!window.openPath(broken, true));
        QVERIFY(vm->isActive());
        QVERIFY(window.findChild<QDockWidget*>("modelDock")->isHidden());
    }

private Q_SLOTS:
    void initTestCase()
    {
        DIFFSEG_REQUIRE_GL_DISPLAY();
        m_dir = test::scratchDir("studio-volume");
        m_checkpoint = test::writeTinyDiffUNetCheckpoint(QDir(m_dir).filePath("tiny3d.dsckpt"));
        m_photoCheckpoint =
            test::writeTinyCheckpoint(QDir(m_dir).filePath("tiny2d.dsckpt"), 32, 20);
        const core::CtPhantomDemo phantom = core::generateCtPhantomDemo({96, 96, 40}, 3);
        m_phantom = QDir(m_dir).filePath("phantom_ct.nii.gz");
        m_phantomLabels = QDir(m_dir).filePath("phantom_ct_seg.nii.gz");
        core::writeVolume(phantom.volume, m_phantom.toStdString());
        core::writeLabelMap(phantom.labels, m_phantomLabels.toStdString());
    }

    void phantomWorkflow()
    {
        // The ground truth named after the volume (phantom_ct_seg) is found and loaded.
        runWorkflow(m_phantom, "phantom", m_phantomLabels);
    }

    void sharedCtWorkflow()
    {
        DIFFSEG_REQUIRE_SHARED(
            ct, "data/volumes/totalsegmentator/ct_abdomen_nifti/example_ct_sm.nii.gz");
        DIFFSEG_REQUIRE_SHARED(seg,
                               "data/volumes/totalsegmentator/ct_abdomen_nifti/example_seg.nii.gz");
        runWorkflow(ct, "example_ct_sm", seg);
    }

    void dicomFolderSaysWhichSeriesWasTaken()
    {
        DIFFSEG_REQUIRE_SHARED(ct, "data/volumes/totalsegmentator/ct_abdomen_dicom/series");
        DIFFSEG_REQUIRE_SHARED(mr, "data/volumes/dicom2nifti_mr/hitachi_anatomical_001/series");
        // One folder holding a 20-slice CT series and a 4-slice MR series.
        const QString folder = test::scratchDir("two-series");
        int n = 0;
        for (const QString& source : {ct, mr}) {
            for (const QFileInfo& f : QDir(source).entryInfoList(QDir::Files, QDir::Name)) {
                QVERIFY(QFile::link(f.absoluteFilePath(),
                                    QDir(folder).filePath(QStringLiteral("f%1.dcm").arg(n++))));
            }
        }
        MainWindow window(test::testOptions(m_dir, "dicom"));
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY2(window.openPath(folder, true), qPrintable(window.volumeMode()->lastError()));
        VolumeMode* vm = window.volumeMode();
        QCOMPARE(vm->source().dicomSeries.size(), std::size_t(2));
        QCOMPARE(vm->workspace()->volume().size()[2], std::int64_t(20));
        const QString status = window.statusBar()->currentMessage();
        QVERIFY2(status.contains("2 DICOM series") && status.contains("20 slices") &&
                     status.contains("4 slices"),
                 qPrintable(status));
        const QString description = vm->panel()->findChild<QLabel*>("volumeDescription")->text();
        QVERIFY2(description.contains("2 DICOM series"), qPrintable(description));
        QVERIFY(vm->workspace()->isCt());
    }

    void cancelStopsTheRun()
    {
        MainWindow window(test::testOptions(m_dir, "cancel"));
        VolumeMode* vm = test::openVolumeWithModel(window, m_phantom, m_checkpoint);
        QVERIFY(vm);
        test::useVolumeSampling(vm, 40, 0.75);
        QSignalSpy ended(&window, &MainWindow::segmentationEnded);
        QVERIFY(vm->startSegmentation());
        QVERIFY(!vm->startSegmentation()); // one run at a time
        QTRY_VERIFY_WITH_TIMEOUT(vm->runner()->progressPosted() > 0, 120000);
        vm->action("volumeCancel")->trigger();
        QElapsedTimer clock;
        clock.start();
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 60000);
        qInfo("FIGURE cancel: the run stopped %lld ms after Cancel", clock.elapsed());
        QCOMPARE(ended.first().first().toBool(), false);
        QVERIFY(!vm->output());
        QCOMPARE(vm->workspace()->labels().maxLabel(), 0);
        QVERIFY(vm->action("volumeSegment")->isEnabled());
    }

    void badInputIsReportedNamingTheFile()
    {
        MainWindow window(test::testOptions(m_dir, "bad"));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        VolumeMode* vm = window.volumeMode();

        // A truncated NIfTI file.
        const QString broken = QDir(m_dir).filePath("broken.nii.gz");
        {
            QFile in(m_phantom);
            QVERIFY(in.open(QIODevice::ReadOnly));
            QFile out(broken);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(in.read(300));
        }
        QVERIFY(!window.openPath(broken, true));
        QVERIFY2(vm->lastError().contains("broken.nii.gz"), qPrintable(vm->lastError()));
        QVERIFY(!window.openPath(QDir(m_dir).filePath("missing.nrrd"), true));
        QVERIFY2(vm->lastError().contains("missing.nrrd"), qPrintable(vm->lastError()));

        // A label map on another grid.
        QVERIFY(window.openPath(m_phantom, true));
        const QString other = QDir(m_dir).filePath("other_grid_seg.nii.gz");
        core::writeLabelMap(core::LabelMap({20, 20, 20}, core::Geometry{}), other.toStdString());
        QVERIFY(!vm->loadLabelMap(other, VolumeMode::LabelRole::GroundTruth, true));
        QVERIFY2(vm->lastError().contains("other_grid_seg.nii.gz") &&
                     vm->lastError().contains("grid"),
                 qPrintable(vm->lastError()));

        // A photo model offered a volume, and a volume model offered a photo.
        vm->panel()->addCheckpoint(QFileInfo(m_photoCheckpoint).absoluteFilePath(), "photo");
        vm->panel()->setCurrentCheckpoint(QFileInfo(m_photoCheckpoint).absoluteFilePath());
        QVERIFY(!vm->startSegmentation());
        QVERIFY2(vm->lastError().contains("DermoSegDiff") && vm->lastError().contains("Diff-UNet"),
                 qPrintable(vm->lastError()));
        diffseg::app::SegmentationJob job;
        job.checkpoint = m_photoCheckpoint;
        job.device = "cpu";
        job.input = core::SegmentationInput::ofVolume(vm->volume());
        QSignalSpy failed(vm->runner(), &diffseg::app::SegmentationRunner::failed);
        QVERIFY(vm->runner()->start(job));
        QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1, 60000);
        QVERIFY2(failed.first().first().toString().contains("DermoSegDiff"),
                 qPrintable(failed.first().first().toString()));

        const QString photo = QDir(m_dir).filePath("photo.png");
        QImage image(64, 48, QImage::Format_RGB32);
        image.fill(QColor(180, 120, 100));
        QVERIFY(image.save(photo));
        QVERIFY(window.openPath(photo, true));
        QVERIFY(!vm->isActive());
        window.photoMode()->modelPanel()->addCheckpoint(QFileInfo(m_checkpoint).absoluteFilePath(),
                                                        "volume");
        window.photoMode()->modelPanel()->setCurrentCheckpoint(
            QFileInfo(m_checkpoint).absoluteFilePath());
        QVERIFY(!window.startSegmentation());
        QVERIFY2(window.lastError().contains("Diff-UNet") &&
                     window.lastError().contains("DermoSegDiff"),
                 qPrintable(window.lastError()));
    }

    void volumeEditsAreAutosavedAndRestoredAfterACrash()
    {
        const QString name = "volume-autosave";
        core::LabelMap painted;
        QString sessionFolder;
        {
            auto crashed = std::make_unique<MainWindow>(test::testOptions(m_dir, name));
            crashed->resize(1100, 760);
            crashed->show();
            QVERIFY(QTest::qWaitForWindowExposed(crashed.get()));
            VolumeMode* vm = crashed->volumeMode();
            QVERIFY(crashed->openPath(m_phantom, true));
            VolumeWorkspace* ws = vm->workspace();
            QVERIFY(!vm->hasUnsavedEdits());
            QVERIFY(!vm->autosaveNow()); // nothing edited yet: nothing written
            // A brush stroke in the axial view, as a user paints.
            vm->action("volumeToolBrush")->trigger();
            SliceView* axial = ws->sliceView(core::SliceOrientation::Axial);
            ws->setBrushRadiusMm(4.0 * ws->volume().geometry().spacing[0]);
            const auto size = axial->image().size();
            test::drag(
                axial, Qt::LeftButton,
                {axial->imageToWidget(QPointF(size.width() * 0.3, size.height() * 0.3)).toPoint(),
                 axial->imageToWidget(QPointF(size.width() * 0.6, size.height() * 0.5)).toPoint()});
            QVERIFY(vm->hasUnsavedEdits());
            QVERIFY(ws->labels().maxLabel() > 0);
            // The debounced autosave follows the gesture, in a folder of the volume workflow's own.
            sessionFolder = vm->autosaveStore().sessionFolder();
            QTRY_VERIFY(QFileInfo::exists(sessionFolder + "/labels.nii.gz"));
            QVERIFY(QFileInfo::exists(sessionFolder + "/session.json"));
            QVERIFY(sessionFolder != crashed->autosave().sessionFolder());
            painted = core::LabelMap::fromVolume(ws->labels().clone());
            // "Crash": the window goes away without closing.
        }
        MainWindow next(test::testOptions(m_dir, name));
        next.resize(1100, 760);
        next.show();
        QVERIFY(QTest::qWaitForWindowExposed(&next));
        const auto records = next.photoMode()->recoverableAutosaves();
        QCOMPARE(records.size(), std::size_t(1));
        QCOMPARE(records[0].kind, QStringLiteral("volume"));
        QCOMPARE(records[0].imagePath, QFileInfo(m_phantom).absoluteFilePath());
        QCOMPARE(records[0].groundTruthPath, QFileInfo(m_phantomLabels).absoluteFilePath());
        QCOMPARE(records[0].edits, 1);
        {
            // Interactive: the start-up question says which volume; closing it keeps the autosave.
            MainWindow prompted(test::testOptions(m_dir, name, true));
            const QString box =
                test::catchMessageBox([&] { prompted.photoMode()->offerAutosaveRestore(); });
            QVERIFY2(box.contains("phantom_ct.nii.gz") && box.contains("label map"),
                     qPrintable(box));
            QVERIFY(!prompted.volumeMode()->hasVolume());
        }
        VolumeMode* vm = next.volumeMode();
        QVERIFY2(vm->restoreAutosave(records[0]), qPrintable(vm->lastError()));
        QVERIFY(vm->isActive());
        QCOMPARE(vm->currentPath(), QFileInfo(m_phantom).absoluteFilePath());
        QVERIFY(sameVoxels(vm->workspace()->labels(), painted));
        QCOMPARE(vm->workspace()->undoStack().undoTitle(), std::string("Restore autosaved edits"));
        QVERIFY(!vm->session().groundTruth().empty());
        QVERIFY(vm->hasUnsavedEdits());
        QVERIFY(!QFileInfo::exists(sessionFolder));
        // Saving the labels removes the autosave; a clean close leaves nothing to restore.
        const QString out = QDir(test::scratchDir("volume-autosave-save")).filePath("l.nii.gz");
        QVERIFY(vm->saveLabelMap(out, true));
        QVERIFY(next.close());
        MainWindow after(test::testOptions(m_dir, name));
        QVERIFY(after.photoMode()->recoverableAutosaves().empty());
    }

    void clicksInASliceRefineIn3d()
    {
        MainWindow window(test::testOptions(m_dir, "volume-prompts"));
        window.resize(1100, 760);
        VolumeMode* vm = test::openVolumeWithModel(window, m_phantom, m_checkpoint);
        QVERIFY(vm);
        test::useVolumeSampling(vm, 2);
        VolumeWorkspace* ws = vm->workspace();
        // Some labels to refine: the ground truth painted in as if accepted.
        ws->replaceLabels(ws->groundTruth(), "Accept AI result");

        QAction* tool = vm->action("volumeToolPrompt");
        QVERIFY(tool && tool->shortcuts().contains(QKeySequence(Qt::Key_2)));
        tool->trigger();
        SliceView* axial = ws->sliceView(core::SliceOrientation::Axial);
        QCOMPARE(axial->tool(), SliceView::Tool::Prompt);
        const auto size = axial->image().size();
        // A background click in the middle of the lesion, then a lesion click in a corner: the
        // second cancels the first run; the refinement honours both in 3D.
        QSignalSpy clicked(ws, &VolumeWorkspace::promptsChanged);
        const QPointF inside(size.width() * 0.5, size.height() * 0.5);
        QTest::mouseClick(axial, Qt::RightButton, Qt::NoModifier,
                          axial->imageToWidget(inside).toPoint());
        QCOMPARE(clicked.count(), 1);
        QVERIFY2(vm->isSegmenting(), qPrintable(vm->lastError()));
        QTest::mouseClick(
            axial, Qt::LeftButton, Qt::NoModifier,
            axial->imageToWidget(QPointF(size.width() * 0.1, size.height() * 0.1)).toPoint());
        QCOMPARE(clicked.count(), 2);
        QCOMPARE(ws->promptClicks().size(), std::size_t(2));
        QCOMPARE(ws->promptClicks()[0].label, 0);
        QCOMPARE(ws->promptClicks()[1].label, 1);
        QTRY_VERIFY_WITH_TIMEOUT(!vm->isSegmenting() && vm->output(), 120000);
        QVERIFY(vm->output()->refined);
        QCOMPARE(vm->output()->refineClicks, 2);
        const core::LabelMap& refined = vm->output()->volume()->labels;
        auto labelAt = [&refined](const std::array<double, 3>& v) {
            return int(refined.data<std::uint8_t>()[refined.linearIndex(
                std::int64_t(v[0]), std::int64_t(v[1]), std::int64_t(v[2]))]);
        };
        QCOMPARE(labelAt(ws->promptClicks()[0].index), 0);
        QCOMPARE(labelAt(ws->promptClicks()[1].index), 1);
        window.grab().save(QDir(test::outputDir()).filePath("StudioVolume_prompts.png"));
        QVERIFY(vm->acceptAiResult());
        QCOMPARE(ws->undoStack().undoTitle(), std::string("Refine: 2 clicks"));
        QVERIFY(ws->promptClicks().empty());
    }

    void keysFollowTheWorkspace()
    {
        MainWindow window(test::testOptions(m_dir, "keys"));
        window.resize(1280, 800);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        VolumeMode* vm = window.volumeMode();
        vm->openSamplePhantom();
        QVERIFY(vm->isActive());
        // The first OpenGL child makes Qt re-create the native window; without a window manager
        // (Xvfb) nothing activates it again, and window shortcuts need an active window.
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        vm->workspace()->sliceView(core::SliceOrientation::Axial)->setFocus();
        QVERIFY(!vm->workspace()->groundTruth().empty());
        // B picks the brush, V the crosshair; Ctrl+Z and Ctrl+Y undo and redo a volume edit.
        QTest::keyClick(&window, Qt::Key_B);
        QCOMPARE(vm->workspace()->sliceView(core::SliceOrientation::Axial)->tool(),
                 SliceView::Tool::Brush);
        QTest::keyClick(&window, Qt::Key_V);
        QCOMPARE(vm->workspace()->sliceView(core::SliceOrientation::Sagittal)->tool(),
                 SliceView::Tool::Navigate);
        vm->workspace()->replaceLabels(vm->workspace()->groundTruth(), "Accept AI result");
        QTest::keySequence(&window, QKeySequence::Undo);
        QCOMPARE(vm->workspace()->labels().maxLabel(), 0);
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_Y));
        QVERIFY(vm->workspace()->labels().maxLabel() > 0);
        // Ctrl+2 / Ctrl+3 switch workspaces.
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_2));
        QVERIFY(!vm->isActive());
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_3));
        QVERIFY(vm->isActive());
    }
};

DIFFSEG_GUI_TEST_MAIN(TestStudioVolume)

#include "TestStudioVolume.moc"
