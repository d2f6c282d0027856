#pragma once

#include <algorithm>
#include <cstdint>

namespace diffseg::core {

// 8-bit codes for x0 estimates (DermoSegDiff's mask space is [-1, 1], mask = x0 > 0).
//
// code(x) = round((clamp(x, -1, 1) + 1) * 127.5), then forced into 128..255 when x > 0 and into
// 0..127 when x <= 0; value(code) = code * 2/255 - 1.
// - Step 2/255 = 1/127.5; reconstruction error |x - value(code(x))| <= 1/255 (half a step) for x
//   in [-1, 1] (values outside are clamped first). The forcing moves a code by at most one step
//   and only for |x| <= 1/255, where either neighbouring code is within 1/255.
// - No code decodes to exactly 0: 127 -> -1/255, 128 -> +1/255. With the forcing above,
//   value(code(x)) > 0 exactly when x > 0, so the reference's binarisation (x0 > 0) of a cached
//   frame equals that of the original, whatever the rounding.

constexpr float kX0CodeStep = 2.0f / 255.0f;
constexpr float kX0MaxError = 1.0f / 255.0f;
constexpr std::uint8_t kX0FirstPositiveCode = 128;

/// Branch-free so that loops over a frame vectorise. `x` must be finite.
inline std::uint8_t quantiseX0(float x) noexcept
{
    const float c = std::min(1.0f, std::max(-1.0f, x));
    const int rounded = static_cast<int>((c + 1.0f) * 127.5f + 0.5f); // >= 0: truncation rounds
    const int lo = static_cast<int>(x > 0.0f) << 7;                   // 128 for x > 0, else 0
    const int hi = lo | 127;                                          // 255 for x > 0, else 127
    return static_cast<std::uint8_t>(std::min(hi, std::max(lo, rounded)));
}

inline float dequantiseX0(std::uint8_t code) noexcept
{
    return static_cast<float>(code) * kX0CodeStep - 1.0f;
}

} // namespace diffseg::core
