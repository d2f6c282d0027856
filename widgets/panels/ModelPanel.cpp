#include "ModelPanel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace diffseg::widgets {

ModelPanel::ModelPanel(QWidget* parent)
    : SegmentationPanel(parent)
{
    createCheckpointBox(QStringLiteral("checkpointBox"),
                        tr("The trained model to run: a DiffSeg checkpoint (.dsckpt) or a "
                           "reference DermoSegDiff .pth"),
                        14);
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
    createRunControls({tr("Segment"), QStringLiteral("segmentButton"),
                       tr("Run the model on the current image (Ctrl+R)"),
                       QStringLiteral("cancelButton"),
                       tr("Stop sampling; the steps so far stay browsable"),
                       QStringLiteral("samplingProgress"), QString()});
    segmentButton()->setDefault(true);
    m_device = new QLabel(this);
    m_device->setWordWrap(true);
    m_device->setStyleSheet(QStringLiteral("color: palette(mid)"));
    // Wrapped labels in a scrolled dock get no height-for-width: reserve their lines.
    QLabel* status = statusLabel();
    status->setMinimumHeight(2 * status->fontMetrics().lineSpacing() + 4);
    m_device->setMinimumHeight(3 * m_device->fontMetrics().lineSpacing() + 4);
    status->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_device->setAlignment(Qt::AlignLeft | Qt::AlignTop);

    auto* checkpointRow = new QHBoxLayout;
    checkpointRow->addWidget(checkpointBox(), 1);
    checkpointRow->addWidget(browse);
    auto* form = new QFormLayout;
    form->addRow(tr("Model:"), checkpointRow);
    form->addRow(tr("Sampler:"), m_sampler);
    form->addRow(tr("Steps:"), m_steps);
    form->addRow(tr("Ensemble:"), m_ensemble);
    form->addRow(tr("Eta:"), m_eta);
    form->addRow(tr("Seed:"), m_seed);
    QHBoxLayout* buttons = createRunButtonsRow();
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(progressBar());
    layout->addWidget(status);
    layout->addWidget(m_device);
    layout->addStretch(1);

    connect(browse, &QToolButton::clicked, this, &ModelPanel::browseCheckpointRequested);
    connect(segmentButton(), &QPushButton::clicked, this,
            [this] { Q_EMIT segmentRequested(request()); });
    connect(m_sampler, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        const bool ddim = m_sampler->currentData().toBool();
        m_steps->setEnabled(ddim && !isRunning());
        m_eta->setEnabled(ddim && !isRunning());
        if (!ddim) {
            m_steps->setValue(m_timesteps);
        }
    });
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
    r.checkpoint = currentCheckpoint();
    r.ddim = m_sampler->currentData().toBool();
    r.steps = r.ddim ? m_steps->value() : m_timesteps;
    r.ensemble = m_ensemble->value();
    r.eta = m_eta->value();
    r.seed = m_seed->value();
    return r;
}

void ModelPanel::updateEnabled()
{
    SegmentationPanel::updateEnabled();
    const bool running = isRunning();
    const bool ddim = m_sampler->currentData().toBool();
    for (QWidget* w :
         std::initializer_list<QWidget*>{checkpointBox(), m_sampler, m_ensemble, m_seed}) {
        w->setEnabled(!running);
    }
    m_steps->setEnabled(!running && ddim);
    m_eta->setEnabled(!running && ddim);
    if (checkpointBox()->count() == 0 && !running) {
        setStatus(tr("No model yet: choose a checkpoint with \"...\""));
    }
}

} // namespace diffseg::widgets
