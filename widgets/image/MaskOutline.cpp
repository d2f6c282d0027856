#include "MaskOutline.h"

#include <QPainter>

#include <opencv2/imgproc.hpp>

namespace diffseg::widgets {

MaskOutline MaskOutline::fromMask(const core::Image2D& mask, double tolerance)
{
    MaskOutline out;
    if (mask.empty()) {
        return out;
    }
    const cv::Mat m(mask.height(), mask.width(), CV_8UC1, const_cast<void*>(mask.rawData()));
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(m, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
    std::vector<cv::Point> simple;
    for (const auto& c : contours) {
        if (c.empty()) {
            continue;
        }
        const std::vector<cv::Point>* points = &c;
        if (tolerance > 0.0 && c.size() > 8) {
            cv::approxPolyDP(c, simple, tolerance, true);
            points = &simple;
        }
        QPolygonF polygon;
        polygon.reserve(static_cast<qsizetype>(points->size()) + 1);
        for (const cv::Point& p : *points) {
            polygon << QPointF(p.x + 0.5, p.y + 0.5);
        }
        out.add(std::move(polygon));
    }
    return out;
}

MaskOutline MaskOutline::fromPath(const QPainterPath& path)
{
    MaskOutline out;
    for (QPolygonF polygon : path.toSubpathPolygons()) {
        out.add(std::move(polygon));
    }
    return out;
}

void MaskOutline::add(QPolygonF polygon)
{
    if (polygon.isEmpty()) {
        return;
    }
    if (polygon.first() != polygon.last()) {
        polygon << polygon.first();
    }
    m_bounds.push_back(polygon.boundingRect());
    m_polygons.push_back(std::move(polygon));
}

QPainterPath MaskOutline::toPath() const
{
    QPainterPath path;
    for (const QPolygonF& p : m_polygons) {
        path.addPolygon(p);
        path.closeSubpath();
    }
    return path;
}

void MaskOutline::draw(QPainter& painter, const QRectF& visible, double minSize) const
{
    std::vector<QPointF> dots;
    for (std::size_t i = 0; i < m_polygons.size(); ++i) {
        const QRectF& b = m_bounds[i];
        // A degenerate (one-pixel) contour has an empty bounding rectangle: test by extent.
        if (b.right() < visible.left() || b.left() > visible.right() ||
            b.bottom() < visible.top() || b.top() > visible.bottom()) {
            continue;
        }
        if (b.width() < minSize && b.height() < minSize) {
            dots.push_back(b.center());
        } else {
            painter.drawPolyline(m_polygons[i]);
        }
    }
    if (!dots.empty()) {
        painter.drawPoints(dots.data(), static_cast<int>(dots.size()));
    }
}

} // namespace diffseg::widgets
