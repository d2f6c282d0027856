#include "StepBrowser.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPushButton>

#include <algorithm>

namespace diffseg::widgets {

StepBrowser::Setup StepBrowser::Setup::photos()
{
    Setup s;
    // Object prefix, slider and Follow tool tips, idle read-out, play interval (ms), read-out
    // width.
    s.look = {QString(),
              StepTimeline::tr("Reverse-diffusion step (Left/Right, Home/End, PgUp/PgDn)"),
              StepTimeline::tr("Jump to each new step while the model samples"),
              StepTimeline::tr("no run"),
              80,
              150};
    s.views = {{StepView::Estimate, StepBrowser::tr("x0 estimate")},
               {StepView::Noisy, StepBrowser::tr("x_t (noisy sample)")},
               {StepView::Mask, StepBrowser::tr("Mask (x0 > 0)")}};
    s.viewsToolTip = StepBrowser::tr("x0 estimate: what the model predicts at this step; x_t: the "
                                     "noisy sample itself; Mask: the estimate thresholded at 0");
    s.viewsName = QStringLiteral("modeBox");
    s.members = true;
    s.acceptName = QStringLiteral("acceptStepButton");
    s.acceptToolTip = StepBrowser::tr("Take this step's mask as the result (one undo step); early "
                                      "steps are often already good enough");
    return s;
}

StepBrowser::Setup StepBrowser::Setup::volumes()
{
    Setup s;
    // A volume step repaints three slices and maybe a surface: a slower pace (250 ms) reads better.
    s.look = {QStringLiteral("volume"),
              StepTimeline::tr(
                  "Denoiser step (Left/Right, Home/End, PgUp/PgDn when the browser has the focus)"),
              StepTimeline::tr("Jump to each new step while the model runs"),
              StepTimeline::tr("no run yet"),
              250,
              170};
    s.views = {{StepView::Labels, StepBrowser::tr("Label map (outline)")},
               {StepView::Probability, StepBrowser::tr("Foreground probability")}};
    s.viewsToolTip =
        StepBrowser::tr("Label map: the step's prediction outlined in magenta over the "
                        "segmentation; Foreground probability: the step's probability as the "
                        "heat map");
    s.viewsName = QStringLiteral("volumeStepShow");
    s.viewToggles = true;
    s.acceptName = QStringLiteral("volumeAcceptStep");
    s.acceptToolTip =
        StepBrowser::tr("Make this step's label map the segmentation (one undo step; Shift+A)");
    return s;
}

StepBrowser::StepBrowser(const Setup& setup, QWidget* parent)
    : StepTimeline(setup.look, parent)
{
    m_viewBox = new QComboBox(this);
    m_viewBox->setObjectName(setup.viewsName);
    for (const auto& [view, text] : setup.views) {
        m_viewBox->addItem(text, int(view));
    }
    m_viewBox->setToolTip(setup.viewsToolTip);
    addOption(new QLabel(tr("Show:"), this));
    addOption(m_viewBox);
    connect(m_viewBox, qOverload<int>(&QComboBox::activated), this, &StepBrowser::refreshFrame);
    if (setup.members) {
        m_memberBox = new QComboBox(this);
        m_memberBox->setObjectName(QStringLiteral("memberBox"));
        m_memberBox->setToolTip(tr("Which ensemble member to show, or the mean of all"));
        addOption(new QLabel(tr("Member:"), this));
        addOption(m_memberBox);
        connect(m_memberBox, qOverload<int>(&QComboBox::activated), this,
                &StepBrowser::refreshFrame);
    }
    if (setup.viewToggles) {
        m_preview = new QCheckBox(tr("Preview in slices"), this);
        m_preview->setObjectName(QStringLiteral("volumeStepPreview"));
        m_preview->setChecked(true);
        m_preview->setToolTip(tr("Show the chosen step in the slice views (P)"));
        m_surface = new QCheckBox(tr("Step surface in 3D"), this);
        m_surface->setObjectName(QStringLiteral("volumeStepSurface"));
        m_surface->setToolTip(tr("The 3D view's surface shows the step's labels instead of the "
                                 "segmentation being edited"));
        addOption(m_preview);
        addOption(m_surface);
        connect(m_preview, &QCheckBox::toggled, this, [this](bool on) {
            Q_EMIT previewToggled(on);
            if (on) {
                showCurrentFrame();
            }
        });
        connect(m_surface, &QCheckBox::toggled, this, &StepBrowser::surfaceIn3dToggled);
    }
    acceptButton()->setObjectName(setup.acceptName);
    acceptButton()->setToolTip(setup.acceptToolTip);
    reset(0, 1);
}

StepBrowser::~StepBrowser() = default;

void StepBrowser::reset(int totalSteps, int members)
{
    m_members = std::max(1, members);
    if (m_memberBox != nullptr) {
        m_memberBox->clear();
        m_memberBox->addItem(tr("Mean of %1").arg(m_members), -1);
        for (int k = 0; k < m_members; ++k) {
            m_memberBox->addItem(tr("Member %1").arg(k + 1), k);
        }
    }
    resetTimeline(totalSteps);
}

void StepBrowser::setFrameProvider(FrameProvider provider)
{
    if (!provider) {
        setThumbnailSource({});
        return;
    }
    setThumbnailSource([this, provider = std::move(provider)](int step, const QSize& size) {
        return provider(step, member(), view(), size);
    });
}

int StepBrowser::member() const
{
    return m_memberBox != nullptr ? m_memberBox->currentData().toInt() : -1;
}

StepView StepBrowser::view() const
{
    return static_cast<StepView>(m_viewBox->currentData().toInt());
}

bool StepBrowser::previewInViews() const
{
    return m_preview != nullptr && m_preview->isChecked();
}

bool StepBrowser::surfaceIn3d() const
{
    return m_surface != nullptr && m_surface->isChecked();
}

void StepBrowser::setView(StepView view)
{
    const int index = m_viewBox->findData(int(view));
    if (index >= 0 && index != m_viewBox->currentIndex()) {
        m_viewBox->setCurrentIndex(index);
        refreshFrame();
    }
}

void StepBrowser::setPreviewInViews(bool on)
{
    if (m_preview != nullptr) {
        m_preview->setChecked(on);
    }
}

void StepBrowser::setSurfaceIn3d(bool on)
{
    if (m_surface != nullptr) {
        m_surface->setChecked(on);
    }
}

void StepBrowser::showFrame(int step)
{
    Q_EMIT frameChanged(step, member(), view());
}

void StepBrowser::acceptStep(int step)
{
    Q_EMIT acceptStepRequested(step, member());
}

} // namespace diffseg::widgets
