#pragma once

#include "AutosaveStore.h"
#include "SegmentationRunner.h"
#include "base/LabelMap.h"
#include "base/Volume.h"
#include "io/VolumeReader.h"
#include "session/VolumeSession.h"
#include "steps/StepBrowser.h"

#include <QHash>
#include <QObject>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

class QAction;
class QDockWidget;
class QLabel;
class QStackedWidget;
class QTimer;
class QToolBar;

namespace diffseg::widgets {
class VolumePanel;
class VolumeWorkspace;
} // namespace diffseg::widgets

namespace diffseg::app {

class MainWindow;
class RecentFiles;
class SessionAutosave;

/// The studio's volume workflow (CT/MRI), a second workspace of the main window beside the photo
/// workflow: open a volume (NIfTI, NRRD, MetaImage, a DICOM folder), see it in the axial,
/// sagittal and coronal slices and the 3D view (widgets::VolumeWorkspace), segment it with a
/// Diff-UNet checkpoint on a worker thread (SegmentationRunner) with progress per window
/// and step and Cancel, browse the denoiser steps (widgets::StepBrowser), show the
/// probability or an uncertainty map as a heat map in the slices and in 3D, correct the labels
/// with brush and eraser (undo), and save them as NIfTI or NRRD in the source geometry. Unsaved
/// label edits of a volume file are autosaved (its own AutosaveStore folder beside the photo
/// workflow's), so that a crash loses at most a few seconds of work.
///
/// The open volume, its labels, ground truth and history live in a core::VolumeSession that this
/// workflow owns; the workspace is a view bound to it.
///
/// How it sits in the window: the window's central widget becomes a stack holding the photo view
/// and the volume workspace the first time the volume workspace is shown (so that a photo-only
/// session never creates an OpenGL widget); the side panel and the step browser are docks of
/// their own. Switching workspaces swaps the page, hides the other workspace's docks and tool
/// bar, and hides the other workspace's actions, so that one key (Ctrl+Z, Ctrl+S, B, A, ...) does
/// the same thing in either workspace without ambiguous shortcuts. The Volume menu and the
/// workspace tool bar are always there.
///
/// Ownership: a child of the window; owns the runner, the session, the result and the step frames;
/// its widgets are the window's children. Threads: GUI thread only (the runner's worker never
/// touches widgets or VTK). Errors: bad input (an unreadable file, a label map on another grid,
/// a photo model offered a volume) is reported in a message box naming the file (status bar
/// and lastError() when not interactive); nothing throws out of a slot.
class VolumeMode : public QObject
{
    Q_OBJECT

public:
    /// The role of a label map loaded from a file.
    enum class LabelRole
    {
        Segmentation, ///< replaces the labels being edited (one undo step)
        GroundTruth   ///< drawn as a yellow outline, with the Dice of the segmentation
    };

    /// Autosaves go to a folder of their own under `autosaveRoot` (AutosaveStore).
    VolumeMode(MainWindow* window, bool interactive, const QString& autosaveRoot,
               int autosaveIntervalMs, int autosaveDebounceMs);
    ~VolumeMode() override;

    /// A volume file or folder: a folder (DICOM), a volume extension (.nii, .nii.gz, .nrrd,
    /// .nhdr, .seg.nrrd, .mha, .mhd, .dcm), or a file whose first bytes say DICOM/NIfTI/NRRD.
    static bool isVolumePath(const QString& path);

    /// Shows the volume workspace (true) or the photo workspace (false).
    void setActive(bool active);
    bool isActive() const { return m_active; }

    /// Opens a volume file or DICOM folder into the workspace (and switches to it). A file whose
    /// name says label map (..._seg, _label, _mask, _gt, .seg.nrrd) on the open volume's grid is
    /// loaded as a label map instead (asked which role when interactive; segmentation otherwise).
    /// Returns false (after telling the user why, unless `quiet`) when it cannot be read.
    bool openPath(const QString& path, bool quiet = false);
    /// Shows a volume that is not a file (generated data); `groundTruth` may be empty.
    void openGenerated(const core::Volume& volume, const QString& name, bool isCt,
                       const core::LabelMap& groundTruth = {});
    /// The generated CT phantom (liver with a lesion; its labels as the ground truth).
    void openSamplePhantom();
    bool loadLabelMap(const QString& path, LabelRole role, bool quiet = false);
    /// Writes the labels being edited (NIfTI or NRRD by the extension; atomic) with the source
    /// volume's geometry.
    bool saveLabelMap(const QString& path, bool quiet = false);
    /// Saves a picture of the four views as shown.
    bool saveScreenshot(const QString& path, bool quiet = false);

    /// Lists the volume models (Diff-UNet checkpoints) of the window's model settings.
    void refreshModels();
    /// Lists the models for the open volume first and, when the chosen model is a packaged one
    /// for the other modality (CT vs MRI), chooses the first packaged model for this one.
    void preferPackagedModelFor(bool isCt);
    bool startSegmentation();
    void cancelSegmentation();
    bool isSegmenting() const;
    /// Makes the finished result (or the shown step) the segmentation, one undo step.
    bool acceptAiResult();
    /// Refines the labels with the Prompt tool's clicks (spheres of a class held at every step,
    /// Segmenter3D::refine) in the background: a run that is going is cancelled and this one
    /// follows it. The result shows outlined; acceptAiResult() takes it as one undo step
    /// ("Refine: 2 clicks"). False when there are no clicks or no model.
    bool refineWithClicks();
    /// The undo title a refinement's result is accepted with.
    QString refineTitle() const;
    /// Makes step `step`'s label map the segmentation, one undo step ("Use step k").
    bool acceptStep(int step);
    /// Shows step `step` in the views as the step browser would.
    void showStep(int step, widgets::StepView show);
    /// Chooses the heat map: 0 none, 1 foreground probability, 2 entropy of the result, 3 step
    /// entropy, 4 mirror variance (with TTA).
    void setHeatMap(int index);
    /// Asks to save unsaved label edits (interactive only); false when the user cancels.
    bool maybeSaveChanges();

