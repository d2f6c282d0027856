#include "StepBrowser.h"

#include "Filmstrip.h"

#include <QComboBox>
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

StepBrowser::StepBrowser(QWidget* parent)
    : QWidget(parent)
{
    setFocusPolicy(Qt::StrongFocus);
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setToolTip(tr("Reverse-diffusion step (Left/Right, Home/End, PgUp/PgDn)"));
    m_readout = new QLabel(this);
    m_readout->setMinimumWidth(150);
    m_play = new QToolButton(this);
    m_play->setCheckable(true);
    m_play->setText(tr("Play"));
    m_play->setToolTip(tr("Play the steps in order (Space in the step browser)"));
    m_followButton = new QToolButton(this);
    m_followButton->setCheckable(true);
    m_followButton->setChecked(true);
    m_followButton->setText(tr("Follow"));
    m_followButton->setToolTip(tr("Jump to each new step while the model samples"));
    m_memberBox = new QComboBox(this);
    m_memberBox->setToolTip(tr("Which ensemble member to show, or the mean of all"));
    m_modeBox = new QComboBox(this);
    m_modeBox->addItem(tr("x0 estimate"), int(Mode::Estimate));
    m_modeBox->addItem(tr("x_t (noisy sample)"), int(Mode::Noisy));
    m_modeBox->addItem(tr("Mask (x0 > 0)"), int(Mode::Mask));
    m_modeBox->setToolTip(tr("x0 estimate: what the model predicts at this step; x_t: the noisy "
                             "sample itself; Mask: the estimate thresholded at 0"));
    m_accept = new QPushButton(tr("Use this step"), this);
    m_slider->setObjectName(QStringLiteral("stepSlider"));
    m_play->setObjectName(QStringLiteral("playButton"));
    m_followButton->setObjectName(QStringLiteral("followButton"));
    m_memberBox->setObjectName(QStringLiteral("memberBox"));
    m_modeBox->setObjectName(QStringLiteral("modeBox"));
    m_accept->setObjectName(QStringLiteral("acceptStepButton"));
    m_accept->setToolTip(tr("Take this step's mask as the result (one undo step); early steps "
                            "are often already good enough"));
    m_filmstrip = new Filmstrip(this);
    m_timer = new QTimer(this);
    m_timer->setInterval(80);

    auto* row = new QHBoxLayout;
    row->addWidget(m_play);
    row->addWidget(m_followButton);
    row->addWidget(m_slider, 1);
    row->addWidget(m_readout);
    auto* options = new QHBoxLayout;
    options->addWidget(new QLabel(tr("Show:"), this));
    options->addWidget(m_modeBox);
    options->addWidget(new QLabel(tr("Member:"), this));
    options->addWidget(m_memberBox);
    options->addStretch(1);
    options->addWidget(m_accept);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(row);
    layout->addWidget(m_filmstrip);
    layout->addLayout(options);

    connect(m_slider, &QSlider::valueChanged, this, [this](int index) {
        if (index >= 0 && index < static_cast<int>(m_available.size())) {
            setCurrentStep(m_available[static_cast<std::size_t>(index)]);
        }
    });
    connect(m_filmstrip, &Filmstrip::stepClicked, this, [this](int step) {
        setFollowing(false);
        setCurrentStep(step);
    });
    connect(m_play, &QToolButton::toggled, this, &StepBrowser::setPlaying);
    connect(m_followButton, &QToolButton::toggled, this, &StepBrowser::setFollowing);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (m_available.empty() || m_current == m_available.back()) {
            setPlaying(false);
            return;
        }
        nextStep();
    });
    auto emitFrame = [this] {
        m_filmstrip->invalidate();
        if (m_current >= 0) {
            Q_EMIT frameChanged(m_current, member(), mode());
        }
    };
    connect(m_memberBox, qOverload<int>(&QComboBox::activated), this, emitFrame);
    connect(m_modeBox, qOverload<int>(&QComboBox::activated), this, emitFrame);
    connect(m_accept, &QPushButton::clicked, this, [this] {
        if (m_current >= 0) {
            Q_EMIT acceptStepRequested(m_current, member());
        }
    });
    m_filmstrip->setThumbnailSource([this](int step, const QSize& size) {
        return m_provider ? m_provider(step, member(), mode(), size) : QImage();
    });
    reset(0, 1);
}

StepBrowser::~StepBrowser() = default;

void StepBrowser::reset(int totalSteps, int members)
{
    setPlaying(false);
    m_total = std::max(0, totalSteps);
    m_members = std::max(1, members);
    m_available.clear();
    m_labels.clear();
    m_current = -1;
    m_memberBox->clear();
    m_memberBox->addItem(tr("Mean of %1").arg(m_members), -1);
    for (int k = 0; k < m_members; ++k) {
        m_memberBox->addItem(tr("Member %1").arg(k + 1), k);
    }
    m_filmstrip->setSteps({});
    m_filmstrip->invalidate();
    updateControls();
}

void StepBrowser::appendStep(int step)
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

void StepBrowser::setAvailableSteps(const std::vector<int>& steps)
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

void StepBrowser::setFrameProvider(FrameProvider provider)
{
    m_provider = std::move(provider);
    m_filmstrip->invalidate();
}

void StepBrowser::setStepLabels(const std::vector<QString>& labels)
{
    m_labels = labels;
    updateControls();
}

int StepBrowser::member() const
{
    return m_memberBox->currentData().toInt();
}

StepBrowser::Mode StepBrowser::mode() const
{
    return static_cast<Mode>(m_modeBox->currentData().toInt());
}

bool StepBrowser::isPlaying() const
{
    return m_timer->isActive();
}

int StepBrowser::nearestAvailable(int step) const
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

void StepBrowser::setCurrentStep(int step)
{
    const int chosen = nearestAvailable(step);
    if (chosen < 0 || chosen == m_current) {
        updateControls();
        return;
    }
    m_current = chosen;
    updateControls();
    Q_EMIT frameChanged(m_current, member(), mode());
}

void StepBrowser::nextStep()
{
    auto it = std::upper_bound(m_available.begin(), m_available.end(), m_current);
    if (it != m_available.end()) {
        setCurrentStep(*it);
    }
}

void StepBrowser::previousStep()
{
    auto it = std::lower_bound(m_available.begin(), m_available.end(), m_current);
    if (it != m_available.begin() && !m_available.empty()) {
        setCurrentStep(*(it - 1));
    }
}

void StepBrowser::firstStep()
{
    if (!m_available.empty()) {
        setCurrentStep(m_available.front());
    }
}

void StepBrowser::lastStep()
{
    if (!m_available.empty()) {
        setCurrentStep(m_available.back());
    }
}

void StepBrowser::setPlaying(bool playing)
{
    if (playing && !m_available.empty()) {
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

void StepBrowser::setFollowing(bool follow)
{
    m_follow = follow;
    const QSignalBlocker block(m_followButton);
    m_followButton->setChecked(follow);
    if (follow && !m_available.empty()) {
        setCurrentStep(m_available.back());
    }
}

void StepBrowser::refreshThumbnails()
{
    m_filmstrip->invalidate();
}

void StepBrowser::updateControls()
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
                                       : tr("no run"));
        return;
    }
    QString text = tr("step %1 of %2").arg(m_current + 1).arg(m_total);
    if (m_current < static_cast<int>(m_labels.size())) {
        text +=
            QStringLiteral(" (") + m_labels[static_cast<std::size_t>(m_current)] + QLatin1Char(')');
    }
    m_readout->setText(text);
}

void StepBrowser::keyPressEvent(QKeyEvent* e)
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
