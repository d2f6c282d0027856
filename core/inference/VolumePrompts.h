#pragma once

// What a user tells the volume model when refining a segmentation: clicks in any slice (spheres
// of a class), painted strokes, rasterised on the volume's grid. LibTorch-free header.

#include "base/LabelMap.h"
#include "base/Volume.h"

#include <array>
#include <vector>

namespace diffseg::core {

/// One click: a voxel position in continuous index coordinates (voxel centres at +0.5, as
/// PromptClick in 2D) and the class the user says is there (0: background).
struct VolumeClick
{
    std::array<double, 3> index{0.0, 0.0, 0.0};
    int label = 1;
};

struct VolumePrompts
{
    std::vector<VolumeClick> clicks;
    /// The click's sphere radius in mm; 0: 2.5 times the volume's finest spacing.
    double radiusMm = 0.0;
    /// Painted strokes on the volume's grid: 0 unknown, v > 0 class v - 1. Empty: none.
    LabelMap strokes;

    bool empty() const noexcept { return clicks.empty() && strokes.empty(); }
};

/// The known classes on `reference`'s grid: 0 where nothing was said, class + 1 where a stroke
/// or a click's sphere (in mm, so round on anisotropic grids) says so; later clicks win over
/// earlier ones and over strokes. UInt8 (UInt16 beyond 254 classes). Throws Error(Mismatch) when
/// the strokes are on another grid, Error(InvalidValue) for a negative class.
LabelMap rasterizeVolumePrompts(const VolumePrompts& prompts, const Volume& reference);

} // namespace diffseg::core
