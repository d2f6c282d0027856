#pragma once

// `training.loss` of a configuration: which terms, their coefficients and parameters. Apart from
// the losses themselves (DiffusionLoss.h, ATen) so that configuration readers stay LibTorch-free.

#include <string>
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

} // namespace diffseg::core::engine
