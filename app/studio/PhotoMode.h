#pragma once

#include "AutosaveStore.h"
#include "base/Image2D.h"
#include "segmentation/UncertainRegions.h"
#include "steps/StepBrowser.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

class QAction;
class QActionGroup;
class QDockWidget;
class QLabel;
class QMenu;
class QSpinBox;
class QTimer;
class QToolBar;

namespace diffseg::core {
class PhotoSession;
class StepCache;
} // namespace diffseg::core

namespace diffseg::widgets {
class EnsembleGallery;
class ImageView;
class ModelPanel;
class OverlayPanel;
class SegmentationView2D;
} // namespace diffseg::widgets

namespace diffseg::app {

class MainWindow;
class SegmentationRunner;
class SessionAutosave;
struct SegmentationJob;
struct SegmentationOutput;

/// The studio's photo workflow (dermoscopy, DermoSegDiff): the photo view in the centre, bound
/// to the core::PhotoSession that holds the open document, and around it the Model, Overlays,
/// Steps and Ensemble docks and the correction tool bar. It opens a photo (and the ground truth
/// found next to it), segments it on a worker thread (SegmentationRunner), streams the reverse-
/// diffusion steps to the step browser, shows the result, its uncertainty and the uncertain
/// regions, takes corrections (undo), scores them against the ground truth, saves the mask,
/// writes the report, and autosaves unsaved edits.
///
/// The window (MainWindow) assembles menus from actions() and switches between this and the
/// volume workflow with setShown(); nothing here finds a widget by name.
///
/// Ownership: a child of the window; owns the runner and the result; its widgets and actions are
/// the window's children. Threads: GUI thread only; sampling runs on the runner's thread and
/// reaches this object through queued signals. Errors: bad input (an unreadable photo, a mask of
/// another size, a volume model) is reported through the window (MainWindow::reportError: a
/// message box naming the file, or the status bar when not interactive); nothing throws out of a
/// slot.
class PhotoMode : public QObject
{
    Q_OBJECT

public:
    PhotoMode(MainWindow* window, AutosaveStore& autosave, int autosaveIntervalMs,
              int autosaveDebounceMs);
    ~PhotoMode() override;

    /// Opens a photo (and a ground truth found next to it); false (after telling why unless
    /// `quiet`) when it cannot be read or the user keeps unsaved edits.
    bool openPath(const QString& path, bool quiet = false);
    /// Shows a generated image that is not a file (the sample lesion).
    bool openGenerated(const core::Image2D& image);
    bool loadGroundTruth(const QString& path, bool quiet = false);
    QString groundTruthPath() const;

    /// Lists the photo models (DermoSegDiff checkpoints and reference .pth) of the window's
    /// model settings in the model panel.
    void refreshModels();

    /// Starts segmenting the open photo with the model panel's choices; false when it cannot.
    bool startSegmentation();
    void cancelSegmentation();
    bool isSegmenting() const;
    /// Shows a finished run (the runner's output; tests feed synthetic ones).
    void presentResult(const std::shared_ptr<const SegmentationOutput>& output);
    void acceptAiResult();

    /// Refines the mask with the Prompt tool's clicks and box (and the strokes sent with
    /// refineFromEdits()) in the background: a run that is going is cancelled and this one
    /// follows it. The result shows dashed; acceptAiResult() takes it as one undo step
    /// ("Refine: 3 clicks"). False when there is nothing to refine with or no model.
    bool refineWithPrompts();
    /// "Refine from my edits": the brush and eraser changes since the last AI result become
    /// prompts (painted = lesion, erased = background) and the model refines around them.
    bool refineFromEdits();
    /// The undo title a refinement's result is accepted with.
    QString refineTitle() const;

    bool saveMaskTo(const QString& path, bool quiet = false);
    bool saveViewScreenshot(const QString& path, bool quiet = false);
    /// Writes the report as PDF or PNG, chosen by the extension.
    bool exportReport(const QString& path, bool quiet = false);
    /// Centres and zooms the view on the next uncertain region not yet reviewed; false when the
    /// result has none.
    bool nextUncertainRegion();
    /// The regions of the chosen uncertainty map (the session's), largest first, or none.
    const std::vector<core::UncertainRegion>& uncertainRegions() const;
    /// Shows heat map `index`: 0 none, 1 probability, 2 std, 3 entropy, 4 instability.
    void setHeatmapChoice(int index);

    /// Writes the autosave now (normally a timer does); false when there is nothing to save.
    bool autosaveNow();
    std::vector<AutosaveRecord> recoverableAutosaves() const;
    /// Reopens the autosave's photo and ground truth and puts its mask back (one undo step).
    bool restoreAutosave(const AutosaveRecord& record);
    /// At start-up: asks whether to restore what a crashed session left (interactive only).
    void offerAutosaveRestore();
    /// Asks to save unsaved edits (interactive only); false when the user cancels.
    bool maybeSaveChanges();
    /// Stops a run (for closing the window).
    void shutDown();

    /// Shows (true) or hides this workflow's docks, tool bar and actions; the window calls it
    /// when it switches workspaces.
    void setShown(bool shown);
    /// Named actions ("saveMask", "undo", "toolBrush", "segment", "prevStep", ...).
    QAction* action(const QString& name) const { return m_actions.value(name); }
    /// Adds the correction tools (in Tool order), the brush sizes and "Refine from My Edits".
    void addToolActions(QMenu* menu) const;
    /// The docks, in the order the View menu lists them.
    QList<QDockWidget*> docks() const;

