// resolvePrecision apart from the rest of Precision.h: it asks LibTorch's CUDA hooks, so it lives
// in the engine while the names and the CPU check stay in the LibTorch-free configuration target.

#include "Precision.h"

#include <ATen/detail/CUDAHooksInterface.h>

#include <algorithm>
#include <cctype>

namespace diffseg::core::engine {

Precision resolvePrecision(Precision requested, const std::string& device)
{
    if (requested != Precision::Auto) {
        return requested;
    }
    std::string name = device;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name.rfind("cuda", 0) == 0 || name == "gpu") {
        // True for compute capability 8.0 and later (Ampere), where bf16 tensor cores exist.
        return at::detail::getCUDAHooks().supportsBFloat16ConvolutionWithCuDNNv8()
                   ? Precision::Bf16
                   : Precision::Fp32;
    }
    return cpuHasNativeBf16() ? Precision::Bf16 : Precision::Fp32;
}

} // namespace diffseg::core::engine
