#include "AttentionKernel.h"

#include "CpuKernelSupport.h"
#include "base/Error.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace diffseg::core::engine {

namespace {

using namespace kernel; // Bf16Bits, load, store, fastExp, Vec8

constexpr std::int64_t kD = kAttentionKernelDimHead;
/// Positions per task: small enough that two threads share one head of one image.
constexpr std::int64_t kRows = 512;
/// Positions staged per pass over the context rows (kRows is a multiple).
constexpr std::int64_t kTile = 8;

constexpr int kVecs = static_cast<int>(kAttentionKernelDimHead) / kVec8Lanes;
constexpr int kVecBytes = sizeof(Vec8);

/// One row of 32 values of T as four vectors.
template <class T>
DIFFSEG_INLINE void loadRow(const T* p, Vec8* row)
{
    for (int i = 0; i < kVecs; ++i) {
        row[i] = load8(p + i * kVec8Lanes);
    }
}

/// One output row of 32 values in T.
template <class T>
DIFFSEG_INLINE void storeRow(T* out, const Vec8* acc)
{
    for (int i = 0; i < kVecs; ++i) {
        store8(out + i * kVec8Lanes, acc[i]);
    }
}

/// softmax over the 32 features of one row, in float32, into e (32 floats).
template <class T>
DIFFSEG_INLINE void softmaxRow(const T* q, float* e)
{
    Vec8 x[kVecs];
    loadRow(q, x);
    static_assert(kVecs == 4, "the reductions are written for 32 features");
    const float max = laneMax(maxVec(maxVec(x[0], x[1]), maxVec(x[2], x[3])));
    Vec8 sum = splat(0.0F);
    for (int i = 0; i < kVecs; ++i) {
        x[i] = fastExp(x[i] - max);
        sum += x[i];
    }
    const float inv = 1.0F / laneSum(sum);
    for (int i = 0; i < kVecs; ++i) {
        storeVec(e + i * kVec8Lanes, x[i] * inv);
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
//
// The context is a (32 x N) x (N x 32) product. Adding each position's outer product straight
// into the 32 x 32 context loads and stores all of it per position, so the loop waits on memory;
// here kTile positions' weights and values are staged first, and two context rows at a time stay
// in registers while those positions are added (in position order, as before).

template <class T>
DIFFSEG_INLINE void contextBody(const T* kRows, const T* vRows, std::int64_t stride,
                                std::int64_t first, std::int64_t last, const float* max, float* sum,
                                float* context)
{
    alignas(kVecBytes) float e[kTile][kD];
    alignas(kVecBytes) float vv[kTile][kD];
    Vec8 maxima[kVecs];
    Vec8 sums[kVecs];
    loadRow(max, maxima);
    loadRow(sum, sums);
    for (std::int64_t n0 = first; n0 < last; n0 += kTile) {
        const std::int64_t count = std::min(kTile, last - n0);
        for (std::int64_t t = 0; t < kTile; ++t) {
            if (t >= count) { // past the block's end: weight 0 adds exactly nothing
                std::memset(e[t], 0, sizeof e[t]);
                std::memset(vv[t], 0, sizeof vv[t]);
                continue;
            }
            Vec8 x[kVecs];
            loadRow(kRows + (n0 + t) * stride, x);
            for (int i = 0; i < kVecs; ++i) {
                const Vec8 w = fastExp(x[i] - maxima[i]);
                sums[i] += w;
                storeVec(e[t] + i * kVec8Lanes, w);
            }
            loadRow(vRows + (n0 + t) * stride, x);
            for (int i = 0; i < kVecs; ++i) {
                storeVec(vv[t] + i * kVec8Lanes, x[i]);
            }
        }
        for (std::int64_t d = 0; d < kD; d += 2) {
            float* row0 = context + d * kD;
            float* row1 = row0 + kD;
            Vec8 a0[kVecs];
            Vec8 a1[kVecs];
            for (int i = 0; i < kVecs; ++i) {
                a0[i] = loadVec(row0 + i * kVec8Lanes);
                a1[i] = loadVec(row1 + i * kVec8Lanes);
            }
            for (std::int64_t t = 0; t < kTile; ++t) {
                const float w0 = e[t][d];
                const float w1 = e[t][d + 1];
                for (int i = 0; i < kVecs; ++i) {
                    const Vec8 x = loadVec(vv[t] + i * kVec8Lanes);
                    a0[i] += w0 * x;
                    a1[i] += w1 * x;
                }
            }
            for (int i = 0; i < kVecs; ++i) {
                storeVec(row0 + i * kVec8Lanes, a0[i]);
                storeVec(row1 + i * kVec8Lanes, a1[i]);
            }
        }
    }
    for (int i = 0; i < kVecs; ++i) {
        storeVec(sum + i * kVec8Lanes, sums[i]);
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
//
// Two positions at a time, their 32 outputs in registers, so each context row is loaded once for
// both.

template <class T>
DIFFSEG_INLINE void outputBody(const T* qRows, std::int64_t stride, T* outRows,
                               std::int64_t outStride, std::int64_t first, std::int64_t last,
                               const float* context)
{
    for (std::int64_t n = first; n < last; n += 2) {
        const bool two = n + 1 < last;
        alignas(kVecBytes) float e0[kD];
        alignas(kVecBytes) float e1[kD];
        softmaxRow(qRows + n * stride, e0);
        softmaxRow(qRows + (two ? n + 1 : n) * stride, e1);
        Vec8 a0[kVecs] = {};
        Vec8 a1[kVecs] = {};
        for (std::int64_t d = 0; d < kD; ++d) {
            const float w0 = e0[d];
            const float w1 = e1[d];
            for (int i = 0; i < kVecs; ++i) {
                const Vec8 c = loadVec(context + d * kD + i * kVec8Lanes);
                a0[i] += w0 * c;
                a1[i] += w1 * c;
            }
        }
        storeRow(outRows + n * outStride, a0);
        if (two) {
            storeRow(outRows + (n + 1) * outStride, a1);
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
