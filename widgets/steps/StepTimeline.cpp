#include "StepTimeline.h"

#include "Filmstrip.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace diffseg::widgets {

StepTimeline::StepTimeline(const Look& look, QWidget* parent)
    : QWidget(parent)
    , m_look(look)
{
    setFocusPolicy(Qt::StrongFocus);
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setObjectName(childName("stepSlider"));
    m_slider->setToolTip(look.sliderToolTip);
    m_readout = new QLabel(this);
    m_readout->setObjectName(childName("stepReadout"));
    m_readout->setMinimumWidth(look.readoutWidth);
    m_play = new QToolButton(this);
    m_play->setObjectName(childName("playButton"));
    m_play->setCheckable(true);
    m_play->setText(tr("Play"));
    m_play->setToolTip(tr("Play the steps in order (Space in the step browser)"));
    m_followButton = new QToolButton(this);
    m_followButton->setObjectName(childName("followButton"));
    m_followButton->setCheckable(true);
    m_followButton->setChecked(true);
    m_followButton->setText(tr("Follow"));
    m_followButton->setToolTip(look.followToolTip);
    m_accept = new QPushButton(tr("Use this step"), this);
    m_filmstrip = new Filmstrip(this);
    m_filmstrip->setObjectName(childName("filmstrip"));
    m_timer = new QTimer(this);
    m_timer->setInterval(look.playIntervalMs);

    auto* row = new QHBoxLayout;
    row->addWidget(m_play);
    row->addWidget(m_followButton);
    row->addWidget(m_slider, 1);
    row->addWidget(m_readout);
    m_options = new QHBoxLayout;
    m_options->addStretch(1);
    m_options->addWidget(m_accept);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(row);
    layout->addWidget(m_filmstrip);
    layout->addLayout(m_options);

    // Moving the slider or clicking a thumbnail means "look at this one": stop following.
    connect(m_slider, &QSlider::valueChanged, this, [this](int index) {
        if (index >= 0 && index < static_cast<int>(m_available.size())) {
            setFollowing(false);
            setCurrentStep(m_available[static_cast<std::size_t>(index)]);
        }
    });
    connect(m_filmstrip, &Filmstrip::stepClicked, this, [this](int step) {
        setFollowing(false);
        setCurrentStep(step);
    });
    connect(m_accept, &QPushButton::clicked, this, [this] {
        if (m_current >= 0) {
            acceptStep(m_current);
        }
    });
    connect(m_play, &QToolButton::toggled, this, &StepTimeline::setPlaying);
    connect(m_followButton, &QToolButton::toggled, this, &StepTimeline::setFollowing);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (m_available.empty() || m_current == m_available.back()) {
            setPlaying(false);
            return;
        }
        nextStep();
    });
    m_filmstrip->setThumbnailSource([this](int step, const QSize& size) {
        return m_thumbnails ? m_thumbnails(step, size) : QImage();
    });
}

StepTimeline::~StepTimeline() = default;

QString StepTimeline::childName(const char* name) const
{
    QString result = QString::fromLatin1(name);
    if (!m_look.objectPrefix.isEmpty()) {
        result[0] = result[0].toUpper();
        result.prepend(m_look.objectPrefix);
    }
    return result;
}

void StepTimeline::resetTimeline(int totalSteps)
{
    setPlaying(false);
    m_total = std::max(0, totalSteps);
    m_available.clear();
    m_labels.clear();
    m_current = -1;
    m_filmstrip->setSteps({});
    m_filmstrip->invalidate();
    updateControls();
}

void StepTimeline::addOption(QWidget* widget)
{
    m_options->insertWidget(m_options->count() - 2, widget);
}

void StepTimeline::appendStep(int step)
{
    if (!m_available.empty() && step <= m_available.back()) {
        return;
    }
    m_available.push_back(step);
    m_filmstrip->setSteps(m_available);
    if (m_follow || m_current < 0) {
        setCurrentStep(step);
    } else {
        updateControls();
    }
}

void StepTimeline::setAvailableSteps(const std::vector<int>& steps)
{
    m_available = steps;
    std::sort(m_available.begin(), m_available.end());
    m_available.erase(std::unique(m_available.begin(), m_available.end()), m_available.end());
    m_filmstrip->setSteps(m_available);
    m_filmstrip->invalidate();
    if (m_current >= 0) {
        setCurrentStep(nearestAvailable(m_current));
    } else {
        updateControls();
    }
}

void StepTimeline::setStepLabels(const std::vector<QString>& labels)
{
    m_labels = labels;
    updateControls();
}

bool StepTimeline::isPlaying() const
{
    return m_timer->isActive();
}

