#include "SegmentationView2D.h"

#include "ImageConversion.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace diffseg::widgets {

namespace {

/// Overlays must have the image's size and the expected single channel type.
void requireLayer(const core::Image2D& layer, const core::Image2D& image, const char* what,
                  core::PixelType type)
{
    if (layer.width() != image.width() || layer.height() != image.height()) {
        throw core::Error(core::ErrorKind::Mismatch, what,
                          "is " + std::to_string(layer.width()) + "x" +
                              std::to_string(layer.height()) + " but the image is " +
                              std::to_string(image.width()) + "x" + std::to_string(image.height()));
    }
    if (layer.channels() != 1 || layer.pixelType() != type) {
        throw core::Error(core::ErrorKind::InvalidValue, what,
                          std::string("must have one ") + core::pixelTypeName(type) + " channel");
    }
}

void requireMaskOfSize(const core::Image2D& mask, const core::Image2D& image, const char* what)
{
    requireLayer(mask, image, what, core::PixelType::UInt8);
}

} // namespace

SegmentationView2D::SegmentationView2D(QWidget* parent)
    : ImageView(parent)
    , m_ownSession(std::make_unique<core::PhotoSession>())
{
    bindSession(nullptr);
}

SegmentationView2D::~SegmentationView2D()
{
    m_session->removeObserver(m_observer);
}

void SegmentationView2D::bindSession(core::PhotoSession* session)
{
    if (m_session) {
        m_session->removeObserver(m_observer);
    }
    m_session = session ? session : m_ownSession.get();
    m_observer = m_session->addObserver([this](const core::SessionChange& change) {
        if (change.event == core::SessionEvent::History) {
            Q_EMIT historyChanged();
        } else if (change.event == core::SessionEvent::Opened) {
            // A new photo in the session, whoever opened it: fresh layers of its size.
            resetLayers();
            setImage(toQImage(image2D()));
        }
    });
    resetLayers();
    if (m_session->isOpen()) {
        setImage(toQImage(image2D()));
        maskChanged(core::IndexBox::whole({image2D().width(), image2D().height(), 1}), true);
    }
}

void SegmentationView2D::setImage2D(const core::Image2D& image, const std::string& path)
{
    m_session->openImage(image, path); // the Opened event resets the layers
    Q_EMIT maskEdited(QRect(0, 0, image.width(), image.height()));
}

void SegmentationView2D::resetLayers()
{
    const core::Image2D& image = image2D();
    m_groundTruth = {};
    m_preview = {};
    m_probability = {};
    m_uncertainty = {};
    m_fillLayer = QImage(image.width(), image.height(), QImage::Format_ARGB32_Premultiplied);
    m_fillLayer.fill(Qt::transparent);
    m_heatLayer = {};
    m_contour = {};
    m_gtContour = {};
    ++m_outlineVersion;
    m_previewContour = {};
    m_highlight = {};
    m_maskEmpty = true;
    m_polygon.clear();
    m_prompts.clear();
}

void SegmentationView2D::setMask(const core::Image2D& mask)
{
    requireMaskOfSize(mask, image2D(), "mask");
    m_session->setMaskWithoutHistory(mask);
    maskChanged(core::IndexBox::whole({mask.width(), mask.height(), 1}), true);
}

std::size_t SegmentationView2D::maskArea() const
{
    return m_session->isOpen() ? m_session->labelledCount() : 0;
}

void SegmentationView2D::setGroundTruth(const core::Image2D& mask)
{
    requireMaskOfSize(mask, image2D(), "ground-truth mask");
    m_groundTruth = mask;
    m_gtContour = MaskOutline::fromMask(mask);
    ++m_outlineVersion;
    update();
}

void SegmentationView2D::clearGroundTruth()
{
    m_groundTruth = {};
    m_gtContour = {};
    ++m_outlineVersion;
    update();
}

void SegmentationView2D::setPreview(const core::Image2D& mask)
{
    requireMaskOfSize(mask, image2D(), "AI result");
    m_preview = mask;
    m_previewContour = MaskOutline::fromMask(mask);
    update();
}

