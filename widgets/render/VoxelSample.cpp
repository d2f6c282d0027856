#include "VoxelSample.h"

#include <algorithm>
#include <cmath>

namespace diffseg::widgets {

std::vector<float> sampleVoxels(const core::Volume& volume, int channel, std::size_t samples)
{
    std::vector<float> values;
    const std::size_t n = volume.voxelCount();
    const std::size_t stride = std::max<std::size_t>(1, n / samples);
    values.reserve(n / stride + 1);
    core::dispatchPixelType(volume.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        const T* p =
            static_cast<const T*>(volume.rawData()) + static_cast<std::size_t>(channel) * n;
        for (std::size_t i = 0; i < n; i += stride) {
            const float v = static_cast<float>(p[i]);
            if (std::isfinite(v)) {
                values.push_back(v);
            }
        }
    });
    return values;
}

} // namespace diffseg::widgets
