#include "OverlayPanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>

#include <cmath>

namespace diffseg::widgets {

OverlayPanel::OverlayPanel(SegmentationView2D* view, QWidget* parent)
    : QWidget(parent)
    , m_view(view)
{
    m_fill = new QCheckBox(tr("Mask fill"), this);
    m_fill->setChecked(true);
    m_fill->setToolTip(tr("Fill the lesion mask (S toggles all overlays in the view)"));
    m_fillOpacity = percentSlider(35, this);
    m_fillOpacity->setToolTip(tr("Opacity of the mask fill"));
    m_contour = new QCheckBox(tr("Contour"), this);
    m_contour->setChecked(true);
    m_contour->setToolTip(tr("Outline of the mask"));
    m_groundTruth = new QCheckBox(tr("Ground truth"), this);
    m_groundTruth->setChecked(true);
    m_groundTruth->setToolTip(tr("Outline of the loaded ground-truth mask (yellow)"));
    m_groundTruth->setEnabled(false);
    m_heat = HeatMapControls::create(
        this,
        {QStringLiteral("heatmapBox"),
         tr("Colour the image by the model's probability or uncertainty"), QString(),
         tr("Colour map of the heatmap"), QString(), tr("Opacity of the heatmap"), QString()});
    m_metrics = new QLabel(this);
    m_metrics->setObjectName(QStringLiteral("liveMetrics"));
    m_metrics->setToolTip(tr("Agreement of the current mask with the ground truth, updated as you "
                             "edit"));

    auto* form = new QFormLayout;
    auto* fillRow = new QGridLayout;
    fillRow->addWidget(m_fill, 0, 0);
    fillRow->addWidget(m_fillOpacity, 0, 1);
    form->addRow(fillRow);
    form->addRow(m_contour);
    form->addRow(m_groundTruth);
    m_heat.addRows(form, tr("Heatmap:"));
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_metrics);
    layout->addStretch(1);

    connect(m_fill, &QCheckBox::toggled, m_view, &SegmentationView2D::setShowFill);
    connect(m_fillOpacity, &QSlider::valueChanged, this,
            [this](int v) { m_view->setFillOpacity(v / 100.0); });
    connect(m_contour, &QCheckBox::toggled, m_view, &SegmentationView2D::setShowContour);
    connect(m_groundTruth, &QCheckBox::toggled, m_view, &SegmentationView2D::setShowGroundTruth);
    connect(m_heat.map, qOverload<int>(&QComboBox::activated), this, [this] {
        applyHeatmap();
        const int u = uncertaintyMapIndex();
        if (u >= 0) {
            Q_EMIT uncertaintyMapChosen(u);
        }
    });
    connect(m_heat.colors, qOverload<int>(&QComboBox::activated), this, [this](int index) {
        m_view->setColorMap(static_cast<ColorMap::Name>(index));
        updateLegend();
    });
    connect(m_heat.opacity, &QSlider::valueChanged, this,
            [this](int v) { m_view->setHeatmapOpacity(v / 100.0); });
    setUncertaintyMaps({});
    setMetrics(std::nan(""), std::nan(""));
    m_view->setColorMap(ColorMap::Name::Inferno);
}

void OverlayPanel::setUncertaintyMaps(const QStringList& names)
{
    m_uncertaintyNames = names;
    const QString current = m_heat.map->currentText();
    m_heat.map->clear();
    m_heat.map->addItem(tr("None"));
    m_heat.map->addItem(tr("Probability"));
    for (const QString& n : names) {
        m_heat.map->addItem(tr("Uncertainty: %1").arg(n));
    }
    const int again = m_heat.map->findText(current);
    m_heat.map->setCurrentIndex(again >= 0 ? again : 0);
    applyHeatmap();
}

int OverlayPanel::uncertaintyMapIndex() const
{
    return m_heat.map->currentIndex() >= 2 ? m_heat.map->currentIndex() - 2 : -1;
}

void OverlayPanel::setHeatmapChoice(int index)
{
    if (index < 0 || index >= m_heat.map->count()) {
        return;
    }
    m_heat.map->setCurrentIndex(index);
    applyHeatmap();
    const int u = uncertaintyMapIndex();
    if (u >= 0) {
        Q_EMIT uncertaintyMapChosen(u);
    }
}

int OverlayPanel::heatmapChoice() const
{
    return m_heat.map->currentIndex();
}

void OverlayPanel::applyHeatmap()
{
    const int i = m_heat.map->currentIndex();
    m_view->setHeatmap(i <= 0   ? SegmentationView2D::Heatmap::None
                       : i == 1 ? SegmentationView2D::Heatmap::Probability
                                : SegmentationView2D::Heatmap::Uncertainty);
    updateLegend();
}

void OverlayPanel::updateLegend()
{
    const bool shown = m_heat.map->currentIndex() > 0;
    m_heat.strip->setVisible(shown);
    m_heat.low->setVisible(shown);
    m_heat.high->setVisible(shown);
    if (!shown) {
        return;
    }
    m_heat.setStripColors(m_view->colorMap());
    const bool probability = m_heat.map->currentIndex() == 1;
    m_heat.low->setText(probability ? tr("0 background") : tr("0 certain"));
    m_heat.high->setText(probability ? tr("lesion 1") : tr("uncertain 1"));
}

void OverlayPanel::setMetrics(double dice, double iou, double pendingDice)
{
    if (std::isnan(dice)) {
        m_metrics->setText(m_groundTruth->isEnabled()
                               ? tr("Dice and IoU appear once there is a "
                                    "mask")
                               : tr("Load a ground-truth mask to see Dice and "
                                    "IoU live"));
        return;
    }
    QString text = tr("<b>Dice %1</b> &nbsp; IoU %2 &nbsp; (vs ground truth)")
                       .arg(dice, 0, 'f', 3)
                       .arg(iou, 0, 'f', 3);
    if (!std::isnan(pendingDice)) {
        // What accepting the dashed result would give: a click's effect is read here.
        text += tr("<br>Dashed result, if accepted: Dice %1").arg(pendingDice, 0, 'f', 3);
    }
    m_metrics->setText(text);
}

void OverlayPanel::setGroundTruthAvailable(bool available)
{
    m_groundTruth->setEnabled(available);
    if (!available) {
        setMetrics(std::nan(""), std::nan(""));
    }
}

} // namespace diffseg::widgets
