#include "VolumePanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include <algorithm>
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

VolumePanel::VolumePanel(QWidget* parent)
    : QWidget(parent)
{
    m_volume = new QLabel(tr("No volume: File > Open (a .nii, .nii.gz, .nrrd, .mha file) or "
                             "Volume > Open DICOM Folder, or drop one here."),
                          this);
    m_volume->setObjectName(QStringLiteral("volumeDescription"));
    m_volume->setWordWrap(true);
    m_volume->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_checkpoint = new QComboBox(this);
    m_checkpoint->setObjectName(QStringLiteral("volumeCheckpoint"));
    m_checkpoint->setToolTip(tr("Diff-UNet checkpoints (volume models) from the opened files, "
                                "the models folder and the runs folder; photo models are listed "
                                "in the photo workspace"));
    m_checkpoint->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_checkpoint->setMinimumContentsLength(12);
    m_browse = new QPushButton(tr("Open..."), this);
    m_browse->setToolTip(tr("Add a Diff-UNet checkpoint file (Ctrl+M)"));
    m_modelInfo = new QLabel(this);
    m_modelInfo->setObjectName(QStringLiteral("volumeModelInfo"));
    m_modelInfo->setWordWrap(true);
    m_steps = new QSpinBox(this);
    m_steps->setObjectName(QStringLiteral("volumeSteps"));
    m_steps->setRange(1, 100);
    m_steps->setValue(5);
    m_steps->setToolTip(tr("Denoiser steps per window; each step's prediction can be browsed"));
    m_overlap = new QDoubleSpinBox(this);
    m_overlap->setObjectName(QStringLiteral("volumeOverlap"));
    m_overlap->setRange(0.0, 0.9);
    m_overlap->setSingleStep(0.125);
    m_overlap->setDecimals(3);
    m_overlap->setValue(0.5);
    m_overlap->setToolTip(tr("Overlap of the sliding windows (0.5 as the reference; less is "
                             "faster)"));
    m_tta = new QCheckBox(tr("Mirror TTA (8x slower)"), this);
    m_tta->setObjectName(QStringLiteral("volumeTta"));
    m_tta->setToolTip(tr("Average the 8 mirrored passes; also gives the mirror-variance "
                         "uncertainty map"));
    m_fusion = new QComboBox(this);
    m_fusion->setObjectName(QStringLiteral("volumeFusion"));
    m_fusion->addItem(tr("Mean of the steps"));
    m_fusion->addItem(tr("Uncertainty-weighted"));
    m_fusion->setToolTip(tr("How the steps' predictions are fused (PURE): the released mean, or "
                            "weighted by each step's certainty"));
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 1 << 30);
    m_seed->setToolTip(tr("Noise seed: equal seeds give equal results"));
    m_segment = new QPushButton(tr("Segment volume"), this);
    m_segment->setObjectName(QStringLiteral("volumeSegmentButton"));
    m_segment->setToolTip(tr("Run the model on the volume on a worker thread (Ctrl+R)"));
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setObjectName(QStringLiteral("volumeCancelButton"));
    m_cancel->setToolTip(tr("Stop before the next window or step (Ctrl+Shift+R); finished steps "
                            "stay browsable"));
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("volumeProgress"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("volumeStatus"));
    m_status->setWordWrap(true);

    m_labelOpacity = percentSlider(45, this);
    m_labelOpacity->setObjectName(QStringLiteral("volumeLabelOpacity"));
    m_labelOpacity->setToolTip(tr("Opacity of the label fill in the slices (0 hides it)"));
    m_groundTruth = new QCheckBox(tr("Ground truth outline"), this);
    m_groundTruth->setObjectName(QStringLiteral("volumeShowGroundTruth"));
    m_groundTruth->setChecked(true);
    m_groundTruth->setEnabled(false);
    m_groundTruth->setToolTip(tr("Outline of the ground-truth label map in yellow (Volume > Load "
                                 "Ground Truth)"));
    m_heatMap = new QComboBox(this);
    m_heatMap->setObjectName(QStringLiteral("volumeHeatMap"));
    m_heatMap->setToolTip(tr("Colour the slices (and the 3D view, see its chooser) by the "
                             "model's probability or one of its uncertainty maps"));
    m_colorMap = new QComboBox(this);
    m_colorMap->setObjectName(QStringLiteral("volumeColorMap"));
    m_colorMap->addItems(ColorMap::allNames());
    m_colorMap->setCurrentIndex(static_cast<int>(ColorMap::Name::Inferno));
    m_colorMap->setToolTip(tr("Colour map of the heat map"));
    m_heatOpacity = percentSlider(60, this);
    m_heatOpacity->setObjectName(QStringLiteral("volumeHeatOpacity"));
    m_heatOpacity->setToolTip(tr("Opacity of the heat map in the slices"));
    m_legend = new QLabel(this);
    m_legend->setObjectName(QStringLiteral("volumeLegend"));
    m_legend->setFixedHeight(12);
    m_legend->setScaledContents(true);
    m_legendLow = new QLabel(this);
    m_legendHigh = new QLabel(this);
    m_legendHigh->setAlignment(Qt::AlignRight);
    m_dice = new QLabel(this);
    m_dice->setObjectName(QStringLiteral("volumeDice"));
    m_dice->setToolTip(tr("Dice of the segmentation's foreground against the ground truth's, "
                          "updated as you edit"));

    auto* volumeBox = new QGroupBox(tr("Volume"), this);
    auto* volumeLayout = new QVBoxLayout(volumeBox);
    volumeLayout->addWidget(m_volume);

    auto* modelBox = new QGroupBox(tr("Diff-UNet model"), this);
    auto* modelForm = new QFormLayout(modelBox);
    auto* chooser = new QHBoxLayout;
    chooser->addWidget(m_checkpoint, 1);
    chooser->addWidget(m_browse);
    modelForm->addRow(chooser);
    modelForm->addRow(m_modelInfo);
    modelForm->addRow(tr("Steps:"), m_steps);
    modelForm->addRow(tr("Overlap:"), m_overlap);
    modelForm->addRow(tr("Fusion:"), m_fusion);
    modelForm->addRow(tr("Seed:"), m_seed);
    modelForm->addRow(m_tta);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_segment, 1);
    buttons->addWidget(m_cancel);
    modelForm->addRow(buttons);
    modelForm->addRow(m_progress);
    modelForm->addRow(m_status);

    auto* displayBox = new QGroupBox(tr("Display"), this);
    auto* displayForm = new QFormLayout(displayBox);
    displayForm->addRow(tr("Labels:"), m_labelOpacity);
    displayForm->addRow(m_groundTruth);
    displayForm->addRow(tr("Heat map:"), m_heatMap);
    displayForm->addRow(tr("Colours:"), m_colorMap);
    displayForm->addRow(tr("Opacity:"), m_heatOpacity);
    auto* legendBox = new QGridLayout;
    legendBox->addWidget(m_legend, 0, 0, 1, 2);
    legendBox->addWidget(m_legendLow, 1, 0);
    legendBox->addWidget(m_legendHigh, 1, 1);
    displayForm->addRow(legendBox);
    displayForm->addRow(m_dice);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(volumeBox);
    layout->addWidget(modelBox);
    layout->addWidget(displayBox);
    layout->addStretch(1);

    connect(m_segment, &QPushButton::clicked, this, &VolumePanel::segmentRequested);
    connect(m_cancel, &QPushButton::clicked, this, &VolumePanel::cancelRequested);
    connect(m_browse, &QPushButton::clicked, this, &VolumePanel::browseCheckpointRequested);
    connect(m_checkpoint, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        updateEnabled();
        Q_EMIT checkpointChanged(currentCheckpoint());
    });
    connect(m_heatMap, qOverload<int>(&QComboBox::activated), this,
            [this](int index) { Q_EMIT heatMapChosen(index); });
    connect(m_colorMap, qOverload<int>(&QComboBox::activated), this, [this](int index) {
        updateLegendStrip();
        Q_EMIT colorMapChosen(static_cast<ColorMap::Name>(index));
    });
    connect(m_heatOpacity, &QSlider::valueChanged, this,
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

void VolumePanel::addCheckpoint(const QString& path, const QString& label, const QString& toolTip)
{
    if (m_checkpoint->findData(path) >= 0) {
        return;
    }
    m_checkpoint->addItem(label, path);
    m_checkpoint->setItemData(m_checkpoint->count() - 1, toolTip.isEmpty() ? path : toolTip,
                              Qt::ToolTipRole);
    updateEnabled();
}

void VolumePanel::clearCheckpoints()
{
    const QSignalBlocker block(m_checkpoint);
    m_checkpoint->clear();
    updateEnabled();
}

void VolumePanel::setCurrentCheckpoint(const QString& path)
{
    const int index = m_checkpoint->findData(path);
    if (index >= 0) {
        m_checkpoint->setCurrentIndex(index);
    }
    updateEnabled();
}

QString VolumePanel::currentCheckpoint() const
{
    return m_checkpoint->currentData().toString();
}

void VolumePanel::setNoModelText(const QString& text)
{
    m_checkpoint->setPlaceholderText(text);
}

void VolumePanel::setModelInfo(const QString& text)
{
    m_modelInfo->setText(text);
}

void VolumePanel::setRequest(const VolumeSegmentationRequest& request)
{
    if (!request.checkpoint.isEmpty()) {
        setCurrentCheckpoint(request.checkpoint);
    }
    m_steps->setValue(request.steps);
    m_overlap->setValue(request.overlap);
    m_tta->setChecked(request.mirrorTta);
    m_fusion->setCurrentIndex(request.weightedFusion ? 1 : 0);
    m_seed->setValue(request.seed);
}

VolumeSegmentationRequest VolumePanel::request() const
{
    VolumeSegmentationRequest r;
    r.checkpoint = currentCheckpoint();
    r.steps = m_steps->value();
    r.overlap = m_overlap->value();
    r.mirrorTta = m_tta->isChecked();
    r.weightedFusion = m_fusion->currentIndex() == 1;
    r.seed = m_seed->value();
    return r;
}

void VolumePanel::setHeatMaps(const QStringList& names)
{
    const int current = m_heatMap->currentIndex();
    m_heatMap->clear();
    m_heatMap->addItem(tr("None"));
    m_heatMap->addItems(names);
    m_heatMap->setCurrentIndex(current > 0 && current < m_heatMap->count() ? current : 0);
}

void VolumePanel::setHeatMapEnabled(int index, bool enabled)
{
    if (auto* model = qobject_cast<QStandardItemModel*>(m_heatMap->model())) {
        if (QStandardItem* item = model->item(index)) {
            item->setEnabled(enabled);
        }
    }
}

int VolumePanel::heatMap() const
{
    return m_heatMap->currentIndex();
}

void VolumePanel::setHeatMap(int index)
{
    m_heatMap->setCurrentIndex(std::clamp(index, 0, m_heatMap->count() - 1));
    Q_EMIT heatMapChosen(m_heatMap->currentIndex());
}

ColorMap::Name VolumePanel::colorMap() const
{
    return static_cast<ColorMap::Name>(m_colorMap->currentIndex());
}

double VolumePanel::heatOpacity() const
{
    return m_heatOpacity->value() / 100.0;
}

double VolumePanel::labelOpacity() const
{
    return m_labelOpacity->value() / 100.0;
}

void VolumePanel::setLegend(const QString& low, const QString& high)
{
    m_legendLow->setText(low);
    m_legendHigh->setText(high);
    m_legend->setVisible(!high.isEmpty());
}

void VolumePanel::updateLegendStrip()
{
    m_legend->setPixmap(QPixmap::fromImage(ColorMap(colorMap()).strip(256, 12)));
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

void VolumePanel::setRunning(bool running)
{
    m_running = running;
    updateEnabled();
}

void VolumePanel::setProgress(int done, int total, double etaSeconds)
{
    m_progress->setRange(0, std::max(1, total));
    m_progress->setValue(std::clamp(done, 0, std::max(1, total)));
    if (etaSeconds >= 0.0 && done < total) {
        const int s = static_cast<int>(etaSeconds + 0.5);
        m_progress->setFormat(
            tr("%p%  (about %1:%2 left)").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0')));
    } else {
        m_progress->setFormat(QStringLiteral("%p%"));
    }
}

void VolumePanel::setStatus(const QString& text)
{
    m_status->setText(text);
}

void VolumePanel::updateEnabled()
{
    const bool haveModel = m_checkpoint->count() > 0;
    m_segment->setEnabled(!m_running && haveModel);
    m_cancel->setEnabled(m_running);
    for (QWidget* w : std::initializer_list<QWidget*>{m_checkpoint, m_browse, m_steps, m_overlap,
                                                      m_tta, m_fusion, m_seed}) {
        w->setEnabled(!m_running);
    }
}

} // namespace diffseg::widgets
