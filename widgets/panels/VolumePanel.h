#pragma once

#include "PanelControls.h"
#include "SegmentationPanel.h"
#include "image/ColorMap.h"

#include <QString>
#include <QStringList>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;

namespace diffseg::widgets {

/// The side panel of the volume workspace: the volume's description, the Diff-UNet model chooser
/// and its options (SegmentationPanel's, as the model takes them), Segment/Cancel with the progress
/// per window and step and the time left, and the display of the result: label opacity, the ground
/// truth outline, the heat map (probability or an uncertainty map) with its colour map, legend and
/// opacity, and the Dice against the ground truth. The chooser, Segment/Cancel, progress and status
/// are SegmentationPanel's. It collects choices and shows state only: the app runs the model and
/// drives the views. GUI thread only.
class VolumePanel : public SegmentationPanel
{
    Q_OBJECT

public:
    explicit VolumePanel(QWidget* parent = nullptr);

    /// "example_ct.nii.gz: 122 x 101 x 30 int16, 3 x 3 x 3 mm, RAS" and what the reader noted.
    void setVolumeDescription(const QString& text);

    /// The chooser's placeholder when there is no volume model (what to do about it).
    void setNoModelText(const QString& text);
    void setModelInfo(const QString& text);

    /// The heat maps offered (index 0 is always "None"); disabled entries are greyed out.
    void setHeatMaps(const QStringList& names);
    void setHeatMapEnabled(int index, bool enabled);
    int heatMap() const;
    /// Chooses a heat map as the user would (heatMapChosen is emitted).
    void setHeatMap(int index);
    ColorMap::Name colorMap() const;
    double heatOpacity() const;
    double labelOpacity() const;
    /// The legend's end labels, e.g. "0" and "ln 2 = 0.69 nats".
    void setLegend(const QString& low, const QString& high);
    void setGroundTruthAvailable(bool available, const QString& name = {});
    bool showGroundTruth() const;
    /// Dice of the segmentation's foreground against the ground truth's; NaN hides it.
    void setDice(double dice);

Q_SIGNALS:
    void segmentRequested();
    void heatMapChosen(int index);
    void colorMapChosen(diffseg::widgets::ColorMap::Name name);
    void heatOpacityChanged(double opacity);
    void labelOpacityChanged(double opacity);
    void groundTruthToggled(bool shown);

protected:
    void updateEnabled() override;

private:
    void updateLegendStrip();

    QLabel* m_volume = nullptr;
    QPushButton* m_browse = nullptr;
    QLabel* m_modelInfo = nullptr;
    QSlider* m_labelOpacity = nullptr;
    QCheckBox* m_groundTruth = nullptr;
    HeatMapControls m_heat;
    QLabel* m_dice = nullptr;
};

} // namespace diffseg::widgets
