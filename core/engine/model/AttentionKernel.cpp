#include "AttentionKernel.h"

#include "CpuKernelSupport.h"
#include "base/Error.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <limits>
#include <type_traits>
#include <vector>

namespace diffseg::core::engine {

namespace {

using namespace kernel; // Bf16Bits, load, store, fastExp

constexpr std::int64_t kD = kAttentionKernelDimHead;
/// Positions per task: small enough that two threads share one head of one image.
constexpr std::int64_t kRows = 512;

/// Sum and maximum of 32 floats: one vector step to 16 lanes, then scalar. (A float reduction
/// loop stays scalar, since the vectoriser may not reorder float additions; a tree of ever
/// narrower vector steps stalls on store forwarding.)
DIFFSEG_INLINE float sum32(const float* v)
{
    float a[16];
    for (int i = 0; i < 16; ++i) {
        a[i] = v[i] + v[i + 16];
    }
    float s = 0.0F;
    for (int i = 0; i < 16; ++i) {
        s += a[i];
    }
    return s;
}

DIFFSEG_INLINE float max32(const float* v)
{
    float a[16];
    for (int i = 0; i < 16; ++i) {
        a[i] = std::max(v[i], v[i + 16]);
    }
    float m = a[0];
    for (int i = 1; i < 16; ++i) {
        m = std::max(m, a[i]);
    }
    return m;
}

/// softmax over the 32 features of one row, in float32.
template <class T>
DIFFSEG_INLINE void softmaxRow(const T* q, float* out)
{
    static_assert(kD == 32, "the reductions are written for 32 features");
    float x[kD];
    for (std::int64_t d = 0; d < kD; ++d) {
        x[d] = load(q, d);
    }
    const float max = max32(x);
    for (std::int64_t d = 0; d < kD; ++d) {
        out[d] = fastExp(x[d] - max);
    }
    const float inv = 1.0F / sum32(out);
    for (std::int64_t d = 0; d < kD; ++d) {
        out[d] *= inv;
    }
}

// ----- pass 1: per feature d of k, the maximum over positions --------------------------------

template <class T>
DIFFSEG_INLINE void keyMaxBody(const T* rows, std::int64_t stride, std::int64_t first,
                               std::int64_t last, float* max)
{
    for (std::int64_t n = first; n < last; ++n) {
        const T* k = rows + n * stride;
        for (std::int64_t d = 0; d < kD; ++d) {
            max[d] = std::max(max[d], load(k, d));
        }
    }
}

DIFFSEG_MULTIVERSION void keyMax(const float* rows, std::int64_t stride, std::int64_t first,
                                 std::int64_t last, float* max)
{
    keyMaxBody(rows, stride, first, last, max);
}

DIFFSEG_MULTIVERSION void keyMax(const Bf16Bits* rows, std::int64_t stride, std::int64_t first,
                                 std::int64_t last, float* max)
{
    keyMaxBody(rows, stride, first, last, max);
}

// ----- pass 2: sum_m exp(k[d, m] - max_d) and the unnormalised context sum_m e[d, m] v[e, m] --

template <class T>
DIFFSEG_INLINE void contextBody(const T* kRows, const T* vRows, std::int64_t stride,
                                std::int64_t first, std::int64_t last, const float* max, float* sum,
                                float* context)
{
    for (std::int64_t n = first; n < last; ++n) {
        const T* k = kRows + n * stride;
        const T* v = vRows + n * stride;
        float e[kD];
        float vv[kD];
        for (std::int64_t d = 0; d < kD; ++d) {
            e[d] = fastExp(load(k, d) - max[d]);
            sum[d] += e[d];
            vv[d] = load(v, d);
        }
        for (std::int64_t d = 0; d < kD; ++d) {
            const float w = e[d];
            float* row = context + d * kD;
            for (std::int64_t j = 0; j < kD; ++j) {
                row[j] += w * vv[j];
            }
        }
    }
}

DIFFSEG_MULTIVERSION void contextRows(const float* k, const float* v, std::int64_t stride,
                                      std::int64_t first, std::int64_t last, const float* max,
                                      float* sum, float* context)
{
    contextBody(k, v, stride, first, last, max, sum, context);
}

DIFFSEG_MULTIVERSION void contextRows(const Bf16Bits* k, const Bf16Bits* v, std::int64_t stride,
                                      std::int64_t first, std::int64_t last, const float* max,
                                      float* sum, float* context)
{
    contextBody(k, v, stride, first, last, max, sum, context);
}

// ----- pass 3: out[n, e] = sum_d softmax(q[n])_d context[d, e] -------------------------------

template <class T>
DIFFSEG_INLINE void outputBody(const T* qRows, std::int64_t stride, T* outRows,
                               std::int64_t outStride, std::int64_t first, std::int64_t last,
                               const float* context)
{
    for (std::int64_t n = first; n < last; ++n) {
        float e[kD];
        softmaxRow(qRows + n * stride, e);
        float acc[kD] = {};
        for (std::int64_t d = 0; d < kD; ++d) {
            const float w = e[d];
            const float* row = context + d * kD;
            for (std::int64_t j = 0; j < kD; ++j) {
                acc[j] += w * row[j];
            }
        }
        T* out = outRows + n * outStride;
        for (std::int64_t j = 0; j < kD; ++j) {
            store(out, j, acc[j]);
        }
    }
}

DIFFSEG_MULTIVERSION void outputRows(const float* q, std::int64_t stride, float* out,
                                     std::int64_t outStride, std::int64_t first, std::int64_t last,
                                     const float* context)
{
    outputBody(q, stride, out, outStride, first, last, context);
}

DIFFSEG_MULTIVERSION void outputRows(const Bf16Bits* q, std::int64_t stride, Bf16Bits* out,
                                     std::int64_t outStride, std::int64_t first, std::int64_t last,
                                     const float* context)
{
    outputBody(q, stride, out, outStride, first, last, context);
}

template <class T>
void runForward(const T* qkv, T* out, std::int64_t batch, std::int64_t positions,
                std::int64_t heads, double scale)
{
    const std::int64_t hidden = heads * kD;
    const std::int64_t stride = 3 * hidden;
    const std::int64_t blocks = (positions + kRows - 1) / kRows;
    const std::int64_t pairs = batch * heads;
    const auto rowsOf = [&](std::int64_t b) {
        return qkv + b * positions * stride;
    };
    std::vector<float> maxima(static_cast<std::size_t>(pairs * kD));
    std::vector<float> contexts(static_cast<std::size_t>(pairs * kD * kD));
    float* const maxOut = maxima.data();
    float* const contextOut = contexts.data();

    // Pass 1: maxima per (image, head, block), then per (image, head).
    std::vector<float> blockMax(static_cast<std::size_t>(pairs * blocks * kD),
                                -std::numeric_limits<float>::infinity());
    at::parallel_for(0, pairs * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
            const std::int64_t pair = task / blocks;
            const std::int64_t first = (task % blocks) * kRows;
            keyMax(rowsOf(pair / heads) + hidden + (pair % heads) * kD, stride, first,
                   std::min(positions, first + kRows), blockMax.data() + task * kD);
        }
    });
    std::fill(maxOut, maxOut + pairs * kD, -std::numeric_limits<float>::infinity());
    for (std::int64_t task = 0; task < pairs * blocks; ++task) {
        float* m = maxOut + (task / blocks) * kD;
        for (std::int64_t d = 0; d < kD; ++d) {
            m[d] = std::max(m[d], blockMax[task * kD + d]);
        }
    }

