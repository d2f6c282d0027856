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

namespace {

QSlider* percentSlider(int value, QWidget* parent)
{
    auto* s = new QSlider(Qt::Horizontal, parent);
    s->setRange(0, 100);
    s->setValue(value);
    return s;
}

} // namespace

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
    m_heatmap = new QComboBox(this);
    m_heatmap->setObjectName(QStringLiteral("heatmapBox"));
    m_heatmap->setToolTip(tr("Colour the image by the model's probability or uncertainty"));
    m_colorMap = new QComboBox(this);
    m_colorMap->addItems(ColorMap::allNames());
    m_colorMap->setCurrentIndex(1);
    m_colorMap->setToolTip(tr("Colour map of the heatmap"));
    m_heatOpacity = percentSlider(60, this);
    m_heatOpacity->setToolTip(tr("Opacity of the heatmap"));
    m_legend = new QLabel(this);
    m_legend->setFixedHeight(12);
    m_legend->setScaledContents(true);
    m_legendLow = new QLabel(this);
    m_legendHigh = new QLabel(this);
    m_legendHigh->setAlignment(Qt::AlignRight);
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
    form->addRow(tr("Heatmap:"), m_heatmap);
    form->addRow(tr("Colours:"), m_colorMap);
    form->addRow(tr("Opacity:"), m_heatOpacity);
    auto* legendBox = new QGridLayout;
    legendBox->addWidget(m_legend, 0, 0, 1, 2);
    legendBox->addWidget(m_legendLow, 1, 0);
    legendBox->addWidget(m_legendHigh, 1, 1);
    form->addRow(legendBox);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_metrics);
    layout->addStretch(1);

    connect(m_fill, &QCheckBox::toggled, m_view, &SegmentationView2D::setShowFill);
    connect(m_fillOpacity, &QSlider::valueChanged, this,
            [this](int v) { m_view->setFillOpacity(v / 100.0); });
    connect(m_contour, &QCheckBox::toggled, m_view, &SegmentationView2D::setShowContour);
    connect(m_groundTruth, &QCheckBox::toggled, m_view, &SegmentationView2D::setShowGroundTruth);
    connect(m_heatmap, qOverload<int>(&QComboBox::activated), this, [this] {
        applyHeatmap();
        const int u = uncertaintyMapIndex();
        if (u >= 0) {
            Q_EMIT uncertaintyMapChosen(u);
        }
    });
    connect(m_colorMap, qOverload<int>(&QComboBox::activated), this, [this](int index) {
        m_view->setColorMap(static_cast<ColorMap::Name>(index));
        updateLegend();
    });
    connect(m_heatOpacity, &QSlider::valueChanged, this,
            [this](int v) { m_view->setHeatmapOpacity(v / 100.0); });
    setUncertaintyMaps({});
    setMetrics(std::nan(""), std::nan(""));
    m_view->setColorMap(ColorMap::Name::Inferno);
}

void OverlayPanel::setUncertaintyMaps(const QStringList& names)
{
    m_uncertaintyNames = names;
    const QString current = m_heatmap->currentText();
    m_heatmap->clear();
    m_heatmap->addItem(tr("None"));
    m_heatmap->addItem(tr("Probability"));
    for (const QString& n : names) {
        m_heatmap->addItem(tr("Uncertainty: %1").arg(n));
    }
    const int again = m_heatmap->findText(current);
    m_heatmap->setCurrentIndex(again >= 0 ? again : 0);
    applyHeatmap();
}

int OverlayPanel::uncertaintyMapIndex() const
{
    return m_heatmap->currentIndex() >= 2 ? m_heatmap->currentIndex() - 2 : -1;
}

void OverlayPanel::setHeatmapChoice(int index)
{
    if (index < 0 || index >= m_heatmap->count()) {
        return;
    }
    m_heatmap->setCurrentIndex(index);
    applyHeatmap();
    const int u = uncertaintyMapIndex();
    if (u >= 0) {
        Q_EMIT uncertaintyMapChosen(u);
    }
}

int OverlayPanel::heatmapChoice() const
{
    return m_heatmap->currentIndex();
}

void OverlayPanel::applyHeatmap()
{
    const int i = m_heatmap->currentIndex();
    m_view->setHeatmap(i <= 0   ? SegmentationView2D::Heatmap::None
                       : i == 1 ? SegmentationView2D::Heatmap::Probability
                                : SegmentationView2D::Heatmap::Uncertainty);
    updateLegend();
}

void OverlayPanel::updateLegend()
{
    const bool shown = m_heatmap->currentIndex() > 0;
    m_legend->setVisible(shown);
    m_legendLow->setVisible(shown);
    m_legendHigh->setVisible(shown);
    if (!shown) {
        return;
    }
    m_legend->setPixmap(QPixmap::fromImage(m_view->colorMap().strip(256, 12)));
    const bool probability = m_heatmap->currentIndex() == 1;
    m_legendLow->setText(probability ? tr("0 background") : tr("0 certain"));
    m_legendHigh->setText(probability ? tr("lesion 1") : tr("uncertain 1"));
}

void OverlayPanel::setMetrics(double dice, double iou)
{
    if (std::isnan(dice)) {
        m_metrics->setText(m_groundTruth->isEnabled()
                               ? tr("Dice and IoU appear once there is a "
                                    "mask")
                               : tr("Load a ground-truth mask to see Dice and "
                                    "IoU live"));
        return;
    }
    m_metrics->setText(tr("<b>Dice %1</b> &nbsp; IoU %2 &nbsp; (vs ground truth)")
                           .arg(dice, 0, 'f', 3)
                           .arg(iou, 0, 'f', 3));
}

void OverlayPanel::setGroundTruthAvailable(bool available)
{
    m_groundTruth->setEnabled(available);
    if (!available) {
        setMetrics(std::nan(""), std::nan(""));
    }
}

} // namespace diffseg::widgets
