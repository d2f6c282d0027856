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

/// Counts the multiply-accumulates of every convolution and linear layer run on this thread
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

/// nn.Conv2d with stride 1 and "same" padding (kernel 1 or 3 in this network).
class Conv2dLayerImpl : public torch::nn::Module
{
public:
    Conv2dLayerImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, bool bias,
                    WeightInit init);
    at::Tensor forward(const at::Tensor& x);

    const at::Tensor& weight() const noexcept { return m_weight; }
    const at::Tensor& bias() const noexcept { return m_bias; }
    std::int64_t inChannels() const noexcept { return m_weight.size(1); }
    std::int64_t outChannels() const noexcept { return m_weight.size(0); }

protected:
    at::Tensor convolve(const at::Tensor& x, const at::Tensor& weight) const;

    at::Tensor m_weight;
    at::Tensor m_bias; ///< undefined when the conv has no bias
    std::int64_t m_padding = 0;
};
TORCH_MODULE(Conv2dLayer);

/// The reference's WeightStandardizedConv2d: each output filter is standardised over
/// (in, kh, kw) with the biased variance and eps 1e-5 (fp32) or 1e-3 (other dtypes) on every call.
///
/// When the module is in eval mode and no gradient is needed, the standardised weight is computed
/// once and cached; the cache is keyed on the weight's storage, version counter, dtype and device,
/// so in-place updates (optimizer steps, loading, copy_), `to(device)` and dtype changes all
/// invalidate it. train() drops it. Not thread-safe: one forward at a time per model.
class WsConv2dLayerImpl : public Conv2dLayerImpl
{
public:
    WsConv2dLayerImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, WeightInit init);
    at::Tensor forward(const at::Tensor& x);
    void train(bool on = true) override;

    /// The standardised weight for the current mode (cached or fresh).
    at::Tensor standardizedWeight();
    /// How many times the standardised weight was computed (to test the cache).
    std::int64_t standardizeCount() const noexcept { return m_standardizeCount; }

private:
    at::Tensor computeStandardized() const;

    at::Tensor m_cached;
    const void* m_cachedData = nullptr;
    std::int64_t m_cachedVersion = -1;
    std::int64_t m_standardizeCount = 0;
};
TORCH_MODULE(WsConv2dLayer);

/// nn.GroupNorm (eps 1e-5, affine).
class GroupNormLayerImpl : public torch::nn::Module
{
public:
    GroupNormLayerImpl(std::int64_t groups, std::int64_t channels);
    at::Tensor forward(const at::Tensor& x);
    /// FiLM folded into the affine step: GN(x) * (scale + 1) + shift with one pass over x.
    /// `scale` and `shift` are (B, C).
    at::Tensor forwardModulated(const at::Tensor& x, const at::Tensor& scale,
                                const at::Tensor& shift);

private:
    at::Tensor m_weight;
    at::Tensor m_bias;
    std::int64_t m_groups;
};
TORCH_MODULE(GroupNormLayer);

/// nn.Linear.
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