void SegmentationView2D::setPreviewOutline(const QPainterPath& outline)
{
    m_preview = {};
    m_previewContour = MaskOutline::fromPath(outline);
    update();
}

void SegmentationView2D::clearPreview()
{
    m_preview = {};
    m_previewContour = {};
    update();
}

bool SegmentationView2D::acceptPreview(const std::string& title)
{
    if (m_preview.empty() || !m_session->isOpen()) {
        return false;
    }
    const core::Image2D preview = m_preview;
    clearPreview();
    replaceMask(preview, title);
    return true;
}

void SegmentationView2D::replaceMask(const core::Image2D& mask, const std::string& title)
{
    requireMaskOfSize(mask, image2D(), "mask");
    if (!m_session->isOpen()) {
        return;
    }
    std::vector<std::uint16_t> labels(mask.pixelCount());
    const auto* p = mask.data<std::uint8_t>();
    for (std::size_t i = 0; i < labels.size(); ++i) {
        labels[i] = p[i] ? 1 : 0;
    }
    maskChanged(m_session->editor().replaceAll(labels, title), true);
}

void SegmentationView2D::setHighlight(const QRectF& imageRect)
{
    m_highlight = imageRect;
    update();
}

void SegmentationView2D::setProbabilityMap(const core::Image2D& map)
{
    if (!map.empty()) {
        requireLayer(map, image2D(), "probability map", core::PixelType::Float32);
    }
    m_probability = map;
    rebuildHeatLayer();
}

void SegmentationView2D::setUncertaintyMap(const core::Image2D& map)
{
    if (!map.empty()) {
        requireLayer(map, image2D(), "uncertainty map", core::PixelType::Float32);
    }
    m_uncertainty = map;
    rebuildHeatLayer();
}

//------------------------------------------------------------------------------------------------
void SegmentationView2D::setTool(Tool tool)
{
    if (m_tool == tool) {
        return;
    }
    if (m_stroking && m_session->isOpen()) {
        maskChanged(m_session->editor().endStroke(), true);
        m_stroking = false;
    }
    m_polygon.clear();
    m_tool = tool;
    setCursor(tool == Tool::Navigate ? Qt::ArrowCursor : Qt::CrossCursor);
    update();
    Q_EMIT toolChanged(tool);
}

void SegmentationView2D::setBrushRadius(double pixels)
{
    const double r = std::clamp(pixels, 0.5, 1000.0);
    if (r == m_brushRadius) {
        return;
    }
    m_brushRadius = r;
    update();
    Q_EMIT brushRadiusChanged(r);
}

void SegmentationView2D::setShowFill(bool show)
{
    m_showFill = show;
    update();
}

void SegmentationView2D::setFillOpacity(double opacity)
{
    m_fillOpacity = std::clamp(opacity, 0.0, 1.0);
    updateFillLayer(QRect(0, 0, mask().width(), mask().height()));
    update();
}

void SegmentationView2D::setShowContour(bool show)
{
    m_showContour = show;
    ++m_outlineVersion;
    update();
}

void SegmentationView2D::setShowGroundTruth(bool show)
{
    m_showGroundTruth = show;
    ++m_outlineVersion;
    update();
}

void SegmentationView2D::setHeatmap(Heatmap heatmap)
{
    m_heatmap = heatmap;
    rebuildHeatLayer();
}

void SegmentationView2D::setHeatmapOpacity(double opacity)
{
    m_heatOpacity = std::clamp(opacity, 0.0, 1.0);
    rebuildHeatLayer();
}

void SegmentationView2D::setColorMap(ColorMap::Name name)
{
    m_colorMap = ColorMap(name);
    rebuildHeatLayer();
}

void SegmentationView2D::undo()
{
    if (m_session->isOpen()) {
        maskChanged(m_session->editor().undo(), true);
    }
}

void SegmentationView2D::redo()
{
    if (m_session->isOpen()) {
        maskChanged(m_session->editor().redo(), true);
    }
}

//------------------------------------------------------------------------------------------------
QRect SegmentationView2D::toRect(const core::IndexBox& box) const
{
    if (box.empty()) {
        return {};
    }
    return QRect(static_cast<int>(box.lo[0]), static_cast<int>(box.lo[1]),
                 static_cast<int>(box.extent(0)), static_cast<int>(box.extent(1)));
}

