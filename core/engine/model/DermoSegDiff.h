#pragma once

#include "Blocks.h"
#include "DermoSegDiffConfig.h"

#include <optional>
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
    /// reordering on the CPU; results are the same up to rounding. Unset (the default) picks per
    /// call: channels-last for bf16 and for float32 batches of 2 or more (the ensemble: 6.4 s
    /// instead of 8.1 s for the paper's network at B = 5, 128 x 128), NCHW for a float32 single
    /// image (1.23 s instead of 1.41 s at B = 1). Measured with `diffseg bench forward`.
    void setChannelsLast(std::optional<bool> on) noexcept { m_channelsLast = on; }
    std::optional<bool> channelsLast() const noexcept { return m_channelsLast; }
    /// The layout a forward of `batch` rows uses.
    bool usesChannelsLast(std::int64_t batch) const noexcept
    {
        return m_channelsLast.value_or(m_bf16 || batch > 1);
    }
    /// bfloat16 arithmetic (mixed precision): inputs, activations and convolution weights in
    /// bf16, the time embedding, normalisation statistics, softmax and the output in float32;
    /// the parameters stay float32 (cached bf16 copies in eval mode, differentiable casts in
    /// training). Off (float32) by default.
    void setBf16(bool on) noexcept { m_bf16 = on; }
    bool bf16() const noexcept { return m_bf16; }
    /// Exact rewrites (on by default): the 1-channel x_t path folded into the first convolution,
    /// and upsample + 3x3 conv as four 2x2 convolutions at the low resolution. Off runs the plain
    /// forms the rewrites are tested against.
    void setRewrites(bool on);
    bool rewrites() const noexcept { return m_rewrites; }
    std::int64_t parameterCount() const;

private:
    at::Tensor timeEmbedding(const at::Tensor& t, std::int64_t dim, LinearLayer& first,
                             LinearLayer& second) const;

    DermoSegDiffConfig m_config;
    std::optional<bool> m_channelsLast;
    bool m_bf16 = false;
    bool m_rewrites = true;
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
