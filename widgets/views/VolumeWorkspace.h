#pragma once

#include "SliceView.h"
#include "base/LabelMap.h"
#include "base/Volume.h"
#include "segmentation/MaskEditor.h"
#include "segmentation/UndoStack.h"

#include <QWidget>

#include <array>
#include <memory>

class QComboBox;
class QDoubleSpinBox;
class QSpinBox;
class QTimer;
class QToolButton;

namespace diffseg::widgets {

class VolumeView3D;

/// The volume workspace: axial, sagittal and coronal slice views and the 3D view (ITK-SNAP's
/// layout), with one crosshair and one window/level for the three slices, and label editing with
/// a shared undo history: an edit in any slice updates the others and, shortly after, the 3D label
/// surface. Owns the label map it edits (the volume's grid and geometry) and the history.
/// GUI thread only.
class VolumeWorkspace : public QWidget
{
    Q_OBJECT

public:
    explicit VolumeWorkspace(QWidget* parent = nullptr);
    ~VolumeWorkspace() override;

    /// Shows `volume` (channel `channel`); `isCt` picks Hounsfield presets. Starts an empty label
    /// map on its grid and clears the history.
    void setVolume(const core::Volume& volume, bool isCt, int channel = 0);
    bool hasVolume() const { return !m_volume.empty(); }
    const core::Volume& volume() const { return m_volume; }
    /// Replaces the labels (loading a label map or a model's result) without an undo step.
    /// Throws core::Error(Mismatch) unless it lies on the volume's grid.
    void setLabels(const core::LabelMap& labels);
    const core::LabelMap& labels() const { return m_labels; }
    /// A float map in [0,1] on the volume's grid (uncertainty), shown in the slices; empty hides.
    void setUncertainty(const core::Volume& map);

    SliceView* sliceView(core::SliceOrientation orientation) const;
    VolumeView3D* view3D() const { return m_view3d; }
    core::UndoStack& undoStack() { return m_undo; }
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

private:
    void linkViews();
    void labelsEditedIn(SliceView* source);
    void rebuildSurface();

    core::Volume m_volume;
    core::LabelMap m_labels;
    core::UndoStack m_undo;
    std::unique_ptr<core::MaskEditor> m_editor;
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
    QTimer* m_surfaceTimer = nullptr;
};

} // namespace diffseg::widgets
