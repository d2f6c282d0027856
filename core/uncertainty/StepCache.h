#pragma once

#include "base/Geometry.h"
#include "base/Image2D.h"
#include "base/Volume.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace diffseg::core {

/// What a cached frame holds.
enum class FrameKind
{
    X0,   ///< the model's x0 estimate at a step (DermoSegDiff mask space [-1, 1])
    Noisy ///< the noisy sample x_t after a step (unbounded; only with StepCacheConfig::storeNoisy)
};

const char* frameKindName(FrameKind kind) noexcept;

struct StepCacheConfig
{
    static constexpr std::size_t kDefaultBudget2D = std::size_t(64) << 20;
    static constexpr std::size_t kDefaultBudget3D = std::size_t(512) << 20;

    std::array<std::int64_t, 3> size{0, 0, 1}; ///< x, y, z voxels; z = 1 for 2D
    int dimensions = 2;                        ///< 2: an image (size[2] == 1), 3: a volume
    Geometry geometry;       ///< placement of returned frames (2D: spacing[0..1] is the pixel size)
    int members = 1;         ///< ensemble members (chains), >= 1
    int steps = 0;           ///< sampling steps N of the run (SamplerStep::count), >= 1
    bool storeNoisy = false; ///< also keep x_t per step (doubles the memory per step)
    std::size_t budgetBytes = 0; ///< 0: kDefaultBudget2D or kDefaultBudget3D by dimensions
    int denseTail = 10;          ///< the last steps kept consecutively when thinning (see class)
    std::vector<int> timesteps;  ///< optional: diffusion timestep t of each step, for labels

    static StepCacheConfig forImage(int width, int height, int members, int steps);
    static StepCacheConfig forVolume(const std::array<std::int64_t, 3>& size,
                                     const Geometry& geometry, int members, int steps);
};

/// A dequantised frame (or a map derived from frames) on the cache's grid.
struct StepFrame
{
    int member = -1;        ///< the member; -1 for maps over several members
    int requestedStep = -1; ///< the step asked for
    int step = -1;          ///< the step actually returned (nearest stored); -1: none stored yet
    int memberCount = 0;    ///< members that entered the values
    FrameKind kind = FrameKind::X0;
    std::vector<int> steps; ///< stepInstability(): the steps used, oldest first
    Volume values;          ///< 1-channel float32, the cache's size and geometry (z = 1 for 2D)

    bool valid() const noexcept { return step >= 0; }
    /// Zero-copy Image2D (1-channel float32, pixel spacing set) of a 2D frame. Throws
    /// Error(InvalidValue) for an invalid frame or a 3D cache.
    Image2D image() const;
};

/// Keeps the x0 estimate (and optionally x_t) of every reverse-diffusion step of every ensemble
/// member, quantised to 8 bits, within a memory budget; the step browser, `segment --save-steps`
/// and the step-instability map read it.
///
/// Quantisation: x0 frames use fixed codes over [-1, 1] (see X0Quantisation.h): error <= 1/255
/// (half of the 2/255 = 1/127.5 step) after clamping to [-1, 1], and the sign (x0 > 0, the
/// reference's binarisation) survives exactly. x_t frames use a per-frame affine code over the
/// frame's [min, max]: error <= (max - min) / 510 (plus float rounding).
///
/// Budget and what is kept: memory is one byte per voxel per stored frame. With capacity
/// C = floor(budget / (members x kinds x voxels)) steps per member (kinds = 2 with storeNoisy):
/// - C >= N: every step is kept.
/// - otherwise the kept set, shared by all members and fixed at construction (N is known before
///   sampling starts), is: the last T = min(denseTail, C / 2) steps N-T .. N-1 (consecutive, so
///   step instability over the last <= T steps is exact), plus steps 0, s, 2s, ... < N - T with
///   the smallest uniform stride s = ceil((N - T) / (C - T)) that fits. Step 0 and step N-1 are
///   always kept and the filmstrip is evenly spaced apart from the dense tail.
/// - a budget that cannot hold 2 steps (1 when N = 1) of every member throws Error(Config).
/// put() of a step outside the kept set returns false and stores nothing, so bytesUsed() never
/// exceeds the budget. get() of a dropped (or not yet computed) step returns the nearest stored
/// step (ties: the later one) and says which in StepFrame::step.
///
/// Threads: one writer (the sampler) and any number of readers (GUI) may call concurrently, as may
/// several writers. A mutex guards only the table of frame pointers; frames are immutable once
/// published (shared_ptr<const>), so quantisation in put() and dequantisation in get() run
/// outside the lock and a reader never blocks the sampler for longer than a pointer copy.
/// A replaced frame (put() twice for one step) stays alive until readers holding it finish.
class StepCache
{
public:
    /// Throws Error(Config) for an invalid config (sizes, members, steps, timesteps length,
    /// budget too small) naming the key.
    explicit StepCache(StepCacheConfig config);

