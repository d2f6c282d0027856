#pragma once

// Helpers of the engine's hand-written CPU kernels (GroupNormKernel.cpp, AttentionKernel.cpp):
// bfloat16 <-> float32 conversion and a vectorisable exp. Their loops are compiled for several
// instruction sets and picked at load time (GCC/clang function multi-versioning), so the package
// runs on any x86-64 and uses AVX-512 where the processor has it. Engine-internal header, only
// for those .cpp files.

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define DIFFSEG_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define DIFFSEG_MULTIVERSION
#endif
#define DIFFSEG_INLINE inline __attribute__((always_inline))

namespace diffseg::core::engine::kernel {

/// The bits of a bfloat16 (c10::BFloat16 stores exactly these).
using Bf16Bits = std::uint16_t;

DIFFSEG_INLINE float load(const float* p, std::int64_t i)
{
    return p[i];
}

DIFFSEG_INLINE float load(const Bf16Bits* p, std::int64_t i)
{
    const std::uint32_t bits = static_cast<std::uint32_t>(p[i]) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

DIFFSEG_INLINE void store(float* p, std::int64_t i, float v)
{
    p[i] = v;
}

/// Round to nearest even, as c10::BFloat16 does; NaN stays a quiet NaN.
DIFFSEG_INLINE void store(Bf16Bits* p, std::int64_t i, float v)
{
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    bits += 0x7FFFU + ((bits >> 16) & 1U);
    p[i] = v != v ? Bf16Bits{0x7FC0} : static_cast<Bf16Bits>(bits >> 16);
}

/// exp(x - n ln 2) for |x - n ln 2| <= ln2 / 2: Cephes' expf polynomial, on a float or on a
/// vector of floats (the same arithmetic for both).
template <class V>
DIFFSEG_INLINE V expOfRemainder(const V& x, const V& n)
{
    const V r = (x - n * 0.693145751953125F) - n * 1.42860682030941723212e-6F;
    V p = r * 1.9875691500e-4F + 1.3981999507e-3F;
    p = p * r + 8.3334519073e-3F;
    p = p * r + 4.1665795894e-2F;
    p = p * r + 1.6666665459e-1F;
    p = p * r + 5.0000001201e-1F;
    return p * r * r + r + 1.0F;
}

/// exp(x) to about 2 ulp for x in [-87, 88] (clamped outside), with no libm call and no branch:
/// 2^n * p(r) with r = x - n ln 2, |r| <= ln2 / 2 (Cephes' expf polynomial). n is rounded by
/// adding 1.5 * 2^23, which leaves n in the low mantissa bits. A loop calling it may still stay
/// scalar; the kernels' hot loops use the Vec8 overload below.
DIFFSEG_INLINE float fastExp(float x)
{
    constexpr float kRound = 12582912.0F; // 1.5 * 2^23
    x = x < -87.0F ? -87.0F : x;
    x = x > 88.0F ? 88.0F : x;
    const float shifted = x * 1.44269504088896341F + kRound;
    const float p = expOfRemainder(x, shifted - kRound);
    std::int32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    // The low bits of `shifted` hold n + 2^22 (two's complement inside the mantissa).
    const std::int32_t e = ((bits - 0x4B400000) + 127) << 23;
    float scale;
    std::memcpy(&scale, &e, sizeof scale);
    return p * scale;
}

/// Eight floats as one value (GCC/clang vector extension): each clone of a kernel compiles its
/// arithmetic to its own instructions (one AVX register, two SSE registers, ...). Scalar loops
/// with calls, clamps or possible aliasing stay scalar (an exp per element then costs ~30 cycles);
/// these do not.
// Every function taking or returning one is inlined (no call passes one between the SSE and AVX
// clones, hence -Wno-psabi on the kernels' files).
using Vec8 = float __attribute__((vector_size(32)));
using Vec8i = std::int32_t __attribute__((vector_size(32)));
constexpr int kVec8Lanes = 8;

DIFFSEG_INLINE Vec8 splat(float x)
{
    return Vec8{x, x, x, x, x, x, x, x};
}

DIFFSEG_INLINE Vec8 loadVec(const float* p)
{
    Vec8 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

DIFFSEG_INLINE void storeVec(float* p, const Vec8& v)
{
    std::memcpy(p, &v, sizeof v);
}

DIFFSEG_INLINE Vec8 maxVec(const Vec8& a, const Vec8& b)
{
    return a > b ? a : b;
}

/// The largest and the sum of a vector's lanes.
DIFFSEG_INLINE float laneMax(const Vec8& v)
{
    float m = v[0];
    for (int i = 1; i < kVec8Lanes; ++i) {
        m = m > v[i] ? m : v[i];
    }
    return m;
}

DIFFSEG_INLINE float laneSum(const Vec8& v)
{
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

/// fastExp() on eight lanes at once, the same arithmetic lane by lane.
DIFFSEG_INLINE Vec8 fastExp(Vec8 x)
{
    constexpr float kRound = 12582912.0F; // 1.5 * 2^23
    const Vec8 lo = splat(-87.0F);
    const Vec8 hi = splat(88.0F);
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    const Vec8 shifted = x * 1.44269504088896341F + kRound;
    const Vec8 p = expOfRemainder(x, shifted - kRound);
    const Vec8i e = (((Vec8i)shifted - 0x4B400000) + 127) << 23;
    return p * (Vec8)e;
}

/// Eight consecutive values of float32 or bf16 storage as a vector, and back (rounded as store()).
DIFFSEG_INLINE Vec8 load8(const float* p)
{
    return loadVec(p);
}

DIFFSEG_INLINE Vec8 load8(const Bf16Bits* p)
{
    float f[kVec8Lanes];
    for (int i = 0; i < kVec8Lanes; ++i) {
        f[i] = load(p, i);
    }
    return loadVec(f);
}

DIFFSEG_INLINE void store8(float* p, const Vec8& v)
{
    storeVec(p, v);
}

DIFFSEG_INLINE void store8(Bf16Bits* p, const Vec8& v)
{
    float f[kVec8Lanes];
    storeVec(f, v);
    for (int i = 0; i < kVec8Lanes; ++i) {
        store(p, i, f[i]);
    }
}

} // namespace diffseg::core::engine::kernel
