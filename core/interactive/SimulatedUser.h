#pragma once

// The simulated user of interactive segmentation benchmarks (Xu et al., "Deep Interactive Object
// Selection", CVPR 2016; the NoC protocol of RITM, SimpleClick and nnInteractive's 2D tables):
// after each result the next click goes to the pixel farthest from the boundary of the largest
// error region, positive where the result misses lesion, negative where it adds some.

#include "base/Image2D.h"
#include "inference/RefinePrompts.h"

#include <functional>
#include <optional>
#include <vector>

namespace diffseg::core {

/// The next click for `prediction` against `groundTruth` (uint8 {0, 1} masks of one size): the
/// largest 8-connected region of misses (ground truth without prediction) or of additions
/// (prediction without ground truth), whichever is larger (misses on a tie), and in it the pixel
/// farthest (Euclidean) from the region's boundary, the photo's border counting as boundary;
/// the first such pixel in raster order. Its centre (x + 0.5, y + 0.5); lesion = a miss.
/// Nullopt when the masks agree everywhere. Throws Error(Mismatch) for masks of other sizes.
std::optional<PromptClick> nextSimulatedClick(const Image2D& prediction,
                                              const Image2D& groundTruth);

/// A method under test: given the photo, the current mask and every click so far (empty: the
/// start), returns the new uint8 {0, 1} mask of the photo's size.
using InteractiveMethod = std::function<Image2D(const Image2D& photo, const Image2D& current,
                                                const std::vector<PromptClick>& clicks)>;

/// One photo's course under the simulated user.
struct InteractiveCourse
{
    std::vector<double> dice;         ///< after 0, 1, ..., maxClicks clicks (maxClicks + 1 values)
    std::vector<double> clickSeconds; ///< wall time of each click's update (the start excluded)
    std::vector<PromptClick> clicks;  ///< the clicks given (fewer once the masks agree)

    /// Clicks until Dice >= `target` (clicksToReach of `dice`).
    int clicksTo(double target) const;
};

/// The NoC of a course: the clicks after which `dice` (after 0, 1, ..., N clicks) first reaches
/// `target`; 0 when the start does, N when it never does.
int clicksToReach(const std::vector<double>& dice, double target);

/// Plays the simulated user for `maxClicks` clicks. Once the result equals the ground truth no
/// more clicks are given and its Dice (1) is carried forward. Throws what `method` throws and
/// Error(Mismatch) when it returns a mask of another size.
InteractiveCourse playSimulatedUser(const Image2D& photo, const Image2D& groundTruth, int maxClicks,
                                    const InteractiveMethod& method);

/// The click disks alone: lesion clicks paint 1, background clicks 0, later clicks win; `radius`
/// in photo pixels (RefinePrompts' default when 0). The `clicks-only` method of the benchmark.
Image2D clickDiskMask(int width, int height, const std::vector<PromptClick>& clicks,
                      double radius = 0.0);

} // namespace diffseg::core
