#pragma once

#include "SegmentationPanel.h"

#include <QString>

class QLabel;

namespace diffseg::widgets {

/// The photo model panel (DermoSegDiff): choose a checkpoint and the run's options (a sampler,
/// steps, ensemble, eta and seed, as SegmentationPanel shows them for the model), then Segment;
/// shows progress, the ETA and Cancel while sampling runs, and the loaded model and where it runs.
/// It only collects choices and displays progress: the app runs the model on a worker thread.
/// GUI thread only.
class ModelPanel : public SegmentationPanel
{
    Q_OBJECT

public:
    explicit ModelPanel(QWidget* parent = nullptr);

    void setDeviceText(const QString& text);

Q_SIGNALS:
    void segmentRequested();

protected:
    void updateEnabled() override;

private:
    QLabel* m_device = nullptr;
};

} // namespace diffseg::widgets
