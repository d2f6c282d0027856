#include "VolumeStepBrowser.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPushButton>

namespace diffseg::widgets {

namespace {

StepTimeline::Look look3d()
{
    StepTimeline::Look look;
    look.objectPrefix = QStringLiteral("volume");
    look.sliderToolTip = StepTimeline::tr(
        "Denoiser step (Left/Right, Home/End, PgUp/PgDn when the browser has the focus)");
    look.followToolTip = StepTimeline::tr("Jump to each new step while the model runs");
    look.idleText = StepTimeline::tr("no run yet");
    // A volume step repaints three slices and maybe a surface: a slower pace reads better.
    look.playIntervalMs = 250;
    look.readoutWidth = 170;
    return look;
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

    connect(m_showBox, qOverload<int>(&QComboBox::activated), this, [this] {
        refreshThumbnails();
        showFrame();
    });
    connect(m_preview, &QCheckBox::toggled, this, [this](bool on) {
        Q_EMIT previewToggled(on);
        if (on) {
            showFrame();
        }
    });
    connect(m_surface, &QCheckBox::toggled, this, &VolumeStepBrowser::surfaceIn3dToggled);
    connect(acceptButton(), &QPushButton::clicked, this, [this] {
        if (currentStep() >= 0) {
            Q_EMIT acceptStepRequested(currentStep());
        }
    });
    reset(0);
}

VolumeStepBrowser::~VolumeStepBrowser() = default;

void VolumeStepBrowser::reset(int totalSteps)
{
    resetTimeline(totalSteps);
}

void VolumeStepBrowser::setThumbnailProvider(ThumbnailProvider provider)
{
    m_provider = std::move(provider);
    refreshThumbnails();
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
        refreshThumbnails();
        showFrame();
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

QImage VolumeStepBrowser::thumbnail(int step, const QSize& size) const
{
    return m_provider ? m_provider(step, show(), size) : QImage();
}

void VolumeStepBrowser::showFrame()
{
    if (currentStep() >= 0) {
        Q_EMIT frameChanged(currentStep(), show());
    }
}

} // namespace diffseg::widgets
