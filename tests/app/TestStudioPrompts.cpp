// Guided refinement in the studio (issue 19), driven as a user would: the Prompt tool's clicks
// (left = lesion, right = background) refine in the background, a newer click cancels the run
// that is going, markers move and disappear, Shift + drag draws a box, the result waits dashed and
// is accepted as one named undo step; "Refine from my edits" sends brush strokes as prompts.
// A tiny freshly initialised model: what is checked is the workflow and that every prompt is
// honoured, not the quality of the outline.

#include "GuiTestSupport.h"
#include "MainWindow.h"
#include "PhotoMode.h"
#include "SegmentationRunner.h"
#include "StudioTestSupport.h"
#include "TestSupport.h"
#include "TinyCheckpoint.h"
#include "image/SegmentationView2D.h"
#include "io/ImageWriter.h"
#include "panels/ModelPanel.h"

#include <QAction>
#include <QSignalSpy>
#include <QtTest>

using diffseg::widgets::SegmentationView2D;

class TestStudioPrompts : public QObject
{
    Q_OBJECT

private:
    QString m_dir;
    QString m_checkpoint;
    QString m_photo;

    static QPoint at(SegmentationView2D* view, double x, double y)
    {
        return view->imageToWidget(QPointF(x, y)).toPoint();
    }

    static int maskAt(SegmentationView2D* view, int x, int y)
    {
        return view->preview().at<std::uint8_t>(x, y);
    }

    void openWithModel(MainWindow& window)
    {
        window.resize(1280, 860);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY2(window.openPath(m_photo, true), qPrintable(window.lastError()));
        window.addModel(m_checkpoint);
        test::useFastSampling(window, 4, 2, true, 5);
    }

private Q_SLOTS:
    void initTestCase()
    {
        DIFFSEG_REQUIRE_GL_DISPLAY();
        m_dir = test::studioScratchDir("studio-prompts");
        m_checkpoint = test::writeTinyCheckpoint(QDir(m_dir).filePath("tiny.dsckpt"), 64, 50, 1);
        m_photo = QDir(m_dir).filePath("lesion_prompts.png");
        core::writeImage(test::syntheticPhoto(480, 360), m_photo.toStdString());
    }

