#include "Resample.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

namespace diffseg::core {

namespace {

/// Output index -> input continuous index: in = A * out + b.
struct IndexMap
{
    double a[9];
    double b[3];
};

IndexMap indexMap(const Geometry& from, const Geometry& to)
{
    // in = S_in^-1 D_in^T (D_out S_out out + o_out - o_in); the directions are orthonormal.
    IndexMap m{};
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) {
            double sum = 0.0;
            for (int k = 0; k < 3; ++k) {
                sum += from.direction[k * 3 + r] * to.direction[k * 3 + c];
            }
            m.a[r * 3 + c] = sum * to.spacing[c] / from.spacing[r];
        }
        double sum = 0.0;
        for (int k = 0; k < 3; ++k) {
            sum += from.direction[k * 3 + r] * (to.origin[k] - from.origin[k]);
        }
        m.b[r] = sum / from.spacing[r];
    }
    return m;
}

/// Clamps a coordinate to the grid when it is at most half a voxel outside; false further out.
bool clampCoordinate(double& x, std::int64_t n)
{
    constexpr double kSlack = 0.5 + 1e-6;
    if (x < -kSlack || x > static_cast<double>(n - 1) + kSlack) {
        return false;
    }
    x = std::clamp(x, 0.0, static_cast<double>(n - 1));
    return true;
}

