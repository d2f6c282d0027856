#pragma once

#include "AutosaveStore.h"
#include "base/Image2D.h"
#include "segmentation/UncertainRegions.h"
#include "steps/StepBrowser.h"

#include <QHash>
#include <QMainWindow>
#include <QString>

#include <memory>
#include <vector>

class QAction;
class QActionGroup;
class QDockWidget;
class QLabel;
class QMenu;
class QSettings;
class QSpinBox;
class QTimer;

namespace diffseg::core {
class StepCache;
}

namespace diffseg::widgets {
class EnsembleGallery;
class ImageView;
class ModelPanel;
class OverlayPanel;
class SegmentationView2D;
class VolumeView3D;
class TrainingPanel;
struct SamplingRequest;
} // namespace diffseg::widgets

namespace diffseg::app {

class RecentFiles;
class SegmentationRunner;
class VolumeMode;
class TrainingController;
struct SegmentationOutput;

/// How a main window behaves; the defaults are the application's, tests change them.
struct MainWindowOptions
{
    /// Message boxes for errors, "save changes?" and the autosave restore prompt. When false,
    /// errors go to the status bar and lastError(), and nothing waits for an answer (tests).
    bool interactive = true;
    /// An INI file for the settings (recent files, models, folders, window layout); empty: the
    /// user's settings (QSettings of the application).
    QString settingsFile;
    /// Where autosaves live; empty: QStandardPaths::AppLocalDataLocation/autosave.
    QString autosaveFolder;
    int autosaveIntervalMs = 30000; ///< periodic autosave while there are unsaved edits
    int autosaveDebounceMs = 1500;  ///< autosave this long after the last gesture
};

/// The DiffSeg Studio main window: the 2D lesion workflow around a SegmentationView2D in the
/// centre (open, segment with a diffusion model on a worker thread, browse the reverse-diffusion
/// steps, read the uncertainty, correct, save, report) and the 3D view in a dock.
///
/// Docks: Model (ModelPanel), Overlays (OverlayPanel), Steps (step frame + StepBrowser),
/// Ensemble (EnsembleGallery), 3D view; a tool bar holds the correction tools.
///
/// Ownership: owns its child widgets (Qt parents), the segmentation runner, the settings and
/// the autosave session. Threads: GUI thread only; sampling runs on the runner's thread and
/// reaches the window through queued invocations. Errors: bad input (unreadable image, mask of
/// the wrong size, corrupt checkpoint) is reported in a message box naming the file and the
/// problem (status bar and lastError() when not interactive); nothing throws out of a slot.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(const MainWindowOptions& options = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Opens an image into the 2D view (and a ground truth found next to it). Returns false
    /// (after telling the user why, unless `quiet`) when the file cannot be read.
    bool openPath(const QString& path, bool quiet = false);
    /// Shows the generated sample lesion image and CT phantom.
    void openSamples();
    /// The first-run demo: with the real photo model installed, a real photo it never trained
    /// on (resources/demo/, credited in the title and status bar); otherwise a photo from the
    /// generator the demo model was trained on (`diffseg demo-data`, at a seed it never saw),
    /// written with its ground truth under the cache folder. Either opens like any photo, with
    /// the model selected, so that Segment runs at once; the step browser plays when that run
    /// ends. False (after telling why) when the photo cannot be written or opened. Without a
    /// photo model the photo still opens and the status bar says what is missing.
    bool openDemo();
    /// The default photo model: the best packaged one (core::packagedDefaultModel), or an empty
    /// string when none is installed.
    static QString demoModelPath();
    /// The real demo photo shipped with the real photo model (resources/demo/), or empty.
    static QString realDemoPhoto();
    /// Loads a ground-truth mask for the open image; false (after telling why unless `quiet`)
    /// when it cannot be read or has another size than the image.
    bool loadGroundTruth(const QString& path, bool quiet = false);
    /// A ground truth next to `imagePath`, e.g. ../masks/<stem>_segmentation.png or
    /// <stem>_lesion.bmp; empty when none.
    static QString findGroundTruthFor(const QString& imagePath);
    /// The ground truth of the open photo (the session's), or empty.
    QString groundTruthPath() const;