    bool hasImage() const { return !m_image.empty(); }
    const core::Image2D& image() const { return m_image; }
    const QString& currentPath() const { return m_currentPath; }
    bool hasUnsavedEdits() const { return m_dirty; }
    widgets::SegmentationView2D* view() const { return m_view; }
    core::PhotoSession& session() const;
    widgets::ModelPanel* modelPanel() const { return m_modelPanel; }
    widgets::OverlayPanel* overlayPanel() const { return m_overlayPanel; }
    widgets::StepBrowser* stepBrowser() const { return m_stepBrowser; }
    widgets::ImageView* stepFrameView() const { return m_stepView; }
    widgets::EnsembleGallery* ensembleGallery() const { return m_gallery; }
    SegmentationRunner* runner() const { return m_runner; }
    QAction* undoAction() const { return m_undoAction; }
    QAction* redoAction() const { return m_redoAction; }
    /// The step shown in the step pane and previewed in the view (-1 before a run).
    int shownStep() const { return m_shownStep; }

Q_SIGNALS:
    /// A segmentation run ended (finished, failed or cancelled) and the views show its state.
    void segmentationEnded(bool succeeded);
    /// A photo was read and the user let go of unsaved edits: it replaces the open document now
    /// (the window shows the photo workspace then, not before: a failed open leaves it as it was).
    void documentReplacing();

private:
    void createDocks();
    void createActions();
    void createToolBar();
    void connectView();
    void connectRunner();
    void reportError(const QString& title, const QString& message, bool quiet);
    void showMessage(const QString& message, int timeoutMs = 0);
    void resetResultState();
    void showImage(const core::Image2D& image, const QString& path);
    void updateHistoryActions();
    void updateMetrics();
    /// updateMetrics() soon, once for a burst of edits.
    void scheduleMetrics();
    /// The dashed result (the view's preview) or the ground truth changed: its Dice is computed
    /// again, soon.
    void notePreviewChanged();
    void updateActionsEnabled();
    void markEdited();
    void showPixelInfo(const QPoint& pixel, bool inside);
    void loadGroundTruthWithDialog();
    void saveMask();
    void saveMaskAs();
    void saveScreenshotWithDialog();
    void exportReportWithDialog();

    // Sampling and steps (PhotoModeRun.cpp).
    void onModelReady();
    void onRunStarted();
    void onStepAvailable();
    void onRunFailed(const QString& message, bool cancelled);
    void showStepFrame(int step, int member, widgets::StepView mode);
    void acceptStep(int step, int member);
    void previewEnsembleTile(int which);
    core::Image2D stepValues(int step, int member, bool noisy) const;
    QImage stepImage(int step, int member, widgets::StepView mode) const;
    QString stepLabel(int step) const;
    void chooseUncertaintyMap(int index);
    /// The checks and settings every run shares (image, model, sampler from the panel and the
    /// card); nullopt (after telling why) when a run cannot start.
    std::optional<SegmentationJob> prepareJob();
    /// Starts `job` and shows that it runs; `what` is the status line.
    bool launchJob(SegmentationJob job, const QString& what);

    void recomputeRegions();

    MainWindow* m_window;
    SessionAutosave* m_autosave = nullptr;

    widgets::SegmentationView2D* m_view = nullptr;
    widgets::ModelPanel* m_modelPanel = nullptr;
    QDockWidget* m_modelDock = nullptr;
    widgets::OverlayPanel* m_overlayPanel = nullptr;
    QDockWidget* m_overlayDock = nullptr;
    widgets::StepBrowser* m_stepBrowser = nullptr;
    widgets::ImageView* m_stepView = nullptr;
    QDockWidget* m_stepDock = nullptr;
    widgets::EnsembleGallery* m_gallery = nullptr;
    QDockWidget* m_galleryDock = nullptr;
    QToolBar* m_toolBar = nullptr;
    QSpinBox* m_brushSize = nullptr;
    QLabel* m_pixelLabel = nullptr;
    QLabel* m_maskLabel = nullptr;
    QActionGroup* m_toolGroup = nullptr;
    QHash<QString, QAction*> m_actions;
    QAction* m_undoAction = nullptr;
    QAction* m_redoAction = nullptr;
    QAction* m_stepPreviewAction = nullptr;
    QList<QAction*> m_hiddenActions;       ///< the actions setShown(false) hid
    QHash<QDockWidget*, bool> m_dockShown; ///< the docks' visibility when hidden
    bool m_toolBarShown = true;
    bool m_shown = true;

    SegmentationRunner* m_runner = nullptr;
    QTimer* m_metricsTimer = nullptr;
    /// The dashed result's Dice against the ground truth, kept until notePreviewChanged(): the
    /// metrics follow every edit of the mask, and the dashed result does not change with them.
    std::optional<double> m_pendingDice;

    core::Image2D m_image;
    QString m_currentPath;
    QHash<QString, QString> m_presets; ///< checkpoint path -> reference preset
    bool m_loading = false;
    bool m_dirty = false;
    int m_imageSerial = 0;
    int m_runSerial = -1; ///< m_imageSerial of the image the running job segments

    std::shared_ptr<const SegmentationOutput> m_output;
    core::Image2D m_refineStrokes; ///< "Refine from my edits": PromptLabel strokes, or empty
    std::shared_ptr<core::StepCache> m_stepCache;
    int m_liveStep = -1;
    std::vector<core::Image2D> m_liveX0;
    std::vector<int> m_timesteps;
    int m_shownStep = -1;
    QString m_acceptNote;             ///< where the mask came from, for the report
    std::size_t m_acceptedAtUndo = 0; ///< undo steps right after that accept
    bool m_regionsShown = false; ///< the result has the chosen map, so the session's regions count
    int m_uncertaintyIndex = 1;  ///< entropy until the user picks another map
};

} // namespace diffseg::app
