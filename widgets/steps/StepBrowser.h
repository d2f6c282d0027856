#pragma once

#include "StepTimeline.h"

#include <QImage>

#include <functional>
#include <utility>
#include <vector>

class QCheckBox;
class QComboBox;

namespace diffseg::widgets {

/// What a step of a run can show. Photos (DermoSegDiff): the x0 estimate, x_t or the mask of one
/// chain or of the ensemble mean. Volumes (Diff-UNet): the step's label map or its foreground
/// probability over the whole volume.
enum class StepView
{
    Estimate,   ///< the x0 estimate of the step (what the model currently believes)
    Noisy,      ///< x_t, the sample itself
    Mask,       ///< the x0 estimate thresholded at 0
    Labels,     ///< the step's argmax label map, outlined in magenta
    Probability ///< the step's foreground probability as the heat map
};

/// Browses the steps of a segmentation run, during and after it, for either model family: the
/// timeline, filmstrip, play and keys of StepTimeline, plus the options the family's steps have
/// (Setup): what a step shows, which ensemble member (where the model samples an ensemble), and
/// for volumes whether the slice views preview the step and whether the 3D surface shows it.
/// "Use this step" asks for the step's result as the segmentation.
///
/// Images come from a FrameProvider (the step cache), so switching steps costs one cache lookup.
/// GUI thread only.
class StepBrowser : public StepTimeline
{
    Q_OBJECT

public:
    /// What a family's steps offer, and the names its widgets carry.
    struct Setup
    {
        StepTimeline::Look look;
        /// The "Show:" choices, the first one shown at the start.
        std::vector<std::pair<StepView, QString>> views;
        QString viewsToolTip;
        QString viewsName; ///< object name of the "Show:" box
        /// The model samples an ensemble: a "Member:" box chooses the mean or one chain.
        bool members = false;
        /// The step can preview in the slice views and as the 3D surface (two check boxes).
        bool viewToggles = false;
        QString acceptName; ///< object name of "Use this step"
        QString acceptToolTip;

        static Setup photos();  ///< DermoSegDiff: an ensemble of 2D chains
        static Setup volumes(); ///< Diff-UNet: one prediction per step over the volume
    };
    /// The thumbnail of `step` for `member` (-1 = ensemble mean, or no ensemble) in `view`, at
    /// most `size`.
    using FrameProvider =
        std::function<QImage(int step, int member, StepView view, const QSize& size)>;

    explicit StepBrowser(const Setup& setup, QWidget* parent = nullptr);
    ~StepBrowser() override;

    /// Starts a new run of `totalSteps` steps with `members` ensemble members; no step available.
    void reset(int totalSteps, int members = 1);
    void setFrameProvider(FrameProvider provider);

    /// The chosen member, -1 for the mean (always -1 without a Member box).
    int member() const;
    StepView view() const;
    bool previewInViews() const;
    bool surfaceIn3d() const;

public Q_SLOTS:
    void setView(diffseg::widgets::StepView view);
    void setPreviewInViews(bool on);
    void setSurfaceIn3d(bool on);

Q_SIGNALS:
    /// The shown step, member or view changed: the views should display that frame.
    void frameChanged(int step, int member, diffseg::widgets::StepView view);
    /// The user wants this step's result as the segmentation ("Use this step", one undo step).
    void acceptStepRequested(int step, int member);
    /// The user turned the step preview in the slice views on or off.
    void previewToggled(bool on);
    /// The user wants the 3D surface to show the step's labels (or the edited labels again).
    void surfaceIn3dToggled(bool on);

protected:
    void showFrame(int step) override;
    void acceptStep(int step) override;

private:
    int m_members = 1;
    QComboBox* m_viewBox = nullptr;
    QComboBox* m_memberBox = nullptr;
    QCheckBox* m_preview = nullptr;
    QCheckBox* m_surface = nullptr;
};

} // namespace diffseg::widgets
