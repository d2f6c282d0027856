#include "PromptLayer.h"

#include <QPainter>
#include <QPen>

#include <algorithm>
#include <cmath>

namespace diffseg::widgets {

namespace {

QPointF clamped(const QPointF& p, const QSizeF& image)
{
    return {std::clamp(p.x(), 0.0, image.width()), std::clamp(p.y(), 0.0, image.height())};
}

} // namespace

bool PromptLayer::clear()
{
    const bool had = !empty();
    m_clicks.clear();
    m_box.reset();
    m_dragging = -1;
    m_boxStart.reset();
    m_boxDraft = {};
    return had;
}

bool PromptLayer::removeLast()
{
    if (!m_clicks.empty()) {
        m_clicks.pop_back();
        return true;
    }
    if (m_box) {
        m_box.reset();
        return true;
    }
    return false;
}

int PromptLayer::nearest(const QPointF& p, double pick) const
{
    int best = -1;
    double bestDistance = pick;
    for (std::size_t i = 0; i < m_clicks.size(); ++i) {
        const double d = std::hypot(m_clicks[i].x - p.x(), m_clicks[i].y - p.y());
        if (d <= bestDistance) {
            best = static_cast<int>(i);
            bestDistance = d;
        }
    }
    return best;
}

PromptLayer::Change PromptLayer::press(const QPointF& p, bool lesion, bool box, double pick,
                                       const QSizeF& image)
{
    if (p.x() < 0 || p.y() < 0 || p.x() >= image.width() || p.y() >= image.height()) {
        return Change::None;
    }
    if (box) {
        m_boxStart = p;
        m_boxDraft = QRectF(p, p);
        return Change::Dragging;
    }
    m_moved = false;
    m_added = false;
    m_dragging = nearest(p, pick);
    if (m_dragging < 0) {
        // A new marker, which the rest of the gesture may still move.
        m_clicks.push_back({p.x(), p.y(), lesion});
        m_dragging = static_cast<int>(m_clicks.size()) - 1;
        m_added = true;
    }
    return Change::Dragging;
}

PromptLayer::Change PromptLayer::move(const QPointF& p, const QSizeF& image)
{
    if (m_boxStart) {
        m_boxDraft = QRectF(*m_boxStart, clamped(p, image)).normalized();
        return Change::Dragging;
    }
    if (m_dragging < 0) {
        return Change::None;
    }
    const QPointF q = clamped(p, image);
    core::PromptClick& c = m_clicks[static_cast<std::size_t>(m_dragging)];
    m_moved = m_moved || std::hypot(c.x - q.x(), c.y - q.y()) > 0.0;
    c.x = std::min(q.x(), image.width() - 0.5);
    c.y = std::min(q.y(), image.height() - 0.5);
    return Change::Dragging;
}

PromptLayer::Change PromptLayer::release(const QPointF& p, const QSizeF& image)
{
    if (m_boxStart) {
        const QRectF r = QRectF(*m_boxStart, clamped(p, image)).normalized();
        m_boxStart.reset();
        m_boxDraft = {};
        // A box thinner than 3 pixels is a slip, not a box.
        if (r.width() < 3.0 || r.height() < 3.0) {
            return Change::None;
        }
        m_box = std::array<int, 4>{
            static_cast<int>(std::floor(r.left())), static_cast<int>(std::floor(r.top())),
            static_cast<int>(std::ceil(r.right())), static_cast<int>(std::ceil(r.bottom()))};
        return Change::Changed;
    }
    if (m_dragging < 0) {
        return Change::None;
    }
    move(p, image);
    m_dragging = -1;
    // Pressing a marker without moving it changes nothing.
    return m_added || m_moved ? Change::Changed : Change::None;
}

PromptLayer::Change PromptLayer::removeAt(const QPointF& p, double pick)
{
    const int i = nearest(p, pick);
    if (i < 0) {
        return Change::None;
    }
    m_clicks.erase(m_clicks.begin() + i);
    m_dragging = -1;
    return Change::Changed;
}

core::RefinePrompts PromptLayer::prompts(double clickRadius) const
{
    core::RefinePrompts out;
    out.clicks = m_clicks;
    out.clickRadius = clickRadius;
    out.box = m_box;
    return out;
}

void PromptLayer::paint(QPainter& painter, double screenPixel) const
{
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, true);
    auto frame = [&](const QRectF& r) {
        for (const auto& [color, width, style] :
             {std::tuple{QColor(0, 0, 0, 170), 3.5, Qt::SolidLine},
              std::tuple{QColor(255, 220, 60), 1.5, Qt::DashLine}}) {
            QPen pen(color, width, style);
            pen.setCosmetic(true);
            painter.setPen(pen);
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(r);
        }
    };
    if (m_box) {
        const auto& b = *m_box;
        frame(QRectF(QPointF(b[0], b[1]), QPointF(b[2], b[3])));
    }
    if (m_boxStart) {
        frame(m_boxDraft);
    }
    // Markers keep their size on screen whatever the zoom: a disk of 7 screen pixels.
    const double r = 7.0 * screenPixel;
    for (const core::PromptClick& c : m_clicks) {
        const QColor fill = c.lesion ? QColor(40, 200, 80) : QColor(230, 50, 50);
        QPen outline(QColor(255, 255, 255), 2.0);
        outline.setCosmetic(true);
        painter.setPen(outline);
        painter.setBrush(fill);
        painter.drawEllipse(QPointF(c.x, c.y), r, r);
        QPen sign(QColor(255, 255, 255), 2.0);
        sign.setCosmetic(true);
        painter.setPen(sign);
        const double s = 0.55 * r;
        painter.drawLine(QPointF(c.x - s, c.y), QPointF(c.x + s, c.y));
        if (c.lesion) {
            painter.drawLine(QPointF(c.x, c.y - s), QPointF(c.x, c.y + s));
        }
    }
    painter.restore();
}

} // namespace diffseg::widgets
