#include "Blocks.h"

#include "base/Error.h"

#include <ATen/ATen.h>

#include <array>
#include <cmath>

namespace diffseg::core::engine {

namespace {

constexpr std::int64_t kHeads = 4;
constexpr std::int64_t kDimHead = 32;
constexpr std::int64_t kHidden = kHeads * kDimHead;

// Both helpers take a freshly computed tensor that nothing else refers to, so without autograd
// they may overwrite it.
at::Tensor activate(at::Tensor x)
{
    return inplaceAllowed() ? at::silu_(x) : at::silu(x);
}

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

at::Tensor linearAttention(const at::Tensor& xNormed, Conv2dLayer& toQkv, Conv2dLayer& toOut,
                           GroupNormLayer& outNorm)
{
    const std::int64_t batch = xNormed.size(0);
    auto [q, k, v] = splitQkv(toQkv(xNormed));
    q = at::softmax(q, -2); // over the 32 features of each position
    k = at::softmax(k, -1); // over positions
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

at::Tensor ResnetBlockImpl::forward(const at::Tensor& x, const at::Tensor& timeAct)
{
    const at::Tensor scaleShift = m_mlp(timeAct);
    const at::Tensor scale = scaleShift.narrow(1, 0, m_dimOut);
    const at::Tensor shift = scaleShift.narrow(1, m_dimOut, m_dimOut);
    at::Tensor h = activate(m_norm1->forwardModulated(m_proj1(x), scale, shift));
    h = activate(m_norm2(m_proj2(h)));
    return addResidual(h, m_resConv ? m_resConv(x) : x);
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
                                         const at::Tensor& timeActX, const at::Tensor& timeActG)
{
    EncoderOutput out;
    at::Tensor x = m_rbX1(xIn, timeActX);
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
ResampleConvImpl::ResampleConvImpl(Direction direction, std::int64_t dimIn, std::int64_t dimOut,
                                   WeightInit init)
    : m_direction(direction)
{
    m_conv = direction == Direction::Down
                 ? register_module("1", Conv2dLayer(4 * dimIn, dimOut, 1, true, init))
                 : register_module("1", Conv2dLayer(dimIn, dimOut, 3, true, init));
}

at::Tensor ResampleConvImpl::forward(const at::Tensor& x)
{
    if (m_direction == Direction::Down) {
        // Channel order c*4 + 2*row + col, as the reference's einops Rearrange.
        return m_conv(at::pixel_unshuffle(x, 2));
    }
    const std::array<std::int64_t, 2> size{2 * x.size(2), 2 * x.size(3)};
    return m_conv(at::upsample_nearest2d(x, size));
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

} // namespace diffseg::core::engine
