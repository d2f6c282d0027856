#include "SlidingWindow.h"

#include "base/Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace diffseg::core {

namespace {

constexpr int kMaxWindowBatch = 1024;

std::string sizeText(const std::array<std::int64_t, 3>& s)
{
    return std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]);
}

/// Walks the rows of the window at `start` (roi voxels, x fastest) that lie on the grid of `size`
/// (which the plan pads by `pad` before each axis), in memory order: `row(inWindow, onGrid)`
/// gets the offsets of the row's x = 0 in the window and on the grid. Extraction and blending
/// both walk a window this way, so that they agree on where each window voxel lies.
template <class Row>
void forEachWindowRow(const std::array<std::int64_t, 3>& start,
                      const std::array<std::int64_t, 3>& roi,
                      const std::array<std::int64_t, 3>& size,
                      const std::array<std::int64_t, 3>& pad, Row&& row)
{
    for (std::int64_t k = 0; k < roi[2]; ++k) {
        const std::int64_t z = start[2] + k - pad[2];
        if (z < 0 || z >= size[2]) {
            continue;
        }
        for (std::int64_t j = 0; j < roi[1]; ++j) {
            const std::int64_t y = start[1] + j - pad[1];
            if (y < 0 || y >= size[1]) {
                continue;
            }
            row((k * roi[1] + j) * roi[0], (z * size[1] + y) * size[0] + start[0] - pad[0]);
        }
    }
}

} // namespace

void SlidingWindowOptions::validate(const std::string& subject) const
{
    for (const std::int64_t side : roi) {
        if (side < 1 || side > Volume::kMaxSide) {
            throw Error(ErrorKind::Config, subject + ".roi",
                        "window sides must lie in 1.." + std::to_string(Volume::kMaxSide) +
                            ", got " + sizeText(roi));
        }
    }
    if (!(overlap >= 0.0 && overlap < 1.0)) {
        throw Error(ErrorKind::Config, subject + ".overlap",
                    "must lie in [0, 1), got " + std::to_string(overlap));
    }
    if (windowBatch < 1 || windowBatch > kMaxWindowBatch) {
        throw Error(ErrorKind::Config, subject + ".window_batch",
                    "must lie in 1.." + std::to_string(kMaxWindowBatch) + ", got " +
                        std::to_string(windowBatch));
    }
    if (!(sigmaScale > 0.0 && sigmaScale < 1e3)) {
        throw Error(ErrorKind::Config, subject + ".sigma_scale",
                    "must be positive, got " + std::to_string(sigmaScale));
    }
}

std::vector<float> importanceMap(const std::array<std::int64_t, 3>& roi, BlendMode blend,
                                 double sigmaScale)
{
    const std::size_t voxels = static_cast<std::size_t>(roi[0] * roi[1] * roi[2]);
    if (blend == BlendMode::Constant) {
        return std::vector<float>(voxels, 1.0f);
    }
    // Separable: the product of per-axis Gaussians, each divided by its own maximum, is the map
    // divided by its maximum (the two centre samples of an even side are the maximum).
    std::array<std::vector<double>, 3> axis;
    for (int a = 0; a < 3; ++a) {
        const std::int64_t n = roi[static_cast<std::size_t>(a)];
        const double sigma = sigmaScale * static_cast<double>(n);
        const double centre = static_cast<double>(n - 1) / 2.0;
        std::vector<double>& g = axis[static_cast<std::size_t>(a)];
        g.resize(static_cast<std::size_t>(n));
        double peak = 0.0;
        for (std::int64_t t = 0; t < n; ++t) {
            const double d = static_cast<double>(t) - centre;
            g[static_cast<std::size_t>(t)] = std::exp(-d * d / (2.0 * sigma * sigma));
            peak = std::max(peak, g[static_cast<std::size_t>(t)]);
        }
        for (double& v : g) {
            v /= peak;
        }
    }
    std::vector<float> map(voxels);
    float lowest = 1.0f;
    std::size_t i = 0;
    for (std::int64_t z = 0; z < roi[2]; ++z) {
        for (std::int64_t y = 0; y < roi[1]; ++y) {
            const double zy =
                axis[2][static_cast<std::size_t>(z)] * axis[1][static_cast<std::size_t>(y)];
            for (std::int64_t x = 0; x < roi[0]; ++x, ++i) {
                map[i] = static_cast<float>(zy * axis[0][static_cast<std::size_t>(x)]);
                lowest = std::min(lowest, map[i]);
            }
        }
    }
    // MONAI: clamp(min = max(min(map), 1e-3)), so far corners still count a little and no voxel
    // of the volume is left with a zero weight sum.
    const float floor = std::max(lowest, 1e-3f);
    for (float& v : map) {
        v = std::max(v, floor);
    }
    return map;
}

