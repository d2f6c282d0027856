#include "SliceView.h"

#include "render/VolumeScene.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <vector>

namespace diffseg::widgets {

namespace {

const char* orientationName(core::SliceOrientation o)
{
    switch (o) {
    case core::SliceOrientation::Axial:
        return "Axial";
    case core::SliceOrientation::Coronal:
        return "Coronal";
    case core::SliceOrientation::Sagittal:
        break;
    }
    return "Sagittal";
}

/// A label map shown over `volume` must have its size (empty clears it); `what` names it.
void requireVolumeSize(const core::LabelMap& labels, const core::Volume& volume, const char* what)
{
    if (!labels.empty() && labels.size() != volume.size()) {
        throw core::Error(core::ErrorKind::Mismatch, what,
                          "does not have the size of the volume shown");
    }
}

} // namespace

SliceView::SliceView(core::SliceOrientation orientation, QWidget* parent)
    : ImageView(parent)
    , m_orientation(orientation)
{
    setPlaceholderText(
        tr("%1 view: open a volume").arg(QString::fromLatin1(orientationName(orientation))));
    setMinimumSize(120, 120);
}

QColor SliceView::labelColor(int value)
{
    if (value <= 0) {
        return Qt::transparent;
    }
    const auto c = VolumeScene::labelColor(value);
    return QColor::fromRgbF(static_cast<float>(c[0]), static_cast<float>(c[1]),
                            static_cast<float>(c[2]));
}

//------------------------------------------------------------------------------------------------
void SliceView::setVolume(const core::Volume& volume, int channel)
{
    m_volume = volume.channel(channel);
    m_channel = channel;
    m_geometry.emplace(volume.geometry(), volume.size(), m_orientation);
    m_labels = {};
    m_overlay = {};
    m_groundTruth = {};
    m_preview = {};
    m_labelLayer = {};
    m_overlayLayer = {};
    m_groundTruthLayer = {};
    m_previewLayer = {};
    const auto& size = volume.size();
    m_crosshair = {size[0] / 2.0, size[1] / 2.0, size[2] / 2.0};
    m_slice = static_cast<int>(std::floor(m_crosshair[m_geometry->sliceAxis()]));
    const auto spacing = m_geometry->pixelSpacing();
    setPixelAspect(spacing[1] / spacing[0]);
    renderSlice();
    fitToWindow();
}

void SliceView::setLabels(const core::LabelMap& labels)
{
    requireVolumeSize(labels, m_volume, "label map");
    m_labels = labels;
    renderLabels();
    update();
}

void SliceView::setFloatOverlay(const core::Volume& map, double scale)
{
    if (!map.empty() &&
        (map.size() != m_volume.size() || (map.pixelType() != core::PixelType::Float32 &&
                                           map.pixelType() != core::PixelType::UInt8))) {
        throw core::Error(core::ErrorKind::Mismatch, "overlay",
                          "must be a float32 or uint8 map with the size of the volume shown");
    }
    m_overlay = map.empty() ? core::Volume() : map.channel(0);
    m_overlayScale = scale;
    renderOverlay();
    update();
}

void SliceView::setGroundTruth(const core::LabelMap& labels)
{
    requireVolumeSize(labels, m_volume, "ground truth");
    m_groundTruth = labels;
    renderOutlines();
    update();
}

void SliceView::setPreviewLabels(const core::LabelMap& labels)
{
    requireVolumeSize(labels, m_volume, "preview");
    m_preview = labels;
    renderOutlines();
    update();
}

void SliceView::setLabelsVisible(bool visible)
{
    m_labelsVisible = visible;
    update();
}

void SliceView::setLabelOpacity(double opacity)
{
    m_labelOpacity = std::clamp(opacity, 0.0, 1.0);
    renderLabels();
    update();
}

void SliceView::setOverlayOpacity(double opacity)
{
    m_overlayOpacity = std::clamp(opacity, 0.0, 1.0);
    renderOverlay();
    update();
}

void SliceView::setColorMap(ColorMap::Name name)
{
    m_colorMap = ColorMap(name);
    renderOverlay();
    update();
}

void SliceView::setWindowLevel(double window, double level)
{
    window = std::max(window, 1e-6);
    if (window == m_window && level == m_level) {
        return;
    }
    m_window = window;
    m_level = level;
    renderSlice();
    Q_EMIT windowLevelChanged(m_window, m_level);
}

int SliceView::sliceCount() const
{
    return m_geometry ? static_cast<int>(m_geometry->sliceCount()) : 0;
}

void SliceView::setSlice(int slice)
{
    if (!m_geometry) {
        return;
    }
    slice = std::clamp(slice, 0, sliceCount() - 1);
    if (slice == m_slice) {
        return;
    }
    m_slice = slice;
    m_crosshair[m_geometry->sliceAxis()] = slice + 0.5;
    renderSlice();
    Q_EMIT sliceChanged(slice);
    Q_EMIT crosshairMoved(m_crosshair);
}

void SliceView::setCrosshair(const std::array<double, 3>& voxel)
{
    if (!m_geometry) {
        return;
    }
    m_crosshair = voxel;
    const int slice = std::clamp(static_cast<int>(std::floor(voxel[m_geometry->sliceAxis()])), 0,
                                 sliceCount() - 1);
    if (slice != m_slice) {
        m_slice = slice;
        renderSlice();
        Q_EMIT sliceChanged(slice);
    } else {
        update();
    }
}

void SliceView::refreshLabels()
{
    renderLabels();
    update();
}

void SliceView::setEditor(core::MaskEditor* editor)
{
    m_editor = editor;
}

void SliceView::setTool(Tool tool)
{
    m_tool = tool;
    setCursor(tool == Tool::Navigate ? Qt::CrossCursor : Qt::BlankCursor);
    update();
}

void SliceView::setBrushRadiusMm(double mm)
{
    m_brushMm = std::clamp(mm, 0.1, 500.0);
    update();
}

//------------------------------------------------------------------------------------------------
double SliceView::voxelValue(const std::array<std::int64_t, 3>& v) const
{
    const std::size_t n = m_volume.linearIndex(v[0], v[1], v[2]);
    return core::dispatchPixelType(m_volume.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        return static_cast<double>(static_cast<const T*>(m_volume.rawData())[n]);
    });
}

