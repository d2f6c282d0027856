#pragma once

#include "SliceView.h"
#include "base/LabelMap.h"
#include "base/Volume.h"
#include "segmentation/MaskEditor.h"
#include "segmentation/UndoStack.h"
#include "session/VolumeSession.h"

#include <QWidget>

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;
class QTimer;
class QToolButton;

namespace diffseg::widgets {

class VolumeView3D;

/// The volume workspace: axial, sagittal and coronal slice views and the 3D view (ITK-SNAP's
/// layout), with one crosshair and one window/level for the three slices, and label editing with
/// a shared undo history: an edit in any slice updates the others and, shortly after, the 3D label
/// surface. A view of a core::VolumeSession, which holds the volume, the labels it edits and the
/// history: the workspace's own until bindSession() binds it to another; whoever opens a volume
/// in the bound session (the workspace's setVolume(), or the session itself) makes the views show
/// it.
///
/// Besides the edited labels it shows, on the same grid: a ground truth (yellow outline), a
/// preview label map (magenta outline: a reverse-diffusion step or an AI result not yet
/// accepted) and one heat map (uncertainty or probability) with a colour map and opacity, in the
/// slices and, as a colour volume or painted on the label surfaces, in 3D. The 3D surface shows
/// the edited labels, or another label map set with setSurfaceLabels() (a step's).
/// Every map shares its voxels with the caller (no copies). GUI thread only.
class VolumeWorkspace : public QWidget
{
    Q_OBJECT

public:
    explicit VolumeWorkspace(QWidget* parent = nullptr);
    ~VolumeWorkspace() override;

    /// The session whose volume and labels this workspace shows and edits (never null).
    core::VolumeSession& session() { return *m_session; }
    /// Shows and edits `session` (which must outlive the workspace, or be unbound first) instead
    /// of the workspace's own; null goes back to the workspace's own session.
    void bindSession(core::VolumeSession* session);
    /// How the next volume opened in the session is shown: `isCt` picks Hounsfield presets,
    /// `channel` the channel shown in the slices.
    void setDisplayHints(bool isCt, int channel = 0);
    /// Opens `volume` in the session (an empty label map on its grid, a fresh history) and shows
    /// it as setDisplayHints() says.
    void setVolume(const core::Volume& volume, bool isCt, int channel = 0);
    bool hasVolume() const { return !m_volume.empty(); }
    /// The channel shown.
    const core::Volume& volume() const { return m_volume; }
    /// Replaces the labels (loading a label map or a model's result) without an undo step.
    /// Throws core::Error(Mismatch) unless it lies on the volume's grid.
    void setLabels(const core::LabelMap& labels);
    const core::LabelMap& labels() const { return m_session->labels(); }
    /// Replaces the labels as one undo step named `title` ("Accept AI result", "Use step 3").
    /// Throws core::Error(Mismatch) unless `labels` lies on the volume's grid.
    void replaceLabels(const core::LabelMap& labels, const std::string& title);
    /// A float map in [0,1] on the volume's grid (uncertainty), shown in the slices; empty hides.
    void setUncertainty(const core::Volume& map);
    /// The heat map: t = value x `scale` in [0, 1] (Float32 maps or UInt8 codes), in the slices
    /// and in 3D; an empty map removes it. Throws core::Error(Mismatch) for another grid.
    void setOverlay(const core::Volume& map, double scale);
    const core::Volume& overlay() const { return m_overlay; }
    void setOverlayColorMap(ColorMap::Name name);
    void setOverlayOpacity(double opacity);
    void setLabelOpacity(double opacity);
    /// A reference label map drawn as a yellow outline; empty removes it. Throws
    /// core::Error(Mismatch) unless it lies on the volume's grid.
    void setGroundTruth(const core::LabelMap& labels);
    const core::LabelMap& groundTruth() const { return m_groundTruth; }
    /// A label map drawn as a magenta outline (not edited); empty removes it.
    void setPreviewLabels(const core::LabelMap& labels);
    /// The labels the 3D surface shows instead of the edited ones (a step's); empty: the edited.
    void setSurfaceLabels(const core::LabelMap& labels);
    bool isCt() const { return m_isCt; }
    void setBrushRadiusMm(double mm);
    double brushRadiusMm() const;
    /// The label value the brush paints (1..255).
    void setPaintLabel(int label);
    /// Names of label values, as the model or the dataset gives them (value -> name; 0, the
    /// background, may be left out). The toolbar then shows the painted label's colour and name
    /// and lists every named label in its tooltip; empty: no names, no legend.
    void setLabelNames(const std::vector<std::pair<int, QString>>& names);
    /// The name of label `value`, or "" when none was given.
    QString labelName(int value) const;
    /// Rebuilds the 3D label surface now (it otherwise follows edits after a short delay).
    void rebuildSurfaceNow();

