// Reading a volume run's step cache back: labels and foreground probability of any step.

#include "Segmenter3D.h"
#include "base/Error.h"

#include <algorithm>

namespace diffseg::core {

LabelMap Segmenter3D::stepLabelsFromCache(const StepCache& cache, int step)
{
    const int members = cache.config().members;
    std::vector<StepFrame> frames;
    for (int m = 0; m < members; ++m) {
        frames.push_back(cache.get(m, step));
        if (!frames.back().valid()) {
            throw Error(ErrorKind::InvalidValue, "step cache",
                        "holds no frame of class " + std::to_string(m + 1) + " yet");
        }
    }
    const Volume& grid = frames.front().values;
    LabelMap labels(grid.size(), grid.geometry(),
                    members < 256 ? PixelType::UInt8 : PixelType::UInt16);
    const std::size_t n = grid.voxelCount();
    for (std::size_t v = 0; v < n; ++v) {
        float background = 1.0f;
        int best = 0;
        float bestValue = -1.0f;
        for (int m = 0; m < members; ++m) {
            const float p = std::clamp(
                (frames[static_cast<std::size_t>(m)].values.data<float>()[v] + 1.0f) * 0.5f, 0.0f,
                1.0f);
            background -= p;
            if (p > bestValue) {
                best = m + 1;
                bestValue = p;
            }
        }
        const int label = background >= bestValue ? 0 : best;
        if (members < 256) {
            labels.data<std::uint8_t>()[v] = static_cast<std::uint8_t>(label);
        } else {
            labels.data<std::uint16_t>()[v] = static_cast<std::uint16_t>(label);
        }
    }
    return labels;
}

Volume Segmenter3D::stepForegroundFromCache(const StepCache& cache, int step)
{
    const int members = cache.config().members;
    Volume out;
    for (int m = 0; m < members; ++m) {
        const StepFrame frame = cache.get(m, step);
        if (!frame.valid()) {
            throw Error(ErrorKind::InvalidValue, "step cache",
                        "holds no frame of class " + std::to_string(m + 1) + " yet");
        }
        if (out.empty()) {
            out = Volume(frame.values.size(), 1, PixelType::Float32, frame.values.geometry());
        }
        float* o = out.data<float>();
        const float* x0 = frame.values.data<float>();
        for (std::size_t v = 0; v < out.voxelCount(); ++v) {
            o[v] += std::clamp((x0[v] + 1.0f) * 0.5f, 0.0f, 1.0f);
        }
    }
    float* o = out.data<float>();
    for (std::size_t v = 0; v < out.voxelCount(); ++v) {
        o[v] = std::min(o[v], 1.0f);
    }
    return out;
}

} // namespace diffseg::core
