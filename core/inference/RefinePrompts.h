#pragma once

// What a user tells the model when refining a segmentation: clicks on lesion or background,
// painted strokes (the brush and eraser edits), and a box outside which there is no lesion;
// rasterised for the network's input and for the photo. LibTorch-free header.

#include "Segmenter.h"
#include "base/Image2D.h"

#include <array>
#include <optional>
#include <vector>

namespace diffseg::core {

/// One click, in the photo's pixel coordinates (x right, y down; pixel centres at .5).
struct PromptClick
{
    double x = 0.0;
    double y = 0.0;
    bool lesion = true; ///< true: this is lesion; false: this is background
};

/// The radius of an interactive click's disk as a fraction of the photo's longer side (the studio
/// and `eval-interactive`; 4 % did better than 1.5 % and 8 % on ISIC 2018 val photos).
constexpr double kInteractiveClickRadius = 0.04;

/// Labels of a rasterised prompt map.
enum PromptLabel : std::uint8_t
{
    kPromptUnknown = 0,
    kPromptLesion = 1,
    kPromptBackground = 2
};

/// Every prompt of a refinement, in the photo's pixels. Later kinds win where they overlap:
/// the box, then the strokes, then the clicks (in their order).
struct RefinePrompts
{
    std::vector<PromptClick> clicks;
    /// Radius of a click's disk in photo pixels; 0: 1.5 % of the photo's longer side.
    double clickRadius = 0.0;
    /// Painted strokes at the photo's size: 1-channel uint8 PromptLabel (brush = lesion, eraser =
    /// background). Empty: none.
    Image2D strokes;
    /// Optional box {x0, y0, x1, y1} (inclusive-exclusive photo pixels): outside is background.
    std::optional<std::array<int, 4>> box;

    bool empty() const noexcept { return clicks.empty() && strokes.empty() && !box; }
    /// The click radius in effect for a photo of this size.
    double radiusFor(int width, int height) const;
};

/// The prompts as a PromptLabel map of width x height: the photo's own (`width`, `height` its
/// size) or a scaled grid such as the network's input, where a click's disk keeps a radius of at
/// least one cell (so that a click never vanishes) and a stroke marks a cell when it covers at
/// least a quarter of it. Throws Error(Mismatch) when the strokes are not of the photo's size.
Image2D rasterizePrompts(const RefinePrompts& prompts, int photoWidth, int photoHeight, int width,
                         int height);

/// Writes the prompts into a uint8 {0, 1} mask of the photo's size: lesion prompts 1,
/// background prompts 0 (the output of a refinement honours every prompt).
void applyPrompts(const Image2D& promptMap, Image2D& mask);

/// The prompts in the seam's form (Segmenter::refineInput, whose photo family turns them back
/// into these): clicks as points of class 1 (lesion) or 0, the radius, the strokes in the seam's
/// code (0 unknown, 1 background, 2 lesion) and the box.
SegmentationPrompts seamPrompts(const RefinePrompts& prompts);

} // namespace diffseg::core
