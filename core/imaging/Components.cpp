#include "Components.h"

#include "base/Error.h"

#include <cstdint>
#include <map>
#include <vector>

namespace diffseg::core {

namespace {

template <class T>
std::size_t keepLargest(T* data, const std::array<std::int64_t, 3>& size, const LabelMap& keep,
                        int fill)
{
    const std::int64_t nx = size[0];
    const std::int64_t ny = size[1];
    const std::int64_t nz = size[2];
    const std::size_t n = static_cast<std::size_t>(nx * ny * nz);
    // Component ids per voxel (0 = not yet visited or background) and, per label, the largest.
    std::vector<std::uint32_t> component(n, 0);
    std::vector<std::size_t> sizes{0};
    std::map<int, std::uint32_t> largest;
    std::vector<std::size_t> stack;
    for (std::size_t start = 0; start < n; ++start) {
        const int label = static_cast<int>(data[start]);
        if (label == 0 || component[start] != 0) {
            continue;
        }
        const auto id = static_cast<std::uint32_t>(sizes.size());
        std::size_t count = 0;
        component[start] = id;
        stack.push_back(start);
        while (!stack.empty()) {
            const std::size_t v = stack.back();
            stack.pop_back();
            ++count;
            const auto x = static_cast<std::int64_t>(v % static_cast<std::size_t>(nx));
            const auto y = static_cast<std::int64_t>((v / static_cast<std::size_t>(nx)) %
                                                     static_cast<std::size_t>(ny));
            const auto z = static_cast<std::int64_t>(v / static_cast<std::size_t>(nx * ny));
            for (std::int64_t dz = -1; dz <= 1; ++dz) {
                for (std::int64_t dy = -1; dy <= 1; ++dy) {
                    for (std::int64_t dx = -1; dx <= 1; ++dx) {
                        const std::int64_t xx = x + dx;
                        const std::int64_t yy = y + dy;
                        const std::int64_t zz = z + dz;
                        if (xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz) {
                            continue;
                        }
                        const auto w = static_cast<std::size_t>((zz * ny + yy) * nx + xx);
                        if (component[w] == 0 && static_cast<int>(data[w]) == label) {
                            component[w] = id;
                            stack.push_back(w);
                        }
                    }
                }
            }
        }
        sizes.push_back(count);
        const auto best = largest.find(label);
        if (best == largest.end() || sizes[best->second] < count) {
            largest[label] = id;
        }
    }
    // Which components stay, by id: one lookup per voxel below instead of a map search.
    std::vector<char> kept(sizes.size(), 0);
    for (const auto& [label, id] : largest) {
        kept[id] = 1;
    }
    std::size_t changed = 0;
    for (std::size_t v = 0; v < n; ++v) {
        if (data[v] == 0 || kept[component[v]]) {
            continue;
        }
        if (!keep.empty() &&
            (keep.pixelType() == PixelType::UInt8 ? keep.data<std::uint8_t>()[v] != 0
                                                  : keep.data<std::uint16_t>()[v] != 0)) {
            continue;
        }
        data[v] = static_cast<T>(fill);
        ++changed;
    }
    return changed;
}

} // namespace

std::size_t keepLargestComponents(LabelMap& labels, const LabelMap& keep, int fill)
{
    if (labels.empty()) {
        return 0;
    }
    if (!keep.empty() && keep.size() != labels.size()) {
        throw Error(ErrorKind::Mismatch, "keepLargestComponents",
                    "the voxels to keep are not on the label map's grid");
    }
    if (labels.pixelType() == PixelType::UInt8) {
        return keepLargest(labels.data<std::uint8_t>(), labels.size(), keep, fill);
    }
    return keepLargest(labels.data<std::uint16_t>(), labels.size(), keep, fill);
}

} // namespace diffseg::core
