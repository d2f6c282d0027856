#pragma once

#include <QImage>
#include <QWidget>

#include <functional>
#include <vector>

class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QTimer;
class QToolButton;

namespace diffseg::widgets {

class Filmstrip;

/// Browses the reverse-diffusion steps of a sampling run, during and after it: a slider, a
/// filmstrip of thumbnails, play/pause, and step keys (Left/Right, Home/End, PgUp/PgDn). The user
/// chooses what a step shows (the x0 estimate, x_t or the binarised mask) and for which ensemble
/// member (or their mean), and can accept an early step's result.
///
/// Steps are numbered in sampling order, 0 = the first (noisiest) reverse step. The browser knows
/// only which steps exist; images come from a FrameProvider (the step cache), so switching steps
/// costs one cache lookup. While sampling runs, appendStep() adds the newest step and, in "follow"
/// mode, shows it. GUI thread only.
class StepBrowser : public QWidget
{
    Q_OBJECT

public:
    enum class Mode
    {
        Estimate, ///< the x0 estimate of the step (what the model currently believes)
        Noisy,    ///< x_t, the sample itself
        Mask      ///< the x0 estimate thresholded at 0
    };
    /// Returns the thumbnail of `step` for `member` (-1 = ensemble mean) in `mode`, at most `size`.
    using FrameProvider = std::function<QImage(int step, int member, Mode mode, const QSize& size)>;

    explicit StepBrowser(QWidget* parent = nullptr);
    ~StepBrowser() override;

    /// Starts a new run of `totalSteps` steps with `members` ensemble members; no step available.
    void reset(int totalSteps, int members);
    /// Marks `step` as available (sampling just produced it).
    void appendStep(int step);
    /// Sets the steps available after a run (e.g. those the step cache kept).
    void setAvailableSteps(const std::vector<int>& steps);
    void setFrameProvider(FrameProvider provider);
    /// A label per step for the slider's read-out, e.g. the diffusion timestep t.
    void setStepLabels(const std::vector<QString>& labels);

    int currentStep() const { return m_current; }
    int member() const;
    Mode mode() const;
    int totalSteps() const { return m_total; }
    const std::vector<int>& availableSteps() const { return m_available; }
    bool isPlaying() const;
    /// Whether the browser jumps to each new step while sampling runs.
    bool following() const { return m_follow; }

public Q_SLOTS:
    void setCurrentStep(int step);
    void nextStep();
    void previousStep();
    void firstStep();
    void lastStep();
    void setPlaying(bool playing);
    void setFollowing(bool follow);
    /// Thumbnails may be out of date (e.g. the member changed).
    void refreshThumbnails();

Q_SIGNALS:
    /// The shown step, member or mode changed: the main view should display that frame.
    void frameChanged(int step, int member, diffseg::widgets::StepBrowser::Mode mode);
    /// The user wants this step's binarised result as the mask ("Use this step").
    void acceptStepRequested(int step, int member);

protected:
    void keyPressEvent(QKeyEvent* e) override;

private:
    void updateControls();
    int nearestAvailable(int step) const;

    FrameProvider m_provider;
    std::vector<int> m_available;
    std::vector<QString> m_labels;
    int m_total = 0;
    int m_members = 1;
    int m_current = -1;
    bool m_follow = true;

    QSlider* m_slider = nullptr;
    QLabel* m_readout = nullptr;
    QToolButton* m_play = nullptr;
    QToolButton* m_followButton = nullptr;
    QComboBox* m_memberBox = nullptr;
    QComboBox* m_modeBox = nullptr;
    QPushButton* m_accept = nullptr;
    Filmstrip* m_filmstrip = nullptr;
    QTimer* m_timer = nullptr;
};

} // namespace diffseg::widgets
