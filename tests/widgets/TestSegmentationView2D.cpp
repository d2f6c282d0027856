#include "GuiTestSupport.h"
#include "ImageCompare.h"
#include "TestSupport.h"
#include "base/SampleData.h"
#include "image/SegmentationView2D.h"

#include <QSignalSpy>
#include <QtTest>

#include <cmath>

using diffseg::test::drag;
using diffseg::widgets::SegmentationView2D;
namespace core = diffseg::core;

/// The 2D segmentation view driven with the mouse and keyboard: tools, undo/redo, overlays.
class TestSegmentationView2D : public QObject
{
    Q_OBJECT

private:
    core::SampleLesion m_sample = core::makeSampleLesion(256, 5);

    /// A view showing the sample lesion at zoom 2 (512x512 widget), exposed.
    std::unique_ptr<SegmentationView2D> makeView()
    {
        auto view = std::make_unique<SegmentationView2D>();
        view->setFixedSize(512, 512);
        view->setImage2D(m_sample.image);
        return diffseg::test::showFitted(std::move(view));
    }

    static QPoint at(SegmentationView2D& view, double x, double y)
    {
        return view.imageToWidget(QPointF(x, y)).toPoint();
    }

    static std::size_t count(const core::Image2D& mask)
    {
        std::size_t n = 0;
        for (std::size_t i = 0; i < mask.pixelCount(); ++i) {
            n += mask.data<std::uint8_t>()[i] != 0;
        }
        return n;
    }

private Q_SLOTS:
    void brushStrokePaintsAndUndoesAsOneStep()
    {
        auto view = makeView();
        QVERIFY(view);
        QCOMPARE(view->zoom(), 2.0);
        view->setTool(SegmentationView2D::Tool::Brush);
        view->setBrushRadius(6);
        QSignalSpy edits(view.get(), &SegmentationView2D::maskEdited);
        drag(view.get(), Qt::LeftButton,
             {at(*view, 40, 128), at(*view, 80, 128), at(*view, 140, 130), at(*view, 200, 128)});
        QVERIFY(edits.count() >= 2);
        QCOMPARE(view->undoStack().size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(view->undoStack().undoTitle()),
                 QStringLiteral("Brush stroke"));
        for (int x = 40; x <= 200; x += 4) {
            QVERIFY2(view->mask().at<std::uint8_t>(x, 128) == 1, qPrintable(QString::number(x)));
        }
        const std::size_t painted = count(view->mask());
        QVERIFY(painted > 160 * 10);

        // Right drag with the brush erases part of it: a second step.
        drag(view.get(), Qt::RightButton, {at(*view, 100, 128), at(*view, 120, 128)});
        QVERIFY(count(view->mask()) < painted);
        QCOMPARE(view->undoStack().size(), std::size_t(2));

        QTest::keyClick(view.get(), Qt::Key_Z, Qt::ControlModifier); // not bound in the view itself
        view->undo();
        QCOMPARE(count(view->mask()), painted);
        view->undo();
        QCOMPARE(count(view->mask()), std::size_t(0));
        view->redo();
        QCOMPARE(count(view->mask()), painted);
    }

    void editsLandInABoundSession()
    {
        // A session opened elsewhere (as the studio's will be): the view shows its photo, the
        // brush edits its mask, and its history (and dirty flag) is the view's undo stack.
        core::PhotoSession session;
        session.openImage(m_sample.image, "lesion.png");
        auto view = std::make_unique<SegmentationView2D>();
        view->setFixedSize(512, 512);
        view->bindSession(&session);
        view->show();
        QVERIFY(QTest::qWaitForWindowExposed(view.get()));
        view->fitToWindow();
        QCOMPARE(&view->session(), &session);
        QCOMPARE(view->image2D().width(), 256);
        view->setTool(SegmentationView2D::Tool::Brush);
        view->setBrushRadius(6);
        QSignalSpy history(view.get(), &SegmentationView2D::historyChanged);
        drag(view.get(), Qt::LeftButton, {at(*view, 40, 128), at(*view, 120, 128)});
        QVERIFY(session.labelledCount() > 80 * 10);
        QCOMPARE(session.labelledCount(), count(view->mask()));
        QCOMPARE(session.history().undoTitle(), std::string("Brush stroke"));
        QVERIFY(session.isDirty());
        QVERIFY(history.count() >= 1);
        session.undo(); // from the session: the view's mask is the session's
        QCOMPARE(count(view->mask()), std::size_t(0));
        view->bindSession(nullptr); // back to its own, empty session
        QVERIFY(view->image2D().empty());
    }

