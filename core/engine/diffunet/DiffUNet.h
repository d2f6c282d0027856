#pragma once

// The Diff-UNet networks (seed spec §B4): the edge branch, the time-conditioned denoiser with MBA
// fusion, and their combination with the log-SNR diffusion (§B3, §B5, §B7). Engine-internal
// header: it exposes LibTorch types.

#include "DiffUNetConfig.h"
#include "base/CancelToken.h"
#include "engine/model/NamedTensors.h"

#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace diffseg::core::engine {

/// conv3d(k=3, padding 1, bias) -> InstanceNorm3d(affine, eps 1e-5) -> LeakyReLU(0.01), with the
/// reference's names `conv` and `norm`.
class ConvNormActImpl : public torch::nn::Module
{
public:
    ConvNormActImpl(int in, int out, int stride);
    at::Tensor forward(const at::Tensor& x);

private:
    torch::nn::Conv3d m_conv{nullptr};
    torch::nn::InstanceNorm3d m_norm{nullptr};
};
TORCH_MODULE(ConvNormAct);

/// nnU-Net's StackedConvBlocks: `convs.0` (with the stage's stride) .. `convs.{n-1}`.
class PlainStageImpl : public torch::nn::Module
{
public:
    PlainStageImpl(int convs, int in, int out, int stride);
    at::Tensor forward(const at::Tensor& x);

private:
    torch::nn::ModuleList m_convs;
};
TORCH_MODULE(PlainStage);

/// The denoiser's StackedConvBlocks: `conv0`, then the time term temb_proj(swish(temb)) added per
/// channel, then `convs.0` .. `convs.{n-2}`.
class TimeStageImpl : public torch::nn::Module
{
public:
    TimeStageImpl(int convs, int in, int out, int stride, int timeDim);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& temb);

private:
    ConvNormAct m_conv0{nullptr};
    torch::nn::ModuleList m_convs;
    torch::nn::Linear m_tembProj{nullptr};
};
TORCH_MODULE(TimeStage);

/// lucidrains' LearnedSinusoidalPosEmb: s -> [s, sin(2π s w), cos(2π s w)] (parameter `weights`).
class LearnedSinusoidalEmbeddingImpl : public torch::nn::Module
{
public:
    explicit LearnedSinusoidalEmbeddingImpl(int dim);
    at::Tensor forward(const at::Tensor& s);

private:
    at::Tensor m_weights;
};
TORCH_MODULE(LearnedSinusoidalEmbedding);

/// The edge branch: a plain nnU-Net (`encoder.stages.k.0`, `decoder.{stages, transpconvs,
/// seg_layers}`) returning the logits and the six encoder features.
class EdgeUNetImpl : public torch::nn::Module
{
public:
    explicit EdgeUNetImpl(const DiffUNetConfig& config);
    /// image (B, in, D, H, W) -> logits (B, C, D, H, W); `skips` receives the encoder outputs.
    at::Tensor forward(const at::Tensor& image, std::vector<at::Tensor>& skips);

private:
    std::vector<PlainStage> m_encoder;
    std::vector<PlainStage> m_decoder;
    std::vector<torch::nn::ConvTranspose3d> m_up;
    std::vector<torch::nn::Conv3d> m_seg;
};
TORCH_MODULE(EdgeUNet);

/// The denoiser: a time-conditioned nnU-Net on cat[image, x_τ] with MBA fusion of the edge
/// features after every encoder stage (`encoder.transforms.k` 1x1x1 convs for k < last, the
/// affinity fusion at the bottleneck), the mask embedding `embedding_table` and `time_mlp`.
class DenoiseUNetImpl : public torch::nn::Module
{
public:
    explicit DenoiseUNetImpl(const DiffUNetConfig& config);

