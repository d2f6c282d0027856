#include "GroupNormKernel.h"

#include "CpuKernelSupport.h"
#include "base/Error.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace diffseg::core::engine {

namespace {

using namespace kernel; // Bf16Bits, load, store, fastExp, Vec8

DIFFSEG_INLINE float silu(float y)
{
    return y / (1.0F + fastExp(-y));
}

/// silu() on eight lanes, the same arithmetic (a loop calling the scalar one stays scalar).
DIFFSEG_INLINE Vec8 silu(const Vec8& y)
{
    return y / (1.0F + fastExp(-y));
}

// ----- statistics: shifted sums per channel (channels-last) or per plane (NCHW) --------------

/// Channels-last rows [first, last) of one sample: sums of (x - pilot[c]) and its square per
/// channel into s1, s2 (C floats each, accumulated).
template <class T>
DIFFSEG_INLINE void sumsRowsBody(const T* x, std::int64_t channels, std::int64_t first,
                                 std::int64_t last, const float* pilot, float* s1, float* s2)
{
    for (std::int64_t p = first; p < last; ++p) {
        const T* row = x + p * channels;
        for (std::int64_t c = 0; c < channels; ++c) {
            const float d = load(row, c) - pilot[c];
            s1[c] += d;
            s2[c] += d * d;
        }
    }
}

DIFFSEG_MULTIVERSION void sumsRows(const float* x, std::int64_t channels, std::int64_t first,
                                   std::int64_t last, const float* pilot, float* s1, float* s2)
{
    sumsRowsBody(x, channels, first, last, pilot, s1, s2);
}

DIFFSEG_MULTIVERSION void sumsRows(const Bf16Bits* x, std::int64_t channels, std::int64_t first,
                                   std::int64_t last, const float* pilot, float* s1, float* s2)
{
    sumsRowsBody(x, channels, first, last, pilot, s1, s2);
}

/// One contiguous plane: the shifted sums in float lanes, returned in double.
template <class T>
DIFFSEG_INLINE void sumsPlaneBody(const T* x, std::int64_t n, float pilot, double& s1, double& s2)
{
    // Blocks of 4096 keep each float partial sum short; 16 lanes let the compiler vectorise.
    constexpr int kLanes = 16;
    for (std::int64_t begin = 0; begin < n; begin += 4096) {
        const std::int64_t end = std::min(n, begin + 4096);
        float a[kLanes] = {};
        float b[kLanes] = {};
        std::int64_t i = begin;
        for (; i + kLanes <= end; i += kLanes) {
            for (int l = 0; l < kLanes; ++l) {
                const float d = load(x, i + l) - pilot;
                a[l] += d;
                b[l] += d * d;
            }
        }
        for (; i < end; ++i) {
            const float d = load(x, i) - pilot;
            a[0] += d;
            b[0] += d * d;
        }
        for (int l = 0; l < kLanes; ++l) {
            s1 += a[l];
            s2 += b[l];
        }
    }
}

DIFFSEG_MULTIVERSION void sumsPlane(const float* x, std::int64_t n, float pilot, double& s1,
                                    double& s2)
{
    sumsPlaneBody(x, n, pilot, s1, s2);
}

DIFFSEG_MULTIVERSION void sumsPlane(const Bf16Bits* x, std::int64_t n, float pilot, double& s1,
                                    double& s2)
{
    sumsPlaneBody(x, n, pilot, s1, s2);
}

// ----- apply: y = act(x * a + b) -----------------------------------------------------------

template <class T>
DIFFSEG_INLINE void applyRowsBody(const T* x, T* y, std::int64_t channels, std::int64_t first,
                                  std::int64_t last, const float* a, const float* b, bool act)
{
    const std::int64_t whole = channels - channels % kVec8Lanes;
    for (std::int64_t p = first; p < last; ++p) {
        const T* in = x + p * channels;
        T* out = y + p * channels;
        if (act) {
            for (std::int64_t c = 0; c < whole; c += kVec8Lanes) {
                store8(out + c, silu(load8(in + c) * loadVec(a + c) + loadVec(b + c)));
            }
            for (std::int64_t c = whole; c < channels; ++c) {
                store(out, c, silu(load(in, c) * a[c] + b[c]));
            }
        } else {
            for (std::int64_t c = 0; c < channels; ++c) {
                store(out, c, load(in, c) * a[c] + b[c]);
            }
        }
    }
}

DIFFSEG_MULTIVERSION void applyRows(const float* x, float* y, std::int64_t channels,
                                    std::int64_t first, std::int64_t last, const float* a,
                                    const float* b, bool act)
{
    applyRowsBody(x, y, channels, first, last, a, b, act);
}

DIFFSEG_MULTIVERSION void applyRows(const Bf16Bits* x, Bf16Bits* y, std::int64_t channels,
                                    std::int64_t first, std::int64_t last, const float* a,
                                    const float* b, bool act)
{
    applyRowsBody(x, y, channels, first, last, a, b, act);
}

template <class T>
DIFFSEG_INLINE void applyPlaneBody(const T* x, T* y, std::int64_t n, float a, float b, bool act)
{
    if (act) {
        const std::int64_t whole = n - n % kVec8Lanes;
        for (std::int64_t i = 0; i < whole; i += kVec8Lanes) {
            store8(y + i, silu(load8(x + i) * a + b));
        }
        for (std::int64_t i = whole; i < n; ++i) {
            store(y, i, silu(load(x, i) * a + b));
        }
    } else {
        for (std::int64_t i = 0; i < n; ++i) {
            store(y, i, load(x, i) * a + b);
        }
    }
}

DIFFSEG_MULTIVERSION void applyPlane(const float* x, float* y, std::int64_t n, float a, float b,
                                     bool act)
{
    applyPlaneBody(x, y, n, a, b, act);
}

DIFFSEG_MULTIVERSION void applyPlane(const Bf16Bits* x, Bf16Bits* y, std::int64_t n, float a,
                                     float b, bool act)
{
    applyPlaneBody(x, y, n, a, b, act);
}

/// Row blocks small enough that two threads share even one sample's work.
constexpr std::int64_t kRowBlock = 256;

template <class T>
void runChannelsLast(const T* x, T* y, std::int64_t batch, std::int64_t channels,
                     std::int64_t positions, std::int64_t groups, const float* gamma,
                     const float* beta, bool act, double eps, float* meanOut, float* rstdOut)
{
    const std::int64_t perGroup = channels / groups;
    const std::int64_t blocks = (positions + kRowBlock - 1) / kRowBlock;
    // Pilot: each group's first value, so the sums are of deviations, not of raw values.
    std::vector<float> pilot(static_cast<std::size_t>(batch * channels));
    for (std::int64_t b = 0; b < batch; ++b) {
        for (std::int64_t c = 0; c < channels; ++c) {
            pilot[b * channels + c] = load(x, b * positions * channels + (c / perGroup) * perGroup);
        }
    }
    // Partial sums per (sample, row block), reduced in double afterwards.
    std::vector<float> partial(static_cast<std::size_t>(batch * blocks * 2 * channels), 0.0F);
    at::parallel_for(0, batch * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
            const std::int64_t b = task / blocks;
            const std::int64_t first = (task % blocks) * kRowBlock;
            float* s1 = partial.data() + task * 2 * channels;
            sumsRows(x + b * positions * channels, channels, first,
                     std::min(positions, first + kRowBlock), pilot.data() + b * channels, s1,
                     s1 + channels);
        }
    });
    std::vector<float> a(static_cast<std::size_t>(batch * channels));
    std::vector<float> shift(a.size());
    const double n = static_cast<double>(perGroup * positions);
    for (std::int64_t b = 0; b < batch; ++b) {
        for (std::int64_t g = 0; g < groups; ++g) {
            double s1 = 0.0;
            double s2 = 0.0;
            for (std::int64_t k = 0; k < blocks; ++k) {
                const float* part = partial.data() + (b * blocks + k) * 2 * channels;
                for (std::int64_t c = g * perGroup; c < (g + 1) * perGroup; ++c) {
                    s1 += part[c];
                    s2 += part[channels + c];
                }
            }
            const double meanShift = s1 / n;
            const double var = std::max(0.0, s2 / n - meanShift * meanShift);
            const double mean = pilot[b * channels + g * perGroup] + meanShift;
            const double rstd = 1.0 / std::sqrt(var + eps);
            meanOut[b * groups + g] = static_cast<float>(mean);
            rstdOut[b * groups + g] = static_cast<float>(rstd);
            for (std::int64_t c = g * perGroup; c < (g + 1) * perGroup; ++c) {
                const double scale = rstd * gamma[b * channels + c];
                a[b * channels + c] = static_cast<float>(scale);
                shift[b * channels + c] = static_cast<float>(beta[b * channels + c] - mean * scale);
            }
        }
    }
    at::parallel_for(0, batch * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
            const std::int64_t b = task / blocks;
            const std::int64_t first = (task % blocks) * kRowBlock;
            applyRows(x + b * positions * channels, y + b * positions * channels, channels, first,
                      std::min(positions, first + kRowBlock), a.data() + b * channels,
                      shift.data() + b * channels, act);
        }
    });
}

