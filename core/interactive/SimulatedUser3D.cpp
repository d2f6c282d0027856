#include "SimulatedUser3D.h"

#include "SimulatedCourse.h"
#include "base/Error.h"
#include "metrics/DistanceTransform.h"

#include <cstdint>
#include <deque>

namespace diffseg::core {

namespace {

int labelAt(const LabelMap& labels, std::size_t v)
{
    return labels.pixelType() == PixelType::UInt8 ? labels.data<std::uint8_t>()[v]
                                                  : labels.data<std::uint16_t>()[v];
}

} // namespace

std::optional<VolumeClick> nextSimulatedClick3D(const LabelMap& prediction, const LabelMap& truth)
{
    if (prediction.size() != truth.size()) {
        throw Error(ErrorKind::Mismatch, "prediction", "is not on the ground truth's grid");
    }
    const auto& size = truth.size();
    const std::size_t n = truth.voxelCount();
    std::vector<std::uint8_t> wrong(n);
    for (std::size_t v = 0; v < n; ++v) {
        wrong[v] = labelAt(prediction, v) != labelAt(truth, v);
    }
    // 6-connected components by breadth-first search; keep the largest.
    std::vector<std::int32_t> component(n, 0);
    std::int32_t best = 0;
    std::size_t bestSize = 0;
    std::int32_t next = 0;
    std::deque<std::size_t> queue;
    const std::int64_t sx = size[0];
    const std::int64_t sxy = size[0] * size[1];
    for (std::size_t seed = 0; seed < n; ++seed) {
        if (!wrong[seed] || component[seed] != 0) {
            continue;
        }
        component[seed] = ++next;
        queue.assign(1, seed);
        std::size_t count = 0;
        while (!queue.empty()) {
            const std::size_t v = queue.front();
            queue.pop_front();
            ++count;
            const auto i = static_cast<std::int64_t>(v) % sx;
            const auto j = (static_cast<std::int64_t>(v) / sx) % size[1];
            const auto k = static_cast<std::int64_t>(v) / sxy;
            const std::int64_t neighbours[6][3] = {{i - 1, j, k}, {i + 1, j, k}, {i, j - 1, k},
                                                   {i, j + 1, k}, {i, j, k - 1}, {i, j, k + 1}};
            for (const auto& p : neighbours) {
                if (p[0] < 0 || p[1] < 0 || p[2] < 0 || p[0] >= size[0] || p[1] >= size[1] ||
                    p[2] >= size[2]) {
                    continue;
                }
                const auto u = static_cast<std::size_t>(p[2] * sxy + p[1] * sx + p[0]);
                if (wrong[u] && component[u] == 0) {
                    component[u] = next;
                    queue.push_back(u);
                }
            }
        }
        if (count > bestSize) {
            bestSize = count;
            best = next;
        }
    }
    if (best == 0) {
        return std::nullopt;
    }
    // Distances to the nearest voxel outside the region, on a grid padded by one voxel so that
    // the border counts as boundary.
    const std::array<std::int64_t, 3> padded{size[0] + 2, size[1] + 2, size[2] + 2};
    std::vector<std::uint8_t> outside(static_cast<std::size_t>(padded[0] * padded[1] * padded[2]),
                                      1);
    for (std::int64_t k = 0; k < size[2]; ++k) {
        for (std::int64_t j = 0; j < size[1]; ++j) {
            for (std::int64_t i = 0; i < size[0]; ++i) {
                if (component[static_cast<std::size_t>(k * sxy + j * sx + i)] == best) {
                    outside[static_cast<std::size_t>(((k + 1) * padded[1] + j + 1) * padded[0] + i +
                                                     1)] = 0;
                }
            }
        }
    }
    const std::vector<double> d2 =
        squaredDistanceTransform(outside.data(), padded, truth.geometry().spacing);
    double far = -1.0;
    std::size_t at = 0;
    for (std::int64_t k = 0; k < size[2]; ++k) {
        for (std::int64_t j = 0; j < size[1]; ++j) {
            for (std::int64_t i = 0; i < size[0]; ++i) {
                const auto v = static_cast<std::size_t>(k * sxy + j * sx + i);
                if (component[v] != best) {
                    continue;
                }
                const double d =
                    d2[static_cast<std::size_t>(((k + 1) * padded[1] + j + 1) * padded[0] + i + 1)];
                if (d > far) {
                    far = d;
                    at = v;
                }
            }
        }
    }
    VolumeClick click;
    click.index = {static_cast<double>(static_cast<std::int64_t>(at) % sx) + 0.5,
                   static_cast<double>((static_cast<std::int64_t>(at) / sx) % size[1]) + 0.5,
                   static_cast<double>(static_cast<std::int64_t>(at) / sxy) + 0.5};
    click.label = labelAt(truth, at);
    return click;
}

InteractiveVolumeCourse playSimulatedUser3D(const Volume& volume, const LabelMap& truth,
                                            int maxClicks, const InteractiveVolumeMethod& method)
{
    return detail::playCourse<InteractiveVolumeCourse>(
        volume, truth, maxClicks, method, nextSimulatedClick3D,
        "returned labels on another grid than the volume's");
}

} // namespace diffseg::core
