#pragma once

#include "SegmentationPanel.h"

#include <QString>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;

namespace diffseg::widgets {

/// What the user asked the model to do.
struct SamplingRequest
{
    QString checkpoint; ///< path of a checkpoint (ours or an imported reference .pth)
    bool ddim = true;   ///< DDIM (fast, deterministic at eta 0) or ancestral DDPM (reference)
    int steps = 25;     ///< DDIM steps (DDPM always runs all T steps)
    int ensemble = 5;   ///< members sampled as one batch
    double eta = 0.0;   ///< DDIM stochasticity
    int seed = 0;
};

/// The photo model panel (DermoSegDiff): choose a checkpoint, a sampler, steps and ensemble size,
/// then Segment; shows progress, the ETA and Cancel while sampling runs (SegmentationPanel). It
/// only collects choices and displays progress: the app runs the model on a worker thread. GUI
/// thread only.
class ModelPanel : public SegmentationPanel
{
    Q_OBJECT

public:
    explicit ModelPanel(QWidget* parent = nullptr);

    /// The chosen checkpoint and sampling options.
    SamplingRequest request() const;
    /// Sets the sampler, steps, ensemble, eta and seed (the checkpoint is left as chosen).
    void setRequest(const SamplingRequest& request);
    /// The timesteps T of the chosen model, for DDPM's step count and the DDIM maximum.
    void setModelTimesteps(int timesteps);
    void setDeviceText(const QString& text);

Q_SIGNALS:
    void segmentRequested(const diffseg::widgets::SamplingRequest& request);

protected:
    void updateEnabled() override;

private:
    QComboBox* m_sampler = nullptr;
    QSpinBox* m_steps = nullptr;
    QSpinBox* m_ensemble = nullptr;
    QDoubleSpinBox* m_eta = nullptr;
    QSpinBox* m_seed = nullptr;
    QLabel* m_device = nullptr;
    int m_timesteps = 250;
};

} // namespace diffseg::widgets
