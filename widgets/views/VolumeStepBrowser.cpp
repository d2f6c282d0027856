#include "VolumeStepBrowser.h"

#include "Filmstrip.h"

#include <QCheckBox>
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

VolumeStepBrowser::VolumeStepBrowser(QWidget* parent)
    : QWidget(parent)
{
    setFocusPolicy(Qt::StrongFocus);
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setObjectName(QStringLiteral("volumeStepSlider"));
    m_slider->setToolTip(tr("Denoiser step (Left/Right, Home/End when the browser has the focus)"));
    m_readout = new QLabel(this);
    m_readout->setObjectName(QStringLiteral("volumeStepReadout"));
    m_readout->setMinimumWidth(170);
    m_play = new QToolButton(this);
    m_play->setObjectName(QStringLiteral("volumePlayButton"));
    m_play->setCheckable(true);
    m_play->setText(tr("Play"));
    m_play->setToolTip(tr("Play the steps in order (Space in the step browser)"));
    m_followButton = new QToolButton(this);
    m_followButton->setObjectName(QStringLiteral("volumeFollowButton"));
    m_followButton->setCheckable(true);
    m_followButton->setChecked(true);
    m_followButton->setText(tr("Follow"));
    m_followButton->setToolTip(tr("Jump to each new step while the model runs"));
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
    m_accept = new QPushButton(tr("Use this step"), this);
    m_accept->setObjectName(QStringLiteral("volumeAcceptStep"));
    m_accept->setToolTip(tr("Make this step's label map the segmentation (one undo step; "
                            "Shift+A)"));
    m_filmstrip = new Filmstrip(this);
    m_filmstrip->setObjectName(QStringLiteral("volumeFilmstrip"));
    m_timer = new QTimer(this);
    m_timer->setInterval(250);

    auto* row = new QHBoxLayout;
    row->addWidget(m_play);
    row->addWidget(m_followButton);
    row->addWidget(m_slider, 1);
    row->addWidget(m_readout);
    auto* options = new QHBoxLayout;
    options->addWidget(new QLabel(tr("Show:"), this));
    options->addWidget(m_showBox);
    options->addWidget(m_preview);
    options->addWidget(m_surface);
    options->addStretch(1);
    options->addWidget(m_accept);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(row);
    layout->addWidget(m_filmstrip);
    layout->addLayout(options);

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
    connect(m_play, &QToolButton::toggled, this, &VolumeStepBrowser::setPlaying);
    connect(m_followButton, &QToolButton::toggled, this, &VolumeStepBrowser::setFollowing);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (m_available.empty() || m_current == m_available.back()) {
            setPlaying(false);
            return;
        }
        nextStep();
    });
    connect(m_showBox, qOverload<int>(&QComboBox::activated), this, [this] {
        m_filmstrip->invalidate();
        emitFrame();
    });
    connect(m_preview, &QCheckBox::toggled, this, [this](bool on) {
        Q_EMIT previewToggled(on);
        if (on) {
            emitFrame();
        }
    });
    connect(m_surface, &QCheckBox::toggled, this, &VolumeStepBrowser::surfaceIn3dToggled);
    connect(m_accept, &QPushButton::clicked, this, [this] {
        if (m_current >= 0) {
            Q_EMIT acceptStepRequested(m_current);
        }
    });
    m_filmstrip->setThumbnailSource([this](int step, const QSize& size) {
        return m_provider ? m_provider(step, show(), size) : QImage();
    });
    reset(0);
}

VolumeStepBrowser::~VolumeStepBrowser() = default;

void VolumeStepBrowser::reset(int totalSteps)
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

void VolumeStepBrowser::appendStep(int step)
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

void VolumeStepBrowser::setAvailableSteps(const std::vector<int>& steps)
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

void VolumeStepBrowser::setThumbnailProvider(ThumbnailProvider provider)
{
    m_provider = std::move(provider);
    m_filmstrip->invalidate();
}

void VolumeStepBrowser::setStepLabels(const std::vector<QString>& labels)
{
    m_labels = labels;
    updateControls();
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

bool VolumeStepBrowser::isPlaying() const
{
    return m_timer->isActive();
}

int VolumeStepBrowser::nearestAvailable(int step) const
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

void VolumeStepBrowser::emitFrame()
{
    if (m_current >= 0) {
        Q_EMIT frameChanged(m_current, show());
    }
}

void VolumeStepBrowser::setCurrentStep(int step)
{
    const int chosen = nearestAvailable(step);
    if (chosen < 0 || chosen == m_current) {
        updateControls();
        return;
    }
    m_current = chosen;
    updateControls();
    emitFrame();
}

void VolumeStepBrowser::nextStep()
{
    auto it = std::upper_bound(m_available.begin(), m_available.end(), m_current);
    if (it != m_available.end()) {
        setCurrentStep(*it);
    }
}

void VolumeStepBrowser::previousStep()
{
    auto it = std::lower_bound(m_available.begin(), m_available.end(), m_current);
    if (it != m_available.begin() && !m_available.empty()) {
        setCurrentStep(*(it - 1));
    }
}

void VolumeStepBrowser::firstStep()
{
    if (!m_available.empty()) {
        setCurrentStep(m_available.front());
    }
}

void VolumeStepBrowser::lastStep()
{
    if (!m_available.empty()) {
        setCurrentStep(m_available.back());
    }
}

void VolumeStepBrowser::setPlaying(bool playing)
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

void VolumeStepBrowser::setFollowing(bool follow)
{
    m_follow = follow;
    const QSignalBlocker block(m_followButton);
    m_followButton->setChecked(follow);
    if (follow && !m_available.empty()) {
        setCurrentStep(m_available.back());
    }
}

void VolumeStepBrowser::setShow(Show show)
{
    const int index = m_showBox->findData(int(show));
    if (index != m_showBox->currentIndex()) {
        m_showBox->setCurrentIndex(index);
        m_filmstrip->invalidate();
        emitFrame();
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

void VolumeStepBrowser::refreshThumbnails()
{
    m_filmstrip->invalidate();
}

void VolumeStepBrowser::updateControls()
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
                                       : tr("no run yet"));
        return;
    }
    QString text = tr("step %1 of %2").arg(m_current + 1).arg(m_total);
    if (m_current < static_cast<int>(m_labels.size())) {
        text +=
            QStringLiteral(" (") + m_labels[static_cast<std::size_t>(m_current)] + QLatin1Char(')');
    }
    m_readout->setText(text);
}

void VolumeStepBrowser::keyPressEvent(QKeyEvent* e)
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
