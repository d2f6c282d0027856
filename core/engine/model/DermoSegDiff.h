#pragma once

#include "Blocks.h"
#include "DermoSegDiffConfig.h"

#include <string>
#include <vector>

namespace diffseg::core::engine {

/// The DermoSegDiff denoiser eps_hat = f(x_t, g, t) (seed spec §A4): a dual-encoder U-Net whose x
/// branch sees the noisy mask and whose g branch sees the image, with the reference's module tree,
/// so `named_parameters()` equals the reference's state_dict names (`encoder_blocks.0.0.rb_x1.rb.
/// mlp.1.weight`, ..., `final_conv.bias`) and reference weights load by name.
///
/// Ownership: a torch::nn::Module held by the DermoSegDiff holder (shared_ptr). Threads: one
/// forward at a time per instance (eval mode caches standardised conv weights). Device: move with
/// `to(device)`; inputs must be on the same device. Engine-internal header (LibTorch).
class DermoSegDiffImpl : public torch::nn::Module
{
public:
    /// Builds the network; throws Error(Config) when config.validate() fails.
    explicit DermoSegDiffImpl(const DermoSegDiffConfig& config,
                              WeightInit init = WeightInit::Default);

    /// x_t (B, channels_x, H, W) and g (B, channels_g, H, W) float, t (B) integer or float
    /// timesteps; H and W multiples of config().sizeMultiple(). Returns (B, out_dim, H, W).
    /// Throws Error(Mismatch/InvalidValue) naming the input for wrong shapes, dtypes or devices.
    at::Tensor forward(const at::Tensor& xT, const at::Tensor& g, const at::Tensor& t);

    /// Shape and type checks of forward(), without running it.
    void checkInputs(const at::Tensor& xT, const at::Tensor& g, const at::Tensor& t) const;

    const DermoSegDiffConfig& config() const noexcept { return m_config; }
    /// Runs the activations in channels-last (NHWC) memory, which oneDNN convolves without
    /// reordering on the CPU; results are the same up to rounding. Off by default.
    void setChannelsLast(bool on) noexcept { m_channelsLast = on; }
    bool channelsLast() const noexcept { return m_channelsLast; }
    std::int64_t parameterCount() const;

private:
    at::Tensor timeEmbedding(const at::Tensor& t, std::int64_t dim, LinearLayer& first,
                             LinearLayer& second) const;

    DermoSegDiffConfig m_config;
    bool m_channelsLast = false;
    std::vector<EncoderModule> m_encoders;
    std::vector<LevelTransition> m_downG;
    std::vector<LevelTransition> m_downX;
    std::vector<DecoderModule> m_decoders; ///< coarse to fine, as the reference's list
    std::vector<LevelTransition> m_ups;
    LinearLayer m_timeX1{nullptr};
    LinearLayer m_timeX2{nullptr};
    LinearLayer m_timeG1{nullptr};
    LinearLayer m_timeG2{nullptr};
    Conv2dLayer m_initX{nullptr};
    Conv2dLayer m_initG{nullptr};
    BottleneckModule m_bottleneck{nullptr};
    ResnetBlock m_finalBlock{nullptr};
    Conv2dLayer m_finalConv{nullptr};
};
TORCH_MODULE(DermoSegDiff);

} // namespace diffseg::core::engine
