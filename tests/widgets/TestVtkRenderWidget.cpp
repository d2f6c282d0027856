#include "GuiTestSupport.h"
#include "ImageCompare.h"
#include "TestSupport.h"
#include "base/SampleData.h"
#include "render/VolumeScene.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QApplication>
#include <QDockWidget>
#include <QMainWindow>
#include <QSignalSpy>
#include <QVBoxLayout>
#include <QtTest>

#include <vtkCamera.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>

#include <memory>

using diffseg::widgets::VolumeScene;
using diffseg::widgets::VtkRenderWidget;

/// The Qt6/VTK bridge under a real X display (Xvfb + Mesa): rendering against a baseline, resize,
/// re-parenting (which destroys the GL context) and mouse interaction.
class TestVtkRenderWidget : public QObject
{
    Q_OBJECT

public:
    explicit TestVtkRenderWidget(bool sharedContexts)
        : m_sharedContexts(sharedContexts)
    {}

private:
    static constexpr int kSize = 300;
    bool m_sharedContexts;
    /// The background colour of VolumeScene at the top row (gradient), for "is anything drawn".
    const QColor m_background{56, 61, 74};

    static void prepareScene(VolumeScene& scene)
    {
        const auto phantom = diffseg::core::makeSamplePhantom(64, 4.0, 11);
        scene.setVolume(phantom.volume);
        scene.setPreset(VolumeScene::Preset::CtSoftTissue);
        // The CPU ray caster gives the same picture on every Mesa version.
        scene.setPreferCpuRayCast(true);
        scene.resetCamera();
    }

    /// The prepared phantom scene in a render widget of its own, which drops the renderer again
    /// before it goes.
    struct SceneView
    {
        VolumeScene scene;
        VtkRenderWidget view;

        SceneView()
        {
            prepareScene(scene);
            view.renderWindow()->AddRenderer(scene.renderer());
        }
        ~SceneView() { view.renderWindow()->RemoveRenderer(scene.renderer()); }
    };

    /// Waits until the widget has rendered a new frame after `before` renders.
    static bool waitForRender(VtkRenderWidget& view, int before, int timeoutMs = 20000)
    {
        return QTest::qWaitFor([&] { return view.renderCount() > before; }, timeoutMs);
    }

    /// Shows `view` and waits for its window and its first frame.
    static bool showAndRender(VtkRenderWidget& view)
    {
        view.show();
        return QTest::qWaitForWindowExposed(&view) && waitForRender(view, 0);
    }

    static double drawnFraction(const QImage& image)
    {
        // Gradient background: count pixels far from the background at their own row's ends.
        const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
        long count = 0;
        for (int y = 0; y < rgb.height(); ++y) {
            const QColor bg = rgb.pixelColor(1, y);
            const uchar* p = rgb.constScanLine(y);
            for (int x = 0; x < rgb.width(); ++x) {
                if (std::abs(p[3 * x] - bg.red()) + std::abs(p[3 * x + 1] - bg.green()) +
                        std::abs(p[3 * x + 2] - bg.blue()) >
                    30) {
                    ++count;
                }
            }
        }
        return count / (double(rgb.width()) * rgb.height());
    }

private Q_SLOTS:
    void initTestCase()
    {
        DIFFSEG_SKIP_WITHOUT_GL_DISPLAY("QOpenGLWidget needs a real display (run under xvfb-run)");
    }

    void rendersVolumeLikeBaseline()
    {
        SceneView shown;
        VtkRenderWidget& view = shown.view;
        view.setFixedSize(kSize, kSize);
        QVERIFY2(showAndRender(view), "no frame rendered");
        qInfo("GL: %s", qPrintable(view.glInfo()));
        const QImage frame = view.grabFramebuffer();
        QCOMPARE(frame.size(), QSize(kSize, kSize));
        const QString failure =
            diffseg::test::checkAgainstBaseline(frame, "VtkRenderWidget_phantom");
        QVERIFY2(drawnFraction(frame) > 0.10, "the volume is not visible");
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }

    void followsResize()
    {
        SceneView shown;
        VtkRenderWidget& view = shown.view;
        view.resize(kSize, kSize);
        QVERIFY(showAndRender(view));
        const int before = view.renderCount();
        view.resize(420, 260);
        QVERIFY(waitForRender(view, before));
        const int* size = view.renderWindow()->GetSize();
        QCOMPARE(size[0], 420);
        QCOMPARE(size[1], 260);
        const QImage frame = view.grabFramebuffer();
        QCOMPARE(frame.size(), QSize(420, 260));
        QVERIFY(drawnFraction(frame) > 0.05);
    }

