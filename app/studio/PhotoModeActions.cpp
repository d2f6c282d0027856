// The photo workflow's actions: file, edit, tools, view, model and steps (the window places them
// in its menus; the tool bar holds the correction tools).
#include "ActionFactory.h"
#include "MainWindow.h"
#include "PhotoMode.h"
#include "image/SegmentationView2D.h"

#include <QAction>
#include <QActionGroup>

namespace diffseg::app {

void PhotoMode::createActions()
{
    auto make = [this](const QString& name, const QString& text, const QString& tip,
                       const QList<QKeySequence>& keys = {}) {
        return makeAction(m_window, m_actions, name, text, tip, keys);
    };

    // File
    connect(make("loadGroundTruth", tr("Load &Ground Truth..."),
                 tr("Load a reference mask of the open image to see Dice and IoU live"),
                 {QKeySequence(Qt::CTRL | Qt::Key_G)}),
            &QAction::triggered, this, &PhotoMode::loadGroundTruthWithDialog);
    connect(make("saveMask", tr("&Save Mask"),
                 tr("Save the mask as a PNG (0 and 255) of the image's size"),
                 {QKeySequence::Save}),
            &QAction::triggered, this, &PhotoMode::saveMask);
    connect(make("saveMaskAs", tr("Save Mask &As..."), tr("Save the mask under another name"),
                 {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S)}),
            &QAction::triggered, this, &PhotoMode::saveMaskAs);
    connect(make("saveScreenshot", tr("Save Screens&hot of View..."),
                 tr("Save the 2D view as you see it (image and overlays) as a PNG"),
                 {QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_S)}),
            &QAction::triggered, this, &PhotoMode::saveScreenshotWithDialog);
    connect(make("exportReport", tr("Export &Report..."),
                 tr("An A4 report (PDF or PNG): image, mask, uncertainty, metrics and settings"),
                 {QKeySequence(Qt::CTRL | Qt::Key_E)}),
            &QAction::triggered, this, &PhotoMode::exportReportWithDialog);

    // Edit
    m_undoAction = make("undo", tr("&Undo"), tr("Undo the last edit"), {QKeySequence::Undo});
    m_undoAction->setProperty("shortcutName", tr("Undo the last edit"));
    // The menu names what will be undone; the tool bar keeps a short label.
    m_undoAction->setIconText(tr("Undo"));
    connect(m_undoAction, &QAction::triggered, m_view, &widgets::SegmentationView2D::undo);
    m_redoAction =
        make("redo", tr("&Redo"), tr("Redo the edit undone last"),
             {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
    m_redoAction->setProperty("shortcutName", tr("Redo the edit undone last"));
    m_redoAction->setIconText(tr("Redo"));
    connect(m_redoAction, &QAction::triggered, m_view, &widgets::SegmentationView2D::redo);
    connect(make("acceptAi", tr("&Accept AI Result"),
                 tr("Make the dashed AI result the mask (one undo step)"),
                 {QKeySequence(Qt::Key_A)}),
            &QAction::triggered, this, &PhotoMode::acceptAiResult);
    m_actions.value(QStringLiteral("acceptAi"))->setIconText(tr("Accept AI"));
    connect(make("clearMask", tr("&Clear Mask"), tr("Remove every lesion pixel (one undo step)"),
                 {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Delete)}),
            &QAction::triggered, this, [this] {
                if (m_image.empty()) {
                    return;
                }
                core::Image2D empty(m_image.width(), m_image.height(), 1, core::PixelType::UInt8);
                m_view->replaceMask(empty, "Clear mask");
            });

    // Tools
    m_toolGroup = new QActionGroup(this);
    const struct
    {
        const char* name;
        QString text;
        QString tip;
        Qt::Key key;
        widgets::SegmentationView2D::Tool tool;
    } tools[] = {
        {"toolNavigate", tr("Navigate"), tr("Pan with the left button, zoom with the wheel"),
         Qt::Key_V, widgets::SegmentationView2D::Tool::Navigate},
        {"toolBrush", tr("Brush"), tr("Paint lesion (right button or Shift erases)"), Qt::Key_B,
         widgets::SegmentationView2D::Tool::Brush},
        {"toolEraser", tr("Eraser"), tr("Erase lesion pixels"), Qt::Key_E,
         widgets::SegmentationView2D::Tool::Eraser},
        {"toolPolygon", tr("Polygon"),
         tr("Click vertices and double-click to close, or drag a freehand lasso; Shift or right "
            "button erases"),
         Qt::Key_L, widgets::SegmentationView2D::Tool::Polygon},
        {"toolFill", tr("Fill"), tr("Fill the clicked region; right button clears it"), Qt::Key_G,
         widgets::SegmentationView2D::Tool::Fill},
        {"toolPrompt", tr("Prompt"),
         tr("Guide the model: left click = lesion, right click = background, Shift + drag = box; "
            "drag a marker to move it, double-click to remove it. Each click refines at once."),
         Qt::Key_C, widgets::SegmentationView2D::Tool::Prompt},
    };
    for (const auto& t : tools) {
        QList<QKeySequence> keys{QKeySequence(t.key)};
        if (t.tool == widgets::SegmentationView2D::Tool::Prompt) {
            keys << QKeySequence(Qt::Key_2); // the guided tool's number key (1 is Actual size)
        }
        QAction* a = make(QLatin1String(t.name), t.text, t.tip, keys);
        a->setCheckable(true);
        a->setActionGroup(m_toolGroup);
        const auto tool = t.tool;
        connect(a, &QAction::triggered, this, [this, tool] {
            m_view->setTool(tool);
            m_view->setFocus();
        });
    }
    m_actions.value(QStringLiteral("toolNavigate"))->setChecked(true);
    connect(make("brushSmaller", tr("Smaller Brush"), tr("Brush radius / 1.25"),
                 {QKeySequence(Qt::Key_BracketLeft)}),
            &QAction::triggered, this,
            [this] { m_view->setBrushRadius(m_view->brushRadius() / 1.25); });
    connect(make("brushLarger", tr("Larger Brush"), tr("Brush radius x 1.25"),
                 {QKeySequence(Qt::Key_BracketRight)}),
            &QAction::triggered, this,
            [this] { m_view->setBrushRadius(m_view->brushRadius() * 1.25); });
    connect(make("refineFromEdits", tr("&Refine from My Edits"),
                 tr("Send your brush and eraser changes to the model as prompts: it redraws the "
                    "outline around them (R)"),
                 {QKeySequence(Qt::Key_R)}),
            &QAction::triggered, this, &PhotoMode::refineFromEdits);
    connect(make("nextRegion", tr("&Next Uncertain Region"),
                 tr("Centre the view on the largest uncertain region not yet reviewed"),
                 {QKeySequence(Qt::Key_N)}),
            &QAction::triggered, this, &PhotoMode::nextUncertainRegion);
    m_actions.value(QStringLiteral("nextRegion"))->setIconText(tr("Next Region"));

    // View
    connect(make("zoomIn", tr("Zoom &In"), tr("Zoom in around the centre"),
                 {QKeySequence(Qt::CTRL | Qt::Key_Equal), QKeySequence::ZoomIn}),
            &QAction::triggered, m_view, &widgets::ImageView::zoomIn);
    connect(make("zoomOut", tr("Zoom &Out"), tr("Zoom out around the centre"),
                 {QKeySequence(Qt::CTRL | Qt::Key_Minus)}),
            &QAction::triggered, m_view, &widgets::ImageView::zoomOut);
    connect(make("fit", tr("&Fit to Window"), tr("Show the whole image"),
                 {QKeySequence(Qt::CTRL | Qt::Key_0)}),
            &QAction::triggered, m_view, &widgets::ImageView::fitToWindow);
    connect(make("actualSize", tr("&Actual Size"), tr("One screen pixel per image pixel"),
                 {QKeySequence(Qt::CTRL | Qt::Key_1)}),
            &QAction::triggered, m_view, &widgets::ImageView::actualSize);

    // Model
    connect(make("segment", tr("&Segment"), tr("Run the model on the open image"),
                 {QKeySequence(Qt::CTRL | Qt::Key_R)}),
            &QAction::triggered, this, [this] { startSegmentation(); });
    connect(make("cancelSegment", tr("&Cancel Segmentation"),
                 tr("Stop sampling; the steps so far stay browsable"),
                 {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R)}),
            &QAction::triggered, this, &PhotoMode::cancelSegmentation);

    // Steps
    connect(make("prevStep", tr("&Previous Step"), tr("Show the previous reverse-diffusion step"),
                 {QKeySequence(Qt::Key_Comma)}),
            &QAction::triggered, this, [this] {
                m_stepBrowser->setFollowing(false);
                m_stepBrowser->previousStep();
            });
    connect(make("nextStep", tr("N&ext Step"), tr("Show the next reverse-diffusion step"),
                 {QKeySequence(Qt::Key_Period)}),
            &QAction::triggered, this, [this] {
                m_stepBrowser->setFollowing(false);
                m_stepBrowser->nextStep();
            });
    connect(make("firstStep", tr("&First Step"), tr("Show the first (noisiest) step"),
                 {QKeySequence(Qt::CTRL | Qt::Key_Comma)}),
            &QAction::triggered, this, [this] {
                m_stepBrowser->setFollowing(false);
                m_stepBrowser->firstStep();
            });
    connect(make("lastStep", tr("&Last Step"), tr("Show the last step (the result)"),
                 {QKeySequence(Qt::CTRL | Qt::Key_Period)}),
            &QAction::triggered, this, [this] { m_stepBrowser->lastStep(); });
    connect(make("playSteps", tr("Play / &Pause"), tr("Play the steps like a film"),
                 {QKeySequence(Qt::Key_K)}),
            &QAction::triggered, this,
            [this] { m_stepBrowser->setPlaying(!m_stepBrowser->isPlaying()); });
    connect(make("acceptStep", tr("&Use This Step"),
                 tr("Make the shown step's mask the mask (one undo step)"),
                 {QKeySequence(Qt::SHIFT | Qt::Key_A)}),
            &QAction::triggered, this, [this] {
                if (m_shownStep >= 0) {
                    acceptStep(m_shownStep, m_stepBrowser->member());
                }
            });
    m_stepPreviewAction = make("stepPreview", tr("Show Step &Preview in View"),
                               tr("Outline the shown step's mask (dashed) in the image view"),
                               {QKeySequence(Qt::Key_P)});
    m_stepPreviewAction->setCheckable(true);
    m_stepPreviewAction->setChecked(true);
    connect(m_stepPreviewAction, &QAction::toggled, this, [this](bool on) {
        if (!on) {
            m_view->clearPreview();
            notePreviewChanged();
        } else if (m_shownStep >= 0) {
            showStepFrame(m_shownStep, m_stepBrowser->member(), m_stepBrowser->view());
        }
    });
}

} // namespace diffseg::app
