#pragma once

#include "AutosaveStore.h"
#include "ModelCatalog.h"

#include <QHash>
#include <QMainWindow>
#include <QString>

#include <memory>
#include <vector>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QSettings;

namespace diffseg::widgets {
class VolumeView3D;
} // namespace diffseg::widgets

namespace diffseg::app {

class ComputeChoices;
class PhotoMode;
class RecentFiles;
class VolumeMode;
class TrainingController;

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

/// The DiffSeg Studio main window: it assembles the menus, docks and views of two workflows,
/// the photo workflow (PhotoMode: dermoscopy, DermoSegDiff) and the volume workflow (VolumeMode:
/// CT/MRI, Diff-UNet), and switches between them; it keeps what both share: the settings, the
/// recent files, the model catalogue, the device and precision, the training dock, the 3D view of
/// the sample phantom, About and the shortcuts, and where an opened or dropped file goes.
///
/// Ownership: owns its child widgets (Qt parents), both workflows, the settings and the autosave
/// store. Threads: GUI thread only. Errors: bad input is reported in a message box naming the
/// file and the problem (status bar and lastError() when not interactive); nothing throws out of
/// a slot.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(const MainWindowOptions& options = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Opens a photo (PhotoMode) or a volume or DICOM folder (VolumeMode), by what the path is.
    /// Returns false (after telling the user why, unless `quiet`) when it cannot be read.
    bool openPath(const QString& path, bool quiet = false);
    /// Shows the generated sample lesion image and CT phantom.
    void openSamples();
    /// The first-run demo: the photo of prepareDemoPhoto() (DemoPhoto.h) for the default photo
    /// model, opened like any photo with the model selected, so that Segment runs at once; the
    /// step browser plays when that run ends. False (after telling why) when the photo cannot be
    /// written or opened. Without a photo model the photo still opens and the status bar says
    /// what is missing.
    bool openDemo();
    /// A ground truth next to `imagePath`, e.g. ../masks/<stem>_segmentation.png or
    /// <stem>_lesion.bmp; empty when none.
    static QString findGroundTruthFor(const QString& imagePath);

    /// Adds a checkpoint file to the model choosers (remembered in the settings) and selects it;
    /// `referencePreset` is needed for a reference .pth (empty: guessed from the name).
    void addModel(const QString& path, const QString& referencePreset = {});
    /// Lists the models again in both workflows: opened files, the models and runs folders.
    void refreshModels();
    void setModelsFolder(const QString& folder);
    void setRunsFolder(const QString& folder);
    /// The checkpoints of the model settings (files, folders, packaged models), both kinds.
    std::vector<ModelEntry> modelEntries() const;
    /// The Model menu's device and precision (both workflows' runs use them).
    const ComputeChoices& compute() const { return *m_compute; }

    /// Segments with the workflow shown; false when it cannot.
    bool startSegmentation();
    void cancelSegmentation();
    bool isSegmenting() const;
    /// Shows heat map `index` in the workspace shown: photos 0 none, 1 probability, 2 std,
    /// 3 entropy, 4 instability; volumes 0 none, 1 probability, 2 entropy, 3 step entropy,
    /// 4 mirror variance.
    void setHeatmapChoice(int index);
    /// Shows the photo workflow's docks, tool bar and actions (and the 3D dock as it was), or
    /// hides them while the volume workflow shows (VolumeMode::setActive calls it).
    void showPhotoWorkflow(bool shown);

    /// Reports an error: a message box (interactive, unless `quiet`), the status bar and
    /// lastError().
    void reportError(const QString& title, const QString& message, bool quiet);
    bool isInteractive() const { return m_options.interactive; }
    /// The last error message (also when not interactive).
    const QString& lastError() const { return m_lastError; }
    /// The open photo's path (empty for the sample or none).
    const QString& currentPath() const;
    AutosaveStore& autosave() { return *m_autosave; }

    /// The photo (dermoscopy) workflow: its view, docks, actions and runner (PhotoMode.h).
    PhotoMode* photoMode() const { return m_photo; }
    /// The volume (CT/MRI) workflow: its workspace, docks and actions (VolumeMode.h).
    VolumeMode* volumeMode() const { return m_volumeMode; }
    /// The 3D view, made on first use (see createDocks()).
    widgets::VolumeView3D* volumeView();
    QDockWidget* volumeDock() const { return m_volumeDock; }
    /// Training (issue 9): the dock with the Training panel and its controller.
    QDockWidget* trainingDock() const { return m_trainingDock; }
    TrainingController* trainingController() const { return m_training; }
    QSettings& settings() const { return *m_settings; }

public Q_SLOTS:
    void showAbout();
    void showShortcuts();
    void openWithDialog();
    void openModelWithDialog();

Q_SIGNALS:
    /// A segmentation run ended (finished, failed or cancelled) and the window shows its state.
    void segmentationEnded(bool succeeded);

protected:
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;
    void closeEvent(QCloseEvent* e) override;

private:
    void createVolumeDock();
    void createTrainingDock();
    void createActions();
    void createMenus();
    void rebuildRecentMenu();

    MainWindowOptions m_options;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<RecentFiles> m_recent;
    std::unique_ptr<AutosaveStore> m_autosave;

    PhotoMode* m_photo = nullptr;
    VolumeMode* m_volumeMode = nullptr;
    widgets::VolumeView3D* m_volumeView = nullptr;
    QDockWidget* m_volumeDock = nullptr;
    bool m_volumeDockShown = false; ///< the 3D dock's visibility while the volume workflow shows
    QDockWidget* m_trainingDock = nullptr;
    TrainingController* m_training = nullptr;
    QLabel* m_glLabel = nullptr;
    QMenu* m_recentMenu = nullptr;
    ComputeChoices* m_compute = nullptr;
    QHash<QString, QAction*> m_actions;
    QString m_lastError;
};

} // namespace diffseg::app
