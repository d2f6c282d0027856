#include "ImageCompare.h"
#include "TestSupport.h"
#include "base/SampleData.h"
#include "views/VolumeView3D.h"
#include "views/VolumeWorkspace.h"
#include "vtkqt/GlSetup.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QApplication>
#include <QCheckBox>
#include <QSignalSpy>
#include <QtTest>

using diffseg::widgets::SliceView;
using diffseg::widgets::VolumeWorkspace;
namespace core = diffseg::core;

class TestVolumeWorkspace : public QObject
{
    Q_OBJECT

private:
    core::SamplePhantom m_phantom = core::makeSamplePhantom(64, 4.0, 11);

private Q_SLOTS:
    void initTestCase()
    {
        const QString platform = QGuiApplication::platformName();
        if (platform == QLatin1String("offscreen") || platform == QLatin1String("minimal")) {
            QSKIP("the workspace has an OpenGL view: run under xvfb-run");
        }
    }

    void linksCrosshairWindowAndEdits()
    {
        VolumeWorkspace ws;
        ws.resize(900, 700);
        ws.setVolume(m_phantom.volume, true);
        ws.setLabels(m_phantom.labels);
        ws.show();
        QVERIFY(QTest::qWaitForWindowExposed(&ws));
        auto* axial = ws.sliceView(core::SliceOrientation::Axial);
        auto* coronal = ws.sliceView(core::SliceOrientation::Coronal);
        auto* sagittal = ws.sliceView(core::SliceOrientation::Sagittal);
        QCOMPARE(axial->window(), 400.0);

        // A click in the axial view moves the coronal and sagittal slices.
        const QPoint p = axial->imageToWidget(QPointF(20.5, 12.5)).toPoint();
        QTest::mouseClick(axial, Qt::LeftButton, {}, p);
        QCOMPARE(coronal->slice(), 12);
        QCOMPARE(sagittal->slice(), 20);

        // Window/level is shared.
        axial->setWindowLevel(1500, -600);
        QCOMPARE(coronal->window(), 1500.0);
        QCOMPARE(sagittal->level(), -600.0);

        // Edits in one view reach the label map and the history; undo restores it.
        QSignalSpy changed(&ws, &VolumeWorkspace::labelsChanged);
        ws.setTool(SliceView::Tool::Brush);
        const QPoint q = sagittal->imageToWidget(QPointF(10.5, 10.5)).toPoint();
        QTest::mousePress(sagittal, Qt::LeftButton, {}, q);
        QTest::mouseRelease(sagittal, Qt::LeftButton, {}, q);
        QVERIFY(changed.count() >= 1);
        QCOMPARE(ws.undoStack().size(), std::size_t(1));
        std::size_t painted = 0;
        for (std::size_t i = 0; i < ws.labels().voxelCount(); ++i) {
            painted +=
                ws.labels().data<std::uint8_t>()[i] != m_phantom.labels.data<std::uint8_t>()[i];
        }
        QVERIFY(painted > 0);
        ws.undo();
        for (std::size_t i = 0; i < ws.labels().voxelCount(); ++i) {
            QCOMPARE(ws.labels().data<std::uint8_t>()[i], m_phantom.labels.data<std::uint8_t>()[i]);
        }
    }

    void showsTheLabelSurfaceIn3d()
    {
        VolumeWorkspace ws;
        ws.resize(900, 700);
        ws.setVolume(m_phantom.volume, true);
        ws.setLabels(m_phantom.labels);
        ws.show();
        QVERIFY(QTest::qWaitForWindowExposed(&ws));
        QVERIFY(ws.view3D()->scene().labelTriangles() > 100);
        auto* gl = ws.view3D()->renderWidget();
        QVERIFY(QTest::qWaitFor([&] { return gl->renderCount() > 0; }, 30000));
        ws.sliceView(core::SliceOrientation::Axial)->setCrosshair({40.5, 30.5, 30.5});
        QTest::qWait(200);
        ws.grab().save(QDir(diffseg::test::outputDir()).filePath("VolumeWorkspace_phantom.png"));
        ws.view3D()->findChild<QCheckBox*>("showVolume")->setChecked(false);
        gl->requestRender();
        const int before = gl->renderCount();
        QVERIFY(QTest::qWaitFor([&] { return gl->renderCount() > before; }, 30000));
        const QImage surface = gl->grabFramebuffer();
        // The lesion's surface is drawn in label 1's colour (red).
        int red = 0;
        for (int y = 0; y < surface.height(); ++y) {
            for (int x = 0; x < surface.width(); ++x) {
                const QColor c = surface.pixelColor(x, y);
                red += (c.red() > 150 && c.green() < 80 && c.blue() < 80) ? 1 : 0;
            }
        }
        QVERIFY2(red > 50, qPrintable(QString::number(red)));
        QVERIFY(ws.labels().isAlignedWith(ws.volume()));
        core::LabelMap misaligned({10, 10, 10}, core::Geometry{});
        QVERIFY_THROWS_EXCEPTION(core::Error, ws.setLabels(misaligned));
    }
};

int main(int argc, char** argv)
{
    diffseg::widgets::preInitializeApplication();
    QApplication app(argc, argv);
    TestVolumeWorkspace test;
    return QTest::qExec(&test, argc, argv);
}

#include "TestVolumeWorkspace.moc"
