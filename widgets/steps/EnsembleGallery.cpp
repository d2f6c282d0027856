#include "EnsembleGallery.h"

#include "image/ImageConversion.h"

#include <QMouseEvent>
#include <QPainter>

#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace diffseg::widgets {

namespace {

constexpr int kGap = 6;
constexpr int kCaption = 16;

/// Outline of `mask` drawn on `tile`, which shows the crop `crop` of the image scaled to `tile`.
void drawOutline(QImage& tile, const core::Image2D& mask, const QRect& crop, const QColor& color)
{
    const cv::Mat m(mask.height(), mask.width(), CV_8UC1, const_cast<void*>(mask.rawData()));
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(m, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
    QPainter p(&tile);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(tile.width() / double(crop.width()), tile.height() / double(crop.height()));
    p.translate(-crop.topLeft());
    QPen pen(color, 2.0);
    pen.setCosmetic(true);
    p.setPen(pen);
    for (const auto& c : contours) {
        QPolygonF poly;
        for (const auto& pt : c) {
            poly << QPointF(pt.x + 0.5, pt.y + 0.5);
        }
        p.drawPolygon(poly);
    }
}

} // namespace

EnsembleGallery::EnsembleGallery(QWidget* parent)
    : QWidget(parent)
{
    setMinimumHeight(120);
    setToolTip(tr("The ensemble's masks: where they disagree, the model is unsure. Click a tile to "
                  "preview it"));
}

void EnsembleGallery::clear()
{
    m_masks.clear();
    m_tiles.clear();
    m_agreement = {};
    m_consensus = {};
    update();
}

void EnsembleGallery::setEnsemble(const core::Image2D& image,
                                  const std::vector<core::Image2D>& masks)
{
    for (const core::Image2D& m : masks) {
        if (m.width() != image.width() || m.height() != image.height() || m.channels() != 1 ||
            m.pixelType() != core::PixelType::UInt8) {
            throw core::Error(core::ErrorKind::Mismatch, "ensemble member",
                              "must be a uint8 mask of the image's size");
        }
    }
    m_image = image;
    m_masks = masks;
    const int w = image.width();
    const int h = image.height();
    m_agreement = core::Image2D(w, h, 1, core::PixelType::Float32);
    m_consensus = core::Image2D(w, h, 1, core::PixelType::UInt8);
    const std::size_t n = image.pixelCount();
    const auto k = static_cast<float>(masks.size());
    int x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (std::size_t i = 0; i < n; ++i) {
        int votes = 0;
        for (const core::Image2D& m : masks) {
            votes += m.data<std::uint8_t>()[i] != 0;
        }
        m_agreement.data<float>()[i] = k > 0 ? votes / k : 0.0f;
        m_consensus.data<std::uint8_t>()[i] = 2 * votes > static_cast<int>(masks.size()) ? 1 : 0;
        if (votes > 0) {
            const int x = static_cast<int>(i % static_cast<std::size_t>(w));
            const int y = static_cast<int>(i / static_cast<std::size_t>(w));
            x0 = std::min(x0, x);
            y0 = std::min(y0, y);
            x1 = std::max(x1, x);
            y1 = std::max(y1, y);
        }
    }
    // Crop to the lesion with a margin (whole image when nothing was found), square.
    if (x1 < 0) {
        m_crop = QRect(0, 0, w, h);
    } else {
        const int side = std::max(x1 - x0, y1 - y0) * 13 / 10 + 8;
        const int cx = (x0 + x1) / 2;
        const int cy = (y0 + y1) / 2;
        m_crop = QRect(cx - side / 2, cy - side / 2, side, side).intersected(QRect(0, 0, w, h));
    }
    double diceSum = 0.0;
    int pairs = 0;
    for (std::size_t a = 0; a < masks.size(); ++a) {
        for (std::size_t b = a + 1; b < masks.size(); ++b) {
            std::size_t inter = 0, sa = 0, sb = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const bool va = masks[a].data<std::uint8_t>()[i] != 0;
                const bool vb = masks[b].data<std::uint8_t>()[i] != 0;
                inter += va && vb;
                sa += va;
                sb += vb;
            }
            diceSum += sa + sb == 0 ? 1.0 : 2.0 * inter / double(sa + sb);
            ++pairs;
        }
    }
    m_pairwiseDice = pairs ? diceSum / pairs : 1.0;
    rebuildTiles();
}