std::vector<std::int64_t> SlidingWindowPlan::starts(std::int64_t length, std::int64_t roi,
                                                    double overlap)
{
    if (length < roi || roi < 1) {
        throw Error(ErrorKind::Internal, "sliding window",
                    "axis of " + std::to_string(length) + " voxels is shorter than the window " +
                        std::to_string(roi));
    }
    std::int64_t stride = roi;
    if (length != roi) {
        stride = std::max<std::int64_t>(
            1, static_cast<std::int64_t>(static_cast<double>(roi) * (1.0 - overlap)));
    }
    std::vector<std::int64_t> out;
    for (std::int64_t i = 0;; ++i) {
        const std::int64_t start = i * stride;
        out.push_back(std::min(start, length - roi));
        if (start + roi >= length) {
            break;
        }
    }
    return out;
}

SlidingWindowPlan::SlidingWindowPlan(const std::array<std::int64_t, 3>& size,
                                     const SlidingWindowOptions& options)
    : m_options(options)
    , m_size(size)
{
    options.validate();
    for (const std::int64_t side : size) {
        if (side < 1) {
            throw Error(ErrorKind::InvalidValue, "sliding window",
                        "empty volume " + sizeText(size));
        }
    }
    for (std::size_t a = 0; a < 3; ++a) {
        const std::int64_t missing = std::max<std::int64_t>(0, options.roi[a] - size[a]);
        m_padBefore[a] = missing / 2;
        m_padded[a] = size[a] + missing;
        m_starts[a] = starts(m_padded[a], options.roi[a], options.overlap);
        m_stride[a] = m_padded[a] == options.roi[a]
                          ? options.roi[a]
                          : std::max<std::int64_t>(
                                1, static_cast<std::int64_t>(static_cast<double>(options.roi[a]) *
                                                             (1.0 - options.overlap)));
    }
    for (const std::int64_t z : m_starts[2]) {
        for (const std::int64_t y : m_starts[1]) {
            for (const std::int64_t x : m_starts[0]) {
                m_windows.push_back({x, y, z});
            }
        }
    }
    m_roiVoxels = options.roi[0] * options.roi[1] * options.roi[2];
    m_importance = importanceMap(options.roi, options.blend, options.sigmaScale);

    m_weightSum.assign(static_cast<std::size_t>(size[0] * size[1] * size[2]), 0.0);
    std::vector<float> ones(static_cast<std::size_t>(m_roiVoxels), 1.0f);
    for (int w = 0; w < windowCount(); ++w) {
        // The same visit as WindowBlender::add with values 1.
        const auto& start = m_windows[static_cast<std::size_t>(w)];
        for (std::int64_t k = 0; k < options.roi[2]; ++k) {
            const std::int64_t z = start[2] + k - m_padBefore[2];
            if (z < 0 || z >= size[2]) {
                continue;
            }
            for (std::int64_t j = 0; j < options.roi[1]; ++j) {
                const std::int64_t y = start[1] + j - m_padBefore[1];
                if (y < 0 || y >= size[1]) {
                    continue;
                }
                const std::int64_t x0 = std::max<std::int64_t>(0, m_padBefore[0] - start[0]);
                const std::int64_t x1 =
                    std::min<std::int64_t>(options.roi[0], size[0] + m_padBefore[0] - start[0]);
                const float* imp = m_importance.data() + (k * options.roi[1] + j) * options.roi[0];
                double* sum =
                    m_weightSum.data() + (z * size[1] + y) * size[0] + start[0] - m_padBefore[0];
                for (std::int64_t i = x0; i < x1; ++i) {
                    sum[i] += static_cast<double>(imp[i]);
                }
            }
        }
    }
}

int SlidingWindowPlan::batchCount() const noexcept
{
    return (windowCount() + m_options.windowBatch - 1) / m_options.windowBatch;
}

std::pair<int, int> SlidingWindowPlan::batch(int b) const
{
    if (b < 0 || b >= batchCount()) {
        throw Error(ErrorKind::Internal, "sliding window", "batch index out of range");
    }
    const int first = b * m_options.windowBatch;
    return {first, std::min(m_options.windowBatch, windowCount() - first)};
}

