#pragma once

// The composite blocks of DermoSegDiff (seed spec §A4.1-A4.2): ResNet block with FiLM time
// conditioning (the reference's RB/ResnetBlock), linear and full attention (LAtt, LSAtt), the
// encoder / bottleneck / decoder modules (EM, BM, DM) and the resampling convs. They share one
// translation unit (Blocks.cpp) to keep LibTorch compile time down. Child module names reproduce
// the reference's state_dict paths (e.g. `rb.block1.proj.weight`, `att.fn.fn.to_out.1.bias`).
// Engine-internal header.

#include "Layers.h"

namespace diffseg::core::engine {

/// An input that is an affine image of one channel: x = gain[c] * source + offset[c] (the
/// network's 1x1 init conv of the 1-channel x_t).
struct RankOneInput
{
    at::Tensor source; ///< (B, 1, H, W), the compute dtype
    at::Tensor gain;   ///< (C) float32
    at::Tensor offset; ///< (C) float32
};

/// RB(dim, dim_out, time_dim, groups): WSConv3x3 -> GN -> FiLM -> SiLU -> WSConv3x3 -> GN -> SiLU,
/// plus a 1x1 residual conv when the width changes. `timeAct` is SiLU(time embedding), which
/// every block's time MLP starts with, so the network computes it once per forward.
class ResnetBlockImpl : public torch::nn::Module
{
public:
    ResnetBlockImpl(std::int64_t dim, std::int64_t dimOut, std::int64_t timeDim,
                    std::int64_t groups, WeightInit init);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& timeAct);
    /// forward() for x = the rank-one input (already materialised, for the residual): the first
    /// convolution runs on [source, 1] with the weights folded over the input channels, so a
    /// dim -> dim 3x3 convolution becomes a 2 -> dim one (same result; the constant channel
    /// carries the offset's response, zero padding included).
    at::Tensor forwardRankOne(const at::Tensor& x, const RankOneInput& rankOne,
                              const at::Tensor& timeAct);

private:
    at::Tensor finish(const at::Tensor& h1, const at::Tensor& x, const at::Tensor& scale,
                      const at::Tensor& shift);

    std::int64_t m_dimOut;
    LinearLayer m_mlp{nullptr};
    WsConv2dLayer m_proj1{nullptr};
    GroupNormLayer m_norm1{nullptr};
    WsConv2dLayer m_proj2{nullptr};
    GroupNormLayer m_norm2{nullptr};
    Conv2dLayer m_resConv{nullptr}; ///< null for the identity residual
};
TORCH_MODULE(ResnetBlock);

/// LAtt(dim) = x + LinearAttention(GroupNorm(1, dim)(x)); 4 heads of 32 channels, softmax of q over
/// features and of k over positions, output 1x1 conv followed by GroupNorm(1, dim).
class LinearAttentionBlockImpl : public torch::nn::Module
{
public:
    LinearAttentionBlockImpl(std::int64_t dim, WeightInit init);
    at::Tensor forward(const at::Tensor& x);

private:
    GroupNormLayer m_preNorm{nullptr};
    Conv2dLayer m_toQkv{nullptr};
    Conv2dLayer m_toOut{nullptr};
    GroupNormLayer m_outNorm{nullptr};
};
TORCH_MODULE(LinearAttentionBlock);

/// LSAtt(dim) = [x + Attention(GN(x))] + LAtt(x): the reference counts x twice (quirk A11.5).
class LinearSelfAttentionBlockImpl : public torch::nn::Module
{
public:
    LinearSelfAttentionBlockImpl(std::int64_t dim, WeightInit init);
    at::Tensor forward(const at::Tensor& x);

private:
    GroupNormLayer m_preNorm{nullptr};
    Conv2dLayer m_toQkv{nullptr};
    Conv2dLayer m_toOut{nullptr};
    LinearAttentionBlock m_linear{nullptr};
};
TORCH_MODULE(LinearSelfAttentionBlock);

/// What an encoder module hands on: the two branches and the two skips for the decoder.
struct EncoderOutput
{
    at::Tensor x;
    at::Tensor g; ///< dx + dg channels
    at::Tensor h; ///< skip after the first exchange, cat[x, g]
    at::Tensor b; ///< skip after the attention, cat[x, g]
};

