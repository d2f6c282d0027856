// The backward of the fused group norm (GroupNormKernel.h) and the autograd function that ties
// the two together. With z = xhat * gamma + beta, y = act(z), xhat = (x - mean) * rstd per group:
//   dz = dy * act'(z);  dgamma = sum_p dz xhat;  dbeta = sum_p dz  (per sample and channel)
//   dx = rstd * (dz gamma - A_g - xhat B_g),  A_g = mean over the group of dz gamma,
//        B_g = mean over the group of dz gamma xhat.
// Two passes over x and dy: the channel sums, then dx.

#include "CpuKernelSupport.h"
#include "GroupNormKernel.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <vector>

namespace diffseg::core::engine {

namespace {

using namespace kernel; // Bf16Bits, load, store, fastExp, Vec8

/// dy * act'(z) for SiLU: s (1 + z (1 - s)), s = sigmoid(z).
DIFFSEG_INLINE float siluGrad(float dy, float z)
{
    const float s = 1.0F / (1.0F + fastExp(-z));
    return dy * s * (1.0F + z * (1.0F - s));
}

/// siluGrad() on eight lanes, the same arithmetic (a loop calling the scalar one stays scalar).
DIFFSEG_INLINE Vec8 siluGrad(const Vec8& dy, const Vec8& z)
{
    const Vec8 s = 1.0F / (1.0F + fastExp(-z));
    return dy * s * (1.0F + z * (1.0F - s));
}

/// Per-channel coefficients of one sample: z = x a + b, xhat = x r + m.
struct Coefficients
{
    const float* a;
    const float* b;
    const float* r;
    const float* m;
};

// ----- pass 1: per channel sums of dz and dz xhat ------------------------------------------

template <bool Act, class T>
DIFFSEG_INLINE void sumsRowsLoop(const T* x, const T* dy, std::int64_t channels, std::int64_t first,
                                 std::int64_t last, const Coefficients& k, float* __restrict s1,
                                 float* __restrict s2)
{
    // Local restrict copies: the stores must not be taken to alias the coefficient arrays.
    const float* __restrict a = k.a;
    const float* __restrict b = k.b;
    const float* __restrict r = k.r;
    const float* __restrict m = k.m;
    // Eight channels at a time, then the rest: each channel still sums its positions in order.
    const std::int64_t whole = channels - channels % kVec8Lanes;
    for (std::int64_t p = first; p < last; ++p) {
        const T* xr = x + p * channels;
        const T* gr = dy + p * channels;
        for (std::int64_t c = 0; c < whole; c += kVec8Lanes) {
            const Vec8 xv = load8(xr + c);
            const Vec8 g = load8(gr + c);
            const Vec8 dz = Act ? siluGrad(g, xv * loadVec(a + c) + loadVec(b + c)) : g;
            storeVec(s1 + c, loadVec(s1 + c) + dz);
            storeVec(s2 + c, loadVec(s2 + c) + dz * (xv * loadVec(r + c) + loadVec(m + c)));
        }
        for (std::int64_t c = whole; c < channels; ++c) {
            const float xv = load(xr, c);
            const float g = load(gr, c);
            const float dz = Act ? siluGrad(g, xv * a[c] + b[c]) : g;
            s1[c] += dz;
            s2[c] += dz * (xv * r[c] + m[c]);
        }
    }
}

template <class T>
DIFFSEG_INLINE void sumsRowsBody(const T* x, const T* dy, std::int64_t channels, std::int64_t first,
                                 std::int64_t last, const Coefficients& k, bool act, float* s1,
                                 float* s2)
{
    act ? sumsRowsLoop<true>(x, dy, channels, first, last, k, s1, s2)
        : sumsRowsLoop<false>(x, dy, channels, first, last, k, s1, s2);
}

DIFFSEG_MULTIVERSION void sumsRows(const float* x, const float* dy, std::int64_t channels,
                                   std::int64_t first, std::int64_t last, const Coefficients& k,
                                   bool act, float* s1, float* s2)
{
    sumsRowsBody(x, dy, channels, first, last, k, act, s1, s2);
}

DIFFSEG_MULTIVERSION void sumsRows(const Bf16Bits* x, const Bf16Bits* dy, std::int64_t channels,
                                   std::int64_t first, std::int64_t last, const Coefficients& k,
                                   bool act, float* s1, float* s2)
{
    sumsRowsBody(x, dy, channels, first, last, k, act, s1, s2);
}

/// One plane (NCHW): the sums in 16 float lanes, returned in double.
template <bool Act, class T>
DIFFSEG_INLINE void sumsPlaneLoop(const T* x, const T* dy, std::int64_t n, float a, float b,
                                  float r, float m, double& s1, double& s2)
{
    constexpr int kLanes = 16;
    for (std::int64_t begin = 0; begin < n; begin += 4096) {
        const std::int64_t end = std::min(n, begin + 4096);
        float l1[kLanes] = {};
        float l2[kLanes] = {};
        std::int64_t i = begin;
        for (; i + kLanes <= end; i += kLanes) {
            for (int l = 0; l < kLanes; ++l) {
                const float xv = load(x, i + l);
                const float g = load(dy, i + l);
                const float dz = Act ? siluGrad(g, xv * a + b) : g;
                l1[l] += dz;
                l2[l] += dz * (xv * r + m);
            }
        }
        for (; i < end; ++i) {
            const float xv = load(x, i);
            const float g = load(dy, i);
            const float dz = Act ? siluGrad(g, xv * a + b) : g;
            l1[0] += dz;
            l2[0] += dz * (xv * r + m);
        }
        for (int l = 0; l < kLanes; ++l) {
            s1 += l1[l];
            s2 += l2[l];
        }
    }
}

template <class T>
DIFFSEG_INLINE void sumsPlaneBody(const T* x, const T* dy, std::int64_t n, float a, float b,
                                  float r, float m, bool act, double& s1, double& s2)
{
    act ? sumsPlaneLoop<true>(x, dy, n, a, b, r, m, s1, s2)
        : sumsPlaneLoop<false>(x, dy, n, a, b, r, m, s1, s2);
}

DIFFSEG_MULTIVERSION void sumsPlane(const float* x, const float* dy, std::int64_t n, float a,
                                    float b, float r, float m, bool act, double& s1, double& s2)
{
    sumsPlaneBody(x, dy, n, a, b, r, m, act, s1, s2);
}

DIFFSEG_MULTIVERSION void sumsPlane(const Bf16Bits* x, const Bf16Bits* dy, std::int64_t n, float a,
                                    float b, float r, float m, bool act, double& s1, double& s2)
{
    sumsPlaneBody(x, dy, n, a, b, r, m, act, s1, s2);
}

// ----- pass 2: dx = dz k1 + x k2 + k3 --------------------------------------------------------

/// Per-channel coefficients of dx, with those of z.
struct InputGrad
{
    const float* a;
    const float* b;
    const float* k1;
    const float* k2;
    const float* k3;
};

template <bool Act, class T>
DIFFSEG_INLINE void gradRowsLoop(const T* x, const T* dy, T* dx, std::int64_t channels,
                                 std::int64_t first, std::int64_t last, const InputGrad& k)
{
    const float* __restrict a = k.a;
    const float* __restrict b = k.b;
    const float* __restrict k1 = k.k1;
    const float* __restrict k2 = k.k2;
    const float* __restrict k3 = k.k3;
    const std::int64_t whole = channels - channels % kVec8Lanes;
    for (std::int64_t p = first; p < last; ++p) {
        const T* xr = x + p * channels;
        const T* gr = dy + p * channels;
        T* out = dx + p * channels;
        for (std::int64_t c = 0; c < whole; c += kVec8Lanes) {
            const Vec8 xv = load8(xr + c);
            const Vec8 g = load8(gr + c);
            const Vec8 dz = Act ? siluGrad(g, xv * loadVec(a + c) + loadVec(b + c)) : g;
            store8(out + c, dz * loadVec(k1 + c) + xv * loadVec(k2 + c) + loadVec(k3 + c));
        }
        for (std::int64_t c = whole; c < channels; ++c) {
            const float xv = load(xr, c);
            const float g = load(gr, c);
            const float dz = Act ? siluGrad(g, xv * a[c] + b[c]) : g;
            store(out, c, dz * k1[c] + xv * k2[c] + k3[c]);
        }
    }
}

/// A plane: one channel's coefficients for n values.
template <bool Act, class T>
DIFFSEG_INLINE void gradPlaneLoop(const T* x, const T* dy, T* dx, std::int64_t n, float a, float b,
                                  float k1, float k2, float k3)
{
    const std::int64_t whole = n - n % kVec8Lanes;
    for (std::int64_t i = 0; i < whole; i += kVec8Lanes) {
        const Vec8 xv = load8(x + i);
        const Vec8 g = load8(dy + i);
        const Vec8 dz = Act ? siluGrad(g, xv * a + b) : g;
        store8(dx + i, dz * k1 + xv * k2 + k3);
    }
    for (std::int64_t i = whole; i < n; ++i) {
        const float xv = load(x, i);
        const float g = load(dy, i);
        const float dz = Act ? siluGrad(g, xv * a + b) : g;
        store(dx, i, dz * k1 + xv * k2 + k3);
    }
}

template <class T>
DIFFSEG_INLINE void gradRowsBody(const T* x, const T* dy, T* dx, std::int64_t channels,
                                 std::int64_t first, std::int64_t last, const InputGrad& k,
                                 bool act)
{
    if (channels == 1) {
        act ? gradPlaneLoop<true>(x + first, dy + first, dx + first, last - first, k.a[0], k.b[0],
                                  k.k1[0], k.k2[0], k.k3[0])
            : gradPlaneLoop<false>(x + first, dy + first, dx + first, last - first, k.a[0], k.b[0],
                                   k.k1[0], k.k2[0], k.k3[0]);
        return;
    }
    act ? gradRowsLoop<true>(x, dy, dx, channels, first, last, k)
        : gradRowsLoop<false>(x, dy, dx, channels, first, last, k);
}

DIFFSEG_MULTIVERSION void gradRows(const float* x, const float* dy, float* dx,
                                   std::int64_t channels, std::int64_t first, std::int64_t last,
                                   const InputGrad& k, bool act)
{
    gradRowsBody(x, dy, dx, channels, first, last, k, act);
}

DIFFSEG_MULTIVERSION void gradRows(const Bf16Bits* x, const Bf16Bits* dy, Bf16Bits* dx,
                                   std::int64_t channels, std::int64_t first, std::int64_t last,
                                   const InputGrad& k, bool act)
{
    gradRowsBody(x, dy, dx, channels, first, last, k, act);
}

constexpr std::int64_t kRowBlock = 256;

template <class T>
void run(const T* x, const T* dy, T* dx, bool channelsLast, std::int64_t batch,
         std::int64_t channels, std::int64_t positions, std::int64_t groups, const float* gamma,
         const float* beta, const float* mean, const float* rstd, bool act, float* dgamma,
         float* dbeta)
{
    const std::int64_t perGroup = channels / groups;
    const std::int64_t count = batch * channels;
    // z and xhat coefficients per (sample, channel).
    std::vector<float> a(static_cast<std::size_t>(count));
    std::vector<float> b(a.size());
    std::vector<float> r(a.size());
    std::vector<float> m(a.size());
    for (std::int64_t i = 0; i < count; ++i) {
        const std::int64_t g = (i / channels) * groups + (i % channels) / perGroup;
        r[i] = rstd[g];
        m[i] = -mean[g] * rstd[g];
        a[i] = rstd[g] * gamma[i];
        b[i] = beta[i] + m[i] * gamma[i];
    }
    // Pass 1.
    std::vector<double> s1(static_cast<std::size_t>(count), 0.0);
    std::vector<double> s2(s1.size(), 0.0);
    if (channelsLast) {
        const std::int64_t blocks = (positions + kRowBlock - 1) / kRowBlock;
        std::vector<float> partial(static_cast<std::size_t>(batch * blocks * 2 * channels), 0.0F);
        at::parallel_for(0, batch * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t task = begin; task < end; ++task) {
                const std::int64_t bi = task / blocks;
                const std::int64_t first = (task % blocks) * kRowBlock;
                const std::int64_t o = bi * channels;
                float* p1 = partial.data() + task * 2 * channels;
                sumsRows(x + bi * positions * channels, dy + bi * positions * channels, channels,
                         first, std::min(positions, first + kRowBlock),
                         Coefficients{a.data() + o, b.data() + o, r.data() + o, m.data() + o}, act,
                         p1, p1 + channels);
            }
        });
        for (std::int64_t task = 0; task < batch * blocks; ++task) {
            const std::int64_t o = (task / blocks) * channels;
            for (std::int64_t c = 0; c < channels; ++c) {
                s1[o + c] += partial[task * 2 * channels + c];
                s2[o + c] += partial[task * 2 * channels + channels + c];
            }
        }
    } else {
        at::parallel_for(0, count, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                sumsPlane(x + i * positions, dy + i * positions, positions, a[i], b[i], r[i], m[i],
                          act, s1[i], s2[i]);
            }
        });
    }
    // Channel gradients, then the group terms of dx.
    std::vector<float> k1(a.size());
    std::vector<float> k2(a.size());
    std::vector<float> k3(a.size());
    const double n = static_cast<double>(perGroup * positions);
    for (std::int64_t first = 0; first < count; first += perGroup) {
        double groupA = 0.0;
        double groupB = 0.0;
        for (std::int64_t i = first; i < first + perGroup; ++i) {
            dbeta[i] = static_cast<float>(s1[i]);
            dgamma[i] = static_cast<float>(s2[i]);
            groupA += gamma[i] * s1[i];
            groupB += gamma[i] * s2[i];
        }
        groupA /= n;
        groupB /= n;
        const std::int64_t g = (first / channels) * groups + (first % channels) / perGroup;
        const double sd = rstd[g];
        for (std::int64_t i = first; i < first + perGroup; ++i) {
            // dx = rstd (dz gamma - A - xhat B), xhat = x rstd - mean rstd
            k1[i] = static_cast<float>(sd * gamma[i]);
            k2[i] = static_cast<float>(-sd * sd * groupB);
            k3[i] = static_cast<float>(-sd * groupA + sd * sd * groupB * mean[g]);
        }
    }
    // Pass 2.
    if (channelsLast) {
        const std::int64_t blocks = (positions + kRowBlock - 1) / kRowBlock;
        at::parallel_for(0, batch * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t task = begin; task < end; ++task) {
                const std::int64_t bi = task / blocks;
                const std::int64_t first = (task % blocks) * kRowBlock;
                const std::int64_t o = bi * channels;
                const std::int64_t offset = bi * positions * channels;
                gradRows(x + offset, dy + offset, dx + offset, channels, first,
                         std::min(positions, first + kRowBlock),
                         InputGrad{a.data() + o, b.data() + o, k1.data() + o, k2.data() + o,
                                   k3.data() + o},
                         act);
            }
        });
    } else {
        at::parallel_for(0, count, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                // A plane is one "row" of one channel.
                gradRows(x + i * positions, dy + i * positions, dx + i * positions, 1, 0, positions,
                         InputGrad{a.data() + i, b.data() + i, k1.data() + i, k2.data() + i,
                                   k3.data() + i},
                         act);
            }
        });
    }
}

