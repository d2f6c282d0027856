#include "ImageView.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace diffseg::widgets {

namespace {
constexpr double kMinZoom = 0.02;
constexpr double kMaxZoom = 64.0;
constexpr double kStep = 1.25;
} // namespace

ImageView::ImageView(QWidget* parent)
    : QWidget(parent)
{
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMinimumSize(64, 64);
    m_placeholder = tr("No image. Use File > Open (Ctrl+O) or drop a file here.");
}

void ImageView::setImage(const QImage& image)
{
    m_image = image;
    m_fitMode = true;
    fitToWindow();
}

void ImageView::replaceImage(const QImage& image)
{
    if (m_image.isNull() || image.size() != m_image.size()) {
        setImage(image);
        return;
    }
    m_image = image;
    update();
}

void ImageView::setPlaceholderText(const QString& text)
{
    m_placeholder = text;
    update();
}

QPointF ImageView::widgetToImage(const QPointF& p) const
{
    const QPointF d = p - m_offset;
    return QPointF(d.x() / m_zoom, d.y() / (m_zoom * m_aspect));
}

QPointF ImageView::imageToWidget(const QPointF& p) const
{
    return QPointF(p.x() * m_zoom, p.y() * m_zoom * m_aspect) + m_offset;
}

void ImageView::setPixelAspect(double aspect)
{
    m_aspect = aspect > 0.0 ? aspect : 1.0;
    if (m_fitMode) {
        fitToWindow();
    } else {
        update();
    }
}

QRect ImageView::imageRectToWidget(const QRect& r) const
{
    const QPointF a = imageToWidget(QPointF(r.left(), r.top()));
    const QPointF b = imageToWidget(QPointF(r.right() + 1, r.bottom() + 1));
    // One pixel of margin for antialiased contours and rounding.
    return QRectF(a, b).toAlignedRect().adjusted(-2, -2, 2, 2);
}

void ImageView::centerOn(const QPointF& p)
{
    if (m_image.isNull()) {
        return;
    }
    m_fitMode = false;
    m_offset = QPointF(width() / 2.0 - p.x() * m_zoom, height() / 2.0 - p.y() * m_zoom * m_aspect);
    clampOffset();
    update();
}

void ImageView::zoomIn()
{
    zoomBy(kStep, QPointF(width() / 2.0, height() / 2.0));
}

void ImageView::zoomOut()
{
    zoomBy(1.0 / kStep, QPointF(width() / 2.0, height() / 2.0));
}

void ImageView::zoomBy(double factor, const QPointF& anchor)
{
    m_fitMode = false;
    setZoomAround(m_zoom * factor, anchor);
}

void ImageView::actualSize()
{
    m_fitMode = false;
    setZoomAround(1.0, QPointF(width() / 2.0, height() / 2.0));
}

void ImageView::fitToWindow()
{
    m_fitMode = true;
    if (m_image.isNull()) {
        update();
        return;
    }
    const double zx = width() / static_cast<double>(m_image.width());
    const double zy = height() / (static_cast<double>(m_image.height()) * m_aspect);
    m_zoom = std::clamp(std::min(zx, zy), kMinZoom, kMaxZoom);
    m_offset = QPointF((width() - m_image.width() * m_zoom) / 2.0,
                       (height() - m_image.height() * m_zoom * m_aspect) / 2.0);
    Q_EMIT zoomChanged(m_zoom);
    update();
}

void ImageView::setZoomAround(double zoom, const QPointF& anchor)
{
    if (m_image.isNull()) {
        return;
    }
    zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
    const QPointF imagePoint = widgetToImage(anchor);
    m_zoom = zoom;
    m_offset = anchor - QPointF(imagePoint.x() * m_zoom, imagePoint.y() * m_zoom * m_aspect);
    clampOffset();
    Q_EMIT zoomChanged(m_zoom);
    update();
}

void ImageView::clampOffset()
{
    // Keep at least a quarter of the view covered by the image, so it cannot be lost off-screen.
    const double w = m_image.width() * m_zoom;
    const double h = m_image.height() * m_zoom * m_aspect;
    const double marginX = width() * 0.75;
    const double marginY = height() * 0.75;
    m_offset.setX(std::clamp(m_offset.x(), -w + width() - marginX, marginX));
    m_offset.setY(std::clamp(m_offset.y(), -h + height() - marginY, marginY));
}