    /// Adds a checkpoint file to the model chooser (remembered in the settings) and selects it;
    /// `referencePreset` is needed for a reference .pth (empty: guessed from the name).
    void addModel(const QString& path, const QString& referencePreset = {});
    /// Lists the models again: opened files, the models folder and the runs folder.
    void refreshModels();
    void setModelsFolder(const QString& folder);
    void setRunsFolder(const QString& folder);

    /// Starts segmenting the open image with the model panel's choices; false when it cannot.
    bool startSegmentation();
    void cancelSegmentation();
    bool isSegmenting() const;
    /// Shows a finished run (the runner's output; tests feed synthetic ones).
    void presentResult(const std::shared_ptr<const SegmentationOutput>& output);

    bool saveMaskTo(const QString& path, bool quiet = false);
    bool saveViewScreenshot(const QString& path, bool quiet = false);
    /// Writes the report as PDF or PNG, chosen by the extension.
    bool exportReport(const QString& path, bool quiet = false);
    /// Centres and zooms the view on the next uncertain region not yet reviewed; false when the
    /// result has none.
    bool nextUncertainRegion();
    /// Regions of the current uncertainty map, largest first, in image pixels.
    /// The regions of the chosen uncertainty map (the session's), or none.
    const std::vector<core::UncertainRegion>& uncertainRegions() const;

    /// Writes the autosave now (normally a timer does); false when there is nothing to save.
    bool autosaveNow();
    std::vector<AutosaveRecord> recoverableAutosaves() const;
    /// Reopens the autosave's image and ground truth and puts its mask back (one undo step).
    bool restoreAutosave(const AutosaveRecord& record);
    /// At start-up: asks whether to restore what a crashed session left (interactive only).
    void offerAutosaveRestore();
    AutosaveStore& autosave() { return *m_autosave; }

    /// The last error message (also when not interactive).
    const QString& lastError() const { return m_lastError; }
    const QString& currentPath() const { return m_currentPath; }
    bool hasUnsavedEdits() const { return m_dirty; }

    widgets::ImageView* imageView() const;
    widgets::SegmentationView2D* segmentationView() const { return m_view; }
    /// The 3D view, made on first use (see createDocks()).
    widgets::VolumeView3D* volumeView();
    widgets::ModelPanel* modelPanel() const { return m_modelPanel; }
    widgets::OverlayPanel* overlayPanel() const { return m_overlayPanel; }
    /// Shows heat map `index` in the workspace shown: photos 0 none, 1 probability, 2 std,
    /// 3 entropy, 4 instability; volumes 0 none, 1 probability, 2 entropy, 3 step entropy,
    /// 4 mirror variance.
    void setHeatmapChoice(int index);
    widgets::StepBrowser* stepBrowser() const { return m_stepBrowser; }
    widgets::ImageView* stepFrameView() const { return m_stepView; }
    widgets::EnsembleGallery* ensembleGallery() const { return m_gallery; }
    QDockWidget* volumeDock() const { return m_volumeDock; }
    /// The volume (CT/MRI) workflow: its workspace, docks and actions (VolumeMode.h).
    VolumeMode* volumeMode() const { return m_volumeMode; }
    /// Training (issue 9): the dock with the Training panel and its controller.
    QDockWidget* trainingDock() const { return m_trainingDock; }
    TrainingController* trainingController() const { return m_training; }
    SegmentationRunner* runner() const { return m_runner; }
    QSettings& settings() const { return *m_settings; }
    QAction* undoAction() const { return m_undoAction; }
    QAction* redoAction() const { return m_redoAction; }
    /// The step shown in the step pane and previewed in the view (-1 before a run).
    int shownStep() const { return m_shownStep; }

