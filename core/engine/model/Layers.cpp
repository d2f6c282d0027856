#include "Layers.h"

#include "GroupNormKernel.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>

#include <cmath>

namespace diffseg::core::engine {

namespace {

thread_local MacCountScope* t_macScope = nullptr;

at::Tensor uniformParameter(at::IntArrayRef shape, double bound, WeightInit init)
{
    c10::NoGradGuard noGrad;
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(at::kFloat));
    if (init == WeightInit::Default) {
        t.uniform_(-bound, bound);
    }
    return t;
}

at::Tensor constantParameter(std::int64_t size, double value, WeightInit init)
{
    at::Tensor t = at::empty({size}, at::TensorOptions().dtype(at::kFloat));
    if (init == WeightInit::Default) {
        c10::NoGradGuard noGrad;
        t.fill_(value);
    }
    return t;
}

} // namespace

MacCountScope::MacCountScope()
    : m_previous(t_macScope)
{
    t_macScope = this;
}

MacCountScope::~MacCountScope()
{
    t_macScope = m_previous;
}

void MacCountScope::add(std::int64_t macs) noexcept
{
    if (t_macScope != nullptr) {
        t_macScope->m_macs += macs;
    }
}

bool inplaceAllowed() noexcept
{
    return !c10::GradMode::is_enabled();
}

bool isChannelsLast(const at::Tensor& x)
{
    return x.dim() == 4 && x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous();
}

Conv2dLayerImpl::Conv2dLayerImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, bool bias,
                                 WeightInit init)
    : m_padding(kernel / 2)
{
    // kaiming_uniform_(a = sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as for the bias.
    const double bound = 1.0 / std::sqrt(static_cast<double>(in * kernel * kernel));
    m_weight =
        register_parameter("weight", uniformParameter({out, in, kernel, kernel}, bound, init));
    if (bias) {
        m_bias = register_parameter("bias", uniformParameter({out}, bound, init));
    }
}

at::Tensor Conv2dLayerImpl::convolve(const at::Tensor& x, const at::Tensor& weight,
                                     const at::Tensor& bias) const
{
    const std::int64_t k = weight.size(2);
    const std::int64_t positions = x.size(0) * x.size(2) * x.size(3);
    MacCountScope::add(positions * weight.size(0) * weight.size(1) * k * k);
    // The coarse levels (4x4, 8x8 at B=1) hold most of the weights but few output positions:
    // there a CPU convolution is bound by reading the weight, and oneDNN also reorders every
    // weight on every call. im2col + BLAS GEMM reads each weight once: 3x faster for the 4x4
    // bottleneck convs in float32 and up to 6x in bfloat16 (measured with `diffseg bench
    // forward`); oneDNN wins once there are more positions per weight.
    // In bf16 (inference only: LibTorch 1.13's bf16 im2col backward refuses the cast weight)
    // the GEMM also wins for the 5-member ensemble at 4x4.
    const bool bf16 = x.scalar_type() == at::kBFloat16 && !c10::GradMode::is_enabled();
    const bool weightBound = positions <= 16 || (positions <= 64 && weight.numel() >= (4 << 20)) ||
                             (bf16 && positions <= 80 && weight.numel() >= (4 << 20));
    const bool cpuFloat = x.device().is_cpu() && (x.scalar_type() == at::kFloat || bf16);
    if (weightBound && cpuFloat) {
        const at::Tensor y =
            at::thnn_conv2d(x, weight, {k, k}, bias, {1, 1}, {m_padding, m_padding});
        // im2col works on NCHW; hand a channels-last network its layout back.
        return isChannelsLast(x) ? y.contiguous(at::MemoryFormat::ChannelsLast) : y;
    }
    return at::conv2d(x, weight, bias, /*stride=*/1, /*padding=*/m_padding);
}

at::Tensor Conv2dLayerImpl::computeWeight() const
{
    return m_weight;
}

bool Conv2dLayerImpl::cacheUsable() const
{
    // Inference tensors carry no version counter, so a cache could not notice their changes.
    return !is_training() && (!c10::GradMode::is_enabled() || !m_weight.requires_grad()) &&
           !m_weight.is_inference();
}

void Conv2dLayerImpl::refreshCache(at::ScalarType dtype)
{
    const void* data = m_weight.data_ptr();
    const std::int64_t version = m_weight._version() + (m_bias.defined() ? m_bias._version() : 0);
    if (m_cachedWeight.defined() && data == m_cachedData && version == m_cachedVersion &&
        m_cachedWeight.scalar_type() == dtype && m_cachedWeight.device() == m_weight.device()) {
        return;
    }
    // Plain tensors, even when filled under InferenceMode: an inference tensor could not be used
    // by a later forward that records autograd (frozen weights, input gradients).
    c10::InferenceMode notInference(false);
    c10::NoGradGuard noGrad;
    const at::Tensor w = computeWeight();
    m_cachedWeight = w.scalar_type() == dtype ? w : w.to(dtype);
    m_cachedBias = !m_bias.defined() || m_bias.scalar_type() == dtype ? m_bias : m_bias.to(dtype);
    m_cachedData = data;
    m_cachedVersion = version;
    ++m_prepareCount;
}

void Conv2dLayerImpl::dropCache()
{
    m_cachedWeight = at::Tensor();
    m_cachedBias = at::Tensor();
    m_cachedData = nullptr;
    m_cachedVersion = -1;
}

at::Tensor Conv2dLayerImpl::weightFor(at::ScalarType dtype)
{
    if (cacheUsable()) {
        refreshCache(dtype);
        return m_cachedWeight;
    }
    ++m_prepareCount;
    const at::Tensor w = computeWeight();
    return w.scalar_type() == dtype ? w : w.to(dtype);
}

