#pragma once

#include <QString>
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
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

/// The model panel: choose a checkpoint, a sampler, steps and ensemble size, then Segment; shows
/// progress, the ETA and Cancel while sampling runs. It only collects choices and displays
/// progress: the app runs the model on a worker thread. GUI thread only.
class ModelPanel : public QWidget
{
    Q_OBJECT

public:
    explicit ModelPanel(QWidget* parent = nullptr);

    /// Adds a checkpoint to the chooser (no duplicates); `label` is what users read, `toolTip`
    /// (default: the path) what they read when pointing at it, e.g. the model card.
    void addCheckpoint(const QString& path, const QString& label, const QString& toolTip = {});
    void setCurrentCheckpoint(const QString& path);
    /// Removes every checkpoint (before listing them again).
    void clearCheckpoints();
    /// Sets the sampler, steps, ensemble, eta and seed (the checkpoint is left as chosen).
    void setRequest(const SamplingRequest& request);
    /// The timesteps T of the chosen model, for DDPM's step count and the DDIM maximum.
    void setModelTimesteps(int timesteps);
    void setDeviceText(const QString& text);
    SamplingRequest request() const;
    bool isRunning() const { return m_running; }

public Q_SLOTS:
    void setRunning(bool running);
    /// `done` of `total` network evaluations; `etaSeconds` < 0 when unknown.
    void setProgress(int done, int total, double etaSeconds);
    void setStatus(const QString& text);

Q_SIGNALS:
    void segmentRequested(const diffseg::widgets::SamplingRequest& request);
    void cancelRequested();
    void browseCheckpointRequested();
    void checkpointChanged(const QString& path);

private:
    void updateEnabled();

    QComboBox* m_checkpoint = nullptr;
    QComboBox* m_sampler = nullptr;
    QSpinBox* m_steps = nullptr;
    QSpinBox* m_ensemble = nullptr;
    QDoubleSpinBox* m_eta = nullptr;
    QSpinBox* m_seed = nullptr;
    QPushButton* m_segment = nullptr;
    QPushButton* m_cancel = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_device = nullptr;
    int m_timesteps = 250;
    bool m_running = false;
};

} // namespace diffseg::widgets
