#pragma once

// Sliding-window inference over a prepared volume with MONAI's SlidingWindowInferer semantics
// (seed spec §B7.2-3): window placement, Gaussian importance blending, constant-0 padding of
// volumes smaller than the window, and mirror test-time augmentation. The model is a callback, so
// the blending is testable with constant and identity models. LibTorch-free.

#include "base/CancelToken.h"
#include "base/Volume.h"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace diffseg::core {

/// How window outputs are weighted where windows overlap.
enum class BlendMode
{
    Gaussian, ///< MONAI "gaussian": a separable Gaussian centred on the window (the reference)
    Constant  ///< MONAI "constant": plain average of the overlapping windows
};

struct SlidingWindowOptions
{
    /// Window size in voxels along x, y, z (W, H, D of the tensor); the network input.
    std::array<std::int64_t, 3> roi{128, 128, 128};
    /// Fraction of the window shared with the next one, in [0, 1): stride = int(roi (1 - overlap)),
    /// at least 1 voxel.
    double overlap = 0.5;
    int windowBatch = 1; ///< windows handed to the model per call (sw_batch_size), 1..1024
    BlendMode blend = BlendMode::Gaussian;
    /// Gaussian sigma per axis = sigmaScale * roi (MONAI's sigma_scale, 0.125 in the reference).
    double sigmaScale = 0.125;
    /// Mirror TTA: the identity and the 7 flip combinations over x, y, z (W, H, D); each output is
    /// flipped back and the 8 are averaged (in the model's output space, logits for Diff-UNet).
    bool mirror = false;

    /// Throws Error(Config) naming `subject`.key for a bad value.
    void validate(const std::string& subject = "sliding window") const;
};

/// Number of mirror passes: 8 with mirror TTA, else 1.
inline int mirrorCount(bool mirror) noexcept
{
    return mirror ? 8 : 1;
}

/// Where the windows of one volume go.
///
/// Grid: the input's voxel grid, axes x, y, z (Volume::size()); window starts are given on the
/// padded grid, which extends each axis shorter than the roi by constant-0 padding, half before
/// (rounded down) and the rest after, as MONAI pads. Per axis of padded length L the starts are
/// i * stride for i = 0 .. n-1, n the first count whose last window reaches L, with the last
/// start clamped to L - roi (so windows never leave the padded grid). Windows are ordered x
/// fastest, then y, then z.
///
/// The plan also holds the importance map (roi voxels, x fastest) and the sum of the importance
/// weights of every window at each input voxel, which normalises the blend. Immutable after
/// construction: share it across threads. Memory: 8 bytes per input voxel plus 4 per roi voxel.
class SlidingWindowPlan
{
public:
    /// Throws Error(Config) for bad options and Error(InvalidValue) for an empty grid.
    SlidingWindowPlan(const std::array<std::int64_t, 3>& size, const SlidingWindowOptions& options);

    const SlidingWindowOptions& options() const noexcept { return m_options; }
    const std::array<std::int64_t, 3>& size() const noexcept { return m_size; }
    const std::array<std::int64_t, 3>& roi() const noexcept { return m_options.roi; }
    const std::array<std::int64_t, 3>& padBefore() const noexcept { return m_padBefore; }
    const std::array<std::int64_t, 3>& paddedSize() const noexcept { return m_padded; }
    /// Stride per axis (the roi itself on an axis with a single window of exactly the roi).
    const std::array<std::int64_t, 3>& stride() const noexcept { return m_stride; }
    /// Window starts per axis on the padded grid.
    const std::vector<std::int64_t>& axisStarts(int axis) const { return m_starts.at(axis); }

    int windowCount() const noexcept { return static_cast<int>(m_windows.size()); }
    /// Start of window `w` on the padded grid (x, y, z).
    const std::array<std::int64_t, 3>& window(int w) const { return m_windows.at(w); }
    /// ceil(windows / windowBatch).
    int batchCount() const noexcept;
    /// First window and window count of batch `b`.
    std::pair<int, int> batch(int b) const;

    std::int64_t roiVoxels() const noexcept { return m_roiVoxels; }
    const std::vector<float>& importance() const noexcept { return m_importance; }
    /// Sum of the importance of every window covering each input voxel (x fastest); > 0.
    const std::vector<double>& weightSum() const noexcept { return m_weightSum; }

    /// Copies window `w` of `input` (Float32, this plan's size) into `out`: channels x roi
    /// voxels, x fastest, 0 where the window lies in the padding. Throws Error(Mismatch) for an
    /// input of another size or type.
    void extractWindow(const Volume& input, int w, float* out) const;