    /// time_mlp(s) for a (B) tensor of time inputs -> (B, 32).
    at::Tensor timeEmbedding(const at::Tensor& s);
    /// x: cat[image, x_τ] (B, in + C, D, H, W); temb (B, 32); edge features as returned by the
    /// edge branch (batch 1 or B: tiled as the reference does) or empty to skip MBA.
    at::Tensor forward(const at::Tensor& x, const at::Tensor& temb,
                       const std::vector<at::Tensor>& edge);
    /// x0 = (2 sigmoid(embedding(labels)) - 1) * 0.001 for integer labels (B, D, H, W) ->
    /// (B, C, D, H, W).
    at::Tensor encodeMask(const at::Tensor& labels);

    const DiffUNetConfig& config() const noexcept { return m_config; }

private:
    DiffUNetConfig m_config;
    std::vector<TimeStage> m_encoder;
    std::vector<torch::nn::Conv3d> m_transforms;
    std::vector<TimeStage> m_decoder;
    std::vector<torch::nn::ConvTranspose3d> m_up;
    std::vector<torch::nn::Conv3d> m_seg;
    torch::nn::Embedding m_embedding{nullptr};
    LearnedSinusoidalEmbedding m_posEmb{nullptr};
    torch::nn::Linear m_time1{nullptr};
    torch::nn::Linear m_time2{nullptr};
};
TORCH_MODULE(DenoiseUNet);

/// How the per-step logits are fused at inference (PURE, §B7.4 and §B7.6).
enum class StepFusion
{
    Mean,       ///< the released code: uniform mean of the step logits
    Uncertainty ///< SUF-style: w_i = exp(sigmoid((i+1)/S) (1 - u_i)), u_i the entropy of step i
};

/// What the step callback receives during sampling (tensors valid only during the call).
struct DiffUNetStep
{
    int index; ///< 0 .. steps-1
    int steps;
    double tauNow;
    double tauNext;
    const at::Tensor& logits; ///< this step's denoiser logits (B, C, ...)
    const at::Tensor& fused;  ///< the fused denoiser logits so far (before adding the edge)
    const at::Tensor& edge;   ///< the edge branch's logits
};
using DiffUNetStepCallback = std::function<void(const DiffUNetStep&)>;

struct DiffUNetSampleOptions
{
    int steps = 3; ///< ddim_steps of the reference
    StepFusion fusion = StepFusion::Mean;
    /// The time input of the denoiser while sampling: the reference feeds λ(τ) (while training
    /// feeds τ); false feeds τ, consistent with training.
    bool timeAsLogSnr = true;
    std::uint64_t seed = 0;
    /// Guided sampling, a refinement (the photo sampler's SamplerGuidance in 3D). Both tensors
    /// are (B, D, H, W) int64 on the image's device, or undefined. `startLabels`: the current
    /// class indices; sampling skips the first `startStep` steps and starts from their code
    /// noised to that step's level instead of pure noise (the callback then counts the steps
    /// that run). `knownLabels`: the class the user gave a voxel, -1 elsewhere; before every
    /// denoiser call the known voxels of the noisy mask are replaced by their code noised to the
    /// step's level, and the final logits there are the known class's (the output honours them).
    at::Tensor startLabels;
    int startStep = 0;
    at::Tensor knownLabels;
};

/// The result of sampling one batch.
struct DiffUNetSample
{
    at::Tensor logits; ///< fused denoiser logits + edge logits (the prediction)
    at::Tensor edgeLogits;
    std::vector<at::Tensor> stepLogits; ///< per step (CPU copies are the caller's choice)
};

/// Losses of one training step (§B5).
struct DiffUNetLoss
{
    at::Tensor total;
    at::Tensor ce;            ///< denoiser cross-entropy (mean)
    at::Tensor ceEdge;        ///< edge-branch cross-entropy (mean)
    at::Tensor uncertainty;   ///< MC-Diff entropy map (B, D, H, W), clamped to [0, 1]
    double uncertaintyWeight; ///< s(epoch) = exp(-10 (1 - epoch/maxEpoch)^2)
    /// Soft Dice loss of the denoiser and of the edge branch, summed (defined only with
    /// DiffUNetLossOptions::diceWeight > 0; the total holds diceWeight times it).
    at::Tensor dice;
};

