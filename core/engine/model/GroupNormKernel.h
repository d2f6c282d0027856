#pragma once

// A fused group norm for CPU inference: statistics in float32 (shifted sums, so a large mean
// does not cancel the variance), then one pass that normalises, applies a per-sample affine map
// and optionally SiLU. It exists because LibTorch 1.13's bfloat16 group norm is either slow
// (NCHW: a scalar loop, 2.5x the float32 time) or wrong (channels-last: it accumulates in bf16;
// errors of several units on N(1, 2) data). Engine-internal header (LibTorch types).

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace diffseg::core::engine {

/// True when fusedGroupNorm() takes `x`: a CPU tensor (B, C, H, W), float32 or bfloat16,
/// contiguous in NCHW or in channels-last order.
bool fusedGroupNormSupports(const at::Tensor& x);

/// y = act(GN(x) * gamma + beta) where GN normalises each of `groups` channel groups of each
/// sample to zero mean and unit variance (biased, + eps), and gamma, beta are (B, C) float32:
/// the layer's affine weights with any per-sample modulation folded in. act is SiLU when `silu`,
/// else the identity. The result has x's dtype and memory format. Differentiable in x, gamma and
/// beta: under autograd a fused backward (GroupNormBackward.cpp) gives dx in x's dtype and
/// float32 dgamma, dbeta. Parallel over LibTorch's intra-op threads. Throws Error(Mismatch) when
/// fusedGroupNormSupports(x) is false or shapes disagree.
at::Tensor fusedGroupNorm(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                          const at::Tensor& beta, bool silu, double eps = 1e-5);

/// The kernels behind fusedGroupNorm(), for its autograd function.
namespace groupnorm_detail {

struct ForwardResult
{
    at::Tensor y;
    at::Tensor mean; ///< (B, groups) float32
    at::Tensor rstd; ///< (B, groups) float32: 1 / sqrt(var + eps)
};

/// Throws Error(Mismatch) for arguments fusedGroupNorm() refuses.
void checkArguments(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                    const at::Tensor& beta);
ForwardResult forward(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                      const at::Tensor& beta, bool silu, double eps);

struct BackwardResult
{
    at::Tensor dx;     ///< x's dtype and memory format
    at::Tensor dgamma; ///< (B, C) float32
    at::Tensor dbeta;  ///< (B, C) float32
};

/// Gradients of forward() given dy (any layout; converted to x's).
BackwardResult backward(const at::Tensor& x, const at::Tensor& dy, const at::Tensor& gamma,
                        const at::Tensor& beta, const at::Tensor& mean, const at::Tensor& rstd,
                        bool silu);

} // namespace groupnorm_detail

} // namespace diffseg::core::engine
