#pragma once

// Shared by the network tests: the parity fixture's small config, a tensor distance and the
// shapes of a network's parameters.

#include "engine/model/DermoSegDiffConfig.h"

#include <QtTest>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

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

/// Parameter name -> shape, as a state_dict lists them.
using ParameterShapes = std::map<std::string, std::vector<std::int64_t>>;

/// The shapes of `network`'s parameters.
inline ParameterShapes parameterShapes(const torch::nn::Module& network)
{
    ParameterShapes shapes;
    for (const auto& p : network.named_parameters()) {
        shapes[p.key()] = p.value().sizes().vec();
    }
    return shapes;
}

/// Checks that `shapes` holds every parameter of `expected` with its shape.
inline void verifyShapes(const ParameterShapes& shapes, const ParameterShapes& expected)
{
    for (const auto& [name, shape] : expected) {
        QVERIFY2(shapes.count(name) == 1, name.c_str());
        QCOMPARE(shapes.at(name), shape);
    }
}

} // namespace diffseg::test