QImage SliceView::greySlice(const core::Volume& volume, const core::SliceGeometry& geometry,
                            int slice, double window, double level)
{
    const auto size = geometry.sliceSize();
    QImage image(static_cast<int>(size[0]), static_cast<int>(size[1]), QImage::Format_RGB32);
    const double lo = level - window / 2.0;
    const double scale = 255.0 / window;
    core::dispatchPixelType(volume.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        const T* data = static_cast<const T*>(volume.rawData());
        for (int y = 0; y < image.height(); ++y) {
            auto* row = reinterpret_cast<QRgb*>(image.scanLine(y));
            for (int x = 0; x < image.width(); ++x) {
                const auto v = geometry.voxelAt(x, y, slice);
                const double value =
                    static_cast<double>(data[volume.linearIndex(v[0], v[1], v[2])]);
                const int g = std::isfinite(value)
                                  ? static_cast<int>(std::clamp((value - lo) * scale, 0.0, 255.0))
                                  : 0;
                row[x] = qRgb(g, g, g);
            }
        }
    });
    return image;
}

void SliceView::renderSlice()
{
    if (!m_geometry) {
        return;
    }
    replaceImage(greySlice(m_volume, *m_geometry, m_slice, m_window, m_level));
    renderLabels();
    renderOverlay();
    renderOutlines();
}

void SliceView::renderLabels()
{
    if (!m_geometry || m_labels.empty()) {
        m_labelLayer = {};
        return;
    }
    const auto size = m_geometry->sliceSize();
    m_labelLayer = QImage(static_cast<int>(size[0]), static_cast<int>(size[1]),
                          QImage::Format_ARGB32_Premultiplied);
    const int alpha = static_cast<int>(std::lround(255 * m_labelOpacity));
    QRgb lut[256];
    for (int l = 0; l < 256; ++l) {
        const QColor c = labelColor(l);
        lut[l] = l == 0 ? 0 : qPremultiply(qRgba(c.red(), c.green(), c.blue(), alpha));
    }
    const bool wide = m_labels.pixelType() == core::PixelType::UInt16;
    for (int y = 0; y < m_labelLayer.height(); ++y) {
        auto* row = reinterpret_cast<QRgb*>(m_labelLayer.scanLine(y));
        for (int x = 0; x < m_labelLayer.width(); ++x) {
            const auto v = m_geometry->voxelAt(x, y, m_slice);
            const std::size_t n = m_labels.linearIndex(v[0], v[1], v[2]);
            const int l =
                wide ? m_labels.data<std::uint16_t>()[n] : m_labels.data<std::uint8_t>()[n];
            row[x] = l < 256 ? lut[l] : lut[(l - 1) % 255 + 1];
        }
    }
}

