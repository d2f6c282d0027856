#pragma once

#include "engine/diffusion/DiffusionSampler.h"
#include "engine/model/DermoSegDiff.h"

namespace diffseg::core::engine {

/// The result of segmenting B images with K chains each.
struct EnsembleResult
{
    at::Tensor samples; ///< (B, K, out_dim, H, W): the final x_0 of every chain
    at::Tensor mean;    ///< (B, out_dim, H, W): the mean over the K chains (reference: A7)
    at::Tensor mask;    ///< (B, out_dim, H, W) bool: mean > 0, the reference's binarisation
};

/// Receives chain 0's x0 estimate (1, out_dim, H, W) of the first step, on the sampling device and
/// valid during the call only.
using FirstLookCallback = std::function<void(const at::Tensor& x0)>;

/// Runs `members` chains per image as ONE batch of B*K rows (row b*K + k is chain k of image b, so
/// with SamplerOptions::seed s it draws from generator s + b*K + k). `guidance` (optional) holds
/// per-image tensors (B, out_dim, H, W) that every member of that image shares (refinement:
/// SamplerGuidance). The model runs in eval mode
/// under InferenceMode (its previous mode is restored); `images` is (B, channels_g, H, W) float in
/// [0, 1] on the model's device. The callback sees the whole batch at every step, so a GUI can show
/// each chain's x0 estimate. Throws Error(InvalidValue/Mismatch) naming the input for bad images
/// (wrong shape, non-finite values) and Error(Cancelled) when `cancel` fires.
///
/// With `firstLook`, the first step's network call runs chain 0 alone and then the other rows
/// (two calls instead of one), and `firstLook` sees chain 0's estimate in between: a viewer gets
/// a first outline at a K-th of the step's cost. Rows do not interact in the network, so the run
/// is the same up to rounding (a backend may pick other kernels for the smaller batches; on the
/// CPU here 20 ISIC val masks came out byte-identical); it stays deterministic for a seed.
EnsembleResult sampleEnsemble(DermoSegDiff& model, const DiffusionSampler& sampler,
                              const at::Tensor& images, int members,
                              const SamplerCallback& callback = {}, const CancelToken& cancel = {},
                              const SamplerGuidance* guidance = nullptr,
                              const FirstLookCallback& firstLook = {});

} // namespace diffseg::core::engine