QRect EnsembleGallery::tileRect(int index) const
{
    const int count = tileCount();
    const int side = std::max(24, std::min(height() - kCaption - 2 * kGap,
                                           (width() - kGap * (count + 1)) / std::max(1, count)));
    return QRect(kGap + index * (side + kGap), kGap, side, side);
}

void EnsembleGallery::rebuildTiles()
{
    m_tiles.clear();
    if (m_masks.empty()) {
        update();
        return;
    }
    const QRect first = tileRect(0);
    const QSize size(first.width(), first.height());
    const QImage base = toQImage(m_image).copy(m_crop).scaled(size, Qt::IgnoreAspectRatio,
                                                              Qt::SmoothTransformation);
    for (const core::Image2D& m : m_masks) {
        QImage tile = base.convertToFormat(QImage::Format_RGB32);
        drawOutline(tile, m, m_crop, QColor(0, 190, 255));
        m_tiles.push_back(tile);
    }
    QImage consensus = base.convertToFormat(QImage::Format_RGB32);
    drawOutline(consensus, m_consensus, m_crop, QColor(255, 215, 0));
    m_tiles.push_back(consensus);
    QImage agreement(m_crop.size(), QImage::Format_RGB32);
    for (int y = 0; y < m_crop.height(); ++y) {
        auto* out = reinterpret_cast<QRgb*>(agreement.scanLine(y));
        for (int x = 0; x < m_crop.width(); ++x) {
            out[x] = m_colorMap.color(m_agreement.at<float>(m_crop.x() + x, m_crop.y() + y));
        }
    }
    m_tiles.push_back(agreement.scaled(size, Qt::IgnoreAspectRatio, Qt::FastTransformation));
    update();
}

void EnsembleGallery::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    if (m_tiles.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter,
                   tr("The ensemble's masks appear here after a segmentation"));
        return;
    }
    const int k = static_cast<int>(m_masks.size());
    for (int i = 0; i < tileCount(); ++i) {
        const QRect r = tileRect(i);
        p.drawImage(r, m_tiles[static_cast<std::size_t>(i)]);
        p.setPen(palette().color(QPalette::Text));
        const QString caption = i < k    ? tr("member %1").arg(i + 1)
                                : i == k ? tr("consensus")
                                         : tr("agreement");
        p.drawText(QRect(r.left(), r.bottom() + 2, r.width(), kCaption), Qt::AlignCenter, caption);
    }
    // The ensemble's overall agreement, written on the agreement tile.
    const QRect last = tileRect(tileCount() - 1);
    const QString dice = tr("Dice %1").arg(m_pairwiseDice, 0, 'f', 2);
    const QRect label(last.left() + 2, last.bottom() - kCaption - 2, last.width() - 4, kCaption);
    p.fillRect(label, QColor(0, 0, 0, 150));
    p.setPen(Qt::white);
    p.drawText(label, Qt::AlignCenter, dice);
}

void EnsembleGallery::mousePressEvent(QMouseEvent* e)
{
    const int k = static_cast<int>(m_masks.size());
    for (int i = 0; i < static_cast<int>(m_tiles.size()); ++i) {
        if (tileRect(i).contains(e->position().toPoint())) {
            Q_EMIT tileClicked(i < k ? i : (i == k ? -1 : -2));
            return;
        }
    }
}

void EnsembleGallery::resizeEvent(QResizeEvent*)
{
    if (!m_masks.empty()) {
        rebuildTiles();
    }
}

} // namespace diffseg::widgets
