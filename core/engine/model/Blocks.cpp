#include "Blocks.h"

#include "AttentionKernel.h"
#include "base/Error.h"

#include <ATen/ATen.h>

#include <array>
#include <cmath>

namespace diffseg::core::engine {

namespace {

constexpr std::int64_t kHeads = 4;
constexpr std::int64_t kDimHead = 32;
constexpr std::int64_t kHidden = kHeads * kDimHead;

// Takes a freshly computed tensor that nothing else refers to, so without autograd it may
// overwrite it.
at::Tensor addResidual(at::Tensor out, const at::Tensor& residual)
{
    return inplaceAllowed() ? out.add_(residual) : out + residual;
}

/// Head merges produce NCHW tensors; a channels-last network converts them back so that the
/// convolutions that follow keep running on NHWC data.
at::Tensor keepFormat(const at::Tensor& merged, const at::Tensor& like)
{
    if (like.dim() == 4 && like.size(1) > 1 && like.is_contiguous(at::MemoryFormat::ChannelsLast) &&
        !like.is_contiguous()) {
        return merged.contiguous(at::MemoryFormat::ChannelsLast);
    }
    return merged;
}

/// Splits a (B, 3*128, H, W) projection into q, k, v of shape (B, heads, 32, N).
std::array<at::Tensor, 3> splitQkv(const at::Tensor& qkv)
{
    const std::int64_t batch = qkv.size(0);
    const std::int64_t n = qkv.size(2) * qkv.size(3);
    // unbind, not three selects: each select's backward allocates and zero-fills a gradient of
    // the whole projection and adds the three up, a quarter of a small model's training step.
    const std::vector<at::Tensor> parts = qkv.reshape({batch, 3, kHeads, kDimHead, n}).unbind(1);
    return {parts[0], parts[1], parts[2]};
}

void countAttentionMacs(std::int64_t batch, std::int64_t n, std::int64_t m)
{
    // Two products per head: (d x n) . (n x m) and back, as the reference's einsums.
    MacCountScope::add(2 * batch * kHeads * kDimHead * n * m);
}

/// Linear attention on a channels-last projection without leaving that layout: tokens are rows
/// (B, N, 3, heads, 32), q is normalised over its 32 features, k over the N positions.
at::Tensor linearAttentionTokens(const at::Tensor& qkv)
{
    const std::int64_t batch = qkv.size(0);
    const std::int64_t n = qkv.size(2) * qkv.size(3);
    const std::vector<at::Tensor> parts =
        qkv.permute({0, 2, 3, 1}).reshape({batch, n, 3, kHeads, kDimHead}).unbind(2);
    // LibTorch's bf16 softmax accumulates in float32 (its sums stay within 1e-3 of 1 over 16384
    // positions), so it runs in the activations' dtype. k is made (B, h, d, N) first: its softmax
    // then runs over the contiguous last dimension, and the product below reads it as it is.
    const at::Tensor q = at::softmax(parts[0], -1); // (B, N, h, d), over features
    const at::Tensor k = at::softmax(parts[1].permute({0, 2, 3, 1}).contiguous(), -1);
    const double scale = 1.0 / std::sqrt(static_cast<double>(kDimHead));
    countAttentionMacs(batch, kDimHead, n);
    // context (B, h, d, e) = sum over positions of k_d v_e; out (B, h, N, e) = q . context.
    at::Tensor context = at::matmul(k, parts[2].permute({0, 2, 1, 3}));
    context = inplaceAllowed() ? context.mul_(scale) : context * scale;
    const at::Tensor out = at::matmul(q.permute({0, 2, 1, 3}), context);
    return out.permute({0, 2, 1, 3})
        .reshape({batch, qkv.size(2), qkv.size(3), kHidden})
        .permute({0, 3, 1, 2});
}

at::Tensor linearAttention(const at::Tensor& xNormed, Conv2dLayer& toQkv, Conv2dLayer& toOut,
                           GroupNormLayer& outNorm)
{
    const at::Tensor qkv = toQkv(xNormed);
    if (linearAttentionKernelSupports(qkv, kHeads)) {
        countAttentionMacs(qkv.size(0), kDimHead, qkv.size(2) * qkv.size(3));
        return outNorm(toOut(
            linearAttentionKernel(qkv, kHeads, 1.0 / std::sqrt(static_cast<double>(kDimHead)))));
    }
    if (isChannelsLast(qkv)) {
        return outNorm(toOut(linearAttentionTokens(qkv)));
    }
    const std::int64_t batch = xNormed.size(0);
    auto [q, k, v] = splitQkv(qkv);
    q = at::softmax(q, -2); // over the 32 features of each position
    k = at::softmax(k, -1); // over positions
    countAttentionMacs(batch, kDimHead, q.size(-1));
    // The reference scales q by 32^-1/2; scaling the 32x32 context instead is the same product.
    const double scale = 1.0 / std::sqrt(static_cast<double>(kDimHead));
    const at::Tensor context = at::matmul(k, v.transpose(-1, -2)).mul_(scale); // (B, h, d, e)
    const at::Tensor out = at::matmul(context.transpose(-1, -2), q);           // (B, h, e, N)
    return outNorm(toOut(
        keepFormat(out.reshape({batch, kHidden, xNormed.size(2), xNormed.size(3)}), xNormed)));
}

at::Tensor fullAttention(const at::Tensor& xNormed, Conv2dLayer& toQkv, Conv2dLayer& toOut)
{
    const std::int64_t batch = xNormed.size(0);
    auto [q, k, v] = splitQkv(toQkv(xNormed));
    const double scale = 1.0 / std::sqrt(static_cast<double>(kDimHead));
    const std::int64_t n = q.size(-1);
    countAttentionMacs(batch, n, n);
    // softmax subtracts the row maximum itself, as the reference does explicitly.
    const at::Tensor attn = at::softmax(at::matmul(q.transpose(-1, -2).mul(scale), k), -1);
    const at::Tensor out = at::matmul(attn, v.transpose(-1, -2)); // (B, h, N, d)
    return toOut(keepFormat(
        out.permute({0, 1, 3, 2}).reshape({batch, kHidden, xNormed.size(2), xNormed.size(3)}),
        xNormed));
}

} // namespace

// ---------------------------------------------------------------------------------------------
ResnetBlockImpl::ResnetBlockImpl(std::int64_t dim, std::int64_t dimOut, std::int64_t timeDim,
                                 std::int64_t groups, WeightInit init)
    : m_dimOut(dimOut)
{
    m_mlp = registerAtPath(*this, "rb.mlp.1", LinearLayer(timeDim, 2 * dimOut, init));
    m_proj1 = registerAtPath(*this, "rb.block1.proj", WsConv2dLayer(dim, dimOut, 3, init));
    m_norm1 = registerAtPath(*this, "rb.block1.norm", GroupNormLayer(groups, dimOut));
    m_proj2 = registerAtPath(*this, "rb.block2.proj", WsConv2dLayer(dimOut, dimOut, 3, init));
    m_norm2 = registerAtPath(*this, "rb.block2.norm", GroupNormLayer(groups, dimOut));
    if (dim != dimOut) {
        m_resConv = registerAtPath(*this, "rb.res_conv", Conv2dLayer(dim, dimOut, 1, true, init));
    }
}

at::Tensor ResnetBlockImpl::finish(const at::Tensor& h1, const at::Tensor& x,
                                   const at::Tensor& scale, const at::Tensor& shift)
{
    at::Tensor h = m_norm1->forwardModulated(h1, scale, shift, /*silu=*/true);
    h = m_norm2->forwardSilu(m_proj2(h));
    return addResidual(h, m_resConv ? m_resConv(x) : x);
}

at::Tensor ResnetBlockImpl::forward(const at::Tensor& x, const at::Tensor& timeAct)
{
    const at::Tensor scaleShift = m_mlp(timeAct);
    return finish(m_proj1(x), x, scaleShift.narrow(1, 0, m_dimOut),
                  scaleShift.narrow(1, m_dimOut, m_dimOut));
}

at::Tensor ResnetBlockImpl::forwardRankOne(const at::Tensor& x, const RankOneInput& rankOne,
                                           const at::Tensor& timeAct)
{
    const at::ScalarType dtype = x.scalar_type();
    // conv(gain * s + offset, W) = conv(s, sum_c W[:, c] gain_c) + conv(1, sum_c W[:, c] offset_c)
    const at::Tensor w = m_proj1->weightFor(dtype).to(at::kFloat);
    const auto fold = [&](const at::Tensor& v) {
        return (w * v.to(at::kFloat).view({1, -1, 1, 1})).sum(1, /*keepdim=*/true);
    };
    const at::Tensor kernel = at::cat({fold(rankOne.gain), fold(rankOne.offset)}, 1).to(dtype);
    at::Tensor input = at::cat({rankOne.source, at::ones_like(rankOne.source)}, 1);
    if (isChannelsLast(x)) {
        input = input.contiguous(at::MemoryFormat::ChannelsLast);
    }
    const at::Tensor scaleShift = m_mlp(timeAct);
    return finish(m_proj1->convolve(input, kernel, m_proj1->biasFor(dtype)), x,
                  scaleShift.narrow(1, 0, m_dimOut), scaleShift.narrow(1, m_dimOut, m_dimOut));
}

// ---------------------------------------------------------------------------------------------
LinearAttentionBlockImpl::LinearAttentionBlockImpl(std::int64_t dim, WeightInit init)
{
    m_toQkv =
        registerAtPath(*this, "att.fn.fn.to_qkv", Conv2dLayer(dim, 3 * kHidden, 1, false, init));
    m_toOut = registerAtPath(*this, "att.fn.fn.to_out.0", Conv2dLayer(kHidden, dim, 1, true, init));
    m_outNorm = registerAtPath(*this, "att.fn.fn.to_out.1", GroupNormLayer(1, dim));
    m_preNorm = registerAtPath(*this, "att.fn.norm", GroupNormLayer(1, dim));
}

at::Tensor LinearAttentionBlockImpl::forward(const at::Tensor& x)
{
    return addResidual(linearAttention(m_preNorm(x), m_toQkv, m_toOut, m_outNorm), x);
}

// ---------------------------------------------------------------------------------------------
LinearSelfAttentionBlockImpl::LinearSelfAttentionBlockImpl(std::int64_t dim, WeightInit init)
{
    m_toQkv =
        registerAtPath(*this, "s_attn.fn.fn.to_qkv", Conv2dLayer(dim, 3 * kHidden, 1, false, init));
    m_toOut =
        registerAtPath(*this, "s_attn.fn.fn.to_out", Conv2dLayer(kHidden, dim, 1, true, init));
    m_preNorm = registerAtPath(*this, "s_attn.fn.norm", GroupNormLayer(1, dim));
    m_linear = registerAtPath(*this, "l_attn", LinearAttentionBlock(dim, init));
}

at::Tensor LinearSelfAttentionBlockImpl::forward(const at::Tensor& x)
{
    const at::Tensor selfAttended = addResidual(fullAttention(m_preNorm(x), m_toQkv, m_toOut), x);
    return addResidual(m_linear(x), selfAttended);
}

// ---------------------------------------------------------------------------------------------
EncoderModuleImpl::EncoderModuleImpl(std::int64_t dimX, std::int64_t dimG, std::int64_t timeX,
                                     std::int64_t timeG, std::int64_t groups, WeightInit init)
{
    m_rbX1 = register_module("rb_x1", ResnetBlock(dimX, dimX, timeX, groups, init));
    m_rbG1 = register_module("rb_g1", ResnetBlock(dimG, dimG, timeG, groups, init));
    m_rbX2 = register_module("rb_x2", ResnetBlock(dimX, dimX, timeX, groups, init));
    m_rbG2 = register_module("rb_g2", ResnetBlock(dimG + dimX, dimG, timeG, groups, init));
    m_gFeedback = register_module("g_feedback", Conv2dLayer(dimG, dimX, 1, true, init));
    m_attX = register_module("att_x", LinearAttentionBlock(dimX, init));
    m_attG = register_module("att_g", LinearAttentionBlock(dimG + dimX, init));
}

EncoderOutput EncoderModuleImpl::forward(const at::Tensor& xIn, const at::Tensor& gIn,
                                         const at::Tensor& timeActX, const at::Tensor& timeActG,
                                         const RankOneInput* rankOne)
{
    EncoderOutput out;
    at::Tensor x = rankOne != nullptr ? m_rbX1->forwardRankOne(xIn, *rankOne, timeActX)
                                      : m_rbX1(xIn, timeActX);
    at::Tensor g = m_rbG1(gIn, timeActG);
    // No module writes into its input, so the skips need no clone (the reference clones them).
    out.h = at::cat({x, g}, 1);
    g = m_rbG2(out.h, timeActG);
    at::Tensor gate = m_gFeedback(g);
    gate = inplaceAllowed() ? gate.mul_(x) : gate * x;
    x = m_attX(m_rbX2(gate, timeActX));
    out.b = at::cat({x, g}, 1);
    out.g = m_attG(out.b);
    out.x = x;
    return out;
}

// ---------------------------------------------------------------------------------------------
BottleneckModuleImpl::BottleneckModuleImpl(std::int64_t dimIn, std::int64_t dimOut,
                                           std::int64_t timeDim, WeightInit init)
{
    m_before = register_module("rb_before", ResnetBlock(dimIn, dimOut, timeDim, kGroups, init));
    m_attention = register_module("ls_attn", LinearSelfAttentionBlock(dimOut, init));
    m_after = register_module("rb_after", ResnetBlock(2 * dimOut, dimOut, timeDim, kGroups, init));
}

at::Tensor BottleneckModuleImpl::forward(const at::Tensor& xIn, const at::Tensor& timeAct)
{
    const at::Tensor x = m_before(xIn, timeAct);
    const at::Tensor attended = m_attention(x);
    return m_after(at::cat({x, attended}, 1), timeAct);
}

// ---------------------------------------------------------------------------------------------
DecoderModuleImpl::DecoderModuleImpl(std::int64_t dimIn, std::int64_t dimOut, std::int64_t timeDim,
                                     std::int64_t groups, WeightInit init)
{
    m_rb1 = register_module("rb_d1", ResnetBlock(dimIn, dimOut, timeDim, groups, init));
    m_rb2 = register_module("rb_d2", ResnetBlock(dimIn, dimOut, timeDim, groups, init));
    m_att = register_module("att_x", LinearAttentionBlock(dimOut, init));
}

at::Tensor DecoderModuleImpl::forward(const at::Tensor& xIn, const at::Tensor& b,
                                      const at::Tensor& h, const at::Tensor& timeAct)
{
    at::Tensor x = m_rb1(at::cat({xIn, b}, 1), timeAct);
    x = m_rb2(at::cat({x, h}, 1), timeAct);
    return m_att(x);
}

// ---------------------------------------------------------------------------------------------
UpsampleConv2dLayerImpl::UpsampleConv2dLayerImpl(std::int64_t in, std::int64_t out, WeightInit init)
    : Conv2dLayerImpl(in, out, 3, /*bias=*/true, init)
{}

void UpsampleConv2dLayerImpl::setRewrite(bool on)
{
    if (on != m_rewrite) {
        m_rewrite = on;
        dropCache();
    }
}

at::Tensor UpsampleConv2dLayerImpl::computeWeight() const
{
    // Output row 2i + a of the upsampled 3x3 conv reads input rows {i-1, i} (a = 0: taps 0 | 1+2)
    // or {i, i+1} (a = 1: taps 0+1 | 2); the same holds for columns.
    const auto fold = [](const at::Tensor& w, std::int64_t dim, int parity) {
        const at::Tensor t0 = w.narrow(dim, 0, 1);
        const at::Tensor t1 = w.narrow(dim, 1, 1);
        const at::Tensor t2 = w.narrow(dim, 2, 1);
        return parity == 0 ? at::cat({t0, t1 + t2}, dim) : at::cat({t0 + t1, t2}, dim);
    };
    std::vector<at::Tensor> kernels;
    for (int a = 0; a < 2; ++a) {
        const at::Tensor rows = fold(m_weight, 2, a);
        for (int b = 0; b < 2; ++b) {
            kernels.push_back(fold(rows, 3, b));
        }
    }
    return at::cat(kernels, 0);
}

at::Tensor UpsampleConv2dLayerImpl::forward(const at::Tensor& x)
{
    const at::ScalarType dtype = x.scalar_type();
    if (!m_rewrite) {
        const std::array<std::int64_t, 2> size{2 * x.size(2), 2 * x.size(3)};
        const at::Tensor w = m_weight.scalar_type() == dtype ? m_weight : m_weight.to(dtype);
        const at::Tensor b = m_bias.scalar_type() == dtype ? m_bias : m_bias.to(dtype);
        return convolve(at::upsample_nearest2d(x, size), w, b);
    }
    const std::int64_t batch = x.size(0);
    const std::int64_t channels = outChannels();
    const std::int64_t h = x.size(2);
    const std::int64_t w = x.size(3);
    // The 2x2 convolution with padding 1 gives (h + 1) x (w + 1) positions; parity (a, b) reads
    // them from (a, b) on.
    const at::Tensor y = convolve(x, weightFor(dtype), biasFor(dtype).repeat({4}));
    at::Tensor out =
        at::empty({batch, channels, 2 * h, 2 * w},
                  y.options().memory_format(isChannelsLast(x) ? at::MemoryFormat::ChannelsLast
                                                              : at::MemoryFormat::Contiguous));
    for (int a = 0; a < 2; ++a) {
        for (int b = 0; b < 2; ++b) {
            out.slice(2, a, 2 * h, 2)
                .slice(3, b, 2 * w, 2)
                .copy_(
                    y.narrow(1, (2 * a + b) * channels, channels).narrow(2, a, h).narrow(3, b, w));
        }
    }
    return out;
}

ResampleConvImpl::ResampleConvImpl(Direction direction, std::int64_t dimIn, std::int64_t dimOut,
                                   WeightInit init)
    : m_direction(direction)
{
    if (direction == Direction::Down) {
        m_down = register_module("1", Conv2dLayer(4 * dimIn, dimOut, 1, true, init));
    } else {
        m_up = register_module("1", UpsampleConv2dLayer(dimIn, dimOut, init));
    }
}

at::Tensor ResampleConvImpl::forward(const at::Tensor& x)
{
    if (m_direction == Direction::Down) {
        // Channel order c*4 + 2*row + col, as the reference's einops Rearrange.
        return m_down(at::pixel_unshuffle(x, 2));
    }
    return m_up(x);
}

void ResampleConvImpl::setRewrite(bool on)
{
    if (m_up) {
        m_up->setRewrite(on);
    }
}

LevelTransition LevelTransition::make(torch::nn::Module& parent, const std::string& name, bool last,
                                      ResampleConvImpl::Direction direction, std::int64_t dimIn,
                                      std::int64_t dimOut, WeightInit init)
{
    LevelTransition t;
    if (last) {
        t.plain = parent.register_module(name, Conv2dLayer(dimIn, dimOut, 3, true, init));
    } else {
        t.resample = parent.register_module(name, ResampleConv(direction, dimIn, dimOut, init));
    }
    return t;
}

at::Tensor LevelTransition::operator()(const at::Tensor& x)
{
    return plain ? plain(x) : resample(x);
}

void LevelTransition::setRewrite(bool on)
{
    if (resample) {
        resample->setRewrite(on);
    }
}

} // namespace diffseg::core::engine