double SegmentationView2D::radiusMm() const
{
    return m_brushRadius * mask().spacing()[0];
}

void SegmentationView2D::maskChanged(const core::IndexBox& box, bool finalChange)
{
    const QRect region = toRect(box);
    if (region.isEmpty()) {
        return;
    }
    updateFillLayer(region);
    if (!finalChange) {
        m_maskEmpty = m_maskEmpty && !(m_stroking && m_strokeValue != 0);
        update(imageRectToWidget(region));
    } else {
        const auto* p = mask().data<std::uint8_t>();
        const auto* end = p + mask().pixelCount();
        m_maskEmpty = std::find_if(p, end, [](std::uint8_t v) { return v != 0; }) == end;
        // Outlines are cheap to rebuild once per gesture, not per mouse move.
        m_contour = MaskOutline::fromMask(mask());
        ++m_outlineVersion;
        update();
    }
    Q_EMIT maskEdited(region);
}

void SegmentationView2D::updateFillLayer(const QRect& region)
{
    if (m_fillLayer.isNull()) {
        return;
    }
    const QRect r = region.intersected(m_fillLayer.rect());
    const int a = static_cast<int>(std::lround(m_fillOpacity * 255));
    const QRgb on =
        qPremultiply(qRgba(m_maskColor.red(), m_maskColor.green(), m_maskColor.blue(), a));
    for (int y = r.top(); y <= r.bottom(); ++y) {
        auto* out = reinterpret_cast<QRgb*>(m_fillLayer.scanLine(y));
        const std::uint8_t* in = &mask().at<std::uint8_t>(0, y);
        for (int x = r.left(); x <= r.right(); ++x) {
            out[x] = in[x] ? on : 0;
        }
    }
}

void SegmentationView2D::rebuildHeatLayer()
{
    const core::Image2D& map = m_heatmap == Heatmap::Probability   ? m_probability
                               : m_heatmap == Heatmap::Uncertainty ? m_uncertainty
                                                                   : core::Image2D();
    if (map.empty() || map.pixelType() != core::PixelType::Float32) {
        m_heatLayer = {};
        update();
        return;
    }
    m_heatLayer = QImage(map.width(), map.height(), QImage::Format_ARGB32_Premultiplied);
    for (int y = 0; y < map.height(); ++y) {
        auto* out = reinterpret_cast<QRgb*>(m_heatLayer.scanLine(y));
        const float* in = &map.at<float>(0, y);
        for (int x = 0; x < map.width(); ++x) {
            const float v = std::isfinite(in[x]) ? in[x] : 1.0f;
            // Low values fade out so that the image stays readable where the map says little
            // (background probability, confident pixels).
            const double weight = std::clamp(v / 0.5, 0.0, 1.0);
            const int alpha = static_cast<int>(std::lround(255 * m_heatOpacity * weight));
            const QRgb c = m_colorMap.color(v);
            out[x] = qPremultiply(qRgba(qRed(c), qGreen(c), qBlue(c), alpha));
        }
    }
    update();
}

//------------------------------------------------------------------------------------------------
void SegmentationView2D::paintEvent(QPaintEvent* e)
{
    m_exposed = e->rect();
    ImageView::paintEvent(e);
}

