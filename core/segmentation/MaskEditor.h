#pragma once

#include "LabelCanvas.h"
#include "UndoStack.h"

#include <array>
#include <string>
#include <vector>

namespace diffseg::core {

/// The editing tools of the correction workflow, on a 2D mask or on any slice of a 3D label map:
/// brush and eraser strokes, polygon/lasso fill, flood fill and replacing everything (accepting
/// an AI result). Every gesture is exactly one UndoStack step; gestures that change nothing add
/// no step.
///
/// Coordinates are continuous plane pixel coordinates (u, v): pixel (0, 0) covers [0,1)x[0,1),
/// so its centre is (0.5, 0.5). Brush radii are in mm and follow the plane's pixel spacing, so a
/// round brush stays round on anisotropic slices. Every operation returns the changed region for
/// the views to repaint. Not thread-safe: GUI thread. The canvas memory must outlive the editor.
class MaskEditor
{
public:
    MaskEditor(LabelCanvas canvas, UndoStack& undo);

    const LabelCanvas& canvas() const noexcept { return m_canvas; }
    /// Points the editor at new label memory (e.g. after loading a mask); clears the history.
    void setCanvas(LabelCanvas canvas);
    UndoStack& undoStack() noexcept { return m_undo; }

    /// Starts a stroke on `plane`; the stroke's undo step is titled `title` ("Brush", "Eraser").
    void beginStroke(const std::string& title, const EditPlane& plane = {});
    bool strokeActive() const noexcept { return m_strokeActive; }
    /// Paints a disk of `radiusMm` centred at (u, v) with `value` (0 erases).
    IndexBox stamp(double u, double v, double radiusMm, int value);
    /// Paints the segment from the previous stroke point to (u, v), without gaps at any speed.
    IndexBox strokeTo(double u, double v, double radiusMm, int value);
    /// Ends the stroke and records it as one undo step; returns the region it changed.
    IndexBox endStroke();
    /// Abandons the stroke and restores the labels it changed.
    IndexBox cancelStroke();

    /// Fills the polygon (even-odd rule over pixel centres) with `value`; one undo step.
    IndexBox fillPolygon(const EditPlane& plane, const std::vector<std::array<double, 2>>& points,
                         int value, const std::string& title = "Polygon");
    /// Replaces the 4-connected region of equal labels containing (u, v) by `value`.
    IndexBox floodFill(const EditPlane& plane, double u, double v, int value,
                       const std::string& title = "Fill");
    /// Replaces all labels by `labels` (the grid's size, x fastest), e.g. accepting an AI result.
    /// Throws Error(Mismatch) when the size differs.
    IndexBox replaceAll(const std::vector<std::uint16_t>& labels,
                        const std::string& title = "Accept AI result");

    IndexBox undo();
    IndexBox redo();

private:
    void snapshot(const IndexBox& box, std::vector<std::uint16_t>& out) const;
    IndexBox commitChange(const std::string& title, const IndexBox& searchBox,
                          const std::vector<std::uint16_t>& before);

    LabelCanvas m_canvas;
    UndoStack& m_undo;
    bool m_strokeActive = false;
    std::string m_strokeTitle;
    EditPlane m_strokePlane;
    IndexBox m_strokePlaneBox;
    std::vector<std::uint16_t> m_strokeBefore;
    std::array<double, 2> m_lastPoint{0.0, 0.0};
    bool m_hasLastPoint = false;
};

} // namespace diffseg::core