void SliceView::renderOverlay()
{
    if (!m_geometry || m_overlay.empty()) {
        m_overlayLayer = {};
        return;
    }
    const auto size = m_geometry->sliceSize();
    m_overlayLayer = QImage(static_cast<int>(size[0]), static_cast<int>(size[1]),
                            QImage::Format_ARGB32_Premultiplied);
    // One premultiplied colour per 8-bit level of t: the colour map has 256 entries anyway, and
    // low values fade out so that certain tissue keeps showing the image underneath.
    QRgb lut[256];
    for (int i = 0; i < 256; ++i) {
        const double t = i / 255.0;
        const QRgb c = m_colorMap.color(t);
        const int alpha =
            static_cast<int>(std::lround(255 * m_overlayOpacity * std::clamp(t / 0.5, 0.0, 1.0)));
        lut[i] = qPremultiply(qRgba(qRed(c), qGreen(c), qBlue(c), alpha));
    }
    const double scale = m_overlayScale * 255.0;
    core::dispatchPixelType(m_overlay.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        const T* data = static_cast<const T*>(m_overlay.rawData());
        for (int y = 0; y < m_overlayLayer.height(); ++y) {
            auto* row = reinterpret_cast<QRgb*>(m_overlayLayer.scanLine(y));
            for (int x = 0; x < m_overlayLayer.width(); ++x) {
                const auto v = m_geometry->voxelAt(x, y, m_slice);
                const double value =
                    static_cast<double>(data[m_overlay.linearIndex(v[0], v[1], v[2])]);
                const double code = std::isfinite(value) ? value * scale : 255.0;
                row[x] = lut[static_cast<int>(std::clamp(code + 0.5, 0.0, 255.0))];
            }
        }
    });
}

QImage SliceView::renderOutline(const core::LabelMap& labels, QRgb color) const
{
    const auto size = m_geometry->sliceSize();
    const int w = static_cast<int>(size[0]);
    const int h = static_cast<int>(size[1]);
    // The slice's labels first, then every labelled pixel with a differently labelled
    // 4-neighbour (or the slice's edge) is on the outline.
    std::vector<std::uint16_t> plane(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
    const bool wide = labels.pixelType() == core::PixelType::UInt16;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const auto v = m_geometry->voxelAt(x, y, m_slice);
            const std::size_t n = labels.linearIndex(v[0], v[1], v[2]);
            plane[static_cast<std::size_t>(y) * w + x] =
                wide ? labels.data<std::uint16_t>()[n] : labels.data<std::uint8_t>()[n];
        }
    }
    QImage layer(w, h, QImage::Format_ARGB32_Premultiplied);
    layer.fill(Qt::transparent);
    const QRgb on = qPremultiply(color);
    for (int y = 0; y < h; ++y) {
        auto* row = reinterpret_cast<QRgb*>(layer.scanLine(y));
        const std::uint16_t* p = plane.data() + static_cast<std::size_t>(y) * w;
        for (int x = 0; x < w; ++x) {
            const std::uint16_t l = p[x];
            if (l == 0) {
                continue;
            }
            const bool edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || p[x - 1] != l ||
                              p[x + 1] != l || p[x - w] != l || p[x + w] != l;
            if (edge) {
                row[x] = on;
            }
        }
    }
    return layer;
}

void SliceView::renderOutlines()
{
    if (!m_geometry) {
        return;
    }
    m_groundTruthLayer =
        m_groundTruth.empty() ? QImage() : renderOutline(m_groundTruth, qRgba(255, 220, 40, 255));
    m_previewLayer =
        m_preview.empty() ? QImage() : renderOutline(m_preview, qRgba(255, 60, 255, 255));
}

