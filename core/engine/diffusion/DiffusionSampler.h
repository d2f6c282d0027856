#pragma once

// Forward noising q(x_t | x_0) and the reverse samplers (ancestral DDPM as the reference, DDIM).
// Engine-internal header: it exposes at::Tensor (ATen's core header only, not <torch/torch.h>).

#include "NoiseSchedule.h"
#include "base/CancelToken.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace diffseg::core::engine {

/// x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise, with one timestep per batch row.
/// `t` is a (B) integer tensor in [0, T-1]; x0 and noise are (B, ...) of the same shape. Throws
/// Error(Mismatch/InvalidValue) naming the input for wrong shapes or out-of-range timesteps.
at::Tensor qSample(const NoiseSchedule& schedule, const at::Tensor& x0, const at::Tensor& t,
                   const at::Tensor& noise);

enum class SamplerKind
{
    Ddpm, ///< ancestral sampling over all T steps, exactly the reference's p_sample (§A7)
    Ddim  ///< DDIM over a subsequence of timesteps, with stochasticity eta
};

const char* samplerKindName(SamplerKind kind) noexcept;

struct SamplerOptions
{
    SamplerKind kind = SamplerKind::Ddpm;
    /// DDIM: number of denoiser calls (0 = all T). DDPM always runs all T steps (0 or T only).
    int steps = 0;
    /// DDIM: 0 is deterministic; 1 with all steps has DDPM's posterior variance.
    double eta = 0.0;
    /// Batch row r draws its noise from its own generator seeded `seed + r` (on the CPU, then
    /// moved to the device), so a row's chain does not depend on the batch it runs in nor on the
    /// device: K ensemble members in one batch equal K runs of one row with seeds seed..seed+K-1.
    std::uint64_t seed = 0;
    /// DDIM only: clip the x0 estimate to [-1, 1] (the mask's range) and recompute the noise from
    /// it before each jump, as guided-diffusion's clip_denoised; without it an imperfect denoiser
    /// diverges within a few large jumps. DDPM always follows the reference (no clipping).
    bool clipX0 = true;
    /// Refinement (ours): the first timestep of the run, -1 for T-1 (a run from pure noise). A
    /// run that starts lower begins from SamplerGuidance::start noised to that step and visits
    /// only the steps below it (DDIM: `steps` of them, evenly spaced; DDPM: all of them).
    int startTimestep = -1;
};

/// What a guided run (refinement by diffusion inpainting) knows. Tensors are (rows, ...) of the
/// sample's shape on its device; the run then
///  - starts from `start` (x0 in [-1, 1], e.g. the current mask) noised to the first timestep,
///    instead of pure noise;
///  - holds the `known` pixels to `values` at every step: they are replaced by `values` noised to
///    that step's level (fresh noise), so the network carries them into its other pixels, and the
///    final x0 equals `values` there exactly;
///  - after each step but the last goes back `resampleJumps` times (re-noising the new state to
///    the step's level) and redoes it, as RePaint's resampling, so that known and unknown pixels
///    agree better (each jump costs one more network call).
/// Undefined tensors switch the parts off: no `start` starts from noise, no `known` holds nothing.
struct SamplerGuidance
{
    at::Tensor start;  ///< float, x0 in [-1, 1]
    at::Tensor known;  ///< bool: true where the value is known
    at::Tensor values; ///< float, the known x0 (-1 background, 1 lesion) where `known`
    int resampleJumps = 0;
};

/// What the per-step callback receives. The tensors live on the sampling device and are only
/// valid during the call (clone what you keep): keeping every step of every chain is the caller's
/// choice (the reference keeps all T, 0.5 GB per chain at B=32).
struct SamplerStep
{
    int index;                ///< 0 .. count-1 in sampling order
    int count;                ///< number of steps of this run
    int t;                    ///< timestep of the state the denoiser saw
    int tNext;                ///< timestep of the new state; -1 once the chain is finished
    const at::Tensor& xT;     ///< the state at t
    const at::Tensor& epsHat; ///< the predicted noise (derived from x0Hat for x0 prediction)
    /// (x_t - sqrt(1 - alpha_bar_t) eps_hat) / sqrt(alpha_bar_t), or the network's own x0
    /// (DDIM: clipped to [-1, 1])
    const at::Tensor& x0Hat;
    const at::Tensor& xNext; ///< the state at tNext (the final sample after the last step)
};

/// Called on the sampling thread after every step; exceptions propagate and end the run.
using SamplerCallback = std::function<void(const SamplerStep&)>;
/// The denoiser for the whole batch: eps_hat(x_t, t), or x0_hat(x_t, t) when the schedule's
/// prediction is x0 (the sampler derives the other form); t is a (B) int64 tensor on x_t's
/// device.
using EpsilonFunction = std::function<at::Tensor(const at::Tensor& xT, const at::Tensor& t)>;

class RowNoise; // DiffusionSampler.cpp: one noise generator per batch row

/// Runs reverse diffusion from pure noise to x_0 with a given denoiser.
///
/// Threads: const and stateless between runs, so one instance may serve several threads; each run
/// is sequential. Cancellation: `cancel` is checked before every step and ends the run with
/// Error(ErrorKind::Cancelled). A step that yields NaN/Inf ends it with Error(InvalidValue).
class DiffusionSampler
{
public:
    /// Throws Error(Config) for steps outside [0, T] (DDIM), steps other than 0 or T (DDPM), or
    /// eta outside [0, 1].
    DiffusionSampler(NoiseSchedule schedule, SamplerOptions options);

    const NoiseSchedule& schedule() const noexcept { return m_schedule; }
    const SamplerOptions& options() const noexcept { return m_options; }
    /// Timesteps visited, in sampling order: T-1 (or the start timestep) first, 0 last. DDIM uses
    /// round(i (T0-1) / (S-1)) with T0 = T (or start + 1), so S = T visits every timestep.
    const std::vector<int>& timesteps() const noexcept { return m_timesteps; }
    int stepCount() const noexcept { return static_cast<int>(m_timesteps.size()); }

    /// The clean estimate x0_hat that the denoiser's `output` at state `x` and timestep `t`
    /// implies (the output itself when the schedule predicts x0), clipped to [-1, 1] where a DDIM
    /// step would clip it: what a step's SamplerStep::x0Hat holds.
    at::Tensor x0Estimate(const at::Tensor& output, const at::Tensor& x, int t) const;

    /// Samples a (rows, ...) tensor `shape` with dtype/device `options`; returns x_0. With
    /// `guidance` the run refines and holds known pixels (SamplerGuidance); throws
    /// Error(Mismatch) naming the tensor when a guidance tensor has another shape.
    at::Tensor sample(const EpsilonFunction& epsilon, at::IntArrayRef shape,
                      const at::TensorOptions& options, const SamplerCallback& callback = {},
                      const CancelToken& cancel = {},
                      const SamplerGuidance* guidance = nullptr) const;

private:
    /// One network call and the state it leads to.
    struct StepState
    {
        at::Tensor eps;
        at::Tensor x0Hat;
        at::Tensor xNext;
    };
    StepState denoise(const EpsilonFunction& epsilon, const at::Tensor& x, int t, int tNext,
                      RowNoise& noise, const at::TensorOptions& timeOptions) const;

    NoiseSchedule m_schedule;
    SamplerOptions m_options;
    std::vector<int> m_timesteps;
};

} // namespace diffseg::core::engine
