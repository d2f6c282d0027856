#include "StepBrowser.h"

#include <QComboBox>
#include <QLabel>
#include <QPushButton>

#include <algorithm>

namespace diffseg::widgets {

namespace {

StepTimeline::Look look2d()
{
    // Object prefix, slider and Follow tool tips, idle read-out, play interval (ms), read-out
    // width.
    return {QString(),
            StepTimeline::tr("Reverse-diffusion step (Left/Right, Home/End, PgUp/PgDn)"),
            StepTimeline::tr("Jump to each new step while the model samples"),
            StepTimeline::tr("no run"),
            80,
            150};
}

} // namespace

StepBrowser::StepBrowser(QWidget* parent)
    : StepTimeline(look2d(), parent)
{
    m_memberBox = new QComboBox(this);
    m_memberBox->setObjectName(QStringLiteral("memberBox"));
    m_memberBox->setToolTip(tr("Which ensemble member to show, or the mean of all"));
    m_modeBox = new QComboBox(this);
    m_modeBox->setObjectName(QStringLiteral("modeBox"));
    m_modeBox->addItem(tr("x0 estimate"), int(Mode::Estimate));
    m_modeBox->addItem(tr("x_t (noisy sample)"), int(Mode::Noisy));
    m_modeBox->addItem(tr("Mask (x0 > 0)"), int(Mode::Mask));
    m_modeBox->setToolTip(tr("x0 estimate: what the model predicts at this step; x_t: the noisy "
                             "sample itself; Mask: the estimate thresholded at 0"));
    addOption(new QLabel(tr("Show:"), this));
    addOption(m_modeBox);
    addOption(new QLabel(tr("Member:"), this));
    addOption(m_memberBox);
    acceptButton()->setObjectName(QStringLiteral("acceptStepButton"));
    acceptButton()->setToolTip(tr("Take this step's mask as the result (one undo step); early "
                                  "steps are often already good enough"));

    connect(m_memberBox, qOverload<int>(&QComboBox::activated), this, &StepBrowser::refreshFrame);
    connect(m_modeBox, qOverload<int>(&QComboBox::activated), this, &StepBrowser::refreshFrame);
    reset(0, 1);
}

StepBrowser::~StepBrowser() = default;

void StepBrowser::reset(int totalSteps, int members)
{
    m_members = std::max(1, members);
    m_memberBox->clear();
    m_memberBox->addItem(tr("Mean of %1").arg(m_members), -1);
    for (int k = 0; k < m_members; ++k) {
        m_memberBox->addItem(tr("Member %1").arg(k + 1), k);
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
        return provider(step, member(), mode(), size);
    });
}

int StepBrowser::member() const
{
    return m_memberBox->currentData().toInt();
}

StepBrowser::Mode StepBrowser::mode() const
{
    return static_cast<Mode>(m_modeBox->currentData().toInt());
}

void StepBrowser::showFrame(int step)
{
    Q_EMIT frameChanged(step, member(), mode());
}

void StepBrowser::acceptStep(int step)
{
    Q_EMIT acceptStepRequested(step, member());
}

} // namespace diffseg::widgets
