#include "SurfaceDistance.h"

#include "DistanceTransform.h"
#include "base/Error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace diffseg::core {

namespace {

struct Box
{
    std::array<std::int64_t, 3> lo{0, 0, 0};
    std::array<std::int64_t, 3> hi{-1, -1, -1}; // inclusive; hi < lo means empty
    bool empty() const { return hi[0] < lo[0]; }
};

Box foregroundBox(const BinaryMask& a, const BinaryMask& b)
{
    const auto& size = a.size();
    Box box;
    box.lo = {size[0], size[1], size[2]};
    box.hi = {-1, -1, -1};
    const std::uint8_t* pa = a.data();
    const std::uint8_t* pb = b.data();
    std::size_t n = 0;
    for (std::int64_t k = 0; k < size[2]; ++k) {
        for (std::int64_t j = 0; j < size[1]; ++j) {
            for (std::int64_t i = 0; i < size[0]; ++i, ++n) {
                if (pa[n] | pb[n]) {
                    const std::array<std::int64_t, 3> idx{i, j, k};
                    for (int d = 0; d < 3; ++d) {
                        box.lo[d] = std::min(box.lo[d], idx[d]);
                        box.hi[d] = std::max(box.hi[d], idx[d]);
                    }
                }
            }
        }
    }
    if (box.hi[0] < 0) {
        box.lo = {0, 0, 0};
        box.hi = {-1, -1, -1};
    }
    return box;
}

/// Copies the box of `mask` into a new mask; outside the box is background in the source too, so
/// surfaces computed on the crop equal those on the full grid.
BinaryMask crop(const BinaryMask& mask, const Box& box)
{
    const std::array<std::int64_t, 3> size{box.hi[0] - box.lo[0] + 1, box.hi[1] - box.lo[1] + 1,
                                           box.hi[2] - box.lo[2] + 1};
    BinaryMask out(size, mask.spacing(), mask.dimensions());
    for (std::int64_t k = 0; k < size[2]; ++k) {
        for (std::int64_t j = 0; j < size[1]; ++j) {
            const std::uint8_t* src =
                mask.data() + ((box.lo[2] + k) * mask.size()[1] + box.lo[1] + j) * mask.size()[0] +
                box.lo[0];
            std::copy(src, src + size[0], &out.at(0, j, k));
        }
    }
    return out;
}

std::string spacingText(const std::array<double, 3>& s, int dimensions)
{
    std::ostringstream os;
    os << s[0] << " x " << s[1];
    if (dimensions == 3) {
        os << " x " << s[2];
    }
    os << " mm";
    return os.str();
}

/// d(p, to) for every surface voxel p of `from`, given the squared distance map of `to`'s surface.
std::vector<double> directedDistances(const BinaryMask& fromSurface,
                                      const std::vector<double>& squaredToSurface)
{
    std::vector<double> out;
    const std::uint8_t* s = fromSurface.data();
    const std::size_t count = fromSurface.voxelCount();
    for (std::size_t n = 0; n < count; ++n) {
        if (s[n]) {
            out.push_back(std::sqrt(squaredToSurface[n]));
        }
    }
    return out;
}

} // namespace

void requireSameGrid(const BinaryMask& prediction, const BinaryMask& reference)
{
    if (prediction.empty() || reference.empty()) {
        throw Error(ErrorKind::InvalidValue, prediction.empty() ? "prediction" : "reference",
                    "mask has no voxels");
    }
    if (prediction.dimensions() != reference.dimensions() ||
        prediction.size() != reference.size()) {
        throw Error(ErrorKind::Mismatch, "prediction",
                    "mask is " + prediction.describeSize() + " but the reference is " +
                        reference.describeSize());
    }
    for (int d = 0; d < 3; ++d) {
        const double a = prediction.spacing()[d];
        const double b = reference.spacing()[d];
        if (std::abs(a - b) > 1e-6 * std::max(a, b)) {
            throw Error(ErrorKind::Mismatch, "prediction",
                        "spacing " + spacingText(prediction.spacing(), prediction.dimensions()) +
                            " differs from the reference's " +
                            spacingText(reference.spacing(), reference.dimensions()));
        }
    }
}