    void bracketsChangeTheBrushSize()
    {
        auto view = makeView();
        QVERIFY(view);
        view->setTool(SegmentationView2D::Tool::Brush);
        view->setBrushRadius(10);
        QTest::keyClick(view.get(), Qt::Key_BracketRight);
        QCOMPARE(view->brushRadius(), 12.5);
        QTest::keyClick(view.get(), Qt::Key_BracketLeft);
        QTest::keyClick(view.get(), Qt::Key_BracketLeft);
        QCOMPARE(view->brushRadius(), 8.0);
    }

    void polygonClicksAndLassoDragFill()
    {
        auto view = makeView();
        QVERIFY(view);
        view->setTool(SegmentationView2D::Tool::Polygon);
        QTest::mouseClick(view.get(), Qt::LeftButton, {}, at(*view, 20, 20));
        QTest::mouseClick(view.get(), Qt::LeftButton, {}, at(*view, 60, 20));
        QTest::mouseClick(view.get(), Qt::LeftButton, {}, at(*view, 60, 50));
        QTest::mouseDClick(view.get(), Qt::LeftButton, {}, at(*view, 20, 50));
        QCOMPARE(QString::fromStdString(view->undoStack().undoTitle()), QStringLiteral("Polygon"));
        const std::size_t area = count(view->mask());
        QVERIFY2(area > 1100 && area < 1300, qPrintable(QString::number(area))); // ~40 x 30

        QList<QPoint> lasso;
        for (int a = 0; a <= 40; ++a) {
            const double t = a * 2 * M_PI / 40;
            lasso << at(*view, 150 + 30 * std::cos(t), 150 + 30 * std::sin(t));
        }
        drag(view.get(), Qt::LeftButton, lasso);
        const std::size_t disc = count(view->mask()) - area;
        QVERIFY2(std::abs(double(disc) - M_PI * 900) < 200, qPrintable(QString::number(disc)));
        QCOMPARE(view->undoStack().size(), std::size_t(2));
    }

    void fillToolFillsAClosedOutline()
    {
        auto view = makeView();
        QVERIFY(view);
        view->setTool(SegmentationView2D::Tool::Brush);
        view->setBrushRadius(1.5);
        QList<QPoint> ring;
        for (int a = 0; a <= 60; ++a) {
            const double t = a * 2 * M_PI / 60;
            ring << at(*view, 128 + 40 * std::cos(t), 128 + 40 * std::sin(t));
        }
        drag(view.get(), Qt::LeftButton, ring);
        const std::size_t outline = count(view->mask());
        view->setTool(SegmentationView2D::Tool::Fill);
        QTest::mouseClick(view.get(), Qt::LeftButton, {}, at(*view, 128, 128));
        QVERIFY(count(view->mask()) > outline + 4000);
        QCOMPARE(view->mask().at<std::uint8_t>(5, 5), std::uint8_t(0));
        QCOMPARE(QString::fromStdString(view->undoStack().undoTitle()),
                 QStringLiteral("Fill region"));
    }

