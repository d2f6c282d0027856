#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

namespace diffseg::core {

/// A half-open box of voxel indices [lo, hi) along (i, j, k); 2D images use k in [0, 1).
/// An empty box (the default) has lo >= hi on some axis. Used to report what an edit changed, so
/// that views repaint and undo steps store only that region.
struct IndexBox
{
    std::array<std::int64_t, 3> lo{std::numeric_limits<std::int64_t>::max(),
                                   std::numeric_limits<std::int64_t>::max(),
                                   std::numeric_limits<std::int64_t>::max()};
    std::array<std::int64_t, 3> hi{std::numeric_limits<std::int64_t>::min(),
                                   std::numeric_limits<std::int64_t>::min(),
                                   std::numeric_limits<std::int64_t>::min()};

    bool empty() const noexcept { return lo[0] >= hi[0] || lo[1] >= hi[1] || lo[2] >= hi[2]; }
    std::int64_t extent(int axis) const noexcept { return empty() ? 0 : hi[axis] - lo[axis]; }
    std::int64_t volume() const noexcept { return extent(0) * extent(1) * extent(2); }

    void include(std::int64_t i, std::int64_t j, std::int64_t k) noexcept
    {
        const std::int64_t p[3] = {i, j, k};
        for (int a = 0; a < 3; ++a) {
            lo[a] = std::min(lo[a], p[a]);
            hi[a] = std::max(hi[a], p[a] + 1);
        }
    }
    void include(const IndexBox& other) noexcept
    {
        if (other.empty()) {
            return;
        }
        for (int a = 0; a < 3; ++a) {
            lo[a] = std::min(lo[a], other.lo[a]);
            hi[a] = std::max(hi[a], other.hi[a]);
        }
    }
    /// The box clipped to [0, size).
    IndexBox clipped(const std::array<std::int64_t, 3>& size) const noexcept
    {
        IndexBox b = *this;
        for (int a = 0; a < 3; ++a) {
            b.lo[a] = std::max<std::int64_t>(b.lo[a], 0);
            b.hi[a] = std::min<std::int64_t>(b.hi[a], size[a]);
        }
        return b;
    }
    static IndexBox whole(const std::array<std::int64_t, 3>& size) noexcept
    {
        IndexBox b;
        b.lo = {0, 0, 0};
        b.hi = size;
        return b;
    }
};

} // namespace diffseg::core
