#pragma once

// The simulated user in a volume: the same rule as in 2D (the centre of the largest error
// region), with 6-connected regions and distances in millimetres.

#include "base/LabelMap.h"
#include "inference/VolumePrompts.h"

#include <functional>
#include <optional>
#include <vector>

namespace diffseg::core {

/// The next click for `prediction` against `truth` (label maps on one grid): the largest
/// 6-connected region of voxels whose labels differ, and in it the voxel farthest (Euclidean, in
/// mm) from the region's boundary, the grid's border counting as boundary; the first such voxel
/// in memory order. The click's class is the truth's there (0 where the prediction added
/// something). Nullopt when the maps agree. Throws Error(Mismatch) for maps of other sizes.
std::optional<VolumeClick> nextSimulatedClick3D(const LabelMap& prediction, const LabelMap& truth);

/// A volume method under test: the volume, the current labels and every click so far (empty: the
/// start) give new labels on the volume's grid.
using InteractiveVolumeMethod = std::function<LabelMap(
    const Volume& volume, const LabelMap& current, const std::vector<VolumeClick>& clicks)>;

/// One volume's course: foreground Dice after 0..maxClicks clicks, each click's seconds, the
/// clicks (fewer once the maps agree).
struct InteractiveVolumeCourse
{
    std::vector<double> dice;
    std::vector<double> clickSeconds;
    std::vector<VolumeClick> clicks;
};

InteractiveVolumeCourse playSimulatedUser3D(const Volume& volume, const LabelMap& truth,
                                            int maxClicks, const InteractiveVolumeMethod& method);

} // namespace diffseg::core