    /// Writes the autosave of unsaved label edits now (normally a timer does); false when there
    /// is nothing to save (no edits, or a generated volume that could not be reopened).
    bool autosaveNow();
    /// Reopens an autosave's volume and ground truth and puts its labels back (one undo step).
    bool restoreAutosave(const AutosaveRecord& record);
    /// A clean close: removes this workflow's autosave.
    void discardAutosave();
    const AutosaveStore& autosaveStore() const { return *m_autosaveStore; }

    core::VolumeSession& session() const { return *m_session; }
    bool hasVolume() const { return m_session->isOpen(); }
    const core::Volume& volume() const { return m_session->volume(); }
    QString currentPath() const { return QString::fromStdString(m_session->path()); }
    const core::VolumeSource& source() const { return m_session->source(); }
    bool hasUnsavedEdits() const { return m_session->isDirty(); }
    const QString& lastError() const { return m_lastError; }
    /// The workspace, panel and step browser (made on first use).
    widgets::VolumeWorkspace* workspace();
    widgets::VolumePanel* panel();
    widgets::StepBrowser* stepBrowser();
    SegmentationRunner* runner() const { return m_runner; }
    const std::shared_ptr<const SegmentationOutput>& output() const { return m_output; }
    /// Step frames received so far (index = step; empty labels where none yet).
    const std::vector<VolumeStepFrame>& stepFrames() const { return m_frames; }
    /// Bytes held by the step frames (2 per voxel per step) and by the run's step cache.
    std::size_t stepFrameBytes() const;
    std::size_t stepCacheBytes() const;
    /// One of this workflow's actions by object name ("volumeSave", "volumeUndo", ...).
    QAction* action(const QString& name) const { return m_actions.value(name); }

Q_SIGNALS:
    /// A run ended (finished, failed or cancelled) and the views show its state.
    void segmentationEnded(bool succeeded);
    void volumeOpened();

private:
    void ensureUi();
    /// The checks and settings every run shares; nullopt (after telling why) when none can start.
    std::optional<SegmentationJob> prepareJob();
    bool launchJob(SegmentationJob job, const QString& what);

    void createActions();
    void installMenus();
    void reportError(const QString& title, const QString& message, bool quiet);
    /// Opens `volume` in the session and shows it; `path` is its file (empty: generated).
    void showVolume(const core::Volume& volume, const QString& name, bool isCt,
                    const QString& path = {}, core::VolumeSource source = {});
    void resetResult();
    void updateActions();
    void updateHistoryActions();
    void updateDice();
    void applyHeatMap();
    void onProgress();
    void onStepFrames();
    void onFinished();
    void onFailed(const QString& message, bool cancelled);
    const VolumeStepFrame* frameFor(int step);
    QImage stepThumbnail(int step, widgets::StepView show, const QSize& size);
    QString suggestedSavePath() const;
    static bool looksLikeLabelFile(const QString& path);
    /// The heat maps the panel offers, in setHeatMap()'s order (1-based there).
    static QStringList heatMapNames();
    /// A volume file's name without its (double) extension: "ct.nii.gz" -> "ct".
    static QString volumeStem(const QString& path);
    /// .nii, .nii.gz, .nrrd, .nhdr, .mha, .mhd, .dcm.
    static bool hasVolumeSuffix(const QString& path);

    MainWindow* m_window;
    bool m_interactive;
    std::unique_ptr<RecentFiles> m_recent;
    SegmentationRunner* m_runner = nullptr;

    // Widgets, made on first use.
    QStackedWidget* m_stack = nullptr;
    widgets::VolumeWorkspace* m_workspace = nullptr;
    widgets::VolumePanel* m_panel = nullptr;
    widgets::StepBrowser* m_steps = nullptr;
    QDockWidget* m_panelDock = nullptr;
    QDockWidget* m_stepsDock = nullptr;
    QLabel* m_hoverLabel = nullptr;
    QToolBar* m_workspaceBar = nullptr;
    QTimer* m_diceTimer = nullptr;
    QHash<QString, QAction*> m_actions;
    QList<QAction*> m_volumeOnly; ///< visible in the volume workspace only
    bool m_active = false;

    /// The open volume (every channel: the model gets them all), labels, ground truth, history.
    std::unique_ptr<core::VolumeSession> m_session;
    std::unique_ptr<AutosaveStore> m_autosaveStore;
    SessionAutosave* m_autosave = nullptr;
    QString m_name;
    QString m_groundTruthName;
    QString m_lastError;
    QHash<QString, QString> m_presets; ///< reference state_dict -> preset
    int m_volumeSerial = 0;
    int m_runSerial = -1;

    std::shared_ptr<const SegmentationOutput> m_output;
    std::shared_ptr<core::StepCache> m_cache;
    std::vector<VolumeStepFrame> m_frames;
    bool m_resultPending = false; ///< the finished result waits (outlined) for Accept
    int m_shownStep = -1;
    widgets::StepView m_shownShow = widgets::StepView::Labels;
};

} // namespace diffseg::app
