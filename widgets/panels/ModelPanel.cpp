#include "ModelPanel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace diffseg::widgets {

ModelPanel::ModelPanel(QWidget* parent)
    : QWidget(parent)
{
    m_checkpoint = new QComboBox(this);
    m_checkpoint->setObjectName(QStringLiteral("checkpointBox"));
    m_checkpoint->setToolTip(tr("The trained model to run: a DiffSeg checkpoint (.dsckpt) or a "
                                "reference DermoSegDiff .pth"));
    m_checkpoint->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_checkpoint->setMinimumContentsLength(14);
    auto* browse = new QToolButton(this);
    browse->setText(QStringLiteral("..."));
    browse->setToolTip(tr("Choose a checkpoint file"));
    m_sampler = new QComboBox(this);
    m_sampler->setObjectName(QStringLiteral("samplerBox"));
    m_sampler->addItem(tr("DDIM (fast)"), true);
    m_sampler->addItem(tr("DDPM (reference, all steps)"), false);
    m_sampler->setToolTip(tr("DDIM skips steps and is deterministic at eta 0; DDPM runs every "
                             "step exactly as the published method"));
    m_steps = new QSpinBox(this);
    m_steps->setObjectName(QStringLiteral("stepsBox"));
    m_steps->setRange(1, 1000);
    m_steps->setValue(25);
    m_steps->setToolTip(tr("Number of DDIM steps: fewer is faster, more is closer to DDPM"));
    m_ensemble = new QSpinBox(this);
    m_ensemble->setObjectName(QStringLiteral("ensembleBox"));
    m_ensemble->setRange(1, 32);
    m_ensemble->setValue(5);
    m_ensemble->setToolTip(tr("Masks sampled from different noise; their spread is the "
                              "uncertainty. They run as one batch."));
    m_eta = new QDoubleSpinBox(this);
    m_eta->setRange(0.0, 1.0);
    m_eta->setSingleStep(0.1);
    m_eta->setToolTip(tr("DDIM eta: 0 deterministic, 1 as random as DDPM"));
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 999999);
    m_seed->setToolTip(tr("Random seed of the initial noise: the same seed gives the same result"));
    m_segment = new QPushButton(tr("Segment"), this);
    m_segment->setObjectName(QStringLiteral("segmentButton"));
    m_segment->setDefault(true);
    m_segment->setToolTip(tr("Run the model on the current image (Ctrl+R)"));
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setObjectName(QStringLiteral("cancelButton"));
    m_cancel->setToolTip(tr("Stop sampling; the steps so far stay browsable"));
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("samplingProgress"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_device = new QLabel(this);
    m_device->setWordWrap(true);
    m_device->setStyleSheet(QStringLiteral("color: palette(mid)"));
    // Wrapped labels in a scrolled dock get no height-for-width: reserve their lines.
    m_status->setMinimumHeight(2 * m_status->fontMetrics().lineSpacing() + 4);
    m_device->setMinimumHeight(3 * m_device->fontMetrics().lineSpacing() + 4);
    m_status->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_device->setAlignment(Qt::AlignLeft | Qt::AlignTop);

    auto* checkpointRow = new QHBoxLayout;
    checkpointRow->addWidget(m_checkpoint, 1);
    checkpointRow->addWidget(browse);
    auto* form = new QFormLayout;
    form->addRow(tr("Model:"), checkpointRow);
    form->addRow(tr("Sampler:"), m_sampler);
    form->addRow(tr("Steps:"), m_steps);
    form->addRow(tr("Ensemble:"), m_ensemble);
    form->addRow(tr("Eta:"), m_eta);
    form->addRow(tr("Seed:"), m_seed);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_segment, 1);
    buttons->addWidget(m_cancel);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(m_progress);
    layout->addWidget(m_status);
    layout->addWidget(m_device);
    layout->addStretch(1);

    connect(browse, &QToolButton::clicked, this, &ModelPanel::browseCheckpointRequested);
    connect(m_segment, &QPushButton::clicked, this, [this] { Q_EMIT segmentRequested(request()); });
    connect(m_cancel, &QPushButton::clicked, this, &ModelPanel::cancelRequested);
    connect(m_sampler, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        const bool ddim = m_sampler->currentData().toBool();
        m_steps->setEnabled(ddim && !m_running);
        m_eta->setEnabled(ddim && !m_running);
        if (!ddim) {
            m_steps->setValue(m_timesteps);
        }
    });
    connect(m_checkpoint, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this] { Q_EMIT checkpointChanged(m_checkpoint->currentData().toString()); });
    updateEnabled();
}

void ModelPanel::addCheckpoint(const QString& path, const QString& label, const QString& toolTip)
{
    const int existing = m_checkpoint->findData(path);
    if (existing >= 0) {
        m_checkpoint->setItemText(existing, label);
        m_checkpoint->setItemData(existing, toolTip.isEmpty() ? path : toolTip, Qt::ToolTipRole);
        return;
    }
    m_checkpoint->addItem(label, path);
    m_checkpoint->setItemData(m_checkpoint->count() - 1, toolTip.isEmpty() ? path : toolTip,
                              Qt::ToolTipRole);
    updateEnabled();
}

void ModelPanel::setCurrentCheckpoint(const QString& path)
{
    const int index = m_checkpoint->findData(path);
    if (index >= 0) {
        m_checkpoint->setCurrentIndex(index);
    }
}

void ModelPanel::clearCheckpoints()
{
    const QSignalBlocker block(m_checkpoint);
    m_checkpoint->clear();
    updateEnabled();
}

void ModelPanel::setRequest(const SamplingRequest& request)
{
    m_sampler->setCurrentIndex(request.ddim ? 0 : 1);
    if (request.ddim) {
        m_steps->setValue(request.steps);
    }
    m_ensemble->setValue(request.ensemble);
    m_eta->setValue(request.eta);
    m_seed->setValue(request.seed);
}

void ModelPanel::setModelTimesteps(int timesteps)
{
    m_timesteps = std::max(1, timesteps);
    m_steps->setMaximum(m_timesteps);
    if (!m_sampler->currentData().toBool()) {
        m_steps->setValue(m_timesteps);
    }
}

void ModelPanel::setDeviceText(const QString& text)
{
    m_device->setText(text);
}

SamplingRequest ModelPanel::request() const
{
    SamplingRequest r;
    r.checkpoint = m_checkpoint->currentData().toString();
    r.ddim = m_sampler->currentData().toBool();
    r.steps = r.ddim ? m_steps->value() : m_timesteps;
    r.ensemble = m_ensemble->value();
    r.eta = m_eta->value();
    r.seed = m_seed->value();
    return r;
}

void ModelPanel::setRunning(bool running)
{
    m_running = running;
    updateEnabled();
}

void ModelPanel::setProgress(int done, int total, double etaSeconds)
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

void ModelPanel::setStatus(const QString& text)
{
    m_status->setText(text);
}

void ModelPanel::updateEnabled()
{
    const bool haveModel = m_checkpoint->count() > 0;
    m_segment->setEnabled(!m_running && haveModel);
    m_cancel->setEnabled(m_running);
    const bool ddim = m_sampler->currentData().toBool();
    for (QWidget* w :
         std::initializer_list<QWidget*>{m_checkpoint, m_sampler, m_ensemble, m_seed}) {
        w->setEnabled(!m_running);
    }
    m_steps->setEnabled(!m_running && ddim);
    m_eta->setEnabled(!m_running && ddim);
    if (!haveModel && !m_running) {
        m_status->setText(tr("No model yet: choose a checkpoint with \"...\""));
    }
}

} // namespace diffseg::widgets
