#include "Geometry.h"

#include <cmath>

namespace diffseg::core {

std::array<double, 3> Geometry::indexToPhysical(const std::array<double, 3>& index) const noexcept
{
    std::array<double, 3> p = origin;
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) {
            p[r] += direction[r * 3 + c] * spacing[c] * index[c];
        }
    }
    return p;
}

std::array<double, 3> Geometry::physicalToIndex(const std::array<double, 3>& point) const noexcept
{
    // The direction is orthonormal, so its inverse is its transpose.
    std::array<double, 3> d{point[0] - origin[0], point[1] - origin[1], point[2] - origin[2]};
    std::array<double, 3> index{};
    for (int c = 0; c < 3; ++c) {
        double s = 0.0;
        for (int r = 0; r < 3; ++r) {
            s += direction[r * 3 + c] * d[r];
        }
        index[c] = s / spacing[c];
    }
    return index;
}

bool Geometry::isClose(const Geometry& other, double tolerance) const noexcept
{
    for (int i = 0; i < 3; ++i) {
        if (std::abs(spacing[i] - other.spacing[i]) > tolerance ||
            std::abs(origin[i] - other.origin[i]) > tolerance) {
            return false;
        }
    }
    for (int i = 0; i < 9; ++i) {
        if (std::abs(direction[i] - other.direction[i]) > tolerance) {
            return false;
        }
    }
    return true;
}

bool Geometry::isValid() const noexcept
{
    for (int i = 0; i < 3; ++i) {
        if (!(std::isfinite(spacing[i]) && spacing[i] > 0.0) || !std::isfinite(origin[i])) {
            return false;
        }
    }
    for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
            double dot = 0.0;
            for (int r = 0; r < 3; ++r) {
                dot += direction[r * 3 + a] * direction[r * 3 + b];
            }
            if (!std::isfinite(dot) || std::abs(dot - (a == b ? 1.0 : 0.0)) > 1e-3) {
                return false;
            }
        }
    }
    return true;
}

std::string Geometry::orientationCode() const
{
    static const char kPositive[3] = {'L', 'P', 'S'};
    static const char kNegative[3] = {'R', 'A', 'I'};
    std::string code;
    for (int c = 0; c < 3; ++c) {
        int best = 0;
        for (int r = 1; r < 3; ++r) {
            if (std::abs(direction[r * 3 + c]) > std::abs(direction[best * 3 + c])) {
                best = r;
            }
        }
        code += direction[best * 3 + c] >= 0.0 ? kPositive[best] : kNegative[best];
    }
    return code;
}

} // namespace diffseg::core
