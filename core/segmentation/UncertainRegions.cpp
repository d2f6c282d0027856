#include "UncertainRegions.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace diffseg::core {

namespace {

std::vector<UncertainRegion> components(const float* map, const std::array<std::int64_t, 3>& size,
                                        float threshold, std::size_t minVoxels)
{
    const std::int64_t nx = size[0];
    const std::int64_t ny = size[1];
    const std::int64_t nz = size[2];
    const auto n = static_cast<std::size_t>(nx * ny * nz);
    auto above = [&](std::size_t idx) {
        return !(map[idx] <= threshold);
    };
    std::vector<std::uint8_t> visited(n, 0);
    std::vector<std::size_t> stack;
    std::vector<UncertainRegion> regions;
    for (std::size_t seed = 0; seed < n; ++seed) {
        if (visited[seed] || !above(seed)) {
            continue;
        }
        UncertainRegion region;
        double sum[3] = {0.0, 0.0, 0.0};
        double total = 0.0;
        visited[seed] = 1;
        stack.assign(1, seed);
        while (!stack.empty()) {
            const std::size_t idx = stack.back();
            stack.pop_back();
            const auto i = static_cast<std::int64_t>(idx % static_cast<std::size_t>(nx));
            const auto j = static_cast<std::int64_t>((idx / static_cast<std::size_t>(nx)) %
                                                     static_cast<std::size_t>(ny));
            const auto k = static_cast<std::int64_t>(idx / static_cast<std::size_t>(nx * ny));
            region.box.include(i, j, k);
            ++region.voxels;
            const double v = std::isfinite(map[idx]) ? map[idx] : 0.0;
            total += v;
            region.maxValue = std::max(region.maxValue, v);
            sum[0] += i + 0.5;
            sum[1] += j + 0.5;
            sum[2] += k + 0.5;
            const std::int64_t nb[6][3] = {{i - 1, j, k}, {i + 1, j, k}, {i, j - 1, k},
                                           {i, j + 1, k}, {i, j, k - 1}, {i, j, k + 1}};
            for (const auto& q : nb) {
                if (q[0] < 0 || q[1] < 0 || q[2] < 0 || q[0] >= nx || q[1] >= ny || q[2] >= nz) {
                    continue;
                }
                const auto qi = static_cast<std::size_t>((q[2] * ny + q[1]) * nx + q[0]);
                if (!visited[qi] && above(qi)) {
                    visited[qi] = 1;
                    stack.push_back(qi);
                }
            }
        }
        if (region.voxels >= minVoxels) {
            const auto count = static_cast<double>(region.voxels);
            region.centroid = {sum[0] / count, sum[1] / count, sum[2] / count};
            region.meanValue = total / count;
            regions.push_back(region);
        }
    }
    std::stable_sort(
        regions.begin(), regions.end(),
        [](const UncertainRegion& a, const UncertainRegion& b) { return a.voxels > b.voxels; });
    return regions;
}

void requireFloatMap(PixelType type, int channels)
{
    if (type != PixelType::Float32 || channels != 1) {
        throw Error(ErrorKind::InvalidValue, "", "an uncertainty map must be one float32 channel");
    }
}

} // namespace

std::vector<UncertainRegion> findUncertainRegions(const Image2D& map, float threshold,
                                                  std::size_t minVoxels)
{
    requireFloatMap(map.pixelType(), map.channels());
    return components(map.data<float>(), {map.width(), map.height(), 1}, threshold, minVoxels);
}

std::vector<UncertainRegion> findUncertainRegions(const Volume& map, float threshold,
                                                  std::size_t minVoxels)
{
    requireFloatMap(map.pixelType(), map.channels());
    return components(map.data<float>(), map.size(), threshold, minVoxels);
}

} // namespace diffseg::core
