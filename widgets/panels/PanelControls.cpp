#include "PanelControls.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QPixmap>
#include <QSlider>

namespace diffseg::widgets {

QSlider* percentSlider(int value, QWidget* parent)
{
    auto* s = new QSlider(Qt::Horizontal, parent);
    s->setRange(0, 100);
    s->setValue(value);
    return s;
}

HeatMapControls HeatMapControls::create(QWidget* parent, const Look& look)
{
    HeatMapControls c;
    c.map = new QComboBox(parent);
    c.map->setObjectName(look.mapName);
    c.map->setToolTip(look.mapToolTip);
    c.colors = new QComboBox(parent);
    c.colors->setObjectName(look.colorsName);
    c.colors->addItems(ColorMap::allNames());
    c.colors->setCurrentIndex(static_cast<int>(ColorMap::Name::Inferno));
    c.colors->setToolTip(look.colorsToolTip);
    c.opacity = percentSlider(60, parent);
    c.opacity->setObjectName(look.opacityName);
    c.opacity->setToolTip(look.opacityToolTip);
    c.strip = new QLabel(parent);
    c.strip->setObjectName(look.stripName);
    c.strip->setFixedHeight(12);
    c.strip->setScaledContents(true);
    c.low = new QLabel(parent);
    c.high = new QLabel(parent);
    c.high->setAlignment(Qt::AlignRight);
    return c;
}

void HeatMapControls::addRows(QFormLayout* form, const QString& mapLabel) const
{
    form->addRow(mapLabel, map);
    form->addRow(tr("Colours:"), colors);
    form->addRow(tr("Opacity:"), opacity);
    auto* legend = new QGridLayout;
    legend->addWidget(strip, 0, 0, 1, 2);
    legend->addWidget(low, 1, 0);
    legend->addWidget(high, 1, 1);
    form->addRow(legend);
}

void HeatMapControls::setStripColors(const ColorMap& colorMap) const
{
    strip->setPixmap(QPixmap::fromImage(colorMap.strip(256, 12)));
}

} // namespace diffseg::widgets