void SegmentationView2D::paintOverlay(QPainter& painter)
{
    // Only what is being repainted (a brush dab repaints a few pixels) and on screen is drawn.
    const QRect exposed = m_exposed.isEmpty() ? rect() : m_exposed;
    const QRectF visible = QRectF(widgetToImage(exposed.topLeft()),
                                  widgetToImage(exposed.bottomRight() + QPoint(1, 1)))
                               .normalized()
                               .adjusted(-2, -2, 2, 2);
    auto drawLayer = [&](const QImage& layer) {
        const QRect source = visible.toAlignedRect().intersected(layer.rect());
        if (!source.isEmpty()) {
            painter.drawImage(QRectF(source), layer, QRectF(source));
        }
    };
    if (!m_heatLayer.isNull()) {
        drawLayer(m_heatLayer);
    }
    if (m_showFill && !m_fillLayer.isNull() && !m_maskEmpty) {
        drawLayer(m_fillLayer);
    }
    painter.setRenderHint(QPainter::Antialiasing, true);
    const double screenPixel = 1.0 / std::max(zoom(), 1e-6);
    auto drawOutline = [&](const MaskOutline& outline, const QColor& color, Qt::PenStyle style,
                           double width) {
        if (outline.isEmpty()) {
            return;
        }
        // Hundreds of specks (a noisy early step) are drawn plain: dashed antialiased strokes
        // of each would cost tens of milliseconds per frame, and noise needs no finesse.
        const bool speckled = outline.polygonCount() > 256;
        QPen pen(color, width, speckled ? Qt::SolidLine : style);
        pen.setCosmetic(true);
        painter.setPen(pen);
        painter.setBrush(Qt::NoBrush);
        painter.setRenderHint(QPainter::Antialiasing, !speckled);
        outline.draw(painter, visible, 2.0 * screenPixel);
        painter.setRenderHint(QPainter::Antialiasing, true);
    };
    auto drawPath = [&painter](const QPainterPath& path, const QColor& color, Qt::PenStyle style,
                               double width) {
        if (path.isEmpty()) {
            return;
        }
        QPen pen(color, width, style);
        pen.setCosmetic(true);
        painter.setPen(pen);
        painter.setBrush(Qt::NoBrush);
        painter.drawPath(path);
    };
    // The mask and ground-truth outlines change once per gesture but are repainted with every
    // step of the browser and every brush dab: they are drawn once into a layer at screen
    // resolution and blitted until they, the zoom or the pan change.
    const QPointF origin = imageToWidget(QPointF(0, 0));
    const QPointF unit = imageToWidget(QPointF(1, 1)) - origin;
    const qreal dpr = devicePixelRatioF();
    const std::array<double, 7> key{
        double(m_outlineVersion), origin.x(),      origin.y(), unit.x(), unit.y(),
        double(width()),          double(height())};
    if (key != m_outlineKey || m_outlineLayer.devicePixelRatio() != dpr) {
        m_outlineKey = key;
        m_outlineLayer =
            QImage((QSizeF(size()) * dpr).toSize(), QImage::Format_ARGB32_Premultiplied);
        m_outlineLayer.setDevicePixelRatio(dpr);
        m_outlineLayer.fill(Qt::transparent);
        if ((m_showGroundTruth && !m_gtContour.isEmpty()) ||
            (m_showContour && !m_contour.isEmpty())) {
            QPainter layer(&m_outlineLayer);
            layer.setRenderHint(QPainter::Antialiasing, true);
            layer.setTransform(QTransform(unit.x(), 0, 0, unit.y(), origin.x(), origin.y()));
            const QRectF all =
                QRectF(widgetToImage(QPointF(0, 0)), widgetToImage(QPointF(width(), height())))
                    .normalized()
                    .adjusted(-2, -2, 2, 2);
            auto strokeLayer = [&](const MaskOutline& outline, const QColor& color) {
                QPen pen(color, 2.0);
                pen.setCosmetic(true);
                layer.setPen(pen);
                layer.setBrush(Qt::NoBrush);
                outline.draw(layer, all, 2.0 * screenPixel);
            };
            if (m_showGroundTruth) {
                strokeLayer(m_gtContour, m_gtColor);
            }
            if (m_showContour) {
                strokeLayer(m_contour, m_maskColor);
            }
        }
    }
    painter.save();
    painter.resetTransform();
    painter.drawImage(QRectF(exposed), m_outlineLayer,
                      QRectF(QPointF(exposed.topLeft()) * dpr, QSizeF(exposed.size()) * dpr));
    painter.restore();
    drawOutline(m_previewContour, m_previewColor, Qt::DashLine, 2.0);
    if (!m_highlight.isEmpty()) {
        QPainterPath frame;
        frame.addRect(m_highlight);
        drawPath(frame, QColor(0, 0, 0, 170), Qt::SolidLine, 3.5);
        drawPath(frame, QColor(255, 255, 255), Qt::DashLine, 1.5);
    }

    if (!m_polygon.empty()) {
        QPainterPath poly;
        poly.moveTo(m_polygon[0][0], m_polygon[0][1]);
        for (std::size_t i = 1; i < m_polygon.size(); ++i) {
            poly.lineTo(m_polygon[i][0], m_polygon[i][1]);
        }
        if (cursorInside() && !m_lassoDrag) {
            poly.lineTo(widgetToImage(cursorPosition()));
        }
        drawPath(poly, m_polygonErase ? QColor(255, 80, 80) : QColor(255, 255, 255), Qt::DashLine,
                 1.5);
    }
    m_prompts.paint(painter, screenPixel);
    if ((m_tool == Tool::Brush || m_tool == Tool::Eraser) && cursorInside()) {
        const QPointF c = widgetToImage(cursorPosition());
        const double r = m_brushRadius;
        QPen dark(QColor(0, 0, 0, 160), 3.0);
        dark.setCosmetic(true);
        painter.setPen(dark);
        painter.drawEllipse(c, r, r);
        QPen light(m_tool == Tool::Eraser ? QColor(255, 120, 120) : QColor(255, 255, 255), 1.5);
        light.setCosmetic(true);
        painter.setPen(light);
        painter.drawEllipse(c, r, r);
    }
}

