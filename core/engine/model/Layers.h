#pragma once

// Leaf layers of the DermoSegDiff network: convolution, weight-standardised convolution, group
// norm and linear. They share one translation unit (Layers.cpp) to keep LibTorch compile time
// down; each registers `weight`/`bias` exactly as the PyTorch layer it mirrors, so state_dict
// names match the reference. Engine-internal header.

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>

namespace diffseg::core::engine {

/// How a new layer fills its parameters.
enum class WeightInit
{
    Default, ///< PyTorch's defaults: U(-1/sqrt(fan_in), 1/sqrt(fan_in)); GroupNorm 1 and 0
    None     ///< uninitialised memory, for a model whose weights are loaded right after
};

/// Counts the multiply-accumulates of every convolution, linear layer and attention product run
/// on this thread
/// while the scope is alive (nested scopes: the innermost counts). For benchmarks; costs one
/// thread-local read per layer call otherwise.
class MacCountScope
{
public:
    MacCountScope();
    ~MacCountScope();
    MacCountScope(const MacCountScope&) = delete;
    MacCountScope& operator=(const MacCountScope&) = delete;

    std::int64_t macs() const noexcept { return m_macs; }
    static void add(std::int64_t macs) noexcept;

private:
    std::int64_t m_macs = 0;
    MacCountScope* m_previous = nullptr;
};

/// True when ops may overwrite their inputs: autograd is off, so nothing saved for backward can
/// be clobbered.
bool inplaceAllowed() noexcept;

/// True for a 4-D tensor stored channels-last (NHWC) that is not also plain contiguous.
bool isChannelsLast(const at::Tensor& x);

/// nn.Conv2d with stride 1 and "same" padding (kernel 1 or 3 in this network).
///
/// The input's dtype decides the arithmetic: a bfloat16 input convolves with a bfloat16 copy of
/// the (float32 master) weight, cast differentiably in training so that gradients reach the
/// float32 parameters. In eval mode without gradients the prepared weight (cast, standardised in
/// WsConv2dLayer) is computed once and cached; the cache is keyed on the weight's storage,
/// version counter, dtype and device, so in-place updates (optimizer steps, loading, copy_),
/// `to(device)` and dtype changes all invalidate it, and train() drops it. Not thread-safe: one
/// forward at a time per model.
class Conv2dLayerImpl : public torch::nn::Module
{
public:
    Conv2dLayerImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, bool bias,
                    WeightInit init);
    at::Tensor forward(const at::Tensor& x);
    void train(bool on = true) override;

    const at::Tensor& weight() const noexcept { return m_weight; }
    const at::Tensor& bias() const noexcept { return m_bias; }
    std::int64_t inChannels() const noexcept { return m_weight.size(1); }
    std::int64_t outChannels() const noexcept { return m_weight.size(0); }

    /// The weight (and bias; undefined without one) as a convolution of a `dtype` input uses
    /// them: cached or fresh, as the class comment says.
    at::Tensor weightFor(at::ScalarType dtype);
    at::Tensor biasFor(at::ScalarType dtype);
    /// How many times the prepared weight was computed (to test the cache).
    std::int64_t prepareCount() const noexcept { return m_prepareCount; }

    /// The convolution itself with the given weight and bias (stride 1, this layer's padding).
    at::Tensor convolve(const at::Tensor& x, const at::Tensor& weight,
                        const at::Tensor& bias) const;

protected:
    /// The float32 weight before the dtype cast: the parameter, or its standardisation.
    virtual at::Tensor computeWeight() const;
    void dropCache();

    at::Tensor m_weight;
    at::Tensor m_bias; ///< undefined when the conv has no bias
    std::int64_t m_padding = 0;

private:
    bool cacheUsable() const;
    void refreshCache(at::ScalarType dtype);

    at::Tensor m_cachedWeight;
    at::Tensor m_cachedBias;
    const void* m_cachedData = nullptr;
    std::int64_t m_cachedVersion = -1;
    std::int64_t m_prepareCount = 0;
};
TORCH_MODULE(Conv2dLayer);

/// The reference's WeightStandardizedConv2d: each output filter is standardised over
/// (in, kh, kw) with the biased variance and eps 1e-5 (fp32) or 1e-3 (other dtypes) on every call,
/// cached in eval mode as Conv2dLayer caches its prepared weight. The standardisation runs in the
/// master weight's dtype (float32) whatever the input's dtype.
class WsConv2dLayerImpl : public Conv2dLayerImpl
{
public:
    WsConv2dLayerImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, WeightInit init);

    /// The standardised weight for the current mode, in the parameter's dtype.
    at::Tensor standardizedWeight() { return weightFor(m_weight.scalar_type()); }
    /// How many times the standardised weight was computed (to test the cache).
    std::int64_t standardizeCount() const noexcept { return prepareCount(); }

protected:
    at::Tensor computeWeight() const override;
};
TORCH_MODULE(WsConv2dLayer);

/// nn.GroupNorm (eps 1e-5, affine). Statistics are float32 whatever the input's dtype; the
/// result has the input's dtype and memory format. Without autograd, CPU float32/bfloat16 inputs
/// take the fused kernel (GroupNormKernel.h): statistics, affine map, FiLM and SiLU in two passes.
class GroupNormLayerImpl : public torch::nn::Module
{
public:
    GroupNormLayerImpl(std::int64_t groups, std::int64_t channels);
    at::Tensor forward(const at::Tensor& x);
    /// FiLM folded into the affine step: GN(x) * (scale + 1) + shift, then SiLU when `silu`.
    /// `scale` and `shift` are (B, C) float32.
    at::Tensor forwardModulated(const at::Tensor& x, const at::Tensor& scale,
                                const at::Tensor& shift, bool silu = false);
    /// forward() followed by SiLU, fused where the kernel allows.
    at::Tensor forwardSilu(const at::Tensor& x);

private:
    at::Tensor m_weight;
    at::Tensor m_bias;
    std::int64_t m_groups;
};
TORCH_MODULE(GroupNormLayer);

/// nn.Linear (in the input's dtype: the weight is cast when they differ).
class LinearLayerImpl : public torch::nn::Module
{
public:
    LinearLayerImpl(std::int64_t in, std::int64_t out, WeightInit init);
    at::Tensor forward(const at::Tensor& x);

private:
    at::Tensor m_weight;
    at::Tensor m_bias;
};
TORCH_MODULE(LinearLayer);

/// A parameter-less module that only gives its children a place in the state_dict name tree
/// (the reference's Sequential, Residual and PreNorm wrappers).
class NameScopeImpl : public torch::nn::Module
{};
TORCH_MODULE(NameScope);

/// Registers `module` under the dotted `path` of `root` (e.g. "rb.block1.proj"), creating
/// NameScopes for the intermediate names, so that state_dict names match the reference's nested
/// wrappers while the owning block keeps a direct handle to the leaf.
template <class Holder>
Holder registerAtPath(torch::nn::Module& root, const std::string& path, Holder module)
{
    torch::nn::Module* parent = &root;
    std::size_t begin = 0;
    for (std::size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', begin)) {
        const std::string name = path.substr(begin, dot - begin);
        const auto children = parent->named_children();
        if (const auto* existing = children.find(name)) {
            parent = existing->get();
        } else {
            parent = parent->register_module(name, NameScope()).get();
        }
        begin = dot + 1;
    }
    return parent->register_module(path.substr(begin), std::move(module));
}

} // namespace diffseg::core::engine
