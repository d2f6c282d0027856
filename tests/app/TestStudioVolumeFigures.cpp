// Figures of the studio's volume workflow, printed as "FIGURE ..." lines (label `bench`; it
// asserts only that the workflow works): load + first render of the largest shared volume and of
// a generated 512 x 512 x 300 CT; slice-scroll frame time; 3D rotate frame time at 800 x 600;
// memory of the 3D step cache in a GUI run; and screenshots of the window in the volume workflow
// for the README. DIFFSEG_FIGURES_BIG_RUN=1 also segments the 512 x 512 x 300 volume (needs about
// 4 GiB).

#include "GuiTestSupport.h"
#include "MainWindow.h"
#include "StudioTestSupport.h"
#include "TestSupport.h"
#include "TinyVolumeCheckpoint.h"
#include "VolumeMode.h"
#include "data/DemoData.h"
#include "io/VolumeReader.h"
#include "io/VolumeWriter.h"
#include "panels/VolumePanel.h"
#include "runtime/ResourcePaths.h"
#include "steps/StepBrowser.h"
#include "volume/SliceView.h"
#include "volume/VolumeView3D.h"
#include "volume/VolumeWorkspace.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QApplication>
#include <QCheckBox>
#include <QElapsedTimer>
#include <QFile>
#include <QMouseEvent>
#include <QSlider>
#include <QtTest>

#include <vtkCamera.h>
#include <vtkRenderer.h>

#include <algorithm>
#include <vector>

using diffseg::app::VolumeMode;
using diffseg::widgets::VolumeScene;

namespace {

/// VmRSS and VmHWM of this process in MiB.
std::pair<double, double> memoryMiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    double rss = 0.0;
    double peak = 0.0;
    if (status.open(QIODevice::ReadOnly)) {
        for (const QByteArray& line : status.readAll().split('\n')) {
            const QList<QByteArray> f = line.simplified().split(' ');
            if (f.size() >= 2 && f[0] == "VmRSS:") {
                rss = f[1].toDouble() / 1024.0;
            } else if (f.size() >= 2 && f[0] == "VmHWM:") {
                peak = f[1].toDouble() / 1024.0;
            }
        }
    }
    return {rss, peak};
}

struct Stats
{
    double median = 0.0;
    double p95 = 0.0;
    double max = 0.0;
};

Stats stats(std::vector<double> v)
{
    if (v.empty()) {
        return {};
    }
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 95 / 100)], v.back()};
}

double mib(std::size_t bytes)
{
    return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

/// Milliseconds until `view` has repainted after each of `notches` wheel notches; the direction
/// turns at the first and last slice, so that every notch changes the slice (a volume may have
/// fewer slices than notches).
std::vector<double> scrollTimes(diffseg::widgets::SliceView* view, int notches)
{
    std::vector<double> times;
    const QPoint at = view->rect().center();
    int direction = 1;
    for (int i = 0; i < notches; ++i) {
        if (view->slice() + direction < 0 || view->slice() + direction >= view->sliceCount()) {
            direction = -direction;
        }
        times.push_back(test::msUntilPainted(view, [&] {
            QWheelEvent e(QPointF(at), view->mapToGlobal(QPointF(at)), QPoint(),
                          QPoint(0, 120 * direction), Qt::NoButton, Qt::NoModifier,
                          Qt::NoScrollPhase, false);
            QApplication::sendEvent(view, &e);
        }));
    }
    return times;
}

/// Milliseconds until the render widget has rendered one more frame after `action`.
double msUntilRendered(diffseg::widgets::VtkRenderWidget* gl, const std::function<void()>& action)
{
    const int before = gl->renderCount();
    QElapsedTimer clock;
    clock.start();
    action();
    while (gl->renderCount() == before && clock.elapsed() < 120000) {
        QApplication::processEvents(QEventLoop::AllEvents, 1);
    }
    return gl->renderCount() > before ? clock.nsecsElapsed() / 1e6 : -1.0;
}

} // namespace

class TestStudioVolumeFigures : public QObject
{
    Q_OBJECT

private:
    QString m_dir;
    QString m_checkpoint;

