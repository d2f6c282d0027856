#pragma once

#include "StepTimeline.h"

#include <QImage>

#include <functional>

class QComboBox;

namespace diffseg::widgets {

/// Browses the reverse-diffusion steps of a 2D sampling run, during and after it (the timeline,
/// filmstrip, play and keys of StepTimeline). The user chooses what a step shows (the x0
/// estimate, x_t or the binarised mask) and for which ensemble member (or their mean), and can
/// accept an early step's result.
///
/// Images come from a FrameProvider (the step cache), so switching steps costs one cache lookup.
/// GUI thread only.
class StepBrowser : public StepTimeline
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
    void setFrameProvider(FrameProvider provider);

    int member() const;
    Mode mode() const;

Q_SIGNALS:
    /// The shown step, member or mode changed: the main view should display that frame.
    void frameChanged(int step, int member, diffseg::widgets::StepBrowser::Mode mode);
    /// The user wants this step's binarised result as the mask ("Use this step").
    void acceptStepRequested(int step, int member);

protected:
    void showFrame(int step) override;
    void acceptStep(int step) override;

private:
    int m_members = 1;
    QComboBox* m_memberBox = nullptr;
    QComboBox* m_modeBox = nullptr;
};

} // namespace diffseg::widgets
