#pragma once

// Shared by the network tests: the parity fixture's small config and a tensor distance.

#include "engine/model/DermoSegDiffConfig.h"

#include <ATen/ATen.h>

namespace diffseg::test {

/// The parity fixture's config (meta/config of dermosegdiff_small.pt): 3 levels, 724 k parameters.
inline core::engine::DermoSegDiffConfig smallNetworkConfig()
{
    return core::engine::DermoSegDiffConfig::fromJson(
        R"({"dim_x": 16, "dim_g": 8, "channels_x": 1, "channels_g": 3, "out_dim": 1,
            "dim_x_mults": [1, 2, 3], "dim_g_mults": [1, 2, 4], "resnet_block_groups": 8})");
}

/// The largest absolute difference, computed in double (inputs of any floating dtype).
inline double maxAbsDifference(const at::Tensor& a, const at::Tensor& b)
{
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

} // namespace diffseg::test