//------------------------------------------------------------------------------------------------
void SliceView::paintOverlay(QPainter& painter)
{
    if (!m_geometry) {
        return;
    }
    if (!m_overlayLayer.isNull()) {
        painter.drawImage(QPointF(0, 0), m_overlayLayer);
    }
    if (!m_labelLayer.isNull() && m_labelsVisible) {
        painter.drawImage(QPointF(0, 0), m_labelLayer);
    }
    if (!m_groundTruthLayer.isNull()) {
        painter.drawImage(QPointF(0, 0), m_groundTruthLayer);
    }
    if (!m_previewLayer.isNull()) {
        painter.drawImage(QPointF(0, 0), m_previewLayer);
    }
    const auto size = m_geometry->sliceSize();
    const auto c = m_geometry->screenOf(m_crosshair);
    QPen cross(QColor(80, 255, 120, 200), 1.0, Qt::DashLine);
    cross.setCosmetic(true);
    painter.setPen(cross);
    painter.drawLine(QPointF(c[0], 0), QPointF(c[0], double(size[1])));
    painter.drawLine(QPointF(0, c[1]), QPointF(double(size[0]), c[1]));

    const int axis = m_geometry->sliceAxis();
    for (const core::VolumeClick& click : m_promptMarkers) {
        if (std::abs(click.index[static_cast<std::size_t>(axis)] - (m_slice + 0.5)) > 1.5) {
            continue;
        }
        const auto at = m_geometry->screenOf(click.index);
        const double r = 6.0 / std::max(zoom(), 1e-6);
        QPen ring(QColor(255, 255, 255), 2.0);
        ring.setCosmetic(true);
        painter.setPen(ring);
        painter.setBrush(click.label > 0 ? QColor(40, 200, 80) : QColor(230, 50, 50));
        painter.drawEllipse(QPointF(at[0], at[1]), r, r);
    }
    if ((m_tool == Tool::Brush || m_tool == Tool::Eraser) && cursorInside()) {
        const QPointF p = widgetToImage(cursorPosition());
        const auto spacing = m_geometry->pixelSpacing();
        QPen pen(m_tool == Tool::Eraser ? QColor(255, 120, 120) : QColor(255, 255, 255), 1.5);
        pen.setCosmetic(true);
        painter.setPen(pen);
        painter.setBrush(Qt::NoBrush);
        painter.drawEllipse(p, m_brushMm / spacing[0], m_brushMm / spacing[1]);
    }

    // Orientation letters and the slice number, in widget coordinates.
    painter.save();
    painter.resetTransform();
    painter.setPen(QColor(255, 200, 80));
    const auto labels = m_geometry->edgeLabels();
    const QRect r = rect().adjusted(6, 4, -6, -4);
    painter.drawText(r, Qt::AlignLeft | Qt::AlignVCenter, QString(QChar(labels[0])));
    painter.drawText(r, Qt::AlignRight | Qt::AlignVCenter, QString(QChar(labels[1])));
    painter.drawText(r, Qt::AlignHCenter | Qt::AlignTop, QString(QChar(labels[2])));
    painter.drawText(r, Qt::AlignHCenter | Qt::AlignBottom, QString(QChar(labels[3])));
    painter.setPen(QColor(220, 225, 235));
    painter.drawText(r, Qt::AlignLeft | Qt::AlignTop,
                     tr("%1 %2/%3")
                         .arg(QString::fromLatin1(orientationName(m_orientation)))
                         .arg(m_slice + 1)
                         .arg(sliceCount()));
    painter.restore();
}

std::array<double, 2> SliceView::planeCoords(const QPointF& screen) const
{
    const auto v = m_geometry->voxelAtPoint(screen.x(), screen.y(), m_slice);
    switch (m_geometry->sliceAxis()) {
    case 0:
        return {v[1], v[2]};
    case 1:
        return {v[0], v[2]};
    default:
        return {v[0], v[1]};
    }
}

void SliceView::moveCrosshairTo(const QPointF& screen)
{
    const auto size = m_geometry->sliceSize();
    const double x = std::clamp(screen.x(), 0.0, double(size[0]) - 1e-6);
    const double y = std::clamp(screen.y(), 0.0, double(size[1]) - 1e-6);
    m_crosshair = m_geometry->voxelAtPoint(x, y, m_slice);
    update();
    Q_EMIT crosshairMoved(m_crosshair);
}

bool SliceView::toolPress(QMouseEvent* e, const QPointF& p)
{
    if (m_geometry && m_tool == Tool::Prompt &&
        (e->button() == Qt::LeftButton || e->button() == Qt::RightButton)) {
        const auto size = m_geometry->sliceSize();
        if (p.x() < 0 || p.y() < 0 || p.x() >= double(size[0]) || p.y() >= double(size[1])) {
            return false;
        }
        Q_EMIT promptClicked(m_geometry->voxelAtPoint(p.x(), p.y(), m_slice),
                             e->button() == Qt::LeftButton ? m_paintLabel : 0);
        return true;
    }
    if (!m_geometry || e->button() != Qt::LeftButton) {
        return false;
    }
    if (m_tool == Tool::Navigate || !m_editor || m_labels.empty()) {
        moveCrosshairTo(p);
        return true;
    }
    m_strokeValue = m_tool == Tool::Brush ? m_paintLabel : 0;
    m_editor->beginStroke(m_tool == Tool::Brush ? "Brush stroke" : "Erase stroke",
                          {m_geometry->sliceAxis(), m_slice});
    m_stroking = true;
    const auto uv = planeCoords(p);
    const core::IndexBox box = m_editor->stamp(uv[0], uv[1], m_brushMm, m_strokeValue);
    renderLabels();
    update();
    if (!box.empty()) {
        Q_EMIT labelsEdited(box);
    }
    return true;
}

