#include "DistanceTransform.h"

#include "base/Error.h"

#include <cmath>
#include <limits>
#include <string>

namespace diffseg::core {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Scratch for one 1D pass, reused across lines so that a pass allocates once.
struct LineScratch
{
    std::vector<double> f;
    std::vector<double> out;
    std::vector<std::int64_t> v;
    std::vector<double> z;

    explicit LineScratch(std::int64_t n)
        : f(static_cast<std::size_t>(n))
        , out(static_cast<std::size_t>(n))
        , v(static_cast<std::size_t>(n))
        , z(static_cast<std::size_t>(n) + 1)
    {}
};

/// 1D transform of `s.f` into `s.out`: out(p) = min_q ((p - q) h)^2 + f(q). Infinite samples are
/// not sites, so they never enter the envelope (their parabolas would make the intersection
/// formula produce inf - inf).
void transformLine(LineScratch& s, std::int64_t n, double h)
{
    std::int64_t k = -1;
    for (std::int64_t q = 0; q < n; ++q) {
        const double fq = s.f[q];
        if (fq == kInf) {
            continue;
        }
        const double xq = static_cast<double>(q) * h;
        if (k < 0) {
            k = 0;
            s.v[0] = q;
            s.z[0] = -kInf;
            s.z[1] = kInf;
            continue;
        }
        double boundary = 0.0;
        for (;;) {
            const std::int64_t p = s.v[k];
            const double xp = static_cast<double>(p) * h;
            boundary = ((fq + xq * xq) - (s.f[p] + xp * xp)) / (2.0 * (xq - xp));
            if (boundary <= s.z[k]) {
                --k; // z[0] is -inf, so k never drops below 0 here
                continue;
            }
            break;
        }
        ++k;
        s.v[k] = q;
        s.z[k] = boundary;
        s.z[k + 1] = kInf;
    }
    if (k < 0) {
        for (std::int64_t p = 0; p < n; ++p) {
            s.out[p] = kInf;
        }
        return;
    }
    k = 0;
    for (std::int64_t p = 0; p < n; ++p) {
        const double xp = static_cast<double>(p) * h;
        while (s.z[k + 1] < xp) {
            ++k;
        }
        const double d = xp - static_cast<double>(s.v[k]) * h;
        s.out[p] = d * d + s.f[s.v[k]];
    }
}

/// Runs transformLine over every line of `grid` along `axis`, in place.
void transformAxis(std::vector<double>& grid, const std::array<std::int64_t, 3>& size, int axis,
                   double h)
{
    const std::int64_t n = size[axis];
    if (n == 1) {
        return; // a single sample: the 1D transform is the identity
    }
    const std::int64_t strides[3] = {1, size[0], size[0] * size[1]};
    const std::int64_t stride = strides[axis];
    const int a = axis == 0 ? 1 : 0;
    const int b = axis == 2 ? 1 : 2;
    LineScratch s(n);
    for (std::int64_t ib = 0; ib < size[b]; ++ib) {
        for (std::int64_t ia = 0; ia < size[a]; ++ia) {
            const std::int64_t base = ia * strides[a] + ib * strides[b];
            for (std::int64_t q = 0; q < n; ++q) {
                s.f[q] = grid[static_cast<std::size_t>(base + q * stride)];
            }
            transformLine(s, n, h);
            for (std::int64_t q = 0; q < n; ++q) {
                grid[static_cast<std::size_t>(base + q * stride)] = s.out[q];
            }
        }
    }
}

} // namespace

std::vector<double> squaredDistanceTransform(const std::uint8_t* sites,
                                             const std::array<std::int64_t, 3>& size,
                                             const std::array<double, 3>& spacing)
{
    if (sites == nullptr) {
        throw Error(ErrorKind::InvalidValue, "distance transform", "no site mask given");
    }
    for (int axis = 0; axis < 3; ++axis) {
        if (size[axis] < 1) {
            throw Error(ErrorKind::InvalidValue, "distance transform",
                        "grid size must be at least 1 per axis, got " + std::to_string(size[0]) +
                            "x" + std::to_string(size[1]) + "x" + std::to_string(size[2]));
        }
        if (!std::isfinite(spacing[axis]) || spacing[axis] <= 0.0) {
            throw Error(ErrorKind::InvalidValue, "distance transform",
                        "spacing must be positive and finite, got " +
                            std::to_string(spacing[axis]) + " mm along axis " +
                            std::to_string(axis));
        }
    }
    const std::size_t count = static_cast<std::size_t>(size[0] * size[1] * size[2]);
    std::vector<double> grid(count);
    for (std::size_t n = 0; n < count; ++n) {
        grid[n] = sites[n] != 0 ? 0.0 : kInf;
    }
    // The x pass goes first because its lines are contiguous and it turns most infinities into
    // finite values cheaply; the order does not change the (exact) result.
    transformAxis(grid, size, 0, spacing[0]);
    transformAxis(grid, size, 1, spacing[1]);
    transformAxis(grid, size, 2, spacing[2]);
    return grid;
}

} // namespace diffseg::core
