#include "VolumeStepBrowser.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPushButton>

namespace diffseg::widgets {

namespace {

StepTimeline::Look look3d()
{
    // A volume step repaints three slices and maybe a surface: a slower pace (250 ms) reads better.
    return {QStringLiteral("volume"),
            StepTimeline::tr(
                "Denoiser step (Left/Right, Home/End, PgUp/PgDn when the browser has the focus)"),
            StepTimeline::tr("Jump to each new step while the model runs"),
            StepTimeline::tr("no run yet"),
            250,
            170};
}

} // namespace

VolumeStepBrowser::VolumeStepBrowser(QWidget* parent)
    : StepTimeline(look3d(), parent)
{
    m_showBox = new QComboBox(this);
    m_showBox->setObjectName(QStringLiteral("volumeStepShow"));
    m_showBox->addItem(tr("Label map (outline)"), int(Show::Labels));
    m_showBox->addItem(tr("Foreground probability"), int(Show::Probability));
    m_showBox->setToolTip(tr("Label map: the step's prediction outlined in magenta over the "
                             "segmentation; Foreground probability: the step's probability as "
                             "the heat map"));
    m_preview = new QCheckBox(tr("Preview in slices"), this);
    m_preview->setObjectName(QStringLiteral("volumeStepPreview"));
    m_preview->setChecked(true);
    m_preview->setToolTip(tr("Show the chosen step in the slice views (P)"));
    m_surface = new QCheckBox(tr("Step surface in 3D"), this);
    m_surface->setObjectName(QStringLiteral("volumeStepSurface"));
    m_surface->setToolTip(tr("The 3D view's surface shows the step's labels instead of the "
                             "segmentation being edited"));
    addOption(new QLabel(tr("Show:"), this));
    addOption(m_showBox);
    addOption(m_preview);
    addOption(m_surface);
    acceptButton()->setObjectName(QStringLiteral("volumeAcceptStep"));
    acceptButton()->setToolTip(tr("Make this step's label map the segmentation (one undo step; "
                                  "Shift+A)"));

    connect(m_showBox, qOverload<int>(&QComboBox::activated), this,
            &VolumeStepBrowser::refreshFrame);
    connect(m_preview, &QCheckBox::toggled, this, [this](bool on) {
        Q_EMIT previewToggled(on);
        if (on) {
            showCurrentFrame();
        }
    });
    connect(m_surface, &QCheckBox::toggled, this, &VolumeStepBrowser::surfaceIn3dToggled);
    reset(0);
}

VolumeStepBrowser::~VolumeStepBrowser() = default;

void VolumeStepBrowser::reset(int totalSteps)
{
    resetTimeline(totalSteps);
}

void VolumeStepBrowser::setThumbnailProvider(ThumbnailProvider provider)
{
    if (!provider) {
        setThumbnailSource({});
        return;
    }
    setThumbnailSource([this, provider = std::move(provider)](int step, const QSize& size) {
        return provider(step, show(), size);
    });
}

VolumeStepBrowser::Show VolumeStepBrowser::show() const
{
    return static_cast<Show>(m_showBox->currentData().toInt());
}

bool VolumeStepBrowser::previewInViews() const
{
    return m_preview->isChecked();
}

bool VolumeStepBrowser::surfaceIn3d() const
{
    return m_surface->isChecked();
}

void VolumeStepBrowser::setShow(Show show)
{
    const int index = m_showBox->findData(int(show));
    if (index != m_showBox->currentIndex()) {
        m_showBox->setCurrentIndex(index);
        refreshFrame();
    }
}

void VolumeStepBrowser::setPreviewInViews(bool on)
{
    m_preview->setChecked(on);
}

void VolumeStepBrowser::setSurfaceIn3d(bool on)
{
    m_surface->setChecked(on);
}

void VolumeStepBrowser::showFrame(int step)
{
    Q_EMIT frameChanged(step, show());
}

void VolumeStepBrowser::acceptStep(int step)
{
    Q_EMIT acceptStepRequested(step);
}

} // namespace diffseg::widgets
