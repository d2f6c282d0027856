#pragma once

// The training losses of DermoSegDiff (seed spec §A5): l1, l2, huber on the noise, the
// boundary-weighted loss and their weighted ("hybrid") sum. Engine-internal header (ATen types).

#include "LossConfig.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace diffseg::core::engine {

struct LossValue
{
    at::Tensor total;                                      ///< scalar, differentiable
    std::vector<std::pair<std::string, at::Tensor>> terms; ///< each term (detached scalars)
};

/// The loss of one training step. eps_hat and eps are (B, C, H, W); x0 is the ground-truth mask
/// (B, C, H, W) in {-1, 1} and t the (B) timesteps, used only by the boundary term; T is the
/// schedule length. Throws Error(Mismatch) naming the input for inconsistent shapes.
LossValue computeDiffusionLoss(const LossConfig& config, const at::Tensor& epsHat,
                               const at::Tensor& eps, const at::Tensor& x0, const at::Tensor& t,
                               int timesteps);

/// The boundary weight map W(x0, t) of the reference's calc_boundary_att, (B, 1, H, W) float on
/// x0's device, computed on the CPU with OpenCV from channel 0 of x0:
///  1. one min-max over the whole batch maps x0 to [0, 1] (the reference's batch-global quirk);
///  2. a sample whose foreground exceeds 1% of the pixels gets N^p(t), with N the min-max of
///     (W*1.1415 - distance to the Canny contour) and p(t) = (gamma (T - t) / T)^gamma;
///  3. every other sample gets W = 1.
/// Guards where the reference produces NaN: a sample with no contour pixel (all foreground, or a
/// batch of identical masks) and a constant distance map get W = 1, like an empty mask, so the loss
/// stays finite. Throws Error(InvalidValue) for non-finite x0 or t outside [0, T].
at::Tensor boundaryWeights(const at::Tensor& x0, const at::Tensor& t, int timesteps, double gamma);

} // namespace diffseg::core::engine