template <class T>
void runPlanar(const T* x, T* y, std::int64_t batch, std::int64_t channels, std::int64_t positions,
               std::int64_t groups, const float* gamma, const float* beta, bool act, double eps,
               float* meanOut, float* rstdOut)
{
    const std::int64_t perGroup = channels / groups;
    const std::int64_t planes = batch * channels;
    std::vector<double> sums(static_cast<std::size_t>(2 * planes));
    at::parallel_for(0, planes, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t plane = begin; plane < end; ++plane) {
            const std::int64_t groupFirst = plane - plane % perGroup;
            const float pilot = load(x, groupFirst * positions);
            double s1 = 0.0;
            double s2 = 0.0;
            sumsPlane(x + plane * positions, positions, pilot, s1, s2);
            sums[2 * plane] = s1;
            sums[2 * plane + 1] = s2;
        }
    });
    std::vector<float> a(static_cast<std::size_t>(planes));
    std::vector<float> shift(a.size());
    const double n = static_cast<double>(perGroup * positions);
    for (std::int64_t first = 0; first < planes; first += perGroup) {
        double s1 = 0.0;
        double s2 = 0.0;
        for (std::int64_t plane = first; plane < first + perGroup; ++plane) {
            s1 += sums[2 * plane];
            s2 += sums[2 * plane + 1];
        }
        const double meanShift = s1 / n;
        const double var = std::max(0.0, s2 / n - meanShift * meanShift);
        const double mean = load(x, first * positions) + meanShift;
        const double rstd = 1.0 / std::sqrt(var + eps);
        meanOut[first / perGroup] = static_cast<float>(mean);
        rstdOut[first / perGroup] = static_cast<float>(rstd);
        for (std::int64_t plane = first; plane < first + perGroup; ++plane) {
            const double scale = rstd * gamma[plane];
            a[plane] = static_cast<float>(scale);
            shift[plane] = static_cast<float>(beta[plane] - mean * scale);
        }
    }
    at::parallel_for(0, planes, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t plane = begin; plane < end; ++plane) {
            applyPlane(x + plane * positions, y + plane * positions, positions, a[plane],
                       shift[plane], act);
        }
    });
}

} // namespace

