#pragma once

// The arithmetic the networks run in: float32, or bfloat16 where the processor computes it
// natively. LibTorch-free header, for the CLI, the GUI and the inference layer. Everything here but
// resolvePrecision is in the configuration target (diffseg::core_config); resolvePrecision asks
// LibTorch's CUDA hooks, so it is defined in the engine (ResolvePrecision.cpp).

#include <string>

namespace diffseg::core::engine {

/// What the user asks for (`--precision`, the studio's Model menu).
enum class Precision
{
    Auto, ///< bf16 where the device has native bf16 arithmetic, else fp32
    Fp32, ///< float32 everywhere (parity checks always run so)
    Bf16  ///< bfloat16 activations and convolution weights, float32 statistics and master weights
};

/// "auto", "fp32", "bf16".
const char* precisionName(Precision precision) noexcept;
/// "auto", "fp32"/"float32", "bf16"/"bfloat16" (case-insensitive); throws Error(Config) naming
/// `subject` otherwise.
Precision parsePrecision(const std::string& text, const std::string& subject = "precision");

/// True when this processor executes bfloat16 dot products natively (x86 AVX512-BF16 or AMX-BF16,
/// read with CPUID at run time). The environment variable DIFFSEG_CPU_BF16=0 or 1 overrides the
/// answer (tests of the fallback, or a processor the check does not know).
bool cpuHasNativeBf16();

/// The precision a run uses on `device` ("cpu", "cuda", "cuda:N"): Fp32 or Bf16, never Auto.
/// Auto picks Bf16 on a CPU with native bf16 and on a CUDA device that convolves in bf16
/// (compute capability 8.0 or later), Fp32 elsewhere. An explicit Bf16 is honoured everywhere
/// (emulated where the hardware lacks it: slower, same results).
Precision resolvePrecision(Precision requested, const std::string& device);

} // namespace diffseg::core::engine