    const StepCacheConfig& config() const noexcept { return m_config; }
    std::size_t budgetBytes() const noexcept { return m_config.budgetBytes; }
    /// Bytes of one stored frame (one per voxel).
    std::size_t frameBytes() const noexcept { return m_voxels; }
    std::size_t voxelCount() const noexcept { return m_voxels; }
    /// Payload bytes of the frames held now (<= budgetBytes()).
    std::size_t bytesUsed() const;

    /// Stores member `member`'s frame of step `step` (0 = first sampling step, N-1 = last) from
    /// `count` floats laid out like the cache's grid (x fastest). Returns false when the policy
    /// does not keep this step. Throws Error(InvalidValue) for a member or step out of range, a
    /// null pointer or a non-finite value, Error(Mismatch) when count != voxelCount(), and
    /// Error(Config) for FrameKind::Noisy without storeNoisy. Nothing is stored on error.
    bool put(int member, int step, const float* values, std::size_t count,
             FrameKind kind = FrameKind::X0);
    /// Same from a 1-channel float32 image / volume of the cache's size.
    bool put(int member, int step, const Image2D& frame, FrameKind kind = FrameKind::X0);
    bool put(int member, int step, const Volume& frame, FrameKind kind = FrameKind::X0);

    /// The dequantised frame of the stored step nearest to `step`; StepFrame::valid() is false
    /// while nothing of this member (and kind) is stored. Throws Error(InvalidValue) for a member
    /// or step out of range.
    StepFrame get(int member, int step, FrameKind kind = FrameKind::X0) const;
    /// get() into caller memory (no allocation, for the GUI's reused buffers); returns the step
    /// returned or -1 (then `out` is untouched). Throws Error(Mismatch) if count != voxelCount().
    int getInto(int member, int step, float* out, std::size_t count,
                FrameKind kind = FrameKind::X0) const;
    /// Mean over the members that have a frame at the stored step nearest to `step` (any
    /// member's), e.g. the ensemble's x0 at that step; memberCount says how many entered.
    StepFrame meanOverMembers(int step, FrameKind kind = FrameKind::X0) const;

    /// Step instability from the cached x0 frames: for each member with >= 2 stored steps, the
    /// fraction of transitions between its last min(lastSteps + 1, stored) stored steps in which
    /// the binarised x0 (> 0) flips, averaged over those members (formula in UncertaintyMaps.h).
    /// The steps used are in StepFrame::steps (they are consecutive within the dense tail).
    /// Throws Error(InvalidValue) for lastSteps < 1 or when no member has two stored steps.
    StepFrame stepInstability(int lastSteps) const;

    /// The steps the policy keeps, ascending (fixed at construction).
    const std::vector<int>& keptSteps() const noexcept { return m_keptSteps; }
    bool isKept(int step) const noexcept;
    /// The steps stored so far for a member, ascending.
    std::vector<int> storedSteps(int member, FrameKind kind = FrameKind::X0) const;
    /// Drops every stored frame (the kept set stays).
    void clear();

    /// The kept set for N steps, a capacity of C steps and a dense tail (the policy above); all
    /// steps when C >= N. Throws Error(Config) for N < 1 or C < min(N, 2).
    static std::vector<int> planKeptSteps(int steps, std::int64_t capacity, int denseTail);

private:
    struct Frame
    {
        // value = centre + scale * (code - 127.5): centred so that no frame of finite floats
        // overflows while decoding (|scale * 127.5| <= half the frame's range).
        float centre = 0.0f;
        float scale = 0.0f;
        std::vector<std::uint8_t> codes;
    };
    using FramePtr = std::shared_ptr<const Frame>;

    void checkMember(int member) const;
    void checkStep(int step) const;
    void checkKind(FrameKind kind) const;
    std::size_t tableIndex(FrameKind kind, int member, int slot) const noexcept;
    /// Nearest slot with a stored frame for (kind, member); -1 if none. Caller holds m_mutex.
    int nearestStoredSlot(FrameKind kind, int member, int step) const;
    /// The stored frame nearest to `step` for (kind, member) and the step it holds; {null, -1}
    /// when there is none. Takes m_mutex.
    std::pair<FramePtr, int> nearestStored(FrameKind kind, int member, int step) const;
    void dequantise(const Frame& frame, float* out) const;
    StepFrame makeFrame(int member, int requestedStep, int step, FrameKind kind) const;

    StepCacheConfig m_config;
    std::size_t m_voxels = 0;
    std::vector<int> m_keptSteps;
    std::vector<int> m_slotOfStep; ///< -1 for steps the policy drops

    mutable std::mutex m_mutex;
    std::vector<FramePtr> m_frames; ///< [kind][member][slot]; guarded by m_mutex
    std::size_t m_bytesUsed = 0;    ///< guarded by m_mutex
};

} // namespace diffseg::core
