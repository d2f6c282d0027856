#pragma once

#include "inference/RefinePrompts.h"

#include <QPointF>
#include <QRectF>

#include <array>
#include <optional>
#include <vector>

class QPainter;

namespace diffseg::widgets {

/// The prompts a user gives the model on a photo with the Prompt tool: clicks on lesion (green)
/// or background (red), and a box outside which there is no lesion, in image pixels. Handles the
/// gestures (a click adds a marker, dragging a marker moves it, a double-click on one removes it,
/// Shift + drag draws the box) and draws the markers. A plain helper of SegmentationView2D (no
/// widget, no signals); GUI thread.
class PromptLayer
{
public:
    /// What a gesture did to the prompts.
    enum class Change
    {
        None,     ///< nothing (not a prompt gesture)
        Dragging, ///< a gesture is under way; the prompts change when it ends
        Changed   ///< the prompts changed
    };

    const std::vector<core::PromptClick>& clicks() const { return m_clicks; }
    const std::optional<std::array<int, 4>>& box() const { return m_box; }
    bool empty() const { return m_clicks.empty() && !m_box; }
    /// Forgets every prompt; true when there were some.
    bool clear();
    /// Removes the newest click (or the box when there is none); true when one was removed.
    bool removeLast();

    /// `pick`: how near (image pixels) a press must be to grab a marker.
    Change press(const QPointF& p, bool lesion, bool box, double pick, const QSizeF& image);
    Change move(const QPointF& p, const QSizeF& image);
    Change release(const QPointF& p, const QSizeF& image);
    /// Removes the marker nearest `p` within `pick`; Changed when one was removed.
    Change removeAt(const QPointF& p, double pick);

    /// The prompts for the model (clicks of radius `clickRadius` photo pixels; 0: the default).
    core::RefinePrompts prompts(double clickRadius = 0.0) const;

    /// Draws the markers and the box; `screenPixel` is one screen pixel in image pixels.
    void paint(QPainter& painter, double screenPixel) const;

private:
    int nearest(const QPointF& p, double pick) const;

    std::vector<core::PromptClick> m_clicks;
    std::optional<std::array<int, 4>> m_box;
    int m_dragging = -1;  ///< index of the marker being moved
    bool m_moved = false; ///< the marker being pressed was moved (else: it was a click on it)
    bool m_added = false; ///< the press added the marker
    std::optional<QPointF> m_boxStart;
    QRectF m_boxDraft;
};

} // namespace diffseg::widgets
