#pragma once

#include "StepTimeline.h"

#include <QImage>

#include <functional>

class QCheckBox;
class QComboBox;

namespace diffseg::widgets {

/// Browses the denoiser steps of a volume segmentation (Diff-UNet samples S steps per window; each
/// step's prediction over the whole volume becomes available when the last window has run it),
/// during and after the run, with the timeline, filmstrip (the axial slice through the crosshair),
/// play and keys of StepTimeline.
///
/// What a step shows is chosen here: its label map (drawn as an outline in the slice views) or its
/// foreground probability (the heat map); whether the slice views preview it at all, and whether
/// the 3D view's surface shows the step's labels instead of the edited ones. "Use this step" asks
/// for the step's labels as the segmentation. Images come from a ThumbnailProvider and volumes
/// from the owner (the step cache), so a switch costs a lookup and a repaint. GUI thread only.
class VolumeStepBrowser : public StepTimeline
{
    Q_OBJECT

public:
    enum class Show
    {
        Labels,     ///< the step's argmax label map, outlined in magenta
        Probability ///< the step's foreground probability as the heat map
    };
    /// The thumbnail of `step` in `show` mode, at most `size`.
    using ThumbnailProvider = std::function<QImage(int step, Show show, const QSize& size)>;

    explicit VolumeStepBrowser(QWidget* parent = nullptr);
    ~VolumeStepBrowser() override;

    /// Starts a new run of `totalSteps` steps; no step available yet.
    void reset(int totalSteps);
    void setThumbnailProvider(ThumbnailProvider provider);

    Show show() const;
    bool previewInViews() const;
    bool surfaceIn3d() const;

public Q_SLOTS:
    void setShow(diffseg::widgets::VolumeStepBrowser::Show show);
    void setPreviewInViews(bool on);
    void setSurfaceIn3d(bool on);

Q_SIGNALS:
    /// The shown step or what it shows changed: the views should display it.
    void frameChanged(int step, diffseg::widgets::VolumeStepBrowser::Show show);
    /// The user turned the step preview in the slice views on or off.
    void previewToggled(bool on);
    /// The user wants the 3D surface to show the step's labels (or the edited labels again).
    void surfaceIn3dToggled(bool on);
    /// "Use this step": the step's labels should become the segmentation (one undo step).
    void acceptStepRequested(int step);

protected:
    void showFrame(int step) override;
    void acceptStep(int step) override;

private:
    QComboBox* m_showBox = nullptr;
    QCheckBox* m_preview = nullptr;
    QCheckBox* m_surface = nullptr;
};

} // namespace diffseg::widgets