void SliceView::setPromptMarkers(const std::vector<core::VolumeClick>& clicks)
{
    m_promptMarkers = clicks;
    update();
}

bool SliceView::toolMove(QMouseEvent* e, const QPointF& p)
{
    if (!m_geometry) {
        return false;
    }
    const auto size = m_geometry->sliceSize();
    const auto px = static_cast<std::int64_t>(std::floor(p.x()));
    const auto py = static_cast<std::int64_t>(std::floor(p.y()));
    if (px >= 0 && py >= 0 && px < size[0] && py < size[1]) {
        const auto v = m_geometry->voxelAt(px, py, m_slice);
        const int label =
            m_labels.empty()
                ? 0
                : (m_labels.pixelType() == core::PixelType::UInt16
                       ? m_labels.data<std::uint16_t>()[m_labels.linearIndex(v[0], v[1], v[2])]
                       : m_labels.data<std::uint8_t>()[m_labels.linearIndex(v[0], v[1], v[2])]);
        Q_EMIT hovered(v, voxelValue(v), label);
    }
    if (m_stroking && m_editor) {
        const auto uv = planeCoords(p);
        const core::IndexBox box = m_editor->strokeTo(uv[0], uv[1], m_brushMm, m_strokeValue);
        if (!box.empty()) {
            renderLabels();
            Q_EMIT labelsEdited(box);
        }
        update();
        return true;
    }
    if (m_tool == Tool::Navigate && (e->buttons() & Qt::LeftButton)) {
        moveCrosshairTo(p);
        return true;
    }
    if (m_tool != Tool::Navigate) {
        update();
    }
    return false;
}

bool SliceView::toolRelease(QMouseEvent*, const QPointF&)
{
    if (m_stroking && m_editor) {
        m_stroking = false;
        const core::IndexBox box = m_editor->endStroke();
        renderLabels();
        update();
        if (!box.empty()) {
            Q_EMIT labelsEdited(box);
        }
        return true;
    }
    return false;
}

void SliceView::mousePressEvent(QMouseEvent* e)
{
    // Right drag sets window/level, except with the Prompt tool: there it says "background".
    if (e->button() == Qt::RightButton && m_geometry && m_tool != Tool::Prompt) {
        m_windowing = true;
        m_windowStart = e->position();
        m_startWindow = m_window;
        m_startLevel = m_level;
        e->accept();
        return;
    }
    ImageView::mousePressEvent(e);
}

void SliceView::mouseMoveEvent(QMouseEvent* e)
{
    if (m_windowing) {
        const QPointF d = e->position() - m_windowStart;
        // Drag right widens the window, drag down raises the level (as in ITK-SNAP and Slicer).
        setWindowLevel(m_startWindow * std::exp(d.x() * 0.005),
                       m_startLevel + d.y() * m_startWindow * 0.003);
        e->accept();
        return;
    }
    ImageView::mouseMoveEvent(e);
}

void SliceView::mouseReleaseEvent(QMouseEvent* e)
{
    if (m_windowing && e->button() == Qt::RightButton) {
        m_windowing = false;
        e->accept();
        return;
    }
    ImageView::mouseReleaseEvent(e);
}

void SliceView::wheelEvent(QWheelEvent* e)
{
    if (e->modifiers() & Qt::ControlModifier) {
        ImageView::wheelEvent(e);
        return;
    }
    m_wheelAccumulator += e->angleDelta().y();
    while (std::abs(m_wheelAccumulator) >= 120.0) {
        const int step = m_wheelAccumulator > 0 ? 1 : -1;
        setSlice(m_slice + step);
        m_wheelAccumulator -= step * 120.0;
    }
    e->accept();
}

void SliceView::keyPressEvent(QKeyEvent* e)
{
    switch (e->key()) {
    case Qt::Key_Up:
        setSlice(m_slice + 1);
        break;
    case Qt::Key_Down:
        setSlice(m_slice - 1);
        break;
    case Qt::Key_PageUp:
        setSlice(m_slice + std::max(1, sliceCount() / 10));
        break;
    case Qt::Key_PageDown:
        setSlice(m_slice - std::max(1, sliceCount() / 10));
        break;
    case Qt::Key_Home:
        setSlice(0);
        break;
    case Qt::Key_End:
        setSlice(sliceCount() - 1);
        break;
    case Qt::Key_BracketLeft:
        setBrushRadiusMm(m_brushMm / 1.25);
        break;
    case Qt::Key_BracketRight:
        setBrushRadiusMm(m_brushMm * 1.25);
        break;
    default:
        ImageView::keyPressEvent(e);
        return;
    }
    e->accept();
}

} // namespace diffseg::widgets