    /// Opens `path` in a fresh window: load, first slice paint and first 3D frame; then slice
    /// scrolling in each view and the 3D rotation at 800 x 600.
    void measure(const QString& path, const QString& label)
    {
        QElapsedTimer clock;
        clock.start();
        const core::LoadedVolume alone = core::readVolume(path.toStdString());
        const double readMs = clock.nsecsElapsed() / 1e6;
        const auto& n = alone.volume.size();
        const double voxelsM = static_cast<double>(alone.volume.voxelCount()) / 1e6;
        const auto memBefore = memoryMiB();

        MainWindow window(test::testOptions(m_dir, "figures-" + label));
        window.resize(1440, 900);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        VolumeMode* vm = window.volumeMode();
        vm->workspace(); // the workspace exists before the clock starts: we time the volume
        QApplication::processEvents();
        auto* ws = vm->workspace();
        auto* gl = ws->view3D()->renderWidget();
        auto* axial = ws->sliceView(core::SliceOrientation::Axial);
        clock.restart();
        QVERIFY2(window.openPath(path, true), qPrintable(vm->lastError()));
        const double openMs = clock.nsecsElapsed() / 1e6;
        const double sliceMs = test::msUntilPainted(
                                   axial, [] {}, 60000) +
                               openMs;
        // The volume is in the scene once openPath() returns: the next frame is the first with it
        // (a frame drawn while the workspace was being shown may have had an empty scene).
        const double untilFrame = msUntilRendered(gl, [&] { gl->requestRender(); });
        QVERIFY(untilFrame >= 0.0);
        const double firstRenderMs = clock.nsecsElapsed() / 1e6;
        const auto memOpen = memoryMiB();
        qInfo("FIGURE load %s (%lld x %lld x %lld = %.1f M voxels, %s): read alone %.0f ms; "
              "File > Open until the window has the volume %.0f ms, slices painted %.0f ms, first "
              "3D frame %.0f ms (3D view %d x %d); RSS %.0f -> %.0f MiB",
              qPrintable(label), static_cast<long long>(n[0]), static_cast<long long>(n[1]),
              static_cast<long long>(n[2]), voxelsM, core::pixelTypeName(alone.volume.pixelType()),
              readMs, openMs, sliceMs, firstRenderMs, gl->width(), gl->height(), memBefore.first,
              memOpen.first);

        // Slice scrolling: one wheel notch per frame, until the view has repainted.
        for (const auto orientation :
             {core::SliceOrientation::Axial, core::SliceOrientation::Coronal,
              core::SliceOrientation::Sagittal}) {
            auto* view = ws->sliceView(orientation);
            view->setSlice(view->sliceCount() / 3);
            const std::vector<double> times = scrollTimes(view, 30);
            QVERIFY(std::all_of(times.begin(), times.end(), [](double t) { return t >= 0.0; }));
            const Stats s = stats(times);
            qInfo("FIGURE scroll %s %s slice %lld x %lld px, view %d x %d: median %.1f ms, p95 "
                  "%.1f ms, max %.1f ms",
                  qPrintable(label),
                  orientation == core::SliceOrientation::Axial     ? "axial"
                  : orientation == core::SliceOrientation::Coronal ? "coronal"
                                                                   : "sagittal",
                  static_cast<long long>(view->image().width()),
                  static_cast<long long>(view->image().height()), view->width(), view->height(),
                  s.median, s.p95, s.max);
        }
        // With labels shown (the ground truth found next to the volume, else a threshold),
        // scrolling repaints them too.
        if (ws->labels().maxLabel() == 0 && !ws->groundTruth().empty()) {
            ws->setLabels(ws->groundTruth());
        } else if (ws->labels().maxLabel() == 0) {
            core::LabelMap labels = core::LabelMap::like(ws->volume());
            core::dispatchPixelType(ws->volume().pixelType(), [&](auto tag) {
                using T = decltype(tag);
                const T* v = static_cast<const T*>(ws->volume().rawData());
                std::uint8_t* l = labels.data<std::uint8_t>();
                const auto p = std::minmax_element(v, v + ws->volume().voxelCount());
                const double threshold = *p.first + 0.6 * (*p.second - *p.first);
                for (std::size_t i = 0; i < labels.voxelCount(); ++i) {
                    l[i] = static_cast<double>(v[i]) > threshold ? 1 : 0;
                }
            });
            ws->setLabels(labels);
        }
        {
            axial->setSlice(axial->sliceCount() / 3);
            const std::vector<double> times = scrollTimes(axial, 30);
            QVERIFY(std::all_of(times.begin(), times.end(), [](double t) { return t >= 0.0; }));
            const Stats s = stats(times);
            qInfo("FIGURE scroll %s axial with labels: median %.1f ms, p95 %.1f ms",
                  qPrintable(label), s.median, s.p95);
        }

        // 3D rotation at 800 x 600: a standalone 3D view, the camera turned 5 degrees per frame
        // (full quality), then a left-button drag through the interactor (VTK lowers the ray
        // casting quality while the mouse moves).
        diffseg::widgets::VolumeView3D view;
        view.renderWidget()->setFixedSize(800, 600);
        view.setVolume(ws->volume(), ws->isCt());
        auto* gl3 = view.renderWidget();
        QElapsedTimer firstClock;
        firstClock.start();
        view.show();
        while (gl3->renderCount() == 0 && firstClock.elapsed() < 120000) {
            QApplication::processEvents(QEventLoop::AllEvents, 1);
        }
        QVERIFY(gl3->renderCount() > 0);
        const double first = firstClock.nsecsElapsed() / 1e6;
        for (const bool withSurface : {false, true}) {
            if (withSurface) {
                view.scene().setLabels(ws->labels());
                view.scene().setVolumeVisible(false);
            }
            std::vector<double> still;
            for (int i = 0; i < 12; ++i) {
                still.push_back(msUntilRendered(gl3, [&] {
                    view.scene().renderer()->GetActiveCamera()->Azimuth(5.0);
                    gl3->requestRender();
                }));
            }
            std::vector<double> drag;
            const QPointF start(400, 300);
            QMouseEvent press(QEvent::MouseButtonPress, start, gl3->mapToGlobal(start),
                              Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
            QApplication::sendEvent(gl3, &press);
            for (int i = 1; i <= 12; ++i) {
                const QPointF p(400 + 8 * i, 300 + 2 * i);
                drag.push_back(msUntilRendered(gl3, [&] {
                    QMouseEvent move(QEvent::MouseMove, p, gl3->mapToGlobal(p), Qt::NoButton,
                                     Qt::LeftButton, Qt::NoModifier);
                    QApplication::sendEvent(gl3, &move);
                }));
            }
            QMouseEvent release(QEvent::MouseButtonRelease, QPointF(496, 324),
                                gl3->mapToGlobal(QPointF(496, 324)), Qt::LeftButton, Qt::NoButton,
                                Qt::NoModifier);
            QApplication::sendEvent(gl3, &release);
            const Stats s = stats(still);
            const Stats d = stats(drag);
            qInfo("FIGURE rotate %s 800x600 %s (%s): first frame after show %.0f ms; turned 5 deg "
                  "per frame: "
                  "median %.0f ms, p95 %.0f ms; mouse drag: median %.0f ms, p95 %.0f ms "
                  "(%lld surface triangles; ray cast at voxel stride %d)",
                  qPrintable(label), withSurface ? "label surface only" : "volume rendering",
                  gl3->isSoftwareRenderer() ? "software GL, CPU ray casting" : "GPU", first,
                  s.median, s.p95, d.median, d.p95, view.scene().labelTriangles(),
                  view.scene().displayStride());
        }
    }

    /// Segments `volume` in the GUI with the tiny Diff-UNet and reports the step cache's memory.
    void stepCacheRun(const QString& path, const QString& label, int steps)
    {
        MainWindow window(test::testOptions(m_dir, "cache-" + label));
        window.resize(1440, 900);
        VolumeMode* vm = test::openVolumeWithModel(window, path, m_checkpoint);
        QVERIFY(vm);
        test::useVolumeSampling(vm, steps, 0.25);
        QApplication::processEvents();
        const auto before = memoryMiB();
        int ticks = 0;
        QTimer ticker;
        ticker.setInterval(10);
        connect(&ticker, &QTimer::timeout, this, [&] { ++ticks; });
        QElapsedTimer clock;
        clock.start();
        QVERIFY(vm->startSegmentation());
        ticker.start();
        QTRY_VERIFY_WITH_TIMEOUT(!vm->isSegmenting(), 1800000);
        ticker.stop();
        const double seconds = clock.elapsed() / 1000.0;
        QVERIFY(vm->output());
        const auto after = memoryMiB();
        const core::Segment3DResult& result = *vm->output()->volume();
        const std::size_t resultBytes = result.labels.byteSize() + result.probabilities.byteSize() +
                                        result.entropy.byteSize() + result.stepEntropy.byteSize();
        // Browse every step: the frames are there already, so nothing grows.
        auto* browser = vm->stepBrowser();
        browser->setFollowing(false);
        std::vector<double> switches;
        for (int pass = 0; pass < 2; ++pass) {
            for (int s = 0; s < steps; ++s) {
                switches.push_back(
                    test::msUntilPainted(vm->workspace()->sliceView(core::SliceOrientation::Axial),
                                         [&] { browser->setCurrentStep((s + pass) % steps); }));
            }
        }
        const Stats sw = stats(switches);
        const auto browsed = memoryMiB();
        qInfo(
            "FIGURE step cache %s (%lld x %lld x %lld, %d steps, %d windows): 8-bit step cache "
            "%.1f MiB (budget %.0f MiB), display frames (labels + probability, 2 bytes/voxel/step) "
            "%.1f MiB, result volumes %.1f MiB; RSS %.0f MiB before, %.0f MiB after, %.0f MiB "
            "after browsing, peak %.0f MiB; run %.1f s, GUI served %d of ~%d timer ticks; step "
            "switch median %.1f ms, max %.1f ms",
            qPrintable(label), static_cast<long long>(result.labels.size()[0]),
            static_cast<long long>(result.labels.size()[1]),
            static_cast<long long>(result.labels.size()[2]), result.steps, result.windowCount,
            mib(vm->stepCacheBytes()), mib(result.stepCache ? result.stepCache->budgetBytes() : 0),
            mib(vm->stepFrameBytes()), mib(resultBytes), before.first, after.first, browsed.first,
            browsed.second, seconds, ticks, static_cast<int>(seconds * 100), sw.median, sw.max);
    }

private Q_SLOTS:
    void initTestCase()
    {
        DIFFSEG_REQUIRE_GL_DISPLAY();
        m_dir = test::scratchDir("studio-volume-figures");
        m_checkpoint = test::writeTinyDiffUNetCheckpoint(QDir(m_dir).filePath("tiny3d.dsckpt"));
    }

    void loadAndRenderTheLargestSharedVolume()
    {
        // The largest shared volumes by voxels: BraTS 240 x 240 x 155, then the 512 x 512 x 20
        // DICOM CT.
        const QStringList candidates = {
            "data/volumes/brats2013_deepmedic/brats_2013_pat0001_1/Flair_subtrMeanDivStd.nii.gz",
            "data/volumes/totalsegmentator/ct_abdomen_dicom/series"};
        int measured = 0;
        for (const QString& relative : candidates) {
            const QString path = test::sharedPath(relative);
            if (path.isEmpty()) {
                qInfo("FIGURE skipped: %s not found", qPrintable(relative));
                continue;
            }
            measure(path, QFileInfo(relative).fileName() == "series" ? "ct_abdomen_dicom"
                                                                     : "brats_flair");
            ++measured;
        }
        if (measured == 0) {
            QSKIP("no shared volume (set DIFFSEG_SHARED_DIR)");
        }
    }

    void loadAndRenderAGenerated512Volume()
    {
        QElapsedTimer clock;
        clock.start();
        const core::CtPhantomDemo phantom = core::generateCtPhantomDemo({512, 512, 300}, 11);
        const double generateS = clock.elapsed() / 1000.0;
        const QString path = QDir(m_dir).filePath("ct512x512x300.nii");
        clock.restart();
        core::writeVolume(phantom.volume, path.toStdString());
        qInfo("FIGURE generated 512 x 512 x 300 CT phantom in %.1f s, written (.nii, %.0f MiB) "
              "in %.1f s",
              generateS, mib(phantom.volume.byteSize()), clock.elapsed() / 1000.0);
        const QString labels = QDir(m_dir).filePath("ct512x512x300_seg.nii.gz");
        core::writeLabelMap(phantom.labels, labels.toStdString());
        measure(path, "generated_512x512x300");
        if (qEnvironmentVariableIntValue("DIFFSEG_FIGURES_BIG_RUN") == 1) {
            stepCacheRun(path, "generated_512x512x300", 3);
        }
    }

    void stepCacheMemoryInAGuiRun()
    {
        const core::CtPhantomDemo phantom = core::generateCtPhantomDemo({256, 256, 128}, 13);
        const QString path = QDir(m_dir).filePath("ct256.nii.gz");
        core::writeVolume(phantom.volume, path.toStdString());
        stepCacheRun(path, "generated_256x256x128", 5);
        const QString brats = test::sharedPath(
            "data/volumes/brats2013_deepmedic/brats_2013_pat0001_1/Flair_subtrMeanDivStd.nii.gz");
        if (!brats.isEmpty()) {
            stepCacheRun(brats, "brats_flair", 5);
        }
    }

    /// The window in the volume workflow, for the README: the demo Diff-UNet when it has been
    /// made (resources/models/diffunet-demo.dsckpt), else the tiny untrained one.
    void screenshots()
    {
        const QString demo =
            QString::fromStdString(core::resourcePath("models/diffunet-demo.dsckpt"));
        const QString model = demo.isEmpty() ? m_checkpoint : demo;
        const core::CtPhantomDemo phantom = core::generateCtPhantomDemo({100, 100, 40}, 21);
        const QString path = QDir(m_dir).filePath("phantom_ct.nii.gz");
        core::writeVolume(phantom.volume, path.toStdString());
        core::writeLabelMap(phantom.labels,
                            QDir(m_dir).filePath("phantom_ct_seg.nii.gz").toStdString());

        MainWindow window(test::testOptions(m_dir, "screenshots"));
        window.resize(1600, 1000);
        VolumeMode* vm = test::openVolumeWithModel(window, path, model);
        QVERIFY(vm);
        test::useVolumeSampling(vm, 3, 0.5);
        QVERIFY(vm->startSegmentation());
        QTRY_VERIFY_WITH_TIMEOUT(!vm->isSegmenting(), 1800000);
        QVERIFY(vm->output());
        auto* ws = vm->workspace();
        auto* gl = ws->view3D()->renderWidget();
        ws->setCrosshair({62.5, 45.5, 20.5});
        vm->stepBrowser()->setFollowing(false);
        vm->stepBrowser()->setCurrentStep(0);
        ws->view3D()->findChild<QCheckBox*>("showVolume")->setChecked(false);
        // The label surface follows the result after a short delay: build it for the picture.
        ws->rebuildSurfaceNow();
        msUntilRendered(gl, [&] { gl->requestRender(); });
        QTest::qWait(300);
        window.grab().save(QDir(test::outputDir()).filePath("StudioVolume_figure_segmented.png"));
        vm->stepBrowser()->setPreviewInViews(false);
        vm->setHeatMap(3);
        ws->view3D()->setOverlayMode(VolumeScene::OverlayMode::Surface);
        msUntilRendered(gl, [&] { gl->requestRender(); });
        QTest::qWait(300);
        window.grab().save(QDir(test::outputDir()).filePath("StudioVolume_figure_uncertainty.png"));
        ws->view3D()->findChild<QCheckBox*>("showVolume")->setChecked(true);
        ws->view3D()->setOverlayMode(VolumeScene::OverlayMode::ColourVolume);
        msUntilRendered(gl, [&] { gl->requestRender(); });
        QTest::qWait(300);
        window.grab().save(QDir(test::outputDir()).filePath("StudioVolume_figure_volume.png"));
        qInfo("FIGURE screenshots with %s: Dice of the foreground against the phantom's labels "
              "shown in the panel",
              qPrintable(QFileInfo(model).fileName()));
    }
    /// A held-out case of the Decathlon's hippocampus MRI with the packaged hippocampus model, for
    /// the README: the MRI makes the volume chooser take that model (CT keeps the demo model);
    /// labels named by the model, the ground truth outline, the step entropy and the steps.
    void hippocampusWorkspace()
    {
        DIFFSEG_REQUIRE_SHARED(data, "data/volumes/msd_hippocampus");
        const QString model =
            QString::fromStdString(core::resourcePath("models/diffunet-hippocampus.dsckpt"));
        if (model.isEmpty()) {
            QSKIP("resources/models/diffunet-hippocampus.dsckpt is not made yet");
        }
        // hippocampus_006 is in the held-out 42 (the trainer's split, fractions 0.8 / 0.2, seed 0).
        const QString image = data + "/imagesTr/hippocampus_006.nii.gz";
        const QString truth = data + "/labelsTr/hippocampus_006.nii.gz";
        const core::CtPhantomDemo phantom = core::generateCtPhantomDemo({64, 64, 24}, 5);
        const QString ct = QDir(m_dir).filePath("phantom_for_chooser.nii.gz");
        core::writeVolume(phantom.volume, ct.toStdString());
        MainWindow window(test::testOptions(m_dir, "hippocampus"));
        window.resize(1600, 1000);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        // A CT first: the packaged CT model is chosen; then the MRI takes the hippocampus model.
        QVERIFY(window.openPath(ct, true));
        VolumeMode* vm = window.volumeMode();
        QVERIFY(vm->panel()->currentCheckpoint() != QFileInfo(model).absoluteFilePath());
        QVERIFY2(window.openPath(image, true), qPrintable(vm->lastError()));
        QCOMPARE(vm->panel()->currentCheckpoint(), QFileInfo(model).absoluteFilePath());
        QVERIFY(vm->loadLabelMap(truth, VolumeMode::LabelRole::GroundTruth, true));
        QVERIFY(vm->startSegmentation());
        QTRY_VERIFY_WITH_TIMEOUT(!vm->isSegmenting(), 600000);
        QVERIFY(vm->output());
        auto* ws = vm->workspace();
        QCOMPARE(ws->labelName(1), QStringLiteral("Anterior"));
        QCOMPARE(ws->labelName(2), QStringLiteral("Posterior"));
        QVERIFY(vm->acceptAiResult() || ws->labels().maxLabel() == 2);
        ws->setPaintLabel(2);
        auto* gl = ws->view3D()->renderWidget();
        ws->setCrosshair({17.5, 30.5, 17.5});
        vm->stepBrowser()->setFollowing(false);
        vm->stepBrowser()->setCurrentStep(0);
        vm->stepBrowser()->setPreviewInViews(false);
        // The step entropy over fainter labels, and the label surface coloured by it in 3D.
        vm->setHeatMap(3);
        vm->panel()->findChild<QSlider*>("volumeLabelOpacity")->setValue(15);
        vm->panel()->findChild<QCheckBox*>("volumeShowGroundTruth")->setChecked(false);
        ws->view3D()->findChild<QCheckBox*>("showVolume")->setChecked(false);
        ws->view3D()->setOverlayMode(VolumeScene::OverlayMode::Surface);
        ws->rebuildSurfaceNow();
        msUntilRendered(gl, [&] { gl->requestRender(); });
        QTest::qWait(300);
        window.grab().save(QDir(test::outputDir()).filePath("StudioVolume_figure_hippocampus.png"));
        qInfo("FIGURE hippocampus_006 with %s", qPrintable(QFileInfo(model).fileName()));
    }
};

DIFFSEG_GUI_TEST_MAIN(TestStudioVolumeFigures)

#include "TestStudioVolumeFigures.moc"