void SlidingWindowPlan::extractWindow(const Volume& input, int w, float* out) const
{
    if (input.size() != m_size || input.pixelType() != PixelType::Float32) {
        throw Error(ErrorKind::Mismatch, "sliding window input",
                    "expected Float32 " + sizeText(m_size) + ", got " + input.describe());
    }
    const auto& start = window(w);
    const auto& roi = m_options.roi;
    const std::int64_t x0 = std::max<std::int64_t>(0, m_padBefore[0] - start[0]);
    const std::int64_t x1 = std::min<std::int64_t>(roi[0], m_size[0] + m_padBefore[0] - start[0]);
    for (int c = 0; c < input.channels(); ++c) {
        const float* channel = input.channelData<float>(c);
        float* dst = out + static_cast<std::size_t>(c) * static_cast<std::size_t>(m_roiVoxels);
        std::fill(dst, dst + m_roiVoxels, 0.0f);
        if (x1 <= x0) {
            continue; // no column of the window lies on the grid
        }
        forEachWindowRow(start, roi, m_size, m_padBefore, [&](std::int64_t in, std::int64_t on) {
            std::memcpy(dst + in + x0, channel + on + x0,
                        static_cast<std::size_t>(x1 - x0) * sizeof(float));
        });
    }
}

WindowBlender::WindowBlender(const SlidingWindowPlan& plan, int channels, BlendPrecision precision)
    : m_plan(&plan)
    , m_channels(channels)
    , m_precision(precision)
{
    if (channels < 1 || channels > Volume::kMaxChannels) {
        throw Error(ErrorKind::InvalidValue, "sliding window",
                    "output channels must lie in 1.." + std::to_string(Volume::kMaxChannels));
    }
    const auto& s = plan.size();
    const std::size_t n =
        static_cast<std::size_t>(channels) * static_cast<std::size_t>(s[0] * s[1] * s[2]);
    if (precision == BlendPrecision::Double) {
        m_sum.assign(n, 0.0);
    } else {
        m_sumFloat.assign(n, 0.0f);
    }
}

template <class T>
void WindowBlender::accumulate(std::vector<T>& sums, int w, const float* values)
{
    const SlidingWindowPlan& plan = *m_plan;
    const auto& start = plan.window(w);
    const auto& roi = plan.roi();
    const auto& size = plan.size();
    const auto& pad = plan.padBefore();
    const std::size_t voxels = static_cast<std::size_t>(size[0] * size[1] * size[2]);
    const std::int64_t x0 = std::max<std::int64_t>(0, pad[0] - start[0]);
    const std::int64_t x1 = std::min<std::int64_t>(roi[0], size[0] + pad[0] - start[0]);
    const float* importance = plan.importance().data();
    for (int c = 0; c < m_channels; ++c) {
        const float* in =
            values + static_cast<std::size_t>(c) * static_cast<std::size_t>(plan.roiVoxels());
        T* channel = sums.data() + static_cast<std::size_t>(c) * voxels;
        forEachWindowRow(start, roi, size, pad, [&](std::int64_t row, std::int64_t on) {
            for (std::int64_t i = x0; i < x1; ++i) {
                channel[on + i] +=
                    static_cast<T>(importance[row + i]) * static_cast<T>(in[row + i]);
            }
        });
    }
}

template <class T>
void WindowBlender::divide(const std::vector<T>& sums, float* out) const
{
    const std::vector<double>& weight = m_plan->weightSum();
    const std::size_t voxels = weight.size();
    for (int c = 0; c < m_channels; ++c) {
        const std::size_t offset = static_cast<std::size_t>(c) * voxels;
        for (std::size_t v = 0; v < voxels; ++v) {
            out[offset + v] = static_cast<float>(static_cast<double>(sums[offset + v]) / weight[v]);
        }
    }
}

void WindowBlender::add(int w, const float* values)
{
    if (m_released) {
        throw Error(ErrorKind::Internal, "sliding window", "blender used after release()");
    }
    if (m_precision == BlendPrecision::Double) {
        accumulate(m_sum, w, values);
    } else {
        accumulate(m_sumFloat, w, values);
    }
}

Volume WindowBlender::result(const Geometry& geometry) const
{
    if (m_released) {
        throw Error(ErrorKind::Internal, "sliding window", "blender used after release()");
    }
    Volume out(m_plan->size(), m_channels, PixelType::Float32, geometry);
    if (m_precision == BlendPrecision::Double) {
        divide(m_sum, out.data<float>());
    } else {
        divide(m_sumFloat, out.data<float>());
    }
    return out;
}