    void spaceDragPansInsteadOfPainting()
    {
        auto view = makeView();
        QVERIFY(view);
        view->setTool(SegmentationView2D::Tool::Brush);
        const QPointF before = view->widgetToImage(QPointF(256, 256));
        QTest::keyPress(view.get(), Qt::Key_Space);
        drag(view.get(), Qt::LeftButton, {QPoint(200, 200), QPoint(260, 230), QPoint(300, 260)});
        QTest::keyRelease(view.get(), Qt::Key_Space);
        QCOMPARE(count(view->mask()), std::size_t(0));
        QVERIFY(view->widgetToImage(QPointF(256, 256)) != before);
    }

    void acceptingThePreviewIsOneUndoStep()
    {
        auto view = makeView();
        QVERIFY(view);
        view->setPreview(m_sample.mask);
        QVERIFY(view->hasPreview());
        QVERIFY(view->acceptPreview());
        QVERIFY(!view->hasPreview());
        QCOMPARE(count(view->mask()), count(m_sample.mask));
        QCOMPARE(QString::fromStdString(view->undoStack().undoTitle()),
                 QStringLiteral("Accept AI result"));
        view->undo();
        QCOMPARE(count(view->mask()), std::size_t(0));
        core::Image2D wrong(10, 10, 1, core::PixelType::UInt8);
        QVERIFY_THROWS_EXCEPTION(core::Error, view->setPreview(wrong));
    }

    void overlaysMatchBaselines_data()
    {
        QTest::addColumn<QString>("name");
        // Row "mask" compares with tests/baselines/SegView_mask.png, and so on.
        for (const char* overlay : {"mask", "preview_gt", "probability", "uncertainty"}) {
            QTest::newRow(overlay) << QStringLiteral("SegView_%1").arg(overlay);
        }
    }

    void overlaysMatchBaselines()
    {
        QFETCH(QString, name);
        auto view = makeView();
        QVERIFY(view);
        view->setFixedSize(320, 320);
        view->fitToWindow();
        // A shrunk copy of the true mask stands in for a model's output; maps derive from it.
        core::Image2D shrunk(256, 256, 1, core::PixelType::UInt8);
        core::Image2D prob(256, 256, 1, core::PixelType::Float32);
        core::Image2D unc(256, 256, 1, core::PixelType::Float32);
        for (int y = 0; y < 256; ++y) {
            for (int x = 0; x < 256; ++x) {
                const bool in = m_sample.mask.at<std::uint8_t>(x, y) != 0;
                const bool inner = in && m_sample.mask.at<std::uint8_t>(std::max(0, x - 8), y) &&
                                   m_sample.mask.at<std::uint8_t>(std::min(255, x + 8), y) &&
                                   m_sample.mask.at<std::uint8_t>(x, std::max(0, y - 8)) &&
                                   m_sample.mask.at<std::uint8_t>(x, std::min(255, y + 8));
                shrunk.at<std::uint8_t>(x, y) = inner ? 1 : 0;
                prob.at<float>(x, y) = inner ? 0.95f : (in ? 0.55f : 0.03f);
                unc.at<float>(x, y) = in && !inner ? 0.9f : 0.05f;
            }
        }
        if (name == "SegView_mask") {
            view->setMask(m_sample.mask);
        } else if (name == "SegView_preview_gt") {
            view->setGroundTruth(m_sample.mask);
            view->setPreview(shrunk);
        } else if (name == "SegView_probability") {
            view->setProbabilityMap(prob);
            view->setHeatmap(SegmentationView2D::Heatmap::Probability);
        } else {
            view->setMask(shrunk);
            view->setUncertaintyMap(unc);
            view->setHeatmap(SegmentationView2D::Heatmap::Uncertainty);
            view->setColorMap(diffseg::widgets::ColorMap::Name::Inferno);
        }
        const QImage shot = view->grab().toImage();
        const QString failure = diffseg::test::checkAgainstBaseline(shot, name);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }
};

DIFFSEG_GUI_TEST_MAIN(TestSegmentationView2D)

#include "TestSegmentationView2D.moc"
