#include "Layers.h"

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

at::Tensor Conv2dLayerImpl::convolve(const at::Tensor& x, const at::Tensor& weight) const
{
    const std::int64_t k = weight.size(2);
    const std::int64_t positions = x.size(0) * x.size(2) * x.size(3);
    MacCountScope::add(positions * weight.size(0) * weight.size(1) * k * k);
    // The coarse levels (4x4, 8x8 at B=1) hold most of the weights but few output positions:
    // there a CPU convolution is bound by reading the weight, and oneDNN also reorders every
    // weight on every call. im2col + BLAS GEMM reads each weight once: 3x faster for the 4x4
    // bottleneck convs (measured with `diffseg bench forward`); oneDNN wins once there are more
    // positions per weight.
    const bool weightBound = positions <= 16 || (positions <= 64 && weight.numel() >= (4 << 20));
    if (weightBound && x.device().is_cpu() && x.scalar_type() == at::kFloat) {
        return at::thnn_conv2d(x, weight, {k, k}, m_bias, {1, 1}, {m_padding, m_padding});
    }
    return at::conv2d(x, weight, m_bias, /*stride=*/1, /*padding=*/m_padding);
}

at::Tensor Conv2dLayerImpl::forward(const at::Tensor& x)
{
    return convolve(x, m_weight);
}

WsConv2dLayerImpl::WsConv2dLayerImpl(std::int64_t in, std::int64_t out, std::int64_t kernel,
                                     WeightInit init)
    : Conv2dLayerImpl(in, out, kernel, /*bias=*/true, init)
{}

at::Tensor WsConv2dLayerImpl::computeStandardized() const
{
    const double eps = m_weight.scalar_type() == at::kFloat ? 1e-5 : 1e-3;
    auto [var, mean] = at::var_mean(m_weight, at::IntArrayRef{1, 2, 3}, /*unbiased=*/false,
                                    /*keepdim=*/true);
    return (m_weight - mean) * at::rsqrt(var + eps);
}

at::Tensor WsConv2dLayerImpl::standardizedWeight()
{
    // Inference tensors carry no version counter, so a cache could not notice their changes.
    const bool cacheable = !is_training() &&
                           (!c10::GradMode::is_enabled() || !m_weight.requires_grad()) &&
                           !m_weight.is_inference();
    if (!cacheable) {
        ++m_standardizeCount;
        return computeStandardized();
    }
    const void* data = m_weight.data_ptr();
    const std::int64_t version = m_weight._version();
    if (!m_cached.defined() || data != m_cachedData || version != m_cachedVersion ||
        m_cached.scalar_type() != m_weight.scalar_type() ||
        m_cached.device() != m_weight.device()) {
        // A plain tensor, even when filled under InferenceMode: an inference tensor could not
        // be used by a later forward that records autograd (frozen weights, input gradients).
        c10::InferenceMode notInference(false);
        c10::NoGradGuard noGrad;
        m_cached = computeStandardized();
        m_cachedData = data;
        m_cachedVersion = version;
        ++m_standardizeCount;
    }
    return m_cached;
}

at::Tensor WsConv2dLayerImpl::forward(const at::Tensor& x)
{
    return convolve(x, standardizedWeight());
}

void WsConv2dLayerImpl::train(bool on)
{
    if (on) {
        m_cached = at::Tensor();
        m_cachedData = nullptr;
        m_cachedVersion = -1;
    }
    Conv2dLayerImpl::train(on);
}

GroupNormLayerImpl::GroupNormLayerImpl(std::int64_t groups, std::int64_t channels)
    : m_groups(groups)
{
    m_weight = register_parameter("weight", constantParameter(channels, 1.0, WeightInit::Default));
    m_bias = register_parameter("bias", constantParameter(channels, 0.0, WeightInit::Default));
}

at::Tensor GroupNormLayerImpl::forward(const at::Tensor& x)
{
    return at::group_norm(x, m_groups, m_weight, m_bias, 1e-5);
}

at::Tensor GroupNormLayerImpl::forwardModulated(const at::Tensor& x, const at::Tensor& scale,
                                                const at::Tensor& shift)
{
    // ((x - mu)/sigma * w + b) * (s + 1) + h  ==  (x - mu)/sigma * [w (s + 1)] + [b (s + 1) + h]
    const at::Tensor normalized = at::group_norm(x, m_groups, {}, {}, 1e-5);
    const at::Tensor scalePlusOne = scale + 1;
    const at::Tensor a = (scalePlusOne * m_weight).unsqueeze(-1).unsqueeze(-1);
    const at::Tensor b = at::addcmul(shift, scalePlusOne, m_bias).unsqueeze(-1).unsqueeze(-1);
    if (inplaceAllowed()) {
        // Nothing needs `normalized` for a backward pass, so the result may reuse its memory.
        at::Tensor out = normalized;
        return at::addcmul_out(out, b, normalized, a);
    }
    return at::addcmul(b, normalized, a);
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
    return at::linear(x, m_weight, m_bias);
}

} // namespace diffseg::core::engine
