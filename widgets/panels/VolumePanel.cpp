#include "VolumePanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace diffseg::widgets {

VolumePanel::VolumePanel(QWidget* parent)
    : SegmentationPanel(parent)
{
    m_volume = new QLabel(tr("No volume: File > Open (a .nii, .nii.gz, .nrrd, .mha file) or "
                             "Volume > Open DICOM Folder, or drop one here."),
                          this);
    m_volume->setObjectName(QStringLiteral("volumeDescription"));
    m_volume->setWordWrap(true);
    m_volume->setTextInteractionFlags(Qt::TextSelectableByMouse);

    createCheckpointBox(QStringLiteral("volumeCheckpoint"),
                        tr("Diff-UNet checkpoints (volume models) from the opened files, the "
                           "models folder and the runs folder; photo models are listed in the "
                           "photo workspace"),
                        12);
    m_browse = new QPushButton(tr("Open..."), this);
    m_browse->setToolTip(tr("Add a Diff-UNet checkpoint file (Ctrl+M)"));
    m_modelInfo = new QLabel(this);
    m_modelInfo->setObjectName(QStringLiteral("volumeModelInfo"));
    m_modelInfo->setWordWrap(true);

    auto* volumeBox = new QGroupBox(tr("Volume"), this);
    auto* volumeLayout = new QVBoxLayout(volumeBox);
    volumeLayout->addWidget(m_volume);

    auto* modelBox = new QGroupBox(tr("Diff-UNet model"), this);
    auto* modelForm = new QFormLayout(modelBox);
    auto* chooser = new QHBoxLayout;
    chooser->addWidget(checkpointBox(), 1);
    chooser->addWidget(m_browse);
    modelForm->addRow(chooser);
    modelForm->addRow(m_modelInfo);
    createOptionRows(modelForm);
    core::SegmentationRequest start; // until a model card says otherwise
    start.steps = 5;
    start.overlap = 0.5;
    start.fusion = "mean";
    setOptions(start);
    createRunControls({tr("Segment volume"), QStringLiteral("volumeSegmentButton"),
                       tr("Run the model on the volume on a worker thread (Ctrl+R)"),
                       QStringLiteral("volumeCancelButton"),
                       tr("Stop before the next window or step (Ctrl+Shift+R); finished steps "
                          "stay browsable"),
                       QStringLiteral("volumeProgress"), QStringLiteral("volumeStatus")});

    m_labelOpacity = percentSlider(45, this);
    m_labelOpacity->setObjectName(QStringLiteral("volumeLabelOpacity"));
    m_labelOpacity->setToolTip(tr("Opacity of the label fill in the slices (0 hides it)"));
    m_groundTruth = new QCheckBox(tr("Ground truth outline"), this);
    m_groundTruth->setObjectName(QStringLiteral("volumeShowGroundTruth"));
    m_groundTruth->setChecked(true);
    m_groundTruth->setEnabled(false);
    m_groundTruth->setToolTip(tr("Outline of the ground-truth label map in yellow (Volume > Load "
                                 "Ground Truth)"));
    m_heat = HeatMapControls::create(
        this, {QStringLiteral("volumeHeatMap"),
               tr("Colour the slices (and the 3D view, see its chooser) by the model's "
                  "probability or one of its uncertainty maps"),
               QStringLiteral("volumeColorMap"), tr("Colour map of the heat map"),
               QStringLiteral("volumeHeatOpacity"), tr("Opacity of the heat map in the slices"),
               QStringLiteral("volumeLegend")});
    m_dice = new QLabel(this);
    m_dice->setObjectName(QStringLiteral("volumeDice"));
    m_dice->setToolTip(tr("Dice of the segmentation's foreground against the ground truth's, "
                          "updated as you edit"));

    modelForm->addRow(createRunButtonsRow());
    modelForm->addRow(progressBar());
    modelForm->addRow(statusLabel());

    auto* displayBox = new QGroupBox(tr("Display"), this);
    auto* displayForm = new QFormLayout(displayBox);
    displayForm->addRow(tr("Labels:"), m_labelOpacity);
    displayForm->addRow(m_groundTruth);
    m_heat.addRows(displayForm, tr("Heat map:"));
    displayForm->addRow(m_dice);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(volumeBox);
    layout->addWidget(modelBox);
    layout->addWidget(displayBox);
    layout->addStretch(1);

    connect(segmentButton(), &QPushButton::clicked, this, &VolumePanel::segmentRequested);
    connect(m_browse, &QPushButton::clicked, this, &VolumePanel::browseCheckpointRequested);
    connect(m_heat.map, qOverload<int>(&QComboBox::activated), this,
            [this](int index) { Q_EMIT heatMapChosen(index); });
    connect(m_heat.colors, qOverload<int>(&QComboBox::activated), this, [this](int index) {
        updateLegendStrip();
        Q_EMIT colorMapChosen(static_cast<ColorMap::Name>(index));
    });
    connect(m_heat.opacity, &QSlider::valueChanged, this,
            [this](int v) { Q_EMIT heatOpacityChanged(v / 100.0); });
    connect(m_labelOpacity, &QSlider::valueChanged, this,
            [this](int v) { Q_EMIT labelOpacityChanged(v / 100.0); });
    connect(m_groundTruth, &QCheckBox::toggled, this, &VolumePanel::groundTruthToggled);
    setHeatMaps({});
    setDice(std::nan(""));
    updateLegendStrip();
    updateEnabled();
}