void WindowBlender::release()
{
    m_released = true;
    std::vector<double>().swap(m_sum);
    std::vector<float>().swap(m_sumFloat);
}

void flipWindow(float* values, int channels, const std::array<std::int64_t, 3>& roi, int flip)
{
    if (flip < 0 || flip > 7) {
        throw Error(ErrorKind::Internal, "mirror", "flip mask must lie in 0..7");
    }
    if (flip == 0) {
        return;
    }
    const std::int64_t nx = roi[0];
    const std::int64_t ny = roi[1];
    const std::int64_t nz = roi[2];
    const bool fx = (flip & 1) != 0;
    const bool fy = (flip & 2) != 0;
    const bool fz = (flip & 4) != 0;
    std::vector<float> copy(static_cast<std::size_t>(nx * ny * nz));
    for (int c = 0; c < channels; ++c) {
        float* v = values + static_cast<std::size_t>(c) * copy.size();
        std::memcpy(copy.data(), v, copy.size() * sizeof(float));
        for (std::int64_t z = 0; z < nz; ++z) {
            const std::int64_t sz = fz ? nz - 1 - z : z;
            for (std::int64_t y = 0; y < ny; ++y) {
                const std::int64_t sy = fy ? ny - 1 - y : y;
                const float* src = copy.data() + (sz * ny + sy) * nx;
                float* dst = v + (z * ny + y) * nx;
                if (fx) {
                    for (std::int64_t x = 0; x < nx; ++x) {
                        dst[x] = src[nx - 1 - x];
                    }
                } else {
                    std::memcpy(dst, src, static_cast<std::size_t>(nx) * sizeof(float));
                }
            }
        }
    }
}

Volume slidingWindowInference(const Volume& input, int outChannels,
                              const SlidingWindowOptions& options, const WindowFunction& model,
                              const CancelToken& cancel)
{
    if (input.empty() || input.pixelType() != PixelType::Float32) {
        throw Error(ErrorKind::InvalidValue, "sliding window input",
                    "must be a non-empty Float32 volume, got " + input.describe());
    }
    if (!model) {
        throw Error(ErrorKind::Internal, "sliding window", "no model function");
    }
    const SlidingWindowPlan plan(input.size(), options);
    WindowBlender blender(plan, outChannels);
    const auto roiVoxels = static_cast<std::size_t>(plan.roiVoxels());
    const std::size_t inStride = roiVoxels * static_cast<std::size_t>(input.channels());
    const std::size_t outStride = roiVoxels * static_cast<std::size_t>(outChannels);
    const int flips = mirrorCount(options.mirror);
    std::vector<float> windows;
    std::vector<float> flipped;
    std::vector<float> output;
    std::vector<double> sum; // the mirror passes' mean in double: 8 equal passes average exactly
    std::vector<float> mean;
    for (int b = 0; b < plan.batchCount(); ++b) {
        const auto [first, count] = plan.batch(b);
        windows.resize(inStride * static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) {
            plan.extractWindow(input, first + i,
                               windows.data() + inStride * static_cast<std::size_t>(i));
        }
        sum.assign(outStride * static_cast<std::size_t>(count), 0.0);
        for (int f = 0; f < flips; ++f) {
            cancel.throwIfCancelled("sliding-window inference");
            flipped = windows;
            output.assign(outStride * static_cast<std::size_t>(count), 0.0f);
            for (int i = 0; i < count; ++i) {
                flipWindow(flipped.data() + inStride * static_cast<std::size_t>(i),
                           input.channels(), plan.roi(), f);
            }
            model(WindowBatch{first, count, f, plan.roi(), input.channels(), outChannels,
                              flipped.data(), output.data()});
            for (int i = 0; i < count; ++i) {
                flipWindow(output.data() + outStride * static_cast<std::size_t>(i), outChannels,
                           plan.roi(), f);
            }
            for (std::size_t v = 0; v < sum.size(); ++v) {
                sum[v] += static_cast<double>(output[v]);
            }
        }
        mean.resize(sum.size());
        for (std::size_t v = 0; v < sum.size(); ++v) {
            mean[v] = static_cast<float>(sum[v] / flips);
        }
        for (int i = 0; i < count; ++i) {
            blender.add(first + i, mean.data() + outStride * static_cast<std::size_t>(i));
        }
    }
    return blender.result(input.geometry());
}

} // namespace diffseg::core