void ImageView::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    painter.fillRect(rect(), QColor(32, 34, 38));
    if (m_image.isNull()) {
        painter.setPen(QColor(170, 175, 185));
        painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
        return;
    }
    // Smooth when shrinking, crisp pixels when magnifying (users inspect boundaries up close).
    painter.setRenderHint(QPainter::SmoothPixmapTransform, m_zoom < 1.0);
    const QRectF target(m_offset,
                        QSizeF(m_image.width() * m_zoom, m_image.height() * m_zoom * m_aspect));
    painter.drawImage(target, m_image);
    painter.save();
    painter.translate(m_offset);
    painter.scale(m_zoom, m_zoom * m_aspect);
    painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
    paintOverlay(painter);
    painter.restore();
}

void ImageView::resizeEvent(QResizeEvent*)
{
    if (m_fitMode) {
        fitToWindow();
    } else {
        clampOffset();
    }
}

void ImageView::wheelEvent(QWheelEvent* e)
{
    m_wheelAccumulator += e->angleDelta().y();
    const double notches = m_wheelAccumulator / 120.0;
    if (std::abs(notches) >= 1.0 / 8.0) {
        zoomBy(std::pow(kStep, notches), e->position());
        m_wheelAccumulator = 0.0;
    }
    e->accept();
}

void ImageView::mousePressEvent(QMouseEvent* e)
{
    const bool leftPans = e->button() == Qt::LeftButton && (m_spaceHeld || leftButtonPans());
    if (!leftPans && e->button() != Qt::MiddleButton && !m_image.isNull() &&
        toolPress(e, widgetToImage(e->position()))) {
        e->accept();
        return;
    }
    if (e->button() == Qt::MiddleButton || leftPans) {
        m_panning = true;
        m_lastPos = e->position();
        setCursor(Qt::ClosedHandCursor);
        e->accept();
        return;
    }
    QWidget::mousePressEvent(e);
}

void ImageView::mouseMoveEvent(QMouseEvent* e)
{
    m_cursor = e->position();
    m_cursorInside = true;
    if (m_panning) {
        m_fitMode = false;
        m_offset += e->position() - m_lastPos;
        m_lastPos = e->position();
        clampOffset();
        update();
    } else if (!m_image.isNull()) {
        toolMove(e, widgetToImage(e->position()));
    }
    if (!m_image.isNull()) {
        const QPointF p = widgetToImage(e->position());
        const QPoint pixel(static_cast<int>(std::floor(p.x())),
                           static_cast<int>(std::floor(p.y())));
        Q_EMIT cursorMoved(pixel, m_image.rect().contains(pixel));
    }
}

void ImageView::mouseReleaseEvent(QMouseEvent* e)
{
    if (m_panning) {
        m_panning = false;
        unsetCursor();
        e->accept();
        return;
    }
    if (!m_image.isNull() && toolRelease(e, widgetToImage(e->position()))) {
        e->accept();
        return;
    }
    QWidget::mouseReleaseEvent(e);
}

void ImageView::leaveEvent(QEvent* e)
{
    m_cursorInside = false;
    update();
    QWidget::leaveEvent(e);
}

void ImageView::keyReleaseEvent(QKeyEvent* e)
{
    if (e->key() == Qt::Key_Space && !e->isAutoRepeat()) {
        m_spaceHeld = false;
        unsetCursor();
        e->accept();
        return;
    }
    QWidget::keyReleaseEvent(e);
}

void ImageView::keyPressEvent(QKeyEvent* e)
{
    const double panStep = 40.0;
    switch (e->key()) {
    case Qt::Key_Space:
        // Hold space to pan with the left button while a tool is active (as in image editors).
        if (!e->isAutoRepeat()) {
            m_spaceHeld = true;
            setCursor(Qt::OpenHandCursor);
        }
        break;
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        zoomIn();
        break;
    case Qt::Key_Minus:
        zoomOut();
        break;
    case Qt::Key_F:
    case Qt::Key_0:
        fitToWindow();
        break;
    case Qt::Key_1:
        actualSize();
        break;
    case Qt::Key_Left:
    case Qt::Key_Right:
    case Qt::Key_Up:
    case Qt::Key_Down: {
        m_fitMode = false;
        const double dx = e->key() == Qt::Key_Left    ? panStep
                          : e->key() == Qt::Key_Right ? -panStep
                                                      : 0;
        const double dy = e->key() == Qt::Key_Up     ? panStep
                          : e->key() == Qt::Key_Down ? -panStep
                                                     : 0;
        m_offset += QPointF(dx, dy);
        clampOffset();
        update();
        break;
    }
    default:
        QWidget::keyPressEvent(e);
        return;
    }
    e->accept();
}

} // namespace diffseg::widgets
