#include "AboutText.h"
#include "GuiTestSupport.h"
#include "ImageCompare.h"
#include "MainWindow.h"
#include "MenuActions.h"
#include "PhotoMode.h"
#include "StudioTestSupport.h"
#include "TestSupport.h"
#include "image/ImageView.h"
#include "image/SegmentationView2D.h"
#include "runtime/Runtime.h"
#include "volume/VolumeView3D.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QMenuBar>
#include <QProcess>
#include <QThread>
#include <QWheelEvent>
#include <QtTest>

#include <vtkVersion.h>

/// The diffseg-studio main window, driven as a user would.
class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { DIFFSEG_REQUIRE_GL_DISPLAY(); }

    void menusOfferOpenQuitAndAbout()
    {
        MainWindow window;
        QVERIFY(diffseg::test::findMenuAction(window, "File", "Open..."));
        QVERIFY(diffseg::test::findMenuAction(window, "File", "Quit"));
        QVERIFY(diffseg::test::findMenuAction(window, "Help", "About DiffSeg Studio"));
        QCOMPARE(diffseg::test::findMenuAction(window, "File", "Open...")->shortcut(),
                 QKeySequence(QKeySequence::Open));
    }

    void aboutListsEveryLibraryVersion()
    {
        const QString text = diffseg::app::aboutText();
        const auto v = diffseg::core::libraryVersions();
        QVERIFY(text.contains(QLatin1String(qVersion())));
        QVERIFY(text.contains(QLatin1String(vtkVersion::GetVTKVersion())));
        QVERIFY(text.contains(QString::fromStdString(v.itk)));
        QVERIFY(text.contains(QString::fromStdString(v.torch)));
        QVERIFY(text.contains(QString::fromStdString(v.opencv)));
        QVERIFY(text.contains(QLatin1String("CUDA")));
        QVERIFY(text.contains(v.cudaAvailable ? QLatin1String("available") : QLatin1String("CPU")));
    }

    void showsSampleDataIn2dAnd3d()
    {
        MainWindow window;
        window.openSamples();
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QCOMPARE(window.photoMode()->view()->image().size(), QSize(512, 512));
        auto* view3d = window.volumeView()->renderWidget();
        QVERIFY2(QTest::qWaitFor([&] { return view3d->renderCount() > 0; }, 30000),
                 "the 3D view never rendered");
        QVERIFY(!view3d->glInfo().isEmpty());
        const QImage frame = view3d->grabFramebuffer();
        // Something other than the background is drawn in the middle of the 3D view.
        const QImage middle = frame.copy(frame.width() / 4, frame.height() / 4, frame.width() / 2,
                                         frame.height() / 2);
        QVERIFY(diffseg::test::fractionDifferentFrom(middle, middle.pixelColor(0, 0), 20) > 0.05);
        window.grab().save(QDir(diffseg::test::outputDir()).filePath("MainWindow_sample.png"));
    }

    void imageViewMatchesBaseline()
    {
        MainWindow window;
        window.openSamples();
        window.photoMode()->view()->setFixedSize(400, 300);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.photoMode()->view()->fitToWindow();
        const QImage image = window.photoMode()->view()->grab().toImage();
        const QString failure = diffseg::test::checkAgainstBaseline(image, "ImageView_sample");
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }

    void wheelZoomsAroundTheCursorAndFitRestores()
    {
        MainWindow window;
        window.openSamples();
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto* view = window.photoMode()->view();
        const double fit = view->zoom();
        const QPointF anchor(view->width() / 3.0, view->height() / 3.0);
        const QPointF before = view->widgetToImage(anchor);
        QWheelEvent wheel(anchor, view->mapToGlobal(anchor), QPoint(), QPoint(0, 240), Qt::NoButton,
                          Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(view, &wheel);
        QVERIFY(view->zoom() > fit * 1.4);
        // The image point under the cursor stays under the cursor.
        const QPointF after = view->widgetToImage(anchor);
        QVERIFY(std::abs(after.x() - before.x()) < 1.0 && std::abs(after.y() - before.y()) < 1.0);
        QTest::keyClick(view, Qt::Key_F);
        QCOMPARE(view->zoom(), fit);
    }

    void opensRealDermoscopyImages()
    {
        DIFFSEG_REQUIRE_SHARED(ph2, "data/dermoscopy/ph2/images/IMD002.bmp");
        DIFFSEG_REQUIRE_SHARED(isic, "data/dermoscopy/isic2017/images/ISIC_0012099.jpg");
        MainWindow window;
        QVERIFY(window.openPath(ph2, true));
        QVERIFY(window.photoMode()->view()->image().width() >= 764);
        QVERIFY(window.windowTitle().contains("IMD002.bmp"));
        QVERIFY(window.openPath(isic, true));
        QVERIFY(window.photoMode()->view()->image().width() > 1000);
    }

    void reportsFilesItCannotOpen()
    {
        MainWindow window;
        const QString dir = diffseg::test::scratchDir("badfiles");
        QVERIFY(!window.openPath(dir + "/missing.png", true));
        QFile truncated(dir + "/truncated.png");
        QVERIFY(truncated.open(QIODevice::WriteOnly));
        truncated.write("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
        truncated.close();
        QVERIFY(!window.openPath(truncated.fileName(), true));
        QVERIFY(window.photoMode()->view()->image().isNull() ||
                window.photoMode()->view()->image().width() > 0);
    }

    void screenshotOptionWritesTheWindow()
    {
        // End to end: the real executable, as the README's screenshot was made.
        const QString out = QDir(diffseg::test::scratchDir("screenshot")).filePath("studio.png");
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove("OMP_WAIT_POLICY");
        p.setProcessEnvironment(env);
        p.start(QString::fromLocal8Bit(qgetenv("DIFFSEG_STUDIO")),
                {"--screenshot", out, "--size", "1024x640"});
        QVERIFY(p.waitForStarted());
        // The studio runs again with passive OpenMP waiting (OpenMpWait.h), as the same process.
        QVERIFY(waitForEnvironment(p, "OMP_WAIT_POLICY", "PASSIVE"));
        QVERIFY(p.waitForFinished(90000));
        QCOMPARE(p.exitCode(), 0);
        const QImage shot(out);
        QCOMPARE(shot.size(), QSize(1024, 640));
    }

    void aWaitPolicyOfTheUsersIsKept()
    {
        const QString out = QDir(diffseg::test::scratchDir("screenshot")).filePath("active.png");
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("OMP_WAIT_POLICY", "ACTIVE");
        p.setProcessEnvironment(env);
        p.start(QString::fromLocal8Bit(qgetenv("DIFFSEG_STUDIO")),
                {"--screenshot", out, "--size", "640x400"});
        QVERIFY(p.waitForStarted());
        QVERIFY(waitForEnvironment(p, "OMP_WAIT_POLICY", "ACTIVE"));
        // ... and stays: the studio did not run itself again with its own choice.
        QThread::msleep(500);
        QVERIFY(p.state() != QProcess::Running ||
                waitForEnvironment(p, "OMP_WAIT_POLICY", "ACTIVE"));
        QVERIFY(p.waitForFinished(90000));
        QCOMPARE(p.exitCode(), 0);
    }

private:
    /// True once `name` is `value` in the running process's environment as its program image
    /// started (/proc/PID/environ; before the exec that is the parent's), within 10 s.
    static bool waitForEnvironment(const QProcess& p, const QByteArray& name,
                                   const QByteArray& value)
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 10000 && p.state() == QProcess::Running) {
            QFile file(QStringLiteral("/proc/%1/environ").arg(p.processId()));
            if (file.open(QIODevice::ReadOnly) &&
                file.readAll().split('\0').contains(name + '=' + value)) {
                return true;
            }
            QThread::msleep(20);
        }
        return false;
    }
};

DIFFSEG_GUI_TEST_MAIN(TestMainWindow)

#include "TestMainWindow.moc"