template <class Fn>
void parallelSlices(std::int64_t slices, Fn&& fn)
{
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const auto workers = static_cast<std::int64_t>(std::min<unsigned>(hw, 8));
    if (workers <= 1 || slices < 4) {
        for (std::int64_t k = 0; k < slices; ++k) {
            fn(k);
        }
        return;
    }
    std::vector<std::thread> threads;
    for (std::int64_t w = 0; w < workers; ++w) {
        threads.emplace_back([&, w] {
            for (std::int64_t k = w; k < slices; k += workers) {
                fn(k);
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
}

template <class T>
void resampleChannel(const T* in, const std::array<std::int64_t, 3>& inSize, T* out,
                     const std::array<std::int64_t, 3>& outSize, const IndexMap& m,
                     Interpolation interpolation, double outsideValue)
{
    const std::int64_t nx = inSize[0], ny = inSize[1], nz = inSize[2];
    auto at = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
        return in[static_cast<std::size_t>((k * ny + j) * nx + i)];
    };
    const T outside =
        static_cast<T>(std::is_integral_v<T> ? std::lround(outsideValue) : outsideValue);
    parallelSlices(outSize[2], [&](std::int64_t k) {
        for (std::int64_t j = 0; j < outSize[1]; ++j) {
            T* row = out + static_cast<std::size_t>((k * outSize[1] + j) * outSize[0]);
            for (std::int64_t i = 0; i < outSize[0]; ++i) {
                double p[3];
                for (int r = 0; r < 3; ++r) {
                    p[r] = m.a[r * 3] * double(i) + m.a[r * 3 + 1] * double(j) +
                           m.a[r * 3 + 2] * double(k) + m.b[r];
                }
                if (!clampCoordinate(p[0], nx) || !clampCoordinate(p[1], ny) ||
                    !clampCoordinate(p[2], nz)) {
                    row[i] = outside;
                    continue;
                }
                if (interpolation == Interpolation::Nearest) {
                    row[i] = at(std::lround(p[0]), std::lround(p[1]), std::lround(p[2]));
                    continue;
                }
                const std::int64_t x0 =
                    std::min<std::int64_t>(static_cast<std::int64_t>(p[0]), nx - 1);
                const std::int64_t y0 =
                    std::min<std::int64_t>(static_cast<std::int64_t>(p[1]), ny - 1);
                const std::int64_t z0 =
                    std::min<std::int64_t>(static_cast<std::int64_t>(p[2]), nz - 1);
                const std::int64_t x1 = std::min(x0 + 1, nx - 1), y1 = std::min(y0 + 1, ny - 1),
                                   z1 = std::min(z0 + 1, nz - 1);
                const double fx = p[0] - double(x0), fy = p[1] - double(y0), fz = p[2] - double(z0);
                const double w[8] = {(1 - fx) * (1 - fy) * (1 - fz),
                                     fx * (1 - fy) * (1 - fz),
                                     (1 - fx) * fy * (1 - fz),
                                     fx * fy * (1 - fz),
                                     (1 - fx) * (1 - fy) * fz,
                                     fx * (1 - fy) * fz,
                                     (1 - fx) * fy * fz,
                                     fx * fy * fz};
                const T v[8] = {at(x0, y0, z0), at(x1, y0, z0), at(x0, y1, z0), at(x1, y1, z0),
                                at(x0, y0, z1), at(x1, y0, z1), at(x0, y1, z1), at(x1, y1, z1)};
                if (interpolation == Interpolation::Linear) {
                    double sum = 0.0;
                    for (int c = 0; c < 8; ++c) {
                        sum += w[c] * static_cast<double>(v[c]);
                    }
                    if constexpr (std::is_integral_v<T>) {
                        row[i] = static_cast<T>(std::lround(sum));
                    } else {
                        row[i] = static_cast<T>(sum);
                    }
                    continue;
                }
                // Label-aware: the summed weight of each distinct neighbour label; ties go to the
                // label of the nearest neighbour, so that a grid onto itself is the identity.
                const int nearest = (fx >= 0.5 ? 1 : 0) + (fy >= 0.5 ? 2 : 0) + (fz >= 0.5 ? 4 : 0);
                T best = v[nearest];
                double bestWeight = 0.0;
                for (int c = 0; c < 8; ++c) {
                    if (v[c] == best) {
                        bestWeight += w[c];
                    }
                }
                for (int c = 0; c < 8; ++c) {
                    if (v[c] == best) {
                        continue;
                    }
                    double weight = 0.0;
                    for (int d = 0; d < 8; ++d) {
                        if (v[d] == v[c]) {
                            weight += w[d];
                        }
                    }
                    if (weight > bestWeight + 1e-12) {
                        best = v[c];
                        bestWeight = weight;
                    }
                }
                row[i] = best;
            }
        }
    });
}

void checkTargetSpacing(const std::array<double, 3>& spacing)
{
    for (double s : spacing) {
        if (!(std::isfinite(s) && s > 0.0)) {
            throw Error(ErrorKind::InvalidValue, "", "target spacing must be positive and finite");
        }
    }
}

} // namespace

std::array<std::int64_t, 3> resampledSize(const std::array<std::int64_t, 3>& size,
                                          const std::array<double, 3>& spacing,
                                          const std::array<double, 3>& targetSpacing)
{
    checkTargetSpacing(targetSpacing);
    std::array<std::int64_t, 3> out{};
    for (int d = 0; d < 3; ++d) {
        const double n = std::round(static_cast<double>(size[d]) * spacing[d] / targetSpacing[d]);
        if (!(n <= static_cast<double>(Volume::kMaxSide))) {
            throw Error(ErrorKind::InvalidValue, "",
                        "resampling to " + std::to_string(targetSpacing[d]) + " mm would need " +
                            std::to_string(n) + " voxels along axis " + std::to_string(d));
        }
        out[d] = std::max<std::int64_t>(1, static_cast<std::int64_t>(n));
    }
    return out;
}

Geometry resampledGeometry(const Volume& volume, const std::array<std::int64_t, 3>& newSize)
{
    const Geometry& g = volume.geometry();
    Geometry out = g;
    std::array<double, 3> shift{};
    for (int d = 0; d < 3; ++d) {
        out.spacing[d] =
            g.spacing[d] * static_cast<double>(volume.size()[d]) / static_cast<double>(newSize[d]);
        // In input voxels: the first output centre sits half an output voxel inside the FOV edge.
        shift[d] = 0.5 * (out.spacing[d] / g.spacing[d] - 1.0);
    }
    out.origin = g.indexToPhysical(shift);
    return out;
}

Volume resampleToGrid(const Volume& volume, const std::array<std::int64_t, 3>& size,
                      const Geometry& geometry, Interpolation interpolation, double outsideValue)
{
    Volume out(size, volume.channels(), volume.pixelType(), geometry);
    const IndexMap m = indexMap(volume.geometry(), geometry);
    dispatchPixelType(volume.pixelType(), [&](auto t) {
        using T = decltype(t);
        for (int c = 0; c < volume.channels(); ++c) {
            resampleChannel(volume.channelData<T>(c), volume.size(), out.channelData<T>(c), size, m,
                            interpolation, outsideValue);
        }
    });
    return out;
}

Volume resampleToSpacing(const Volume& volume, const std::array<double, 3>& targetSpacing,
                         Interpolation interpolation)
{
    const auto size = resampledSize(volume.size(), volume.geometry().spacing, targetSpacing);
    return resampleToGrid(volume, size, resampledGeometry(volume, size), interpolation);
}

LabelMap resampleLabelMapToSpacing(const LabelMap& labels,
                                   const std::array<double, 3>& targetSpacing)
{
    return LabelMap::fromVolume(resampleToSpacing(labels, targetSpacing, Interpolation::Label));
}

LabelMap resampleLabelMapToGrid(const LabelMap& labels, const std::array<std::int64_t, 3>& size,
                                const Geometry& geometry)
{
    return LabelMap::fromVolume(resampleToGrid(labels, size, geometry, Interpolation::Label, 0.0));
}

} // namespace diffseg::core
