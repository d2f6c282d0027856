#pragma once

// OpenCV's GrabCut (Rother et al., SIGGRAPH 2004) as the classical baseline of the interactive
// benchmark, with the same clicks as every other method.

#include "base/Image2D.h"
#include "inference/RefinePrompts.h"

#include <array>
#include <vector>

namespace diffseg::core {

/// GrabCut of an RGB uint8 photo: outside `box` {x0, y0, x1, y1} (inclusive-exclusive) is
/// definite background, inside probable foreground; each click's disk (radius in photo pixels,
/// RefinePrompts' default when 0) is definite foreground or background, later clicks winning.
/// `iterations` rounds of colour-model fitting. Photos larger than `maxSide` (the longer side)
/// are cut at that size (area-filtered; box, clicks and radius scaled) and the result is
/// upsampled bilinearly and thresholded at one half, as GrabCut on a 12-megapixel photo takes
/// minutes; 0 cuts at full size. Deterministic: OpenCV's random generator is seeded before each
/// call. Returns uint8 {0, 1} at the photo's size (definite and probable foreground). Throws
/// Error(InvalidValue) for a photo that is not 3-channel uint8 or an empty box.
Image2D grabCutSegment(const Image2D& photo, const std::array<int, 4>& box,
                       const std::vector<PromptClick>& clicks, double radius = 0.0,
                       int iterations = 5, int maxSide = 400);

/// The benchmark's starting box: `inset` (a fraction) inside each border of a width x height
/// photo.
std::array<int, 4> insetBox(int width, int height, double inset = 0.05);

} // namespace diffseg::core
