#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include <functional>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QTimer;
class QToolButton;

namespace diffseg::widgets {

class Filmstrip;

/// Browses the denoiser steps of a volume segmentation (Diff-UNet samples S steps per window; each
/// step's prediction over the whole volume becomes available when the last window has run it),
/// during and after the run: a slider, a filmstrip of thumbnails (the axial slice through the
/// crosshair), Play/Pause, Follow, and step keys (Left/Right, Home/End, Space when it has the
/// focus).
///
/// What a step shows is chosen here: its label map (drawn as an outline in the slice views) or its
/// foreground probability (the heat map); whether the slice views preview it at all, and whether
/// the 3D view's surface shows the step's labels instead of the edited ones. "Use this step" asks
/// for the step's labels as the segmentation. The browser only knows which steps exist; images
/// come from a ThumbnailProvider and volumes from the owner (the step cache), so a switch costs a
/// lookup and a repaint. GUI thread only.
class VolumeStepBrowser : public QWidget
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
    /// Marks `step` as available (its whole-volume prediction is complete).
    void appendStep(int step);
    void setAvailableSteps(const std::vector<int>& steps);
    void setThumbnailProvider(ThumbnailProvider provider);
    /// A label per step for the read-out (e.g. the diffusion time).
    void setStepLabels(const std::vector<QString>& labels);

    int currentStep() const { return m_current; }
    int totalSteps() const { return m_total; }
    const std::vector<int>& availableSteps() const { return m_available; }
    Show show() const;
    bool previewInViews() const;
    bool surfaceIn3d() const;
    bool isPlaying() const;
    bool following() const { return m_follow; }

public Q_SLOTS:
    void setCurrentStep(int step);
    void nextStep();
    void previousStep();
    void firstStep();
    void lastStep();
    void setPlaying(bool playing);
    void setFollowing(bool follow);
    void setShow(diffseg::widgets::VolumeStepBrowser::Show show);
    void setPreviewInViews(bool on);
    void setSurfaceIn3d(bool on);
    void refreshThumbnails();

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
    void keyPressEvent(QKeyEvent* e) override;

private:
    void updateControls();
    int nearestAvailable(int step) const;
    void emitFrame();

    ThumbnailProvider m_provider;
    std::vector<int> m_available;
    std::vector<QString> m_labels;
    int m_total = 0;
    int m_current = -1;
    bool m_follow = true;

    QSlider* m_slider = nullptr;
    QLabel* m_readout = nullptr;
    QToolButton* m_play = nullptr;
    QToolButton* m_followButton = nullptr;
    QComboBox* m_showBox = nullptr;
    QCheckBox* m_preview = nullptr;
    QCheckBox* m_surface = nullptr;
    QPushButton* m_accept = nullptr;
    Filmstrip* m_filmstrip = nullptr;
    QTimer* m_timer = nullptr;
};

} // namespace diffseg::widgets
