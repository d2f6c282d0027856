#pragma once

#include "PanelControls.h"
#include "image/ColorMap.h"
#include "image/SegmentationView2D.h"

#include <QWidget>

#include <cmath>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;

namespace diffseg::widgets {

/// Controls of the 2D view's overlays: mask fill and opacity, contour, ground truth, the heatmap
/// (none, probability, or one of the uncertainty maps) with its colour map, legend and opacity,
/// and the live agreement with the ground truth (Dice, IoU) when one is loaded. It drives a
/// SegmentationView2D directly; the uncertainty map choice is reported so that the owner can
/// supply the map. GUI thread only.
class OverlayPanel : public QWidget
{
    Q_OBJECT

public:
    explicit OverlayPanel(SegmentationView2D* view, QWidget* parent = nullptr);

    /// Names of the uncertainty maps offered (e.g. "Ensemble std", "Predictive entropy").
    void setUncertaintyMaps(const QStringList& names);
    int uncertaintyMapIndex() const;
    /// Chooses the heatmap as the user would: 0 none, 1 probability, 2 + k uncertainty map k
    /// (uncertaintyMapChosen(k) is emitted).
    void setHeatmapChoice(int index);
    int heatmapChoice() const;
    /// Shows live metrics of the mask against the ground truth, and the Dice of a dashed result
    /// waiting to be accepted (a refinement, an ensemble member) when `pendingDice` is a number;
    /// a NaN `dice` hides them.
    void setMetrics(double dice, double iou, double pendingDice = std::nan(""));
    void setGroundTruthAvailable(bool available);

Q_SIGNALS:
    /// The user picked another uncertainty map (index into setUncertaintyMaps' names).
    void uncertaintyMapChosen(int index);

private:
    void applyHeatmap();
    void updateLegend();

    SegmentationView2D* m_view;
    QCheckBox* m_fill = nullptr;
    QSlider* m_fillOpacity = nullptr;
    QCheckBox* m_contour = nullptr;
    QCheckBox* m_groundTruth = nullptr;
    HeatMapControls m_heat;
    QLabel* m_metrics = nullptr;
    QStringList m_uncertaintyNames;
};

} // namespace diffseg::widgets
