#pragma once

#include "base/Image2D.h"
#include "image/ColorMap.h"

#include <QImage>
#include <QWidget>

#include <vector>

namespace diffseg::widgets {

/// The K masks an ensemble sampled, side by side, with their agreement (the fraction of members
/// that call each pixel lesion, as a heatmap) and the consensus (majority vote). Each tile is the
/// image crop around the lesion with that member's outline, so disagreements are visible at a
/// glance. Clicking a tile asks to preview that member. Owns copies of the masks. GUI thread only.
class EnsembleGallery : public QWidget
{
    Q_OBJECT

public:
    explicit EnsembleGallery(QWidget* parent = nullptr);

    /// Shows `masks` (uint8 {0,1}, the image's size) over `image`. Throws core::Error on sizes that
    /// differ from the image's.
    void setEnsemble(const core::Image2D& image, const std::vector<core::Image2D>& masks);
    void clear();
    int members() const { return static_cast<int>(m_masks.size()); }
    /// Fraction of members voting lesion per pixel (float in [0,1]); empty without an ensemble.
    const core::Image2D& agreement() const { return m_agreement; }
    /// Majority vote (strictly more than half) as uint8 {0,1}.
    const core::Image2D& consensus() const { return m_consensus; }
    /// Mean pairwise Dice between members: 1 when they all agree.
    double meanPairwiseDice() const { return m_pairwiseDice; }

    QSize sizeHint() const override { return {600, 180}; }

Q_SIGNALS:
    /// -1 = consensus, -2 = agreement map, k >= 0 = member k.
    void tileClicked(int which);

protected:
    void paintEvent(QPaintEvent* e) override;
    void mousePressEvent(QMouseEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;

private:
    QRect tileRect(int index) const;
    int tileCount() const { return static_cast<int>(m_masks.size()) + 2; }
    void rebuildTiles();

    core::Image2D m_image;
    std::vector<core::Image2D> m_masks;
    core::Image2D m_agreement;
    core::Image2D m_consensus;
    QRect m_crop;
    std::vector<QImage> m_tiles;
    double m_pairwiseDice = 1.0;
    ColorMap m_colorMap{ColorMap::Name::Viridis};
};

} // namespace diffseg::widgets