class GroupNormFunction : public torch::autograd::Function<GroupNormFunction>
{
public:
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                              const at::Tensor& gamma, const at::Tensor& beta, std::int64_t groups,
                              bool silu, double eps)
    {
        groupnorm_detail::ForwardResult r =
            groupnorm_detail::forward(x, groups, gamma, beta, silu, eps);
        ctx->save_for_backward({x, gamma, beta, r.mean, r.rstd});
        ctx->saved_data["silu"] = silu;
        return r.y;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const bool silu = ctx->saved_data["silu"].toBool();
        groupnorm_detail::BackwardResult r = groupnorm_detail::backward(
            saved[0], grads[0], saved[1], saved[2], saved[3], saved[4], silu);
        return {r.dx,
                r.dgamma.to(saved[1].scalar_type()),
                r.dbeta.to(saved[2].scalar_type()),
                at::Tensor(),
                at::Tensor(),
                at::Tensor()};
    }
};

} // namespace

namespace groupnorm_detail {

BackwardResult backward(const at::Tensor& x, const at::Tensor& dyIn, const at::Tensor& gammaIn,
                        const at::Tensor& betaIn, const at::Tensor& mean, const at::Tensor& rstd,
                        bool silu)
{
    const bool channelsLast = !x.is_contiguous();
    const auto format =
        channelsLast ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    const at::Tensor dy = dyIn.to(x.scalar_type()).contiguous(format);
    const at::Tensor gamma = gammaIn.detach().to(at::kFloat).contiguous();
    const at::Tensor beta = betaIn.detach().to(at::kFloat).contiguous();
    const std::int64_t batch = x.size(0);
    const std::int64_t channels = x.size(1);
    BackwardResult r;
    r.dx = at::empty_like(x, format);
    r.dgamma = at::empty({batch, channels}, at::kFloat);
    r.dbeta = at::empty({batch, channels}, at::kFloat);
    const auto common = [&](auto* in, auto* g, auto* out) {
        run(in, g, out, channelsLast, batch, channels, x.size(2) * x.size(3), mean.size(1),
            gamma.data_ptr<float>(), beta.data_ptr<float>(), mean.data_ptr<float>(),
            rstd.data_ptr<float>(), silu, r.dgamma.data_ptr<float>(), r.dbeta.data_ptr<float>());
    };
    if (x.scalar_type() == at::kFloat) {
        common(x.data_ptr<float>(), dy.data_ptr<float>(), r.dx.data_ptr<float>());
    } else {
        common(reinterpret_cast<const Bf16Bits*>(x.data_ptr<at::BFloat16>()),
               reinterpret_cast<const Bf16Bits*>(dy.data_ptr<at::BFloat16>()),
               reinterpret_cast<Bf16Bits*>(r.dx.data_ptr<at::BFloat16>()));
    }
    return r;
}

} // namespace groupnorm_detail

at::Tensor fusedGroupNorm(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                          const at::Tensor& beta, bool silu, double eps)
{
    groupnorm_detail::checkArguments(x, groups, gamma, beta);
    if (c10::GradMode::is_enabled() &&
        (x.requires_grad() || gamma.requires_grad() || beta.requires_grad())) {
        return GroupNormFunction::apply(x, gamma, beta, groups, silu, eps);
    }
    return groupnorm_detail::forward(x, groups, gamma, beta, silu, eps).y;
}

} // namespace diffseg::core::engine
