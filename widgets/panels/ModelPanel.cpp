#include "ModelPanel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

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
    auto* checkpointRow = new QHBoxLayout;
    checkpointRow->addWidget(checkpointBox(), 1);
    checkpointRow->addWidget(browse);
    auto* form = new QFormLayout;
    form->addRow(tr("Model:"), checkpointRow);
    createOptionRows(form);
    core::SegmentationRequest start; // until a model card says otherwise
    start.sampler = "ddim";
    start.steps = 25;
    start.ensemble = 5;
    start.eta = 0.0;
    setOptions(start);
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

    QHBoxLayout* buttons = createRunButtonsRow();
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(progressBar());
    layout->addWidget(status);
    layout->addWidget(m_device);
    layout->addStretch(1);

    connect(browse, &QToolButton::clicked, this, &ModelPanel::browseCheckpointRequested);
    connect(segmentButton(), &QPushButton::clicked, this, &ModelPanel::segmentRequested);
    updateEnabled();
}

void ModelPanel::setDeviceText(const QString& text)
{
    m_device->setText(text);
}

void ModelPanel::updateEnabled()
{
    SegmentationPanel::updateEnabled();
    if (checkpointBox()->count() == 0 && !isRunning()) {
        setStatus(tr("No model yet: choose a checkpoint with \"...\""));
    }
}

} // namespace diffseg::widgets
