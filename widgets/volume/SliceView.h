#pragma once

#include "base/LabelMap.h"
#include "base/SliceGeometry.h"
#include "base/Volume.h"
#include "image/ColorMap.h"
#include "image/ImageView.h"
#include "inference/VolumePrompts.h"
#include "segmentation/MaskEditor.h"

#include <QColor>

#include <array>
#include <optional>

namespace diffseg::widgets {

/// One orthogonal slice view (axial, coronal or sagittal) of a volume, in radiological convention
/// (see core::SliceGeometry), with window/level, the label map, an optional heat-map overlay
/// (probability or uncertainty), two outline layers (a ground truth in yellow and a preview, e.g.
/// a reverse-diffusion step, in magenta) and a crosshair linked to the other views.
///
/// Mouse and keys: wheel, Up/Down or PgUp/PgDn scroll slices, Home/End go to the first/last
/// slice; Ctrl+wheel zooms; right drag sets
/// window (horizontal) and level (vertical); middle drag pans; with the Navigate tool a left click
/// moves the crosshair (all linked views follow); with Brush/Eraser the left button paints the
/// current label into the label map on this slice through the shared MaskEditor (one stroke = one
/// undo step), `[`/`]` change the brush size.
///
/// Shares voxels with the volumes it shows (no copies). GUI thread only.
class SliceView : public ImageView
{
    Q_OBJECT

public:
    enum class Tool
    {
        Navigate,
        Brush,
        Eraser,
        Prompt ///< left click: the paint label is here; right click: background
    };

    explicit SliceView(core::SliceOrientation orientation, QWidget* parent = nullptr);

    /// Shows channel `channel` of `volume`; the crosshair goes to the centre. Clears overlays.
    void setVolume(const core::Volume& volume, int channel = 0);
    bool hasVolume() const { return m_geometry.has_value(); }
    core::SliceOrientation orientation() const { return m_orientation; }
    /// Label map on the volume's grid (must be aligned); an empty map removes it.
    void setLabels(const core::LabelMap& labels);
    /// A heat map on the volume's grid drawn with the colour map at t = value x `scale` (t in
    /// [0, 1]; Float32 maps, or UInt8 codes with scale 1/255 for 8-bit probabilities); empty
    /// removes it. Shares the voxels. Throws core::Error(Mismatch) for another size or type.
    void setFloatOverlay(const core::Volume& map, double scale = 1.0);
    /// A label map drawn as the outline of each label: the ground truth (yellow); empty removes it.
    void setGroundTruth(const core::LabelMap& labels);
    /// A label map drawn as a magenta outline (a step's or an unaccepted AI result); empty removes.
    void setPreviewLabels(const core::LabelMap& labels);
    void setLabelOpacity(double opacity);
    void setLabelsVisible(bool visible);
    void setOverlayOpacity(double opacity);
    void setColorMap(ColorMap::Name name);
    const ColorMap& colorMap() const { return m_colorMap; }

    void setWindowLevel(double window, double level);
    double window() const { return m_window; }
    double level() const { return m_level; }

    int slice() const { return m_slice; }
    int sliceCount() const;
    void setSlice(int slice);
    /// The crosshair in continuous voxel coordinates (i, j, k), shared by linked views.
    const std::array<double, 3>& crosshair() const { return m_crosshair; }

    /// Edits go through `editor` (bound to the label map shown here); nullptr disables editing.
    void setEditor(core::MaskEditor* editor);
    void setTool(Tool tool);
    Tool tool() const { return m_tool; }
    void setBrushRadiusMm(double mm);
    double brushRadiusMm() const { return m_brushMm; }
    void setPaintLabel(int label) { m_paintLabel = label; }

    /// Colour of label `value` (ITK-SNAP-like defaults; 0 is transparent).
    static QColor labelColor(int value);
    /// Slice `slice` of `volume` (its first channel) cut by `geometry`, as grey levels through
    /// `window` and `level` (black where a value is not finite): what a slice view shows under its
    /// layers, and what step thumbnails are drawn over.
    static QImage greySlice(const core::Volume& volume, const core::SliceGeometry& geometry,
                            int slice, double window, double level);

public Q_SLOTS:
    /// Moves the crosshair (and this view's slice) to `voxel`.
    void setCrosshair(const std::array<double, 3>& voxel);
    /// Redraws after the label map changed elsewhere (another view's edit, undo, a new result).
    void refreshLabels();
    /// The prompt clicks to mark (those within 1.5 voxels of the slice shown).
    void setPromptMarkers(const std::vector<core::VolumeClick>& clicks);

Q_SIGNALS:
    void crosshairMoved(const std::array<double, 3>& voxel);
    void sliceChanged(int slice);
    void windowLevelChanged(double window, double level);
    void labelsEdited(const core::IndexBox& region);
    /// With the Prompt tool: a click at `voxel` (continuous index) saying `label` is there.
    void promptClicked(const std::array<double, 3>& voxel, int label);
    /// Voxel under the mouse and its value, for the status bar.
    void hovered(const std::array<std::int64_t, 3>& voxel, double value, int label);

protected:
    void paintOverlay(QPainter& painter) override;
    bool toolPress(QMouseEvent* e, const QPointF& p) override;
    bool toolMove(QMouseEvent* e, const QPointF& p) override;
    bool toolRelease(QMouseEvent* e, const QPointF& p) override;
    bool leftButtonPans() const override { return false; }
    void wheelEvent(QWheelEvent* e) override;
    void keyPressEvent(QKeyEvent* e) override;
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;

private:
    void renderSlice();
    void renderLabels();
    void renderOverlay();
    QImage renderOutline(const core::LabelMap& labels, QRgb color) const;
    void renderOutlines();
    double voxelValue(const std::array<std::int64_t, 3>& v) const;
    std::array<double, 2> planeCoords(const QPointF& screen) const;
    void moveCrosshairTo(const QPointF& screen);

    core::SliceOrientation m_orientation;
    core::Volume m_volume;
    int m_channel = 0;
    core::LabelMap m_labels;
    core::Volume m_overlay;
    double m_overlayScale = 1.0;
    core::LabelMap m_groundTruth;
    core::LabelMap m_preview;
    bool m_labelsVisible = true;
    std::optional<core::SliceGeometry> m_geometry;
    int m_slice = 0;
    std::array<double, 3> m_crosshair{0.0, 0.0, 0.0};
    double m_window = 400.0;
    double m_level = 40.0;
    double m_labelOpacity = 0.45;
    double m_overlayOpacity = 0.6;
    ColorMap m_colorMap{ColorMap::Name::Inferno};
    QImage m_labelLayer;
    QImage m_overlayLayer;
    QImage m_groundTruthLayer;
    QImage m_previewLayer;

    core::MaskEditor* m_editor = nullptr;
    Tool m_tool = Tool::Navigate;
    double m_brushMm = 5.0;
    int m_paintLabel = 1;
    std::vector<core::VolumeClick> m_promptMarkers;
    bool m_stroking = false;
    int m_strokeValue = 1;
    bool m_windowing = false;
    QPointF m_windowStart;
    double m_startWindow = 0.0;
    double m_startLevel = 0.0;
    double m_wheelAccumulator = 0.0;
};

} // namespace diffseg::widgets
