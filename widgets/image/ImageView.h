#pragma once

#include <QImage>
#include <QPointF>
#include <QWidget>

class QMouseEvent;
class QPainter;

namespace diffseg::widgets {

/// The central 2D view: shows an image with zoom (wheel, +/-), pan (middle or left drag, arrow
/// keys) and fit (F, 0), and reports the pixel under the cursor.
///
/// Coordinates: image pixels have their origin at the top-left corner of the top-left pixel;
/// widgetToImage()/imageToWidget() convert between logical widget pixels and image pixels.
/// Overlays and editing tools are layered on top by later views. GUI thread only.
class ImageView : public QWidget
{
    Q_OBJECT

public:
    explicit ImageView(QWidget* parent = nullptr);

    void setImage(const QImage& image);
    /// Shows another image of the same size without changing zoom or pan (slice changes, steps).
    void replaceImage(const QImage& image);
    const QImage& image() const { return m_image; }
    /// Screen pixels per image pixel.
    double zoom() const { return m_zoom; }
    QPointF widgetToImage(const QPointF& p) const;
    QPointF imageToWidget(const QPointF& p) const;
    /// The widget rectangle covering image pixels `r` (for partial repaints after an edit).
    QRect imageRectToWidget(const QRect& r) const;
    /// Centres the view on image point `p` (keeps the zoom).
    void centerOn(const QPointF& p);
    /// Height of a pixel relative to its width (slices of anisotropic volumes); 1 for photos.
    void setPixelAspect(double aspect);
    double pixelAspect() const { return m_aspect; }
    /// The text shown when there is no image (e.g. how to open one).
    void setPlaceholderText(const QString& text);

    QSize sizeHint() const override { return {800, 600}; }

public Q_SLOTS:
    void zoomIn();
    void zoomOut();
    void fitToWindow();
    void actualSize();
    /// Zooms by `factor` keeping the image point under `anchor` (widget coordinates) fixed.
    void zoomBy(double factor, const QPointF& anchor);

Q_SIGNALS:
    /// The image pixel under the cursor (inside = false when the cursor is off the image).
    void cursorMoved(const QPoint& pixel, bool inside);
    void zoomChanged(double zoom);

protected:
    /// Draws on top of the image; the painter maps image pixels to the widget (1 unit = 1 image
    /// pixel), so use cosmetic pens for lines that keep their width at any zoom.
    virtual void paintOverlay(QPainter&) {}
    /// Tool hooks: return true when the event was used (then the view does not pan). `p` is the
    /// event position in image pixel coordinates.
    virtual bool toolPress(QMouseEvent*, const QPointF&) { return false; }
    virtual bool toolMove(QMouseEvent*, const QPointF&) { return false; }
    virtual bool toolRelease(QMouseEvent*, const QPointF&) { return false; }
    /// Whether a left drag pans (true unless a tool owns the left button).
    virtual bool leftButtonPans() const { return true; }

    void paintEvent(QPaintEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;
    void wheelEvent(QWheelEvent* e) override;
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;
    void keyPressEvent(QKeyEvent* e) override;
    void keyReleaseEvent(QKeyEvent* e) override;
    void leaveEvent(QEvent* e) override;

    /// Last cursor position in widget coordinates (tools draw their cursor there).
    QPointF cursorPosition() const { return m_cursor; }
    bool cursorInside() const { return m_cursorInside; }

private:
    void setZoomAround(double zoom, const QPointF& anchor);
    void clampOffset();

    QImage m_image;
    QString m_placeholder;
    double m_zoom = 1.0;
    double m_aspect = 1.0;
    QPointF m_offset; ///< widget position of the image's top-left corner
    bool m_fitMode = true;
    bool m_panning = false;
    bool m_spaceHeld = false;
    QPointF m_lastPos;
    QPointF m_cursor;
    bool m_cursorInside = false;
    double m_wheelAccumulator = 0.0;
};

} // namespace diffseg::widgets
