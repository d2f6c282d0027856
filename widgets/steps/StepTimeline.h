#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include <functional>
#include <vector>

class QHBoxLayout;
class QLabel;
class QPushButton;
class QSlider;
class QTimer;
class QToolButton;

namespace diffseg::widgets {

class Filmstrip;

/// The step browser's base: the timeline of a sampling run's steps, during and after it. A
/// slider over the available steps, a filmstrip of thumbnails, Play/Pause, Follow (jump to each
/// new step while the model runs), a read-out, "Use this step", and the step keys (Left/Right,
/// Home/End, PgUp/PgDn, Space to play).
///
/// Steps are numbered in sampling order, 0 = the first (noisiest) step. The timeline knows only
/// which steps exist; a subclass says what a step looks like (setThumbnailSource()), announces the
/// shown frame (showFrame(), called whenever the current step changes) and the accepted step
/// (acceptStep()), and adds its own options to the bottom row with addOption(). GUI thread only.
class StepTimeline : public QWidget
{
    Q_OBJECT

public:
    /// What differs between the photo and volume families' timelines.
    struct Look
    {
        QString objectPrefix;  ///< "" names the slider stepSlider, "volume" volumeStepSlider
        QString sliderToolTip; ///< names the unit of a step
        QString followToolTip;
        QString idleText;        ///< the read-out before any run
        int playIntervalMs = 80; ///< time per step when playing
        int readoutWidth = 150;
    };

    StepTimeline(const Look& look, QWidget* parent);
    ~StepTimeline() override;

    /// Marks `step` as available (sampling just produced it); shown when following.
    void appendStep(int step);
    /// Sets the steps available after a run (e.g. those the step cache kept).
    void setAvailableSteps(const std::vector<int>& steps);
    /// A label per step for the read-out, e.g. the diffusion timestep t.
    void setStepLabels(const std::vector<QString>& labels);

    int currentStep() const { return m_current; }
    int totalSteps() const { return m_total; }
    const std::vector<int>& availableSteps() const { return m_available; }
    bool isPlaying() const;
    /// Whether the timeline jumps to each new step while sampling runs.
    bool following() const { return m_follow; }

public Q_SLOTS:
    void setCurrentStep(int step);
    void nextStep();
    void previousStep();
    void firstStep();
    void lastStep();
    void setPlaying(bool playing);
    void setFollowing(bool follow);
    /// Thumbnails may be out of date (e.g. what a step shows changed).
    void refreshThumbnails();

protected:
    /// Starts a new run of `totalSteps` steps; no step available.
    void resetTimeline(int totalSteps);
    /// Adds a widget to the bottom row, before "Use this step".
    void addOption(QWidget* widget);
    QPushButton* acceptButton() const { return m_accept; }
    /// The thumbnail of a step as the subclass shows it now, at most the size given (a null
    /// image where there is none); the filmstrip asks it when it paints.
    void setThumbnailSource(std::function<QImage(int step, const QSize& size)> source);
    /// Announces the current step's frame again (showFrame()), when there is one.
    void showCurrentFrame();
    /// What a step shows changed (a subclass's option): redraws the thumbnails and announces the
    /// current frame again.
    void refreshFrame();
    /// The current step changed to `step` (or what it shows did): announce the frame to show.
    virtual void showFrame(int step) = 0;
    /// "Use this step" was pressed on the current step `step`: announce the request.
    virtual void acceptStep(int step) = 0;

    void keyPressEvent(QKeyEvent* e) override;

private:
    void updateControls();
    int nearestAvailable(int step) const;
    QString childName(const char* name) const;

    Look m_look;
    std::function<QImage(int step, const QSize& size)> m_thumbnails;
    std::vector<int> m_available;
    std::vector<QString> m_labels;
    int m_total = 0;
    int m_current = -1;
    bool m_follow = true;

    QSlider* m_slider = nullptr;
    QLabel* m_readout = nullptr;
    QToolButton* m_play = nullptr;
    QToolButton* m_followButton = nullptr;
    QHBoxLayout* m_options = nullptr;
    QPushButton* m_accept = nullptr;
    Filmstrip* m_filmstrip = nullptr;
    QTimer* m_timer = nullptr;
};

} // namespace diffseg::widgets