BinaryMask surfaceVoxels(const BinaryMask& mask)
{
    BinaryMask out(mask.size(), mask.spacing(), mask.dimensions());
    const auto& size = mask.size();
    const bool useZ = mask.dimensions() == 3;
    for (std::int64_t k = 0; k < size[2]; ++k) {
        for (std::int64_t j = 0; j < size[1]; ++j) {
            for (std::int64_t i = 0; i < size[0]; ++i) {
                if (!mask.at(i, j, k)) {
                    continue;
                }
                const bool interior =
                    i > 0 && i + 1 < size[0] && mask.at(i - 1, j, k) && mask.at(i + 1, j, k) &&
                    j > 0 && j + 1 < size[1] && mask.at(i, j - 1, k) && mask.at(i, j + 1, k) &&
                    (!useZ ||
                     (k > 0 && k + 1 < size[2] && mask.at(i, j, k - 1) && mask.at(i, j, k + 1)));
                out.at(i, j, k) = interior ? 0 : 1;
            }
        }
    }
    return out;
}

SurfaceDistanceSets surfaceDistanceSets(const BinaryMask& prediction, const BinaryMask& reference)
{
    requireSameGrid(prediction, reference);
    SurfaceDistanceSets sets;
    if (prediction.foregroundCount() == 0 || reference.foregroundCount() == 0) {
        return sets;
    }
    // One voxel of margin keeps the crop's outside equal to background on the full grid, so the
    // surfaces match; the nearest surface voxel of either mask always lies inside the box.
    Box box = foregroundBox(prediction, reference);
    const auto& size = prediction.size();
    for (int d = 0; d < 3; ++d) {
        box.lo[d] = std::max<std::int64_t>(0, box.lo[d] - 1);
        box.hi[d] = std::min<std::int64_t>(size[d] - 1, box.hi[d] + 1);
    }
    const BinaryMask predSurface = surfaceVoxels(crop(prediction, box));
    const BinaryMask refSurface = surfaceVoxels(crop(reference, box));
    {
        const std::vector<double> toRef =
            squaredDistanceTransform(refSurface.data(), refSurface.size(), refSurface.spacing());
        sets.predictionToReference = directedDistances(predSurface, toRef);
    }
    const std::vector<double> toPred =
        squaredDistanceTransform(predSurface.data(), predSurface.size(), predSurface.spacing());
    sets.referenceToPrediction = directedDistances(refSurface, toPred);
    return sets;
}

double percentileLinear(std::vector<double>& values, double q)
{
    if (!(q >= 0.0 && q <= 100.0)) {
        throw Error(ErrorKind::InvalidValue, "percentile",
                    "q must be in [0, 100], got " + std::to_string(q));
    }
    if (values.empty()) {
        return SurfaceDistanceStats::kNaN;
    }
    const double rank = q / 100.0 * static_cast<double>(values.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(rank));
    const double frac = rank - static_cast<double>(lo);
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo),
                     values.end());
    const double a = values[lo];
    if (frac == 0.0 || lo + 1 >= values.size()) {
        return a;
    }
    // After nth_element everything right of `lo` is >= a, so the next order statistic is the
    // minimum of that part.
    const double b =
        *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lo) + 1, values.end());
    return a + frac * (b - a);
}

SurfaceDistanceStats surfaceDistanceStats(const BinaryMask& prediction, const BinaryMask& reference)
{
    SurfaceDistanceSets sets = surfaceDistanceSets(prediction, reference);
    SurfaceDistanceStats stats;
    stats.predictionSurfaceVoxels = sets.predictionToReference.size();
    stats.referenceSurfaceVoxels = sets.referenceToPrediction.size();
    if (sets.predictionToReference.empty() || sets.referenceToPrediction.empty()) {
        return stats;
    }
    const auto sum = [](const std::vector<double>& v) {
        return std::accumulate(v.begin(), v.end(), 0.0);
    };
    const double sumPred = sum(sets.predictionToReference);
    const double sumRef = sum(sets.referenceToPrediction);
    stats.defined = true;
    stats.asdPredictionToReferenceMm =
        sumPred / static_cast<double>(sets.predictionToReference.size());
    stats.asdReferenceToPredictionMm =
        sumRef / static_cast<double>(sets.referenceToPrediction.size());
    std::vector<double> all = std::move(sets.predictionToReference);
    all.insert(all.end(), sets.referenceToPrediction.begin(), sets.referenceToPrediction.end());
    stats.assdMm = (sumPred + sumRef) / static_cast<double>(all.size());
    stats.hausdorffMm = *std::max_element(all.begin(), all.end());
    stats.hd95Mm = percentileLinear(all, 95.0);
    return stats;
}

} // namespace diffseg::core