struct DiffUNetLossOptions
{
    int mcSamples = 3;        ///< uncer_step: extra no-grad denoiser passes
    bool voxelwise = false;   ///< mean(CE_v u_v) (paper intent) instead of mean(CE) mean(u)
    bool fixMcReshape = true; ///< average the MC passes per sample (the reference mixes samples)
    double epoch = 0.0;
    double maxEpoch = 1.0;
    /// Ours, 0 = off as in the released code: adds diceWeight x the soft Dice loss (1 - Dice of
    /// the softmax, pooled over the batch, averaged over the foreground classes) of both
    /// outputs. Cross-entropy alone lets a class covering 1 % of a patch be ignored.
    double diceWeight = 0.0;
    /// Data parallelism: this batch is rows firstRow, firstRow + rowStride, ... of a global batch
    /// of `globalRows` (0: the batch is the whole batch). The random draws are made for the global
    /// batch, so the ranks together draw what one process would.
    std::int64_t globalRows = 0;
    std::int64_t firstRow = 0;
    std::int64_t rowStride = 1;
};

/// 1 - soft Dice of softmax(logits) against `labels` (B, D, H, W) in [0, C), pooled over the
/// batch and voxels and averaged over classes 1..C-1; differentiable.
at::Tensor softDiceLoss(const at::Tensor& logits, const at::Tensor& labels);

/// Diff-UNet = edge branch + denoiser (`edge_model.*`, `denoise_model.*`).
///
/// Ownership: a torch::nn::Module held by the DiffUNet holder. Threads: one call at a time per
/// instance. Device: `to(device)`; inputs on the same device. Errors: Error(Mismatch) naming the
/// input for wrong shapes; Error(Cancelled) from sample() when `cancel` fires between steps.
class DiffUNetImpl : public torch::nn::Module
{
public:
    explicit DiffUNetImpl(const DiffUNetConfig& config);

    const DiffUNetConfig& config() const noexcept { return m_config; }
    EdgeUNet& edge() noexcept { return m_edge; }
    DenoiseUNet& denoiser() noexcept { return m_denoise; }

    /// Checks (B, in, D, H, W) with sides multiples of 2^(stages-1).
    void checkImage(const at::Tensor& image) const;

    /// The reference's DDIM-like sampling with the edge features computed once (§B7.4).
    DiffUNetSample sample(const at::Tensor& image, const DiffUNetSampleOptions& options,
                          const DiffUNetStepCallback& callback = {},
                          const CancelToken& cancel = {});

    /// The training forward the released code lacks (§B1) and the MC-Diff loss (§B5); labels are
    /// (B, D, H, W) int64 in [0, C). Random draws come from `generator` (CPU).
    DiffUNetLoss trainingLoss(const at::Tensor& image, const at::Tensor& labels,
                              const DiffUNetLossOptions& options, at::Generator& generator);

    std::int64_t parameterCount() const;

private:
    DiffUNetConfig m_config;
    EdgeUNet m_edge{nullptr};
    DenoiseUNet m_denoise{nullptr};
};
TORCH_MODULE(DiffUNet);

/// The reference's affinity fusion: a (B, C, D, H, W) replaced position-wise by the softmax
/// mixture of b's positions with weights (2 <b_i, a_j> - |b_i|²)/sqrt(C) (softmax over i).
at::Tensor affinityFusion(const at::Tensor& a, const at::Tensor& b);

/// Entropy over dim 1 of softmax(logits) clamped to [1e-4, 0.9999] (the reference's compute_uncer).
at::Tensor softmaxEntropy(const at::Tensor& logits);

} // namespace diffseg::core::engine

namespace diffseg::core::engine {

/// A reference DiffUNet state_dict lists shared modules under several names (nnU-Net's
/// `...convs.k.all_modules.0` beside `...convs.k.conv`, and `decoder.encoder.*` beside
/// `encoder.*`). Returns the canonical names only, after checking that every alias equals its
/// canonical tensor (Error(Mismatch) naming `source` and the key otherwise, or when an alias has
/// no canonical twin).
NamedTensors canonicalDiffUNetWeights(const NamedTensors& weights, const std::string& source);

} // namespace diffseg::core::engine
