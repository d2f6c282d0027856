#pragma once

// Engine-internal header: it exposes LibTorch types.

#include <torch/nn/module.h>

#include <cstdint>

namespace diffseg::core::engine {

/// The scalars (weights and biases) of `module` and its children: the size every network
/// reports, counted one way for all of them.
inline std::int64_t countParameters(const torch::nn::Module& module)
{
    std::int64_t count = 0;
    for (const auto& p : module.parameters()) {
        count += p.numel();
    }
    return count;
}

} // namespace diffseg::core::engine