bool SegmentationView2D::toolPress(QMouseEvent* e, const QPointF& p)
{
    if (!m_session->isOpen() || (e->button() != Qt::LeftButton && e->button() != Qt::RightButton)) {
        return false;
    }
    const bool secondary = e->button() == Qt::RightButton || (e->modifiers() & Qt::ShiftModifier);
    switch (m_tool) {
    case Tool::Navigate:
        return false;
    case Tool::Prompt: {
        const QSizeF size(image2D().width(), image2D().height());
        const bool box = e->button() == Qt::LeftButton && (e->modifiers() & Qt::ShiftModifier);
        // A marker is grabbed within 10 screen pixels of its centre.
        return promptGesture(m_prompts.press(p, e->button() == Qt::LeftButton, box,
                                             10.0 / std::max(zoom(), 1e-6), size));
    }
    case Tool::Brush:
    case Tool::Eraser: {
        m_strokeValue = (m_tool == Tool::Brush && !secondary) ? 1 : 0;
        m_session->editor().beginStroke(m_strokeValue ? "Brush stroke" : "Erase stroke");
        m_stroking = true;
        maskChanged(m_session->editor().stamp(p.x(), p.y(), radiusMm(), m_strokeValue), false);
        return true;
    }
    case Tool::Polygon:
        if (m_polygon.empty()) {
            m_polygonErase = secondary;
            m_lassoDrag = true;
            m_polygon.push_back({p.x(), p.y()});
        } else {
            const QPointF first = imageToWidget(QPointF(m_polygon[0][0], m_polygon[0][1]));
            if (m_polygon.size() >= 3 && QLineF(first, e->position()).length() < 8.0) {
                finishPolygon(m_polygonErase);
            } else {
                m_polygon.push_back({p.x(), p.y()});
            }
        }
        update();
        return true;
    case Tool::Fill: {
        const core::IndexBox box = m_session->editor().floodFill(
            {}, p.x(), p.y(), secondary ? 0 : 1, secondary ? "Clear region" : "Fill region");
        maskChanged(box, true);
        return true;
    }
    }
    return false;
}

bool SegmentationView2D::toolMove(QMouseEvent* e, const QPointF& p)
{
    if (m_tool == Tool::Prompt && (e->buttons() & (Qt::LeftButton | Qt::RightButton))) {
        return promptGesture(m_prompts.move(p, QSizeF(image2D().width(), image2D().height())));
    }
    if (m_stroking && m_session->isOpen()) {
        maskChanged(m_session->editor().strokeTo(p.x(), p.y(), radiusMm(), m_strokeValue), false);
        return true;
    }
    if (m_tool == Tool::Polygon && m_lassoDrag &&
        (e->buttons() & (Qt::LeftButton | Qt::RightButton))) {
        const QPointF last = imageToWidget(QPointF(m_polygon.back()[0], m_polygon.back()[1]));
        if (QLineF(last, e->position()).length() >= 3.0) {
            m_polygon.push_back({p.x(), p.y()});
        }
        update();
        return true;
    }
    if (m_tool != Tool::Navigate) {
        // The brush outline and the polygon's rubber band follow the cursor.
        update();
    }
    return false;
}