int StepTimeline::nearestAvailable(int step) const
{
    if (m_available.empty()) {
        return -1;
    }
    auto it = std::lower_bound(m_available.begin(), m_available.end(), step);
    if (it == m_available.end()) {
        return m_available.back();
    }
    if (it != m_available.begin() && step - *(it - 1) < *it - step) {
        --it;
    }
    return *it;
}

void StepTimeline::setCurrentStep(int step)
{
    const int chosen = nearestAvailable(step);
    if (chosen < 0 || chosen == m_current) {
        updateControls();
        return;
    }
    m_current = chosen;
    updateControls();
    showFrame(m_current);
}

void StepTimeline::nextStep()
{
    auto it = std::upper_bound(m_available.begin(), m_available.end(), m_current);
    if (it != m_available.end()) {
        setCurrentStep(*it);
    }
}

void StepTimeline::previousStep()
{
    auto it = std::lower_bound(m_available.begin(), m_available.end(), m_current);
    if (it != m_available.begin() && !m_available.empty()) {
        setCurrentStep(*(it - 1));
    }
}

void StepTimeline::firstStep()
{
    if (!m_available.empty()) {
        setCurrentStep(m_available.front());
    }
}

void StepTimeline::lastStep()
{
    if (!m_available.empty()) {
        setCurrentStep(m_available.back());
    }
}

void StepTimeline::setPlaying(bool playing)
{
    if (playing && m_available.size() > 1) {
        setFollowing(false);
        if (m_current == m_available.back()) {
            firstStep();
        }
        m_timer->start();
    } else {
        m_timer->stop();
    }
    const QSignalBlocker block(m_play);
    m_play->setChecked(m_timer->isActive());
    m_play->setText(m_timer->isActive() ? tr("Pause") : tr("Play"));
}

void StepTimeline::setFollowing(bool follow)
{
    m_follow = follow;
    const QSignalBlocker block(m_followButton);
    m_followButton->setChecked(follow);
    if (follow && !m_available.empty()) {
        setCurrentStep(m_available.back());
    }
}

void StepTimeline::refreshThumbnails()
{
    m_filmstrip->invalidate();
}

void StepTimeline::setThumbnailSource(std::function<QImage(int, const QSize&)> source)
{
    m_thumbnails = std::move(source);
    refreshThumbnails();
}

void StepTimeline::showCurrentFrame()
{
    if (m_current >= 0) {
        showFrame(m_current);
    }
}

void StepTimeline::refreshFrame()
{
    refreshThumbnails();
    showCurrentFrame();
}

void StepTimeline::updateControls()
{
    const QSignalBlocker block(m_slider);
    const int n = static_cast<int>(m_available.size());
    m_slider->setRange(0, std::max(0, n - 1));
    const auto it = std::find(m_available.begin(), m_available.end(), m_current);
    m_slider->setValue(it == m_available.end() ? 0 : static_cast<int>(it - m_available.begin()));
    m_slider->setEnabled(n > 1);
    m_accept->setEnabled(m_current >= 0);
    m_play->setEnabled(n > 1);
    m_filmstrip->setCurrentStep(m_current);
    if (m_current < 0) {
        m_readout->setText(m_total > 0 ? tr("waiting for step 1 of %1").arg(m_total)
                                       : m_look.idleText);
        return;
    }
    QString text = tr("step %1 of %2").arg(m_current + 1).arg(m_total);
    if (m_current < static_cast<int>(m_labels.size())) {
        text +=
            QStringLiteral(" (") + m_labels[static_cast<std::size_t>(m_current)] + QLatin1Char(')');
    }
    m_readout->setText(text);
}

void StepTimeline::keyPressEvent(QKeyEvent* e)
{
    switch (e->key()) {
    case Qt::Key_Left:
        setFollowing(false);
        previousStep();
        break;
    case Qt::Key_Right:
        setFollowing(false);
        nextStep();
        break;
    case Qt::Key_Home:
        setFollowing(false);
        firstStep();
        break;
    case Qt::Key_End:
        lastStep();
        break;
    case Qt::Key_PageUp:
    case Qt::Key_PageDown: {
        setFollowing(false);
        const int jump = std::max(1, static_cast<int>(m_available.size()) / 10);
        const auto it = std::find(m_available.begin(), m_available.end(), m_current);
        int idx = static_cast<int>(it - m_available.begin());
        idx += e->key() == Qt::Key_PageDown ? jump : -jump;
        idx = std::clamp(idx, 0, std::max(0, static_cast<int>(m_available.size()) - 1));
        if (!m_available.empty()) {
            setCurrentStep(m_available[static_cast<std::size_t>(idx)]);
        }
        break;
    }
    case Qt::Key_Space:
        setPlaying(!isPlaying());
        break;
    default:
        QWidget::keyPressEvent(e);
        return;
    }
    e->accept();
}

} // namespace diffseg::widgets
