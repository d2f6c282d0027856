#pragma once

#include "base/Image2D.h"

#include <QPainterPath>
#include <QPolygonF>
#include <QRectF>

#include <vector>

class QPainter;

namespace diffseg::widgets {

/// The outline of a binary mask as closed polygons (through the centres of its boundary pixels,
/// in image pixels), kept with their bounding boxes so that drawing skips what is off screen and
/// draws specks smaller than a screen pixel as dots. A speckled mask (an early diffusion step, an
/// untrained model) has thousands of tiny contours: stroking them all as one path costs hundreds
/// of milliseconds per repaint on a 12-megapixel photo, culled drawing a few. Value type; any
/// thread (drawing: the painter's thread).
class MaskOutline
{
public:
    MaskOutline() = default;
    /// Contours of the nonzero pixels of a uint8 mask, simplified by at most `tolerance` pixels
    /// (Douglas-Peucker; 0 keeps every boundary pixel).
    static MaskOutline fromMask(const core::Image2D& mask, double tolerance = 0.5);
    /// The closed subpaths of `path` (already in image pixels).
    static MaskOutline fromPath(const QPainterPath& path);

    bool isEmpty() const { return m_polygons.empty(); }
    std::size_t polygonCount() const { return m_polygons.size(); }
    const std::vector<QPolygonF>& polygons() const { return m_polygons; }
    QPainterPath toPath() const;

    /// Draws with the painter's pen; the painter maps image pixels to the device. Only polygons
    /// meeting `visible` (image pixels) are drawn; those smaller than `minSize` image pixels
    /// become dots.
    void draw(QPainter& painter, const QRectF& visible, double minSize) const;

private:
    void add(QPolygonF polygon);

    std::vector<QPolygonF> m_polygons;
    std::vector<QRectF> m_bounds;
};

} // namespace diffseg::widgets