    void clicksRefineAndAreAcceptedAsOneStep()
    {
        MainWindow window(test::testOptions(m_dir, "prompts"));
        openWithModel(window);
        diffseg::app::PhotoMode* photo = window.photoMode();
        SegmentationView2D* view = photo->view();

        // The tool: its key and its tool bar button.
        QAction* tool = photo->action("toolPrompt");
        QVERIFY(tool);
        QVERIFY(tool->shortcuts().contains(QKeySequence(Qt::Key_2)));
        view->setFocus();
        QTest::keyClick(&window, Qt::Key_C);
        QCOMPARE(view->tool(), SegmentationView2D::Tool::Prompt);
        QVERIFY(tool->isChecked());
        QTest::keyClick(&window, Qt::Key_V);
        QCOMPARE(view->tool(), SegmentationView2D::Tool::Navigate);
        QTest::keyClick(&window, Qt::Key_2);
        QCOMPARE(view->tool(), SegmentationView2D::Tool::Prompt);
        // 1 stays the view's "actual size".
        QTest::keyClick(view, Qt::Key_1);
        QCOMPARE(view->zoom(), 1.0);
        QCOMPARE(view->tool(), SegmentationView2D::Tool::Prompt);
        view->fitToWindow();

        // A left click marks lesion and refines at once, in the background.
        QSignalSpy changed(view, &SegmentationView2D::promptsChanged);
        QTest::mouseClick(view, Qt::LeftButton, Qt::NoModifier, at(view, 240, 180));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(view->promptLayer().clicks().size(), std::size_t(1));
        QVERIFY(view->promptLayer().clicks()[0].lesion);
        QVERIFY(photo->isSegmenting());
        // A right click before it ends: background; the first run is cancelled for it.
        QTest::mouseClick(view, Qt::RightButton, Qt::NoModifier, at(view, 40, 40));
        QCOMPARE(view->promptLayer().clicks().size(), std::size_t(2));
        QVERIFY(!view->promptLayer().clicks()[1].lesion);
        QTRY_VERIFY_WITH_TIMEOUT(!photo->isSegmenting() && view->hasPreview(), 120000);
        const auto& output = photo->runner()->output();
        QVERIFY(output && output->refined);
        QCOMPARE(output->refineClicks, 2);
        // Every prompt is honoured in the result, whatever the model thinks.
        QCOMPARE(maskAt(view, 240, 180), 1);
        QCOMPARE(maskAt(view, 40, 40), 0);
        window.grab().save(QDir(test::outputDir()).filePath("Studio_prompts_refined.png"));

        // Dragging a marker moves it (and refines again); a double-click removes it.
        QTest::mousePress(view, Qt::LeftButton, Qt::NoModifier, at(view, 40, 40));
        QTest::mouseMove(view, at(view, 60, 300));
        QTest::mouseRelease(view, Qt::LeftButton, Qt::NoModifier, at(view, 60, 300));
        QCOMPARE(view->promptLayer().clicks().size(), std::size_t(2));
        QVERIFY(std::abs(view->promptLayer().clicks()[1].y - 300) < 3.0);
        QTRY_VERIFY_WITH_TIMEOUT(!photo->isSegmenting() && view->hasPreview(), 120000);
        QCOMPARE(maskAt(view, 60, 300), 0);
        QTest::mouseDClick(view, Qt::LeftButton, Qt::NoModifier, at(view, 60, 300));
        QCOMPARE(view->promptLayer().clicks().size(), std::size_t(1));
        // Shift + drag: a box; outside it is background.
        QTest::mousePress(view, Qt::LeftButton, Qt::ShiftModifier, at(view, 120, 80));
        QTest::mouseMove(view, at(view, 360, 280));
        QTest::mouseRelease(view, Qt::LeftButton, Qt::ShiftModifier, at(view, 360, 280));
        QVERIFY(view->promptLayer().box().has_value());
        QTRY_VERIFY_WITH_TIMEOUT(!photo->isSegmenting() && view->hasPreview() &&
                                     photo->runner()->output()->refined,
                                 120000);
        QCOMPARE(maskAt(view, 20, 20), 0);
        QCOMPARE(maskAt(view, 470, 350), 0);
        QCOMPARE(maskAt(view, 240, 180), 1);

        // Accept: one undo step named after the prompts; the markers are spent.
        QCOMPARE(photo->refineTitle(), QStringLiteral("Refine: 1 click + box"));
        const std::size_t before = view->undoStack().undoCount();
        photo->acceptAiResult();
        QCOMPARE(view->undoStack().undoCount(), before + 1);
        QCOMPARE(view->undoStack().undoTitle(), std::string("Refine: 1 click + box"));
        QCOMPARE(view->mask().at<std::uint8_t>(240, 180), 1);
        QVERIFY(view->promptLayer().empty());
    }

    void brushStrokesAreSentAsPrompts()
    {
        MainWindow window(test::testOptions(m_dir, "prompts-edits"));
        openWithModel(window);
        diffseg::app::PhotoMode* photo = window.photoMode();
        SegmentationView2D* view = photo->view();
        // Nothing edited: nothing to send.
        QVERIFY(!photo->refineFromEdits());
        view->setTool(SegmentationView2D::Tool::Brush);
        view->setBrushRadius(12);
        test::drag(view, Qt::LeftButton, {at(view, 200, 150), at(view, 260, 170)});
        QVERIFY(test::lesionPixels(view->mask()) > 0);
        QVERIFY(photo->action("refineFromEdits"));
        photo->action("refineFromEdits")->trigger();
        QVERIFY(photo->isSegmenting());
        QTRY_VERIFY_WITH_TIMEOUT(!photo->isSegmenting() && view->hasPreview(), 120000);
        // The painted pixels stay lesion in the refined result.
        QCOMPARE(maskAt(view, 230, 160), 1);
        QCOMPARE(photo->refineTitle(), QStringLiteral("Refine: my edits"));
        photo->acceptAiResult();
        QCOMPARE(view->undoStack().undoTitle(), std::string("Refine: my edits"));
    }
};

DIFFSEG_GUI_TEST_MAIN(TestStudioPrompts)

#include "TestStudioPrompts.moc"
