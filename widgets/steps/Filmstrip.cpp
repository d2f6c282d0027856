#include "Filmstrip.h"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>

namespace diffseg::widgets {

namespace {
constexpr int kMargin = 4;
} // namespace

Filmstrip::Filmstrip(QWidget* parent)
    : QWidget(parent)
{
    setMinimumHeight(60);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    setToolTip(tr("Reverse-diffusion steps, noisiest on the left; click one to show it"));
}

void Filmstrip::setThumbnailSource(std::function<QImage(int, const QSize&)> source)
{
    m_source = std::move(source);
    invalidate();
}

void Filmstrip::setSteps(const std::vector<int>& steps)
{
    m_steps = steps;
    update();
}

void Filmstrip::setCurrentStep(int step)
{
    m_current = step;
    update();
}

void Filmstrip::invalidate()
{
    m_cache.clear();
    update();
}

int Filmstrip::slotWidth() const
{
    return std::max(24, height() - 2 * kMargin);
}

std::vector<int> Filmstrip::shownSteps() const
{
    std::vector<int> shown;
    if (m_steps.empty()) {
        return shown;
    }
    const int slots = std::max(1, (width() - kMargin) / (slotWidth() + kMargin));
    const int n = std::min<int>(slots, static_cast<int>(m_steps.size()));
    for (int s = 0; s < n; ++s) {
        // Evenly spaced, always including the first and the newest step.
        const std::size_t idx =
            n == 1
                ? m_steps.size() - 1
                : static_cast<std::size_t>(std::lround(s * (m_steps.size() - 1) / double(n - 1)));
        shown.push_back(m_steps[idx]);
    }
    shown.erase(std::unique(shown.begin(), shown.end()), shown.end());
    return shown;
}

void Filmstrip::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    painter.fillRect(rect(), palette().color(QPalette::Base));
    const int w = slotWidth();
    const QSize thumb(w, w);
    int x = kMargin;
    for (int step : shownSteps()) {
        const QRect r(x, kMargin, w, w);
        auto it = m_cache.find(step);
        if (it == m_cache.end() && m_source) {
            it = m_cache.insert(step, m_source(step, thumb));
        }
        if (it != m_cache.end() && !it->isNull()) {
            painter.drawImage(r, *it);
        } else {
            painter.fillRect(r, palette().color(QPalette::Mid));
        }
        const bool current = step == m_current;
        painter.setPen(QPen(current ? palette().color(QPalette::Highlight) : QColor(0, 0, 0, 80),
                            current ? 3 : 1));
        painter.drawRect(r.adjusted(0, 0, -1, -1));
        x += w + kMargin;
    }
    if (m_steps.empty()) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(rect(), Qt::AlignCenter, tr("Steps appear here while the model samples"));
    }
}

void Filmstrip::mousePressEvent(QMouseEvent* e)
{
    const std::vector<int> shown = shownSteps();
    const int slot = (static_cast<int>(e->position().x()) - kMargin) / (slotWidth() + kMargin);
    if (slot >= 0 && slot < static_cast<int>(shown.size())) {
        Q_EMIT stepClicked(shown[static_cast<std::size_t>(slot)]);
    }
}

} // namespace diffseg::widgets