bool fusedGroupNormSupports(const at::Tensor& x)
{
    return x.defined() && x.device().is_cpu() && x.dim() == 4 && x.numel() > 0 &&
           (x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16) &&
           (x.is_contiguous() || x.is_contiguous(at::MemoryFormat::ChannelsLast));
}

namespace groupnorm_detail {

void checkArguments(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                    const at::Tensor& beta)
{
    if (!fusedGroupNormSupports(x)) {
        throw Error(ErrorKind::Mismatch, "group norm input",
                    "needs a non-empty CPU (B, C, H, W) float32 or bfloat16 tensor, contiguous "
                    "or channels-last");
    }
    const std::int64_t batch = x.size(0);
    const std::int64_t channels = x.size(1);
    if (groups < 1 || channels % groups != 0) {
        throw Error(ErrorKind::Mismatch, "group norm",
                    std::to_string(channels) + " channels do not split into " +
                        std::to_string(groups) + " groups");
    }
    for (const auto& [t, name] :
         {std::pair<const at::Tensor&, const char*>{gamma, "gamma"}, {beta, "beta"}}) {
        if (t.dim() != 2 || t.size(0) != batch || t.size(1) != channels) {
            throw Error(ErrorKind::Mismatch, std::string("group norm ") + name,
                        "expected (B, C) = (" + std::to_string(batch) + ", " +
                            std::to_string(channels) + ")");
        }
    }
}

ForwardResult forward(const at::Tensor& x, std::int64_t groups, const at::Tensor& gammaIn,
                      const at::Tensor& betaIn, bool silu, double eps)
{
    checkArguments(x, groups, gammaIn, betaIn);
    const std::int64_t batch = x.size(0);
    const std::int64_t channels = x.size(1);
    const std::int64_t positions = x.size(2) * x.size(3);
    const at::Tensor gamma = gammaIn.detach().to(at::kFloat).contiguous();
    const at::Tensor beta = betaIn.detach().to(at::kFloat).contiguous();
    // A 1x1 image is contiguous in both orders; the planar loop handles it.
    const bool channelsLast = !x.is_contiguous();
    ForwardResult r;
    r.y = at::empty_like(x, channelsLast ? at::MemoryFormat::ChannelsLast
                                         : at::MemoryFormat::Contiguous);
    r.mean = at::empty({batch, groups}, at::kFloat);
    r.rstd = at::empty({batch, groups}, at::kFloat);
    const float* g = gamma.data_ptr<float>();
    const float* b = beta.data_ptr<float>();
    float* mean = r.mean.data_ptr<float>();
    float* rstd = r.rstd.data_ptr<float>();
    if (x.scalar_type() == at::kFloat) {
        const float* in = x.data_ptr<float>();
        float* out = r.y.data_ptr<float>();
        channelsLast
            ? runChannelsLast(in, out, batch, channels, positions, groups, g, b, silu, eps, mean,
                              rstd)
            : runPlanar(in, out, batch, channels, positions, groups, g, b, silu, eps, mean, rstd);
    } else {
        const auto* in = reinterpret_cast<const Bf16Bits*>(x.data_ptr<at::BFloat16>());
        auto* out = reinterpret_cast<Bf16Bits*>(r.y.data_ptr<at::BFloat16>());
        channelsLast
            ? runChannelsLast(in, out, batch, channels, positions, groups, g, b, silu, eps, mean,
                              rstd)
            : runPlanar(in, out, batch, channels, positions, groups, g, b, silu, eps, mean, rstd);
    }
    return r;
}

} // namespace groupnorm_detail

} // namespace diffseg::core::engine