    /// Rich text for Help > About: versions of Qt, VTK, ITK, LibTorch, OpenCV and CUDA status.
    static QString aboutText();
    /// The packaged models with the training data and licence their cards state, as HTML.
    static QString packagedModelsText();

public Q_SLOTS:
    void showAbout();
    void showShortcuts();
    void openWithDialog();
    void loadGroundTruthWithDialog();
    void openModelWithDialog();
    void saveMask();
    void saveMaskAs();
    void saveScreenshotWithDialog();
    void exportReportWithDialog();
    void acceptAiResult();

Q_SIGNALS:
    /// A segmentation run ended (finished, failed or cancelled) and the window shows its state.
    void segmentationEnded(bool succeeded);

protected:
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;
    void closeEvent(QCloseEvent* e) override;

private:
    /// Sets the model panel's sampler, steps, ensemble and eta to what the model's card says it
    /// was validated with (nothing changes for a model without a card).
    void applyValidatedSettings(const QString& checkpoint);
    void createDocks();
    void createTrainingDock();
    void createActions();
    void createMenus();
    void createToolBar();
    void rebuildRecentMenu();
    void showPixelInfo(const QPoint& pixel, bool inside);
    void reportError(const QString& title, const QString& message, bool quiet);
    bool maybeSaveChanges();
    void resetResultState();
    void updateHistoryActions();
    void updateMetrics();
    void updateActionsEnabled();
    void markEdited();

    // Sampling and steps.
    void onRunStarted();
    void onStepAvailable();
    void onRunFailed(const QString& message, bool cancelled);
    void showStepFrame(int step, int member, widgets::StepBrowser::Mode mode);
    void acceptStep(int step, int member);
    core::Image2D stepValues(int step, int member, bool noisy) const;
    QImage stepImage(int step, int member, widgets::StepBrowser::Mode mode) const;
    QString stepLabel(int step) const;
    void chooseUncertaintyMap(int index);
    void recomputeRegions();

    MainWindowOptions m_options;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<RecentFiles> m_recent;
    std::unique_ptr<AutosaveStore> m_autosave;

    widgets::SegmentationView2D* m_view = nullptr;
    widgets::VolumeView3D* m_volumeView = nullptr;
    QDockWidget* m_volumeDock = nullptr;
    widgets::ModelPanel* m_modelPanel = nullptr;
    QDockWidget* m_modelDock = nullptr;
    widgets::OverlayPanel* m_overlayPanel = nullptr;
    QDockWidget* m_overlayDock = nullptr;
    widgets::StepBrowser* m_stepBrowser = nullptr;
    widgets::ImageView* m_stepView = nullptr;
    QDockWidget* m_stepDock = nullptr;
    widgets::EnsembleGallery* m_gallery = nullptr;
    QDockWidget* m_galleryDock = nullptr;
    QDockWidget* m_trainingDock = nullptr;
    TrainingController* m_training = nullptr;
    QSpinBox* m_brushSize = nullptr;
    QLabel* m_pixelLabel = nullptr;
    QLabel* m_glLabel = nullptr;
    QLabel* m_maskLabel = nullptr;
    QMenu* m_recentMenu = nullptr;
    QActionGroup* m_toolGroup = nullptr;
    QActionGroup* m_deviceGroup = nullptr;
    QActionGroup* m_precisionGroup = nullptr;
    QHash<QString, QAction*> m_actions;
    QAction* m_undoAction = nullptr;
    QAction* m_redoAction = nullptr;
    QAction* m_stepPreviewAction = nullptr;

    SegmentationRunner* m_runner = nullptr;
    VolumeMode* m_volumeMode = nullptr;
    QTimer* m_metricsTimer = nullptr;
    QTimer* m_autosaveDebounce = nullptr;
    QTimer* m_autosavePeriodic = nullptr;

    core::Image2D m_image;
    QString m_currentPath;
    QString m_lastError;
    QHash<QString, QString> m_presets; ///< checkpoint path -> reference preset
    bool m_loading = false;
    bool m_dirty = false;
    bool m_autosaveDirty = false;
    int m_imageSerial = 0;
    int m_runSerial = -1; ///< m_imageSerial of the image the running job segments

    std::shared_ptr<const SegmentationOutput> m_output;
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
