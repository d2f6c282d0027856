#pragma once

#include "image/ColorMap.h"

#include <QCoreApplication>
#include <QString>

class QComboBox;
class QFormLayout;
class QLabel;
class QSlider;
class QWidget;

namespace diffseg::widgets {

/// A horizontal slider from 0 to 100 (an opacity in percent), at `value`.
QSlider* percentSlider(int value, QWidget* parent);

/// The heat map controls the overlay and volume panels share: the chooser of the map, its colour
/// map (Inferno at first), its opacity (60 %) and the legend, the colour strip over the labels of
/// its two ends. Plain widgets in the panel's own form; the panel fills the chooser and connects
/// the controls to what it drives. GUI thread only.
struct HeatMapControls
{
    Q_DECLARE_TR_FUNCTIONS(HeatMapControls)

public:
    /// What differs between the panels: object names (empty: none) and tool tips.
    struct Look
    {
        QString mapName;
        QString mapToolTip;
        QString colorsName;
        QString colorsToolTip;
        QString opacityName;
        QString opacityToolTip;
        QString stripName;
    };

    QComboBox* map = nullptr;
    QComboBox* colors = nullptr;
    QSlider* opacity = nullptr;
    QLabel* strip = nullptr;
    QLabel* low = nullptr;
    QLabel* high = nullptr;

    /// Makes the controls, in this order, as children of `parent`.
    static HeatMapControls create(QWidget* parent, const Look& look);
    /// Adds the rows of `form`: the chooser labelled `mapLabel`, the colours, the opacity, and
    /// the legend (the strip across both columns, the end labels below it at the left and right).
    void addRows(QFormLayout* form, const QString& mapLabel) const;
    /// Draws `colorMap` into the legend's strip.
    void setStripColors(const ColorMap& colorMap) const;
};

} // namespace diffseg::widgets