    /// MONAI's window starts along one axis of (padded) length `length` >= roi.
    static std::vector<std::int64_t> starts(std::int64_t length, std::int64_t roi, double overlap);

private:
    SlidingWindowOptions m_options;
    std::array<std::int64_t, 3> m_size{0, 0, 0};
    std::array<std::int64_t, 3> m_padBefore{0, 0, 0};
    std::array<std::int64_t, 3> m_padded{0, 0, 0};
    std::array<std::int64_t, 3> m_stride{0, 0, 0};
    std::array<std::vector<std::int64_t>, 3> m_starts;
    std::vector<std::array<std::int64_t, 3>> m_windows;
    std::int64_t m_roiVoxels = 0;
    std::vector<float> m_importance;
    std::vector<double> m_weightSum;
};

/// MONAI's importance map over a window of `roi` voxels (x fastest): constant 1, or the product
/// of per-axis Gaussians exp(-(t - (n - 1)/2)² / (2 σ²)) with σ = sigmaScale * n, divided by its
/// maximum (so the centre is 1) and clamped from below to max(minimum value, 1e-3), which keeps
/// every window's corners weighted (MONAI's rule).
std::vector<float> importanceMap(const std::array<std::int64_t, 3>& roi, BlendMode blend,
                                 double sigmaScale);

/// Precision of a WindowBlender's sums.
enum class BlendPrecision
{
    Double, ///< 8 bytes per channel and voxel; constant and identity models blend back exactly
    Float   ///< 4 bytes; the blend is then within a few float ulps (previews, step predictions)
};

/// Accumulates weighted window outputs for one output (any channel count) and returns the blend
/// Σ_w importance_w · out_w / Σ_w importance_w on the input grid. With double sums (the default)
/// a model that outputs a constant c (or its own input) blends back to exactly c (its input) in
/// float32, because float x float products are exact in double and only the additions round.
/// Memory: 8 (double) or 4 (float) bytes per channel per input voxel. Not thread-safe (one
/// writer); the plan must outlive the blender.
class WindowBlender
{
public:
    /// Throws Error(InvalidValue) for channels outside 1..Volume::kMaxChannels.
    WindowBlender(const SlidingWindowPlan& plan, int channels,
                  BlendPrecision precision = BlendPrecision::Double);

    int channels() const noexcept { return m_channels; }
    BlendPrecision precision() const noexcept { return m_precision; }
    /// Adds window `w`'s output: channels x roi voxels, x fastest (the voxels in the padding are
    /// dropped).
    void add(int w, const float* values);
    /// The blended output, Float32 with `channels()` channels, on the input grid with `geometry`.
    Volume result(const Geometry& geometry) const;
    /// Releases the sums (the blender is unusable afterwards: Error(Internal)).
    void release();

private:
    template <class T>
    void accumulate(std::vector<T>& sums, int w, const float* values);
    template <class T>
    void divide(const std::vector<T>& sums, float* out) const;

    const SlidingWindowPlan* m_plan;
    int m_channels;
    BlendPrecision m_precision;
    bool m_released = false;
    std::vector<double> m_sum;
    std::vector<float> m_sumFloat;
};

/// Mirror pass `flip` (0..7) as a bit mask: bit 0 flips x (W), bit 1 y (H), bit 2 z (D); 0 is the
/// identity. Flips `channels` x roi voxels (x fastest) in place; a flip is its own inverse.
void flipWindow(float* values, int channels, const std::array<std::int64_t, 3>& roi, int flip);

/// One call of the model in slidingWindowInference(): `count` windows, starting with window
/// `first`, as (count, inChannels, z, y, x) float32 in `input` (already flipped for mirror pass
/// `flip`); the model writes (count, outChannels, z, y, x) to `output`.
struct WindowBatch
{
    int first;
    int count;
    int flip;
    std::array<std::int64_t, 3> roi;
    int inChannels;
    int outChannels;
    const float* input;
    float* output;
};
using WindowFunction = std::function<void(const WindowBatch& batch)>;

/// Runs `model` over every window of `input` (Float32) and returns its blended output (Float32,
/// `outChannels` channels, the input's size and geometry). With options.mirror each batch is
/// run 8 times (flipped input, output flipped back) and the passes are averaged before blending.
/// `cancel` is polled before every model call (Error(Cancelled)). Throws Error(Config) for bad
/// options, Error(InvalidValue) for an input that is not Float32 or outChannels < 1.
Volume slidingWindowInference(const Volume& input, int outChannels,
                              const SlidingWindowOptions& options, const WindowFunction& model,
                              const CancelToken& cancel = {});

} // namespace diffseg::core