    SliceView* sliceView(core::SliceOrientation orientation) const;
    /// Moves the crosshair of all three slice views to `voxel` (continuous voxel indices, i j k);
    /// each view shows the slice through it.
    void setCrosshair(const std::array<double, 3>& voxel);
    VolumeView3D* view3D() const { return m_view3d; }
    core::UndoStack& undoStack() { return m_session->editor().undoStack(); }
    /// The Prompt tool's clicks in any slice (the paint label where the left button clicked,
    /// background where the right one did), oldest first; promptsChanged() follows each click.
    const std::vector<core::VolumeClick>& promptClicks() const { return m_clicks; }
    /// Forgets the clicks (a refinement was accepted, or a new volume); no signal.
    void clearPrompts();
    /// Applies a window/level preset by name ("Soft tissue", "Lung", "Bone", "Brain", "Auto").
    void applyWindowPreset(const QString& name);
    QStringList windowPresetNames() const;

public Q_SLOTS:
    void undo();
    void redo();
    void setTool(diffseg::widgets::SliceView::Tool tool);

Q_SIGNALS:
    /// The label map changed (edit, undo, redo, load).
    void labelsChanged();
    void historyChanged();
    void hovered(const QString& text);
    /// The user clicked with the Prompt tool.
    void promptsChanged();

private:
    /// The painted label's colour and name, when the labels are named.
    void updateLabelLegend();
    void linkViews();
    /// Shows the session's volume and labels afresh (after an open).
    void showSession();
    /// The session's labels changed (an undo, a replacement, new label memory).
    void sessionLabelsChanged();
    void labelsEditedIn(SliceView* source);
    void rebuildSurface();
    void applyOverlayTo3d();
    void checkAligned(const core::Volume& map, const char* what) const;

    std::unique_ptr<core::VolumeSession> m_ownSession;
    core::VolumeSession* m_session = nullptr;
    int m_observer = 0;
    const void* m_shownLabels = nullptr; ///< the label memory the views draw
    int m_channel = 0;
    std::vector<core::VolumeClick> m_clicks;
    core::Volume m_volume;
    core::LabelMap m_groundTruth;
    core::LabelMap m_surfaceLabels;
    core::Volume m_overlay;
    double m_overlayScale = 1.0;
    ColorMap::Name m_colorMap = ColorMap::Name::Inferno;
    bool m_isCt = false;
    std::array<double, 2> m_autoWindow{400.0, 40.0};

    std::array<SliceView*, 3> m_slices{};
    VolumeView3D* m_view3d = nullptr;
    QComboBox* m_presets = nullptr;
    QToolButton* m_navigate = nullptr;
    QToolButton* m_brush = nullptr;
    QToolButton* m_eraser = nullptr;
    QDoubleSpinBox* m_brushSize = nullptr;
    QSpinBox* m_label = nullptr;
    QLabel* m_labelLegend = nullptr;
    std::vector<std::pair<int, QString>> m_labelNames;
    QTimer* m_surfaceTimer = nullptr;
};

} // namespace diffseg::widgets
