#pragma once

// The reference's linear attention (softmax of q over its 32 features, of k over positions,
// context = k v^T per head, out = context^T q) as one CPU kernel over a channels-last qkv
// projection, for inference: it reads the projection in place and writes the heads' output rows,
// where the ATen formulation copies q, k, v and the output several times (a bf16 ensemble forward
// at 128 x 128, B = 5: 3.6 s with the ATen form, 3.1 s with the kernel). Engine-internal header
// (LibTorch types).

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace diffseg::core::engine {

/// Head width the kernel is compiled for (the reference's dim_head).
constexpr std::int64_t kAttentionKernelDimHead = 32;

/// True when linearAttentionKernel() takes `qkv`: CPU, float32 or bfloat16, (B, 3 * heads * 32,
/// H, W) stored channels-last (or a 1x1 image), and no gradient is being recorded.
bool linearAttentionKernelSupports(const at::Tensor& qkv, std::int64_t heads);

/// out (B, heads * 32, H, W), channels-last, qkv's dtype: for each head h and position n,
/// out[h*32 + e, n] = sum_d softmax_d(q[:, n])_d * scale * sum_m softmax_m(k[d, :])_m v[e, m].
/// Arithmetic in float32. Not differentiable: training keeps LibTorch's formulation, whose bf16
/// matrix products (oneDNN) beat this kernel's float32 ones in a backward pass (measured at
/// 64 x 64, batch 8). Parallel over LibTorch's intra-op threads. Throws Error(Mismatch) when
/// linearAttentionKernelSupports() is false.
at::Tensor linearAttentionKernel(const at::Tensor& qkv, std::int64_t heads, double scale);

} // namespace diffseg::core::engine
