#pragma once

#include "ColorMap.h"
#include "ImageView.h"
#include "MaskOutline.h"
#include "PromptLayer.h"
#include "base/Image2D.h"
#include "segmentation/MaskEditor.h"
#include "segmentation/UndoStack.h"
#include "session/PhotoSession.h"

#include <QColor>
#include <QPainterPath>

#include <array>
#include <memory>
#include <vector>

namespace diffseg::widgets {

/// The 2D lesion view: the image with the editable mask (fill and contour), an AI preview
/// (dashed contour, accepted as one undo step), probability or uncertainty heatmaps with a colour
/// map, the ground-truth contour, and the correction tools (brush, eraser, polygon/lasso, fill).
///
/// Mouse: with Brush, left paints and right erases; Eraser erases; Polygon: click vertices and
/// double-click (or Enter) to close, or drag a freehand lasso; right button or Shift erases; Fill:
/// left fills the clicked region, right clears it; Prompt (the model's guidance, PromptLayer): left
/// click marks lesion, right click background, drag a marker to move it, double-click one to
/// remove it, Shift + drag draws a box (outside is background), Backspace removes the newest
/// prompt and Escape all. Middle drag (or Space + left drag) pans, the
/// wheel zooms, `[` and `]` change the brush size, Escape cancels a polygon.
///
/// The photo, its mask (uint8 {0,1}, the image's size) and the undo history live in a
/// core::PhotoSession, the view's own until bindSession() binds it to another; one gesture is one
/// undo step. Overlays are cached as images and updated only where an edit changed them, so strokes
/// stay fluid on 12-megapixel photos. GUI thread only.
class SegmentationView2D : public ImageView
{
    Q_OBJECT

public:
    enum class Tool
    {
        Navigate,
        Brush,
        Eraser,
        Polygon,
        Fill,
        Prompt
    };
    enum class Heatmap
    {
        None,
        Probability,
        Uncertainty
    };

    explicit SegmentationView2D(QWidget* parent = nullptr);
    ~SegmentationView2D() override;

    /// The session whose photo and mask this view shows and edits (never null).
    core::PhotoSession& session() { return *m_session; }
    /// Shows and edits `session` (which must outlive the view, or be unbound first) instead of
    /// the view's own; null goes back to the view's own session.
    void bindSession(core::PhotoSession* session);

    /// Shows `image` (RGB or gray uint8) with an empty mask; clears history, preview and maps.
    /// `path` is where it came from (the session's document; empty for generated images).
    void setImage2D(const core::Image2D& image, const std::string& path = {});
    const core::Image2D& image2D() const { return m_session->image(); }
    /// Replaces the mask without an undo step (loading); throws core::Error(Mismatch) on a size
    /// different from the image's.
    void setMask(const core::Image2D& mask);
    const core::Image2D& mask() const { return m_session->mask(); }
    /// Number of lesion pixels in the mask.
    std::size_t maskArea() const;

    void setGroundTruth(const core::Image2D& mask);
    void clearGroundTruth();
    bool hasGroundTruth() const { return !m_groundTruth.empty(); }
    const core::Image2D& groundTruth() const { return m_groundTruth; }

    /// The AI result under review (uint8 {0,1}); shown dashed until accepted.
    void setPreview(const core::Image2D& mask);
    /// Shows `outline` (image pixels) dashed like a preview but without a mask behind it (a step
    /// being browsed, outlined at a lower resolution for speed): hasPreview() is false.
    void setPreviewOutline(const QPainterPath& outline);
    void clearPreview();
    bool hasPreview() const { return !m_preview.empty(); }
    const core::Image2D& preview() const { return m_preview; }
    /// Replaces the mask by the preview as one undo step titled `title`; false when there is no
    /// preview.
    bool acceptPreview(const std::string& title = "Accept AI result");
    /// Replaces the mask by `mask` (uint8 {0,1}, the image's size) as one undo step titled
    /// `title` (restoring an autosave, clearing); throws core::Error(Mismatch) on another size.
    void replaceMask(const core::Image2D& mask, const std::string& title);

    /// Marks a rectangle of the image (e.g. the uncertain region under review) with a dashed
    /// frame; an empty rectangle removes it.
    void setHighlight(const QRectF& imageRect);
    QRectF highlight() const { return m_highlight; }

    /// Float maps in [0,1] of the image's size; an empty image removes the map.
    void setProbabilityMap(const core::Image2D& map);
    void setUncertaintyMap(const core::Image2D& map);
    const core::Image2D& uncertaintyMap() const { return m_uncertainty; }

