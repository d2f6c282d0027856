// VolumeWorkspace: linked crosshair, window/level and edits; label surfaces in 3D; the AI result
// accepted as one undo step; the heat map in the slices and in 3D (colour volume, painted on the
// surface); ground-truth and preview outlines; baselines of the four views (axial, sagittal,
// coronal, 3D) of a generated CT phantom.

#include "GuiTestSupport.h"
#include "ImageCompare.h"
#include "TestSupport.h"
#include "base/SampleData.h"
#include "data/DemoData.h"
#include "render/VolumeScene.h"
#include "volume/VolumeView3D.h"
#include "volume/VolumeWorkspace.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QtTest>

#include <vtkRenderer.h>

using diffseg::widgets::SliceView;
using diffseg::widgets::VolumeScene;
using diffseg::widgets::VolumeWorkspace;
namespace core = diffseg::core;

namespace {

/// A heat map that is high on the labels' boundaries: 1 - |2p - 1| of the labels' foreground
/// box-blurred over 5 x 5 x 3 voxels (what an uncertainty map of a good model looks like).
core::Volume boundaryMap(const core::LabelMap& labels)
{
    const auto& n = labels.size();
    core::Volume out(n, 1, core::PixelType::Float32, labels.geometry());
    const std::uint8_t* l = labels.data<std::uint8_t>();
    float* u = out.data<float>();
    for (std::int64_t k = 0; k < n[2]; ++k) {
        for (std::int64_t j = 0; j < n[1]; ++j) {
            for (std::int64_t i = 0; i < n[0]; ++i) {
                int inside = 0;
                int count = 0;
                for (std::int64_t dk = -1; dk <= 1; ++dk) {
                    for (std::int64_t dj = -2; dj <= 2; ++dj) {
                        for (std::int64_t di = -2; di <= 2; ++di) {
                            const auto a = std::clamp<std::int64_t>(i + di, 0, n[0] - 1);
                            const auto b = std::clamp<std::int64_t>(j + dj, 0, n[1] - 1);
                            const auto c = std::clamp<std::int64_t>(k + dk, 0, n[2] - 1);
                            inside += l[labels.linearIndex(a, b, c)] != 0 ? 1 : 0;
                            ++count;
                        }
                    }
                }
                const double p = static_cast<double>(inside) / count;
                u[out.linearIndex(i, j, k)] = static_cast<float>(1.0 - std::abs(2.0 * p - 1.0));
            }
        }
    }
    return out;
}

/// Pixels of `image` close to `color` (each channel within `delta`).
int countColor(const QImage& image, const QColor& color, int delta = 40)
{
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QColor c = image.pixelColor(x, y);
            count += std::abs(c.red() - color.red()) <= delta &&
                             std::abs(c.green() - color.green()) <= delta &&
                             std::abs(c.blue() - color.blue()) <= delta
                         ? 1
                         : 0;
        }
    }
    return count;
}

/// Shows `ws` at 900 x 700 with `volume` (window/level from the data) and `labels` when given;
/// false when the window was not exposed.
bool showWorkspace(VolumeWorkspace& ws, const core::Volume& volume,
                   const core::LabelMap* labels = nullptr)
{
    ws.resize(900, 700);
    ws.setVolume(volume, true);
    if (labels != nullptr) {
        ws.setLabels(*labels);
    }
    ws.show();
    return QTest::qWaitForWindowExposed(&ws);
}

} // namespace

class TestVolumeWorkspace : public QObject
{
    Q_OBJECT

private:
    core::SamplePhantom m_phantom = core::makeSamplePhantom(64, 4.0, 11);
    core::CtPhantomDemo m_ct = core::generateCtPhantomDemo({128, 128, 48}, 5);

private Q_SLOTS:
    void initTestCase()
    {
        DIFFSEG_SKIP_WITHOUT_GL_DISPLAY("the workspace has an OpenGL view: run under xvfb-run");
    }