    void survivesDockAndUndock()
    {
        VolumeScene scene;
        prepareScene(scene);
        QMainWindow window;
        window.setCentralWidget(new QWidget(&window));
        auto* dock = new QDockWidget(QStringLiteral("3D"), &window);
        auto* view = new VtkRenderWidget(dock);
        view->renderWindow()->AddRenderer(scene.renderer());
        dock->setWidget(view);
        window.addDockWidget(Qt::RightDockWidgetArea, dock);
        window.resize(700, 400);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(waitForRender(*view, 0));
        QVERIFY(view->initializeCount() >= 1);

        // Undocking re-parents the widget into a new top-level window. Without shared contexts Qt
        // destroys the GL context then, and the bridge must build VTK's resources again.
        for (bool floating : {true, false}) {
            const int inits = view->initializeCount();
            const int renders = view->renderCount();
            dock->setFloating(floating);
            if (floating) {
                dock->resize(360, 300);
            }
            QVERIFY(QTest::qWaitForWindowExposed(floating ? static_cast<QWidget*>(dock) : &window));
            if (!m_sharedContexts) {
                QVERIFY2(QTest::qWaitFor([&] { return view->initializeCount() > inits; }, 20000),
                         "the context was not re-initialised after re-parenting");
            }
            view->requestRender();
            QVERIFY(waitForRender(*view, renders));
            const QImage frame = view->grabFramebuffer();
            QVERIFY2(drawnFraction(frame) > 0.05,
                     qPrintable(QStringLiteral("nothing drawn after %1 (%2 GL initialisations)")
                                    .arg(floating ? "undocking" : "docking")
                                    .arg(view->initializeCount())));
        }
        view->renderWindow()->RemoveRenderer(scene.renderer());
    }

    void mouseRotatesAndWheelZooms()
    {
        SceneView shown;
        VtkRenderWidget& view = shown.view;
        view.setFixedSize(kSize, kSize);
        QVERIFY(showAndRender(view));
        vtkCamera* camera = shown.scene.renderer()->GetActiveCamera();
        const double distance = camera->GetDistance();
        double position[3];
        camera->GetPosition(position);

        // Four wheel notches forward zoom in (the camera dollies towards the focal point).
        for (int i = 0; i < 4; ++i) {
            QWheelEvent wheel(QPointF(150, 150), view.mapToGlobal(QPointF(150, 150)), QPoint(),
                              QPoint(0, 120), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase,
                              false);
            QApplication::sendEvent(&view, &wheel);
        }
        QVERIFY2(camera->GetDistance() < distance * 0.8,
                 qPrintable(QString("distance %1 -> %2").arg(distance).arg(camera->GetDistance())));

        // A left drag rotates the camera around the focal point.
        const int rendersBefore = view.renderCount();
        QTest::mousePress(&view, Qt::LeftButton, Qt::NoModifier, QPoint(150, 150));
        for (int x = 155; x <= 230; x += 15) {
            QMouseEvent move(QEvent::MouseMove, QPointF(x, 150), view.mapToGlobal(QPointF(x, 150)),
                             Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
            QApplication::sendEvent(&view, &move);
        }
        QTest::mouseRelease(&view, Qt::LeftButton, Qt::NoModifier, QPoint(230, 150));
        double after[3];
        camera->GetPosition(after);
        const double moved = std::hypot(after[0] - position[0], after[1] - position[1]);
        QVERIFY2(moved > 1.0, "the drag did not rotate the camera");
        QVERIFY(waitForRender(view, rendersBefore));
    }
};

/// `--unshared-contexts` runs the same tests without Qt::AA_ShareOpenGLContexts, the mode in which
/// Qt destroys a QOpenGLWidget's context whenever it changes top-level window.
int main(int argc, char** argv)
{
    diffseg::widgets::preInitializeApplication();
    QStringList args;
    bool shared = true;
    for (int i = 0; i < argc; ++i) {
        if (QByteArray(argv[i]) == "--unshared-contexts") {
            shared = false;
        } else {
            args << QString::fromLocal8Bit(argv[i]);
        }
    }
    QCoreApplication::setAttribute(Qt::AA_ShareOpenGLContexts, shared);
    QApplication app(argc, argv);
    TestVtkRenderWidget test(shared);
    return QTest::qExec(&test, args);
}

#include "TestVtkRenderWidget.moc"