    void setTool(Tool tool);
    Tool tool() const { return m_tool; }
    /// Brush radius in image pixels.
    void setBrushRadius(double pixels);
    double brushRadius() const { return m_brushRadius; }

    void setShowFill(bool show);
    void setFillOpacity(double opacity);
    void setShowContour(bool show);
    void setShowGroundTruth(bool show);
    void setHeatmap(Heatmap heatmap);
    Heatmap heatmap() const { return m_heatmap; }
    void setHeatmapOpacity(double opacity);
    void setColorMap(ColorMap::Name name);
    const ColorMap& colorMap() const { return m_colorMap; }

    core::UndoStack& undoStack() { return m_session->editor().undoStack(); }
    /// The Prompt tool's clicks and box; promptsChanged() follows every change a user makes.
    const PromptLayer& promptLayer() const { return m_prompts; }
    /// The prompts for the model, with clicks of radius `clickRadius` photo pixels (0: default).
    core::RefinePrompts prompts(double clickRadius = 0.0) const
    {
        return m_prompts.prompts(clickRadius);
    }
    /// Forgets every prompt (after a refinement is accepted, or a new photo); no signal.
    void clearPrompts();

public Q_SLOTS:
    void undo();
    void redo();

Q_SIGNALS:
    /// The mask changed (stroke, fill, undo, redo, accept, load); `region` in image pixels.
    void maskEdited(const QRect& region);
    void toolChanged(diffseg::widgets::SegmentationView2D::Tool tool);
    void brushRadiusChanged(double pixels);
    /// Undo/redo availability or titles changed.
    void historyChanged();
    /// The user added, moved or removed a prompt (the Prompt tool).
    void promptsChanged();

protected:
    void paintEvent(QPaintEvent* e) override;
    void paintOverlay(QPainter& painter) override;
    bool toolPress(QMouseEvent* e, const QPointF& p) override;
    bool toolMove(QMouseEvent* e, const QPointF& p) override;
    bool toolRelease(QMouseEvent* e, const QPointF& p) override;
    bool leftButtonPans() const override { return m_tool == Tool::Navigate; }
    void keyPressEvent(QKeyEvent* e) override;
    void mouseDoubleClickEvent(QMouseEvent* e) override;

private:
    void maskChanged(const core::IndexBox& box, bool finalChange);
    void updateFillLayer(const QRect& region);
    void rebuildHeatLayer();
    void finishPolygon(bool erase);
    QRect toRect(const core::IndexBox& box) const;
    double radiusMm() const;

    /// Layers that follow the photo in the session.
    void resetLayers();

    /// A Prompt tool gesture: forwards to the layer, repaints, and says when the prompts changed.
    bool promptGesture(PromptLayer::Change change);

    PromptLayer m_prompts;
    std::unique_ptr<core::PhotoSession> m_ownSession;
    core::PhotoSession* m_session = nullptr;
    int m_observer = 0;
    core::Image2D m_groundTruth;
    core::Image2D m_preview;
    core::Image2D m_probability;
    core::Image2D m_uncertainty;

    QImage m_fillLayer;
    QImage m_heatLayer;
    MaskOutline m_contour;
    MaskOutline m_gtContour;
    MaskOutline m_previewContour;
    QRect m_exposed;         ///< the widget area being repainted (outlines outside it are skipped)
    bool m_maskEmpty = true; ///< no lesion pixel: the fill layer is not drawn
    int m_outlineVersion =
        0;                 ///< bumped when the mask / ground-truth outlines or their toggles change
    QImage m_outlineLayer; ///< those outlines drawn at screen resolution
    std::array<double, 7> m_outlineKey{}; ///< version, pan, zoom and size the layer was drawn for
    QRectF m_highlight;

    Tool m_tool = Tool::Navigate;
    double m_brushRadius = 12.0;
    int m_strokeValue = 1;
    bool m_stroking = false;
    std::vector<std::array<double, 2>> m_polygon;
    bool m_lassoDrag = false;
    bool m_polygonErase = false;

    bool m_showFill = true;
    double m_fillOpacity = 0.35;
    bool m_showContour = true;
    bool m_showGroundTruth = true;
    Heatmap m_heatmap = Heatmap::None;
    double m_heatOpacity = 0.6;
    ColorMap m_colorMap;
    QColor m_maskColor{0, 190, 255};
    QColor m_gtColor{255, 215, 0};
    QColor m_previewColor{255, 60, 200};
};

} // namespace diffseg::widgets
