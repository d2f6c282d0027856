#include "SegmentationPanel.h"

#include "ModelOptionRows.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>

#include <algorithm>

namespace diffseg::widgets {

SegmentationPanel::SegmentationPanel(QWidget* parent)
    : QWidget(parent)
{}

void SegmentationPanel::createCheckpointBox(const QString& objectName, const QString& toolTip,
                                            int minimumContentsLength)
{
    m_checkpoint = new QComboBox(this);
    m_checkpoint->setObjectName(objectName);
    m_checkpoint->setToolTip(toolTip);
    m_checkpoint->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_checkpoint->setMinimumContentsLength(minimumContentsLength);
    connect(m_checkpoint, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this] { Q_EMIT checkpointChanged(currentCheckpoint()); });
}

void SegmentationPanel::createOptionRows(QFormLayout* form)
{
    m_options = new ModelOptionRows(this, form);
}

void SegmentationPanel::setCapabilities(const core::ModelCapabilities& can)
{
    m_options->setCapabilities(can);
}

const core::ModelCapabilities& SegmentationPanel::capabilities() const
{
    return m_options->capabilities();
}

core::SegmentationRequest SegmentationPanel::options() const
{
    return m_options->options();
}

void SegmentationPanel::setOptions(const core::SegmentationRequest& request)
{
    m_options->setOptions(request);
}

bool SegmentationPanel::applyCard(const core::ModelCard& card)
{
    return m_options->applyCard(card);
}

void SegmentationPanel::createRunControls(const RunControlLook& look)
{
    m_segment = new QPushButton(look.segmentText, this);
    m_segment->setObjectName(look.segmentName);
    m_segment->setToolTip(look.segmentToolTip);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setObjectName(look.cancelName);
    m_cancel->setToolTip(look.cancelToolTip);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(look.progressName);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_status = new QLabel(this);
    m_status->setObjectName(look.statusName);
    m_status->setWordWrap(true);
    connect(m_cancel, &QPushButton::clicked, this, &SegmentationPanel::cancelRequested);
}

QHBoxLayout* SegmentationPanel::createRunButtonsRow() const
{
    auto* row = new QHBoxLayout;
    row->addWidget(m_segment, 1);
    row->addWidget(m_cancel);
    return row;
}

void SegmentationPanel::addCheckpoint(const QString& path, const QString& label,
                                      const QString& toolTip)
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

void SegmentationPanel::clearCheckpoints()
{
    const QSignalBlocker block(m_checkpoint);
    m_checkpoint->clear();
    updateEnabled();
}

void SegmentationPanel::setCurrentCheckpoint(const QString& path)
{
    const int index = m_checkpoint->findData(path);
    if (index >= 0) {
        m_checkpoint->setCurrentIndex(index);
    }
}

QString SegmentationPanel::currentCheckpoint() const
{
    return m_checkpoint->currentData().toString();
}

void SegmentationPanel::setRunning(bool running)
{
    m_running = running;
    updateEnabled();
}

void SegmentationPanel::setProgress(int done, int total, double etaSeconds)
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

void SegmentationPanel::setStatus(const QString& text)
{
    m_status->setText(text);
}

void SegmentationPanel::updateEnabled()
{
    m_segment->setEnabled(!m_running && m_checkpoint->count() > 0);
    m_cancel->setEnabled(m_running);
    m_checkpoint->setEnabled(!m_running);
    if (m_options) {
        m_options->setEditable(!m_running);
    }
}

} // namespace diffseg::widgets
