#pragma once

#include "base/Volume.h"
#include "render/VolumeScene.h"

#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;

namespace diffseg::widgets {

class VtkRenderWidget;

/// The 3D view: volume rendering of a core::Volume with transfer-function presets (CT soft
/// tissue, bone, lung; MRI over the volume's own range), the label map as surfaces and a heat map
/// (uncertainty) as a colour volume or painted on the surfaces; rotated with the left mouse
/// button, zoomed with the wheel or right drag, panned with the middle button (VTK
/// trackball-camera conventions); 'Reset view' returns to the anterior view.
/// Owns its VolumeScene and bridge widget. GUI thread only.
class VolumeView3D : public QWidget
{
    Q_OBJECT

public:
    explicit VolumeView3D(QWidget* parent = nullptr);
    ~VolumeView3D() override;

    /// Shows channel `channel` of `volume`; `isCt` picks a Hounsfield preset, else Auto.
    void setVolume(const core::Volume& volume, bool isCt, int channel = 0);
    VtkRenderWidget* renderWidget() const { return m_view; }
    VolumeScene& scene() { return *m_scene; }
    /// Shows the heat map of scene().setOverlay() as `mode` (and sets the chooser).
    void setOverlayMode(VolumeScene::OverlayMode mode);
    /// Enables the overlay chooser once the scene has a heat map.
    void setOverlayAvailable(bool available);

public Q_SLOTS:
    void resetView();

private:
    void onPresetChosen(int index);
    void onGlInitialized();

    std::unique_ptr<VolumeScene> m_scene;
    VtkRenderWidget* m_view = nullptr;
    QComboBox* m_presets = nullptr;
    QComboBox* m_overlayMode = nullptr;
    QLabel* m_message = nullptr;
};

} // namespace diffseg::widgets