void VolumePanel::setVolumeDescription(const QString& text)
{
    m_volume->setText(text);
}

void VolumePanel::setNoModelText(const QString& text)
{
    checkpointBox()->setPlaceholderText(text);
}

void VolumePanel::setModelInfo(const QString& text)
{
    m_modelInfo->setText(text);
}

void VolumePanel::setHeatMaps(const QStringList& names)
{
    const int current = m_heat.map->currentIndex();
    m_heat.map->clear();
    m_heat.map->addItem(tr("None"));
    m_heat.map->addItems(names);
    m_heat.map->setCurrentIndex(current > 0 && current < m_heat.map->count() ? current : 0);
}

void VolumePanel::setHeatMapEnabled(int index, bool enabled)
{
    if (auto* model = qobject_cast<QStandardItemModel*>(m_heat.map->model())) {
        if (QStandardItem* item = model->item(index)) {
            item->setEnabled(enabled);
        }
    }
}

int VolumePanel::heatMap() const
{
    return m_heat.map->currentIndex();
}

void VolumePanel::setHeatMap(int index)
{
    m_heat.map->setCurrentIndex(std::clamp(index, 0, m_heat.map->count() - 1));
    Q_EMIT heatMapChosen(m_heat.map->currentIndex());
}

ColorMap::Name VolumePanel::colorMap() const
{
    return static_cast<ColorMap::Name>(m_heat.colors->currentIndex());
}

double VolumePanel::heatOpacity() const
{
    return m_heat.opacity->value() / 100.0;
}

double VolumePanel::labelOpacity() const
{
    return m_labelOpacity->value() / 100.0;
}

void VolumePanel::setLegend(const QString& low, const QString& high)
{
    m_heat.low->setText(low);
    m_heat.high->setText(high);
    m_heat.strip->setVisible(!high.isEmpty());
}

void VolumePanel::updateLegendStrip()
{
    m_heat.setStripColors(ColorMap(colorMap()));
}

void VolumePanel::setGroundTruthAvailable(bool available, const QString& name)
{
    m_groundTruth->setEnabled(available);
    m_groundTruth->setText(available && !name.isEmpty() ? tr("Ground truth outline (%1)").arg(name)
                                                        : tr("Ground truth outline"));
    if (!available) {
        setDice(std::nan(""));
    }
}

bool VolumePanel::showGroundTruth() const
{
    return m_groundTruth->isChecked();
}

void VolumePanel::setDice(double dice)
{
    m_dice->setText(std::isnan(dice)
                        ? QString()
                        : tr("Dice vs ground truth (foreground): %1").arg(dice, 0, 'f', 3));
}

void VolumePanel::updateEnabled()
{
    SegmentationPanel::updateEnabled();
    m_browse->setEnabled(!isRunning());
}

} // namespace diffseg::widgets