    // Pass 2: partial sums and contexts per block, reduced per (image, head) in double.
    const std::int64_t partSize = kD + kD * kD;
    std::vector<float> parts(static_cast<std::size_t>(pairs * blocks * partSize), 0.0F);
    at::parallel_for(0, pairs * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
            const std::int64_t pair = task / blocks;
            const std::int64_t first = (task % blocks) * kRows;
            const T* rows = rowsOf(pair / heads) + (pair % heads) * kD;
            float* part = parts.data() + task * partSize;
            contextRows(rows + hidden, rows + 2 * hidden, stride, first,
                        std::min(positions, first + kRows), maxOut + pair * kD, part, part + kD);
        }
    });
    for (std::int64_t pair = 0; pair < pairs; ++pair) {
        std::vector<double> total(static_cast<std::size_t>(partSize), 0.0);
        for (std::int64_t k = 0; k < blocks; ++k) {
            const float* part = parts.data() + (pair * blocks + k) * partSize;
            for (std::int64_t i = 0; i < partSize; ++i) {
                total[i] += part[i];
            }
        }
        for (std::int64_t d = 0; d < kD; ++d) {
            const double factor = scale / total[d];
            for (std::int64_t j = 0; j < kD; ++j) {
                contextOut[(pair * kD + d) * kD + j] =
                    static_cast<float>(total[kD + d * kD + j] * factor);
            }
        }
    }

    // Pass 3: every output row.
    at::parallel_for(0, batch * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
            const std::int64_t b = task / blocks;
            const std::int64_t first = (task % blocks) * kRows;
            const std::int64_t last = std::min(positions, first + kRows);
            for (std::int64_t h = 0; h < heads; ++h) {
                outputRows(rowsOf(b) + h * kD, stride, out + b * positions * hidden + h * kD,
                           hidden, first, last, contextOut + (b * heads + h) * kD * kD);
            }
        }
    });
}

/// The kernels on (rows of) tensors: float32 or bf16 storage.
template <class Fn>
void dispatch(const at::Tensor& t, Fn&& fn)
{
    if (t.scalar_type() == at::kFloat) {
        fn(static_cast<float*>(nullptr));
    } else {
        fn(static_cast<Bf16Bits*>(nullptr));
    }
}

template <class T>
T* rowsOf(const at::Tensor& t)
{
    return static_cast<T*>(t.data_ptr());
}

at::Tensor forwardTensor(const at::Tensor& qkv, std::int64_t heads, double scale)
{
    const std::int64_t batch = qkv.size(0);
    const std::int64_t positions = qkv.size(2) * qkv.size(3);
    at::Tensor out = at::empty({batch, qkv.size(2), qkv.size(3), heads * kD}, qkv.options());
    dispatch(qkv, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        runForward(rowsOf<const T>(qkv), rowsOf<T>(out), batch, positions, heads, scale);
    });
    return out.permute({0, 3, 1, 2});
}

} // namespace

bool linearAttentionKernelSupports(const at::Tensor& qkv, std::int64_t heads)
{
    return !c10::GradMode::is_enabled() && qkv.defined() && qkv.device().is_cpu() &&
           qkv.dim() == 4 && qkv.numel() > 0 && heads > 0 && qkv.size(1) == 3 * heads * kD &&
           (qkv.scalar_type() == at::kFloat || qkv.scalar_type() == at::kBFloat16) &&
           qkv.is_contiguous(at::MemoryFormat::ChannelsLast);
}

at::Tensor linearAttentionKernel(const at::Tensor& qkv, std::int64_t heads, double scale)
{
    if (!linearAttentionKernelSupports(qkv, heads)) {
        throw Error(ErrorKind::Mismatch, "linear attention input",
                    "needs a channels-last CPU (B, 3 x heads x 32, H, W) float32 or bfloat16 "
                    "tensor");
    }
    return forwardTensor(qkv, heads, scale);
}

} // namespace diffseg::core::engine
