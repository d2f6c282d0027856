#include "GuiTestSupport.h"
#include "ImageCompare.h"
#include "TestSupport.h"
#include "base/SampleData.h"
#include "volume/SliceView.h"

#include <QApplication>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QWheelEvent>
#include <QtTest>

using diffseg::widgets::SliceView;
namespace core = diffseg::core;

class TestSliceView : public QObject
{
    Q_OBJECT

private:
    core::SamplePhantom m_phantom = core::makeSamplePhantom(64, 4.0, 11);

    std::unique_ptr<SliceView> makeView(core::SliceOrientation o)
    {
        auto view = std::make_unique<SliceView>(o);
        view->setFixedSize(256, 256);
        view->setVolume(m_phantom.volume);
        view->setWindowLevel(400, 40);
        view->setLabels(m_phantom.labels);
        return diffseg::test::showFitted(std::move(view));
    }

    static void wheel(QWidget* w, int notches, Qt::KeyboardModifiers mods = Qt::NoModifier)
    {
        QWheelEvent e(QPointF(128, 128), w->mapToGlobal(QPointF(128, 128)), QPoint(),
                      QPoint(0, 120 * notches), Qt::NoButton, mods, Qt::NoScrollPhase, false);
        QApplication::sendEvent(w, &e);
    }

private Q_SLOTS:
    void wheelScrollsSlicesAndCtrlWheelZooms()
    {
        auto view = makeView(core::SliceOrientation::Axial);
        QVERIFY(view);
        QCOMPARE(view->sliceCount(), 64);
        const int start = view->slice();
        QSignalSpy slices(view.get(), &SliceView::sliceChanged);
        wheel(view.get(), 3);
        QCOMPARE(view->slice(), start + 3);
        QCOMPARE(slices.count(), 3);
        QTest::keyClick(view.get(), Qt::Key_Down);
        QCOMPARE(view->slice(), start + 2);
        const double zoom = view->zoom();
        wheel(view.get(), 2, Qt::ControlModifier);
        QVERIFY(view->zoom() > zoom);
        QCOMPARE(view->slice(), start + 2);
    }

    void rightDragSetsWindowAndLevel()
    {
        auto view = makeView(core::SliceOrientation::Axial);
        QVERIFY(view);
        QSignalSpy wl(view.get(), &SliceView::windowLevelChanged);
        QTest::mousePress(view.get(), Qt::RightButton, {}, QPoint(100, 100));
        QMouseEvent move(QEvent::MouseMove, QPointF(160, 140), view->mapToGlobal(QPointF(160, 140)),
                         Qt::NoButton, Qt::RightButton, Qt::NoModifier);
        QApplication::sendEvent(view.get(), &move);
        QTest::mouseRelease(view.get(), Qt::RightButton, {}, QPoint(160, 140));
        QVERIFY(wl.count() >= 1);
        QVERIFY(view->window() > 400);
        QVERIFY(view->level() > 40);
    }

    void clickMovesTheCrosshairOfLinkedViews()
    {
        auto axial = makeView(core::SliceOrientation::Axial);
        auto coronal = makeView(core::SliceOrientation::Coronal);
        QVERIFY(axial && coronal);
        connect(axial.get(), &SliceView::crosshairMoved, coronal.get(), &SliceView::setCrosshair);
        // Click in the axial view at screen row 10 (anterior): the coronal slice follows (j = 10).
        const QPoint p = axial->imageToWidget(QPointF(32.5, 10.5)).toPoint();
        QTest::mouseClick(axial.get(), Qt::LeftButton, {}, p);
        QCOMPARE(coronal->slice(), 10);
        QVERIFY(std::abs(axial->crosshair()[0] - 32.5) < 1.0);
    }

    void brushPaintsTheLabelMapOnTheCoronalSlice()
    {
        core::LabelMap labels = core::LabelMap::like(m_phantom.volume);
        core::UndoStack undo;
        core::MaskEditor editor(core::LabelCanvas(labels), undo);
        auto view = makeView(core::SliceOrientation::Coronal);
        QVERIFY(view);
        view->setLabels(labels);
        view->setEditor(&editor);
        view->setTool(SliceView::Tool::Brush);
        view->setBrushRadiusMm(8.0);
        view->setPaintLabel(3);
        view->setSlice(20);
        QSignalSpy edited(view.get(), &SliceView::labelsEdited);
        // Coronal screen (x, y) = (i, 63 - k): paint around i = 30, k = 40.
        const QPoint p = view->imageToWidget(QPointF(30.5, 63 - 40 + 0.5)).toPoint();
        QTest::mousePress(view.get(), Qt::LeftButton, {}, p);
        QTest::mouseRelease(view.get(), Qt::LeftButton, {}, p);
        QVERIFY(edited.count() >= 1);
        QCOMPARE(labels.data<std::uint8_t>()[labels.linearIndex(30, 20, 40)], std::uint8_t(3));
        QCOMPARE(labels.data<std::uint8_t>()[labels.linearIndex(30, 21, 40)], std::uint8_t(0));
        QCOMPARE(QString::fromStdString(undo.undoTitle()), QStringLiteral("Brush stroke"));
        editor.undo();
        QCOMPARE(labels.data<std::uint8_t>()[labels.linearIndex(30, 20, 40)], std::uint8_t(0));
    }

    void orientationsMatchBaselines_data()
    {
        QTest::addColumn<int>("orientation");
        QTest::newRow("axial") << int(core::SliceOrientation::Axial);
        QTest::newRow("coronal") << int(core::SliceOrientation::Coronal);
        QTest::newRow("sagittal") << int(core::SliceOrientation::Sagittal);
    }

    void orientationsMatchBaselines()
    {
        QFETCH(int, orientation);
        auto view = makeView(static_cast<core::SliceOrientation>(orientation));
        QVERIFY(view);
        // Through the lesion's centre of mass.
        double c[3] = {0, 0, 0};
        std::size_t n = 0;
        for (std::int64_t k = 0; k < 64; ++k) {
            for (std::int64_t j = 0; j < 64; ++j) {
                for (std::int64_t i = 0; i < 64; ++i) {
                    if (m_phantom.labels
                            .data<std::uint8_t>()[m_phantom.labels.linearIndex(i, j, k)]) {
                        c[0] += i + 0.5, c[1] += j + 0.5, c[2] += k + 0.5, ++n;
                    }
                }
            }
        }
        view->setCrosshair({c[0] / n, c[1] / n, c[2] / n});
        const QImage shot = view->grab().toImage();
        const char* names[] = {"SliceView_axial", "SliceView_coronal", "SliceView_sagittal"};
        const QString failure =
            diffseg::test::checkAgainstBaseline(shot, names[orientation], 0.03, 0.03);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }
};

DIFFSEG_GUI_TEST_MAIN(TestSliceView)

#include "TestSliceView.moc"
