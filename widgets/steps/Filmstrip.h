#pragma once

#include <QHash>
#include <QImage>
#include <QWidget>

#include <functional>
#include <vector>

namespace diffseg::widgets {

/// A row of thumbnails of evenly spaced reverse-diffusion steps; clicking one selects its step.
/// Shows as many steps as fit the width; thumbnails are fetched lazily from `thumbnail` and cached
/// until invalidate(). Used by StepBrowser. GUI thread only.
class Filmstrip : public QWidget
{
    Q_OBJECT

public:
    explicit Filmstrip(QWidget* parent = nullptr);

    void setThumbnailSource(std::function<QImage(int step, const QSize& size)> source);
    void setSteps(const std::vector<int>& steps);
    void setCurrentStep(int step);
    void invalidate();
    /// The steps currently shown, left to right.
    std::vector<int> shownSteps() const;

    QSize sizeHint() const override { return {600, 76}; }
    QSize minimumSizeHint() const override { return {120, 60}; }

Q_SIGNALS:
    void stepClicked(int step);

protected:
    void paintEvent(QPaintEvent* e) override;
    void mousePressEvent(QMouseEvent* e) override;

private:
    int slotWidth() const;

    std::function<QImage(int, const QSize&)> m_source;
    std::vector<int> m_steps;
    int m_current = -1;
    mutable QHash<int, QImage> m_cache;
};

} // namespace diffseg::widgets