    void linksCrosshairWindowAndEdits()
    {
        VolumeWorkspace ws;
        QVERIFY(showWorkspace(ws, m_phantom.volume, &m_phantom.labels));
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

    /// CPU ray casting and the label surfaces of a volume above 16 M voxels use every second
    /// voxel: both keep their place (bounds within a stride or two of the full grid's); GPU ray
    /// casting and smaller volumes keep every voxel.
    void largeVolumesAreRayCastAndMeshedAtAStride()
    {
        core::Geometry geometry;
        geometry.spacing = {0.8, 0.8, 1.5};
        geometry.origin = {-100.0, 40.0, 12.0};
        geometry.direction = {-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0};
        core::Volume big({260, 260, 250}, 1, core::PixelType::Int16, geometry);
        VolumeScene scene;
        scene.setVolume(big);
        double full[6];
        scene.renderer()->ComputeVisiblePropBounds(full);
        QCOMPARE(scene.displayStride(), 1);
        scene.setPreferCpuRayCast(true);
        QCOMPARE(scene.displayStride(), 2);
        double strided[6];
        scene.renderer()->ComputeVisiblePropBounds(strided);
        for (int i = 0; i < 6; ++i) {
            const double slack = 2.0 * geometry.spacing[static_cast<std::size_t>(i / 2)];
            QVERIFY2(std::abs(strided[i] - full[i]) <= slack,
                     qPrintable(QString("bound %1: %2 vs %3").arg(i).arg(strided[i]).arg(full[i])));
        }

        // Its label surfaces are built at the same stride, in the same place.
        core::LabelMap labels({260, 260, 250}, geometry);
        for (std::int64_t k = 50; k <= 150; ++k) {
            for (std::int64_t j = 50; j <= 150; ++j) {
                for (std::int64_t i = 50; i <= 150; ++i) {
                    labels.data<std::uint8_t>()[labels.linearIndex(i, j, k)] = 1;
                }
            }
        }
        scene.setLabels(labels);
        QCOMPARE(scene.surfaceStride(), 2);
        QVERIFY(scene.labelTriangles() > 100);
        scene.setVolumeVisible(false);
        double box[6];
        scene.renderer()->ComputeVisiblePropBounds(box);
        const auto a = geometry.indexToPhysical({50.0, 50.0, 50.0});
        const auto b = geometry.indexToPhysical({150.0, 150.0, 150.0});
        for (std::size_t axis = 0; axis < 3; ++axis) {
            const double slack = 2.0 * 2.0 * geometry.spacing[axis];
            QVERIFY2(std::abs(box[2 * axis] - std::min(a[axis], b[axis])) <= slack &&
                         std::abs(box[2 * axis + 1] - std::max(a[axis], b[axis])) <= slack,
                     qPrintable(QString("axis %1: %2..%3")
                                    .arg(axis)
                                    .arg(box[2 * axis])
                                    .arg(box[2 * axis + 1])));
        }
        scene.setVolumeVisible(true);

        scene.setPreferCpuRayCast(false);
        QCOMPARE(scene.displayStride(), 1);
        core::Volume small({128, 128, 100}, 1, core::PixelType::Int16, geometry);
        scene.setPreferCpuRayCast(true);
        scene.setVolume(small);
        QCOMPARE(scene.displayStride(), 1);
    }

    void showsTheLabelSurfaceIn3d()
    {
        VolumeWorkspace ws;
        QVERIFY(showWorkspace(ws, m_phantom.volume, &m_phantom.labels));
        QVERIFY(ws.view3D()->scene().labelTriangles() > 100);
        auto* gl = ws.view3D()->renderWidget();
        QVERIFY(QTest::qWaitFor([&] { return gl->renderCount() > 0; }, 30000));
        ws.setCrosshair({40.5, 30.5, 30.5});
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

    void acceptsAResultAsOneUndoStep()
    {
        VolumeWorkspace ws;
        QVERIFY(showWorkspace(ws, m_ct.volume));
        QSignalSpy history(&ws, &VolumeWorkspace::historyChanged);
        ws.replaceLabels(m_ct.labels, "Accept AI result");
        QCOMPARE(ws.undoStack().size(), std::size_t(1));
        QCOMPARE(ws.undoStack().undoTitle(), std::string("Accept AI result"));
        QVERIFY(history.count() >= 1);
        const auto equalToResult = [&] {
            return std::equal(ws.labels().data<std::uint8_t>(),
                              ws.labels().data<std::uint8_t>() + ws.labels().voxelCount(),
                              m_ct.labels.data<std::uint8_t>());
        };
        QVERIFY(equalToResult());
        QVERIFY(ws.labels().isAlignedWith(m_ct.volume, 0.0));

        // A brush stroke on the result, then undo back to the result, then to empty labels.
        ws.setTool(SliceView::Tool::Brush);
        auto* axial = ws.sliceView(core::SliceOrientation::Axial);
        const QPoint a = axial->imageToWidget(QPointF(30.5, 30.5)).toPoint();
        const QPoint b = axial->imageToWidget(QPointF(50.5, 40.5)).toPoint();
        QTest::mousePress(axial, Qt::LeftButton, {}, a);
        QTest::mouseMove(axial, b);
        QTest::mouseRelease(axial, Qt::LeftButton, {}, b);
        QCOMPARE(ws.undoStack().size(), std::size_t(2));
        QVERIFY(!equalToResult());
        ws.undo();
        QVERIFY(equalToResult());
        ws.undo();
        QCOMPARE(ws.labels().maxLabel(), 0);
        ws.redo();
        QVERIFY(equalToResult());

        // Maps on another grid are refused, naming what they are.
        core::LabelMap other({10, 10, 10}, core::Geometry{});
        QVERIFY_THROWS_EXCEPTION(core::Error, ws.replaceLabels(other, "x"));
        QVERIFY_THROWS_EXCEPTION(core::Error, ws.setGroundTruth(other));
        QVERIFY_THROWS_EXCEPTION(core::Error, ws.setOverlay(other, 1.0));
    }

    void namesTheLabelsTheBrushPaints()
    {
        VolumeWorkspace ws;
        QVERIFY(showWorkspace(ws, m_ct.volume));
        auto* legend = ws.findChild<QLabel*>(QStringLiteral("paintLabelName"));
        QVERIFY(legend && legend->isHidden()); // no names: no legend (the baselines' toolbar)
        ws.setLabelNames({{0, "background"}, {1, "Anterior"}, {2, "Posterior"}});
        QVERIFY(!legend->isHidden());
        QVERIFY(legend->text().contains("Anterior"));
        QVERIFY(legend->toolTip().contains("2 Posterior"));
        QVERIFY(!legend->toolTip().contains("background"));
        ws.setPaintLabel(2);
        QVERIFY(legend->text().contains("Posterior"));
        QVERIFY(legend->text().contains(SliceView::labelColor(2).name()));
        ws.setPaintLabel(5);
        QVERIFY(legend->text().contains("(unnamed)"));
        QCOMPARE(ws.labelName(1), QStringLiteral("Anterior"));
        ws.setLabelNames({});
        QVERIFY(legend->isHidden());
    }

    void showsHeatMapAndOutlines()
    {
        VolumeWorkspace ws;
        QVERIFY(showWorkspace(ws, m_ct.volume, &m_ct.labels));
        auto* axial = ws.sliceView(core::SliceOrientation::Axial);
        axial->setCrosshair({64.5, 64.5, 30.5});
        const QImage plain = axial->grab().toImage();

        // The ground truth in yellow and a preview in magenta.
        ws.setGroundTruth(m_ct.labels);
        ws.setPreviewLabels(m_ct.labels);
        const QImage outlined = axial->grab().toImage();
        QVERIFY(countColor(outlined, QColor(255, 60, 255)) > 20);
        ws.setPreviewLabels({});
        QVERIFY(countColor(axial->grab().toImage(), QColor(255, 220, 40)) > 20);
        ws.setGroundTruth({});

        // The heat map changes the slice; 8-bit codes with scale 1/255 look like the float map.
        const core::Volume map = boundaryMap(m_ct.labels);
        ws.setOverlay(map, 1.0);
        const QImage heat = axial->grab().toImage();
        const auto d = diffseg::test::compareImages(heat, plain);
        QVERIFY2(d.fractionOver > 0.003, qPrintable(QString::number(d.fractionOver)));
        core::Volume codes(map.size(), 1, core::PixelType::UInt8, map.geometry());
        for (std::size_t i = 0; i < map.voxelCount(); ++i) {
            codes.data<std::uint8_t>()[i] =
                static_cast<std::uint8_t>(map.data<float>()[i] * 255.0f + 0.5f);
        }
        ws.setOverlay(codes, 1.0 / 255.0);
        const auto same = diffseg::test::compareImages(axial->grab().toImage(), heat);
        QVERIFY2(same.meanAbsolute < 0.002, qPrintable(QString::number(same.meanAbsolute)));

        // In 3D: the chooser is enabled; painted on the surface, then as a colour volume.
        auto* gl = ws.view3D()->renderWidget();
        QVERIFY(QTest::qWaitFor([&] { return gl->renderCount() > 0; }, 60000));
        auto* chooser = ws.view3D()->findChild<QComboBox*>("overlay3dMode");
        QVERIFY(chooser && chooser->isEnabled());
        ws.view3D()->findChild<QCheckBox*>("showVolume")->setChecked(false);
        const QImage surface = diffseg::test::renderedFrame(gl);
        ws.view3D()->setOverlayMode(VolumeScene::OverlayMode::Surface);
        QCOMPARE(ws.view3D()->scene().overlayMode(), VolumeScene::OverlayMode::Surface);
        const QImage painted = diffseg::test::renderedFrame(gl);
        QVERIFY(!painted.isNull());
        const auto paintDiff = diffseg::test::compareImages(painted, surface);
        QVERIFY2(paintDiff.fractionOver > 0.01,
                 qPrintable(QString::number(paintDiff.fractionOver)));
        ws.view3D()->setOverlayMode(VolumeScene::OverlayMode::ColourVolume);
        const QImage colourVolume = diffseg::test::renderedFrame(gl);
        QVERIFY(!colourVolume.isNull());
        painted.save(QDir(diffseg::test::outputDir()).filePath("VolumeWorkspace_heat_surface.png"));
        colourVolume.save(
            QDir(diffseg::test::outputDir()).filePath("VolumeWorkspace_heat_volume.png"));
        ws.setOverlay({}, 1.0);
        QVERIFY(!chooser->isEnabled());
    }

    /// The four views of a CT phantom with its labels, the ground truth outlined and a heat map on
    /// the boundaries, against tests/baselines/Volume_*.png.
    void baselinesOfTheFourViews()
    {
        VolumeWorkspace ws;
        ws.resize(1000, 760);
        ws.setVolume(m_ct.volume, true);
        ws.setLabels(m_ct.labels);
        ws.setOverlay(boundaryMap(m_ct.labels), 1.0);
        ws.setOverlayOpacity(0.5);
        ws.show();
        QVERIFY(QTest::qWaitForWindowExposed(&ws));
        ws.setCrosshair({80.5, 60.5, 26.5});
        // Each view shows the slice through the crosshair (radiological display, 1-based titles).
        QCOMPARE(ws.sliceView(core::SliceOrientation::Axial)->slice(), 26);
        QCOMPARE(ws.sliceView(core::SliceOrientation::Sagittal)->slice(), 80);
        QCOMPARE(ws.sliceView(core::SliceOrientation::Coronal)->slice(), 60);
        auto* gl = ws.view3D()->renderWidget();
        QVERIFY(QTest::qWaitFor([&] { return gl->renderCount() > 0; }, 60000));
        ws.view3D()->setOverlayMode(VolumeScene::OverlayMode::Hidden);
        const QImage frame = diffseg::test::renderedFrame(gl);
        QVERIFY(!frame.isNull());
        QStringList failures;
        const struct
        {
            const char* name;
            core::SliceOrientation orientation;
        } slices[] = {{"Volume_axial", core::SliceOrientation::Axial},
                      {"Volume_sagittal", core::SliceOrientation::Sagittal},
                      {"Volume_coronal", core::SliceOrientation::Coronal}};
        for (const auto& s : slices) {
            const QString why = diffseg::test::checkAgainstBaseline(
                ws.sliceView(s.orientation)->grab().toImage(), QLatin1String(s.name));
            if (!why.isEmpty()) {
                failures << why;
            }
        }
        // Software ray casting varies a little more between runs than the slices do.
        const QString why3d = diffseg::test::checkAgainstBaseline(frame, "Volume_3d", 0.03, 0.04);
        if (!why3d.isEmpty()) {
            failures << why3d;
        }
        QVERIFY2(failures.isEmpty(), qPrintable(failures.join("\n")));
    }
};

DIFFSEG_GUI_TEST_MAIN(TestVolumeWorkspace)

#include "TestVolumeWorkspace.moc"
