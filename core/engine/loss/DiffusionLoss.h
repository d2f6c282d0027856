#pragma once

// The training losses of DermoSegDiff (seed spec §A5): l1, l2, huber on the noise, the
// boundary-weighted loss and their weighted ("hybrid") sum. Engine-internal header (ATen types).

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace diffseg::core::engine {

enum class LossKind
{
    L1,
    L2,
    Huber,   ///< smooth L1 with beta 1
    Boundary ///< mean(W * rho(eps_hat - eps)), W from the distance to the ground-truth contour
};

const char* lossKindName(LossKind kind) noexcept;

struct LossTerm
{
    LossKind kind = LossKind::L2;
    double coefficient = 1.0; ///< the reference's (misspelt) `cofficient`; ignored for one term
    double gamma = 1.5;       ///< boundary only: sharpness of the weight map
    bool rootL1 = false;      ///< boundary only: rho = |d| instead of d^2 (`root: l1`)
};

/// `training.loss` of the reference: one term is used alone, several are summed with their
/// coefficients.
struct LossConfig
{
    std::vector<LossTerm> terms = std::vector<LossTerm>(1); ///< default: l2 alone

    /// Parses the reference's dict, e.g. {"l2": {"cofficient": 1.0}, "boundary": {"cofficient":
    /// 0.25, "params": {"gamma": 0.25, "root": "l2"}}} ("coefficient" is accepted too). Throws
    /// Error(Config) naming the key for unknown terms, roots or bad numbers.
    static LossConfig fromJson(const std::string& json,
                               const std::string& subject = "training.loss");
    void validate(const std::string& subject = "training.loss") const;
};

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