/// EM(dim_x, dim_g): the dual-branch encoder step with the g -> x feedback gate (§A4.2).
class EncoderModuleImpl : public torch::nn::Module
{
public:
    EncoderModuleImpl(std::int64_t dimX, std::int64_t dimG, std::int64_t timeX, std::int64_t timeG,
                      std::int64_t groups, WeightInit init);
    /// `rankOne`, when set, says that x is that rank-one input (the first level).
    EncoderOutput forward(const at::Tensor& x, const at::Tensor& g, const at::Tensor& timeActX,
                          const at::Tensor& timeActG, const RankOneInput* rankOne = nullptr);

private:
    ResnetBlock m_rbX1{nullptr};
    ResnetBlock m_rbG1{nullptr};
    ResnetBlock m_rbX2{nullptr};
    ResnetBlock m_rbG2{nullptr};
    Conv2dLayer m_gFeedback{nullptr};
    LinearAttentionBlock m_attX{nullptr};
    LinearAttentionBlock m_attG{nullptr};
};
TORCH_MODULE(EncoderModule);

/// BM: RB -> LSAtt -> RB over cat[x, attention], all with the reference's fixed 4 groups.
class BottleneckModuleImpl : public torch::nn::Module
{
public:
    static constexpr std::int64_t kGroups = 4;
    BottleneckModuleImpl(std::int64_t dimIn, std::int64_t dimOut, std::int64_t timeDim,
                         WeightInit init);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& timeAct);

private:
    ResnetBlock m_before{nullptr};
    LinearSelfAttentionBlock m_attention{nullptr};
    ResnetBlock m_after{nullptr};
};
TORCH_MODULE(BottleneckModule);

/// DM: RB(cat[x, b]) -> RB(cat[x, h]) -> LAtt.
class DecoderModuleImpl : public torch::nn::Module
{
public:
    DecoderModuleImpl(std::int64_t dimIn, std::int64_t dimOut, std::int64_t timeDim,
                      std::int64_t groups, WeightInit init);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& b, const at::Tensor& h,
                       const at::Tensor& timeAct);

private:
    ResnetBlock m_rb1{nullptr};
    ResnetBlock m_rb2{nullptr};
    LinearAttentionBlock m_att{nullptr};
};
TORCH_MODULE(DecoderModule);

/// conv3x3(nearest 2x upsample(x)) with the parameters of the 3x3 conv. Rewritten (the default)
/// as one 2x2 convolution at the low resolution with four kernels, one per output parity, whose
/// taps are the 3x3 taps summed over the input pixels they share; the four results interleave
/// into the output. Same result, 4/9 of the multiply-adds and no upsampled copy of the input.
class UpsampleConv2dLayerImpl : public Conv2dLayerImpl
{
public:
    UpsampleConv2dLayerImpl(std::int64_t in, std::int64_t out, WeightInit init);
    at::Tensor forward(const at::Tensor& x);
    /// false: the plain form (upsample, then the 3x3 conv), for tests and comparisons.
    void setRewrite(bool on);

protected:
    /// The four folded kernels, (4 out, in, 2, 2), parity (a, b) at block 2a + b.
    at::Tensor computeWeight() const override;

private:
    bool m_rewrite = true;
};
TORCH_MODULE(UpsampleConv2dLayer);

/// The reference's Downsample (2x2 space-to-depth, then 1x1 conv) or Upsample (nearest x2, then
/// 3x3 conv); either keeps its conv as child "1", like the reference's Sequential.
class ResampleConvImpl : public torch::nn::Module
{
public:
    enum class Direction
    {
        Down,
        Up
    };
    ResampleConvImpl(Direction direction, std::int64_t dimIn, std::int64_t dimOut, WeightInit init);
    at::Tensor forward(const at::Tensor& x);
    void setRewrite(bool on);

private:
    Direction m_direction;
    Conv2dLayer m_down{nullptr};
    UpsampleConv2dLayer m_up{nullptr};
};
TORCH_MODULE(ResampleConv);

/// A resolution change between levels: ResampleConv, or a plain 3x3 conv at the last level (the
/// reference's `nn.Conv2d(..., 3, padding=1)` in place of Down/Upsample). Holds one of the two.
struct LevelTransition
{
    ResampleConv resample{nullptr};
    Conv2dLayer plain{nullptr};

    /// Registers the chosen module as `name` in `parent`.
    static LevelTransition make(torch::nn::Module& parent, const std::string& name, bool last,
                                ResampleConvImpl::Direction direction, std::int64_t dimIn,
                                std::int64_t dimOut, WeightInit init);
    at::Tensor operator()(const at::Tensor& x);
    void setRewrite(bool on);
};

} // namespace diffseg::core::engine