at::Tensor Conv2dLayerImpl::biasFor(at::ScalarType dtype)
{
    if (cacheUsable()) {
        refreshCache(dtype);
        return m_cachedBias;
    }
    return !m_bias.defined() || m_bias.scalar_type() == dtype ? m_bias : m_bias.to(dtype);
}

at::Tensor Conv2dLayerImpl::forward(const at::Tensor& x)
{
    const at::ScalarType dtype = x.scalar_type();
    const at::Tensor bias = biasFor(dtype);
    return convolve(x, weightFor(dtype), bias);
}

void Conv2dLayerImpl::train(bool on)
{
    if (on) {
        dropCache();
    }
    torch::nn::Module::train(on);
}

WsConv2dLayerImpl::WsConv2dLayerImpl(std::int64_t in, std::int64_t out, std::int64_t kernel,
                                     WeightInit init)
    : Conv2dLayerImpl(in, out, kernel, /*bias=*/true, init)
{}

at::Tensor WsConv2dLayerImpl::computeWeight() const
{
    const double eps = m_weight.scalar_type() == at::kFloat ? 1e-5 : 1e-3;
    auto [var, mean] = at::var_mean(m_weight, at::IntArrayRef{1, 2, 3}, /*unbiased=*/false,
                                    /*keepdim=*/true);
    return (m_weight - mean) * at::rsqrt(var + eps);
}

GroupNormLayerImpl::GroupNormLayerImpl(std::int64_t groups, std::int64_t channels)
    : m_groups(groups)
{
    m_weight = register_parameter("weight", constantParameter(channels, 1.0, WeightInit::Default));
    m_bias = register_parameter("bias", constantParameter(channels, 0.0, WeightInit::Default));
}

namespace {

/// The fused kernel (forward, and backward under autograd) wherever it takes the input.
bool useFusedGroupNorm(const at::Tensor& x)
{
    return fusedGroupNormSupports(x);
}

/// Statistics of a bfloat16 tensor are taken in float32 (LibTorch 1.13's channels-last bf16
/// kernel accumulates in bf16).
at::Tensor statisticsInput(const at::Tensor& x)
{
    return x.scalar_type() == at::kBFloat16 ? x.to(at::kFloat) : x;
}

} // namespace

at::Tensor GroupNormLayerImpl::forward(const at::Tensor& x)
{
    if (useFusedGroupNorm(x)) {
        const std::int64_t batch = x.size(0);
        return fusedGroupNorm(x, m_groups, m_weight.unsqueeze(0).expand({batch, -1}),
                              m_bias.unsqueeze(0).expand({batch, -1}), /*silu=*/false);
    }
    return at::group_norm(statisticsInput(x), m_groups, m_weight, m_bias, 1e-5).to(x.scalar_type());
}

at::Tensor GroupNormLayerImpl::forwardSilu(const at::Tensor& x)
{
    if (useFusedGroupNorm(x)) {
        const std::int64_t batch = x.size(0);
        return fusedGroupNorm(x, m_groups, m_weight.unsqueeze(0).expand({batch, -1}),
                              m_bias.unsqueeze(0).expand({batch, -1}), /*silu=*/true);
    }
    at::Tensor y = at::group_norm(statisticsInput(x), m_groups, m_weight, m_bias, 1e-5);
    y = inplaceAllowed() ? at::silu_(y) : at::silu(y);
    return y.to(x.scalar_type());
}

at::Tensor GroupNormLayerImpl::forwardModulated(const at::Tensor& x, const at::Tensor& scale,
                                                const at::Tensor& shift, bool silu)
{
    // ((x - mu)/sigma * w + b) * (s + 1) + h  ==  (x - mu)/sigma * [w (s + 1)] + [b (s + 1) + h]
    const at::Tensor scalePlusOne = scale + 1;
    const at::Tensor a = scalePlusOne * m_weight;
    const at::Tensor b = at::addcmul(shift, scalePlusOne, m_bias);
    if (useFusedGroupNorm(x)) {
        return fusedGroupNorm(x, m_groups, a, b, silu);
    }
    const at::Tensor normalized = at::group_norm(statisticsInput(x), m_groups, {}, {}, 1e-5);
    const at::Tensor a4 = a.unsqueeze(-1).unsqueeze(-1);
    const at::Tensor b4 = b.unsqueeze(-1).unsqueeze(-1);
    at::Tensor out;
    if (inplaceAllowed()) {
        // Nothing needs `normalized` for a backward pass, so the result may reuse its memory.
        out = normalized;
        at::addcmul_out(out, b4, normalized, a4);
        if (silu) {
            at::silu_(out);
        }
    } else {
        out = at::addcmul(b4, normalized, a4);
        if (silu) {
            out = at::silu(out);
        }
    }
    return out.to(x.scalar_type());
}

LinearLayerImpl::LinearLayerImpl(std::int64_t in, std::int64_t out, WeightInit init)
{
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    m_weight = register_parameter("weight", uniformParameter({out, in}, bound, init));
    m_bias = register_parameter("bias", uniformParameter({out}, bound, init));
}

at::Tensor LinearLayerImpl::forward(const at::Tensor& x)
{
    MacCountScope::add(x.numel() / x.size(-1) * m_weight.size(0) * m_weight.size(1));
    if (x.scalar_type() != m_weight.scalar_type()) {
        return at::linear(x, m_weight.to(x.scalar_type()), m_bias.to(x.scalar_type()));
    }
    return at::linear(x, m_weight, m_bias);
}

} // namespace diffseg::core::engine
