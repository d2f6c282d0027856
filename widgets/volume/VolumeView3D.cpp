#include "VolumeView3D.h"

#include "vtkqt/VtkRenderWidget.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

#include <vtkRenderWindow.h>
#include <vtkRenderer.h>

namespace diffseg::widgets {

VolumeView3D::VolumeView3D(QWidget* parent)
    : QWidget(parent)
    , m_scene(std::make_unique<VolumeScene>())
{
    m_view = new VtkRenderWidget(this);
    m_view->setToolTip(tr("Left drag: rotate, wheel or right drag: zoom, middle drag: pan, "
                          "R: reset the camera"));
    m_view->renderWindow()->AddRenderer(m_scene->renderer());

    m_presets = new QComboBox(this);
    m_presets->addItem(tr("CT soft tissue"), int(VolumeScene::Preset::CtSoftTissue));
    m_presets->addItem(tr("CT bone"), int(VolumeScene::Preset::CtBone));
    m_presets->addItem(tr("CT lung"), int(VolumeScene::Preset::CtLung));
    m_presets->addItem(tr("MRI / auto range"), int(VolumeScene::Preset::Auto));
    m_presets->setCurrentIndex(3);
    m_presets->setObjectName(QStringLiteral("renderPreset"));
    m_presets->setToolTip(tr("Transfer function: which intensities are shown, in which colour"));
    connect(m_presets, qOverload<int>(&QComboBox::activated), this, &VolumeView3D::onPresetChosen);

    m_overlayMode = new QComboBox(this);
    m_overlayMode->setObjectName(QStringLiteral("overlay3dMode"));
    m_overlayMode->addItem(tr("No heat map"), int(VolumeScene::OverlayMode::Hidden));
    m_overlayMode->addItem(tr("Heat map as volume"), int(VolumeScene::OverlayMode::ColourVolume));
    m_overlayMode->addItem(tr("Heat map on surface"), int(VolumeScene::OverlayMode::Surface));
    m_overlayMode->setToolTip(tr("The chosen heat map (uncertainty, probability) in 3D: as a "
                                 "colour volume, or painted on the label surfaces"));
    m_overlayMode->setEnabled(false);
    connect(m_overlayMode, qOverload<int>(&QComboBox::activated), this, [this](int index) {
        m_scene->setOverlayMode(
            static_cast<VolumeScene::OverlayMode>(m_overlayMode->itemData(index).toInt()));
        m_view->requestRender();
    });

    auto* reset = new QToolButton(this);
    reset->setText(tr("Reset view"));
    reset->setToolTip(tr("Back to the anterior view of the whole volume"));
    connect(reset, &QToolButton::clicked, this, &VolumeView3D::resetView);

    auto* showVolume = new QCheckBox(tr("Volume"), this);
    showVolume->setObjectName(QStringLiteral("showVolume"));
    showVolume->setChecked(true);
    showVolume->setToolTip(tr("Show the volume rendering"));
    auto* showLabels = new QCheckBox(tr("Labels"), this);
    showLabels->setObjectName(QStringLiteral("showLabels"));
    showLabels->setChecked(true);
    showLabels->setToolTip(
        tr("Show the label map as surfaces (hide the volume to see them inside)"));
    connect(showVolume, &QCheckBox::toggled, this, [this](bool on) {
        m_scene->setVolumeVisible(on);
        m_view->requestRender();
    });
    connect(showLabels, &QCheckBox::toggled, this, [this](bool on) {
        m_scene->setLabelsVisible(on);
        m_view->requestRender();
    });

    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->hide();

    // The 3D view shares a 2 x 2 grid with the slices: its bar must not make its column wider
    // than theirs, so the choosers shrink to a few characters (their lists stay readable).
    for (QComboBox* box : {m_presets, m_overlayMode}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(8);
    }
    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(4, 2, 4, 2);
    bar->addWidget(new QLabel(tr("Preset:"), this));
    bar->addWidget(m_presets, 1);
    bar->addWidget(m_overlayMode, 1);
    bar->addWidget(showVolume);
    bar->addWidget(showLabels);
    bar->addWidget(reset);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(bar);
    layout->addWidget(m_message);
    layout->addWidget(m_view, 1);

    connect(m_view, &VtkRenderWidget::glInitialized, this, &VolumeView3D::onGlInitialized);
    connect(m_view, &VtkRenderWidget::glFailed, this, [this](const QString& reason) {
        m_message->setText(reason);
        m_message->show();
    });
}

VolumeView3D::~VolumeView3D()
{
    // The scene's renderer must leave the window before either is destroyed.
    m_view->renderWindow()->RemoveRenderer(m_scene->renderer());
}

void VolumeView3D::setVolume(const core::Volume& volume, bool isCt, int channel)
{
    m_scene->setVolume(volume, channel);
    const auto preset = isCt ? VolumeScene::Preset::CtSoftTissue : VolumeScene::Preset::Auto;
    m_scene->setPreset(preset);
    m_presets->setCurrentIndex(m_presets->findData(int(preset)));
    m_view->requestRender();
}

void VolumeView3D::setOverlayMode(VolumeScene::OverlayMode mode)
{
    m_scene->setOverlayMode(mode);
    m_overlayMode->setCurrentIndex(m_overlayMode->findData(int(mode)));
    m_view->requestRender();
}

void VolumeView3D::setOverlayAvailable(bool available)
{
    m_overlayMode->setEnabled(available);
}

void VolumeView3D::resetView()
{
    m_scene->resetCamera();
    m_view->requestRender();
}

void VolumeView3D::onPresetChosen(int index)
{
    m_scene->setPreset(static_cast<VolumeScene::Preset>(m_presets->itemData(index).toInt()));
    m_view->requestRender();
}

void VolumeView3D::onGlInitialized()
{
    m_scene->setPreferCpuRayCast(m_view->isSoftwareRenderer());
    m_message->hide();
}

} // namespace diffseg::widgets