bool SegmentationView2D::toolRelease(QMouseEvent*, const QPointF& p)
{
    if (m_tool == Tool::Prompt) {
        return promptGesture(m_prompts.release(p, QSizeF(image2D().width(), image2D().height())));
    }
    if (m_stroking && m_session->isOpen()) {
        m_stroking = false;
        maskChanged(m_session->editor().endStroke(), true);
        return true;
    }
    if (m_tool == Tool::Polygon && m_lassoDrag) {
        m_lassoDrag = false;
        // A drag of many points is a freehand lasso: fill it at once. A click starts a polygon.
        if (m_polygon.size() >= 8) {
            finishPolygon(m_polygonErase);
        }
        return true;
    }
    return false;
}

bool SegmentationView2D::promptGesture(PromptLayer::Change change)
{
    if (change == PromptLayer::Change::None) {
        return false;
    }
    update();
    if (change == PromptLayer::Change::Changed) {
        Q_EMIT promptsChanged();
    }
    return true;
}

void SegmentationView2D::clearPrompts()
{
    if (m_prompts.clear()) {
        update();
    }
}

void SegmentationView2D::mouseDoubleClickEvent(QMouseEvent* e)
{
    if (m_tool == Tool::Prompt && e->button() != Qt::MiddleButton) {
        promptGesture(
            m_prompts.removeAt(widgetToImage(e->position()), 10.0 / std::max(zoom(), 1e-6)));
        e->accept();
        return;
    }
    if (m_tool == Tool::Polygon && !m_polygon.empty()) {
        // The double-click point closes the polygon; add it unless its press already did.
        const QPointF last = imageToWidget(QPointF(m_polygon.back()[0], m_polygon.back()[1]));
        if (QLineF(last, e->position()).length() > 3.0) {
            const QPointF p = widgetToImage(e->position());
            m_polygon.push_back({p.x(), p.y()});
        }
        finishPolygon(m_polygonErase);
        e->accept();
        return;
    }
    ImageView::mouseDoubleClickEvent(e);
}

void SegmentationView2D::finishPolygon(bool erase)
{
    if (m_session->isOpen() && m_polygon.size() >= 3) {
        const core::IndexBox box = m_session->editor().fillPolygon(
            {}, m_polygon, erase ? 0 : 1, erase ? "Erase polygon" : "Polygon");
        m_polygon.clear();
        maskChanged(box, true);
    }
    m_polygon.clear();
    m_lassoDrag = false;
    update();
}

void SegmentationView2D::keyPressEvent(QKeyEvent* e)
{
    switch (e->key()) {
    case Qt::Key_BracketLeft:
        setBrushRadius(m_brushRadius / 1.25);
        break;
    case Qt::Key_BracketRight:
        setBrushRadius(m_brushRadius * 1.25);
        break;
    case Qt::Key_Backspace:
    case Qt::Key_Delete:
        if (m_tool != Tool::Prompt || !m_prompts.removeLast()) {
            ImageView::keyPressEvent(e);
            return;
        }
        update();
        Q_EMIT promptsChanged();
        break;
    case Qt::Key_Escape:
        if (m_tool == Tool::Prompt && m_prompts.clear()) {
            update();
            Q_EMIT promptsChanged();
        }
        if (m_stroking && m_session->isOpen()) {
            m_stroking = false;
            maskChanged(m_session->editor().cancelStroke(), true);
        }
        m_polygon.clear();
        update();
        break;
    case Qt::Key_Return:
    case Qt::Key_Enter:
        finishPolygon(m_polygonErase);
        break;
    default:
        ImageView::keyPressEvent(e);
        return;
    }
    e->accept();
}

} // namespace diffseg::widgets
