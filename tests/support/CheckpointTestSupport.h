#pragma once

// Freshly initialised networks written as our checkpoints: what the inference, CLI and studio
// tests load instead of trained models. Header-only: only tests that link the engine include it.

#include "engine/checkpoint/Checkpoint.h"
#include "engine/diffunet/DiffUNet.h"

#include <torch/utils.h>

#include <cstdint>
#include <string>
#include <vector>

namespace diffseg::test {

/// A tiny Diff-UNet: `in` channels, `classes` classes, 3 stages of 4..8 features (about a second
/// a run).
inline core::engine::DiffUNetConfig tinyDiffUNetConfig(int in = 1, int classes = 2)
{
    core::engine::DiffUNetConfig c;
    c.inChannels = in;
    c.numClasses = classes;
    c.baseFeatures = 4;
    c.maxFeatures = 8;
    c.nStages = 3;
    return c;
}

/// Saves `checkpoint` at `path` with a copy of `network`'s weights as its model.
inline void saveWithWeights(const std::string& path, core::engine::Checkpoint checkpoint,
                            const torch::nn::Module& network)
{
    for (const auto& [key, tensor] : core::engine::namedWeights(network)) {
        checkpoint.model.emplace_back(key, tensor.clone());
    }
    core::engine::saveCheckpoint(path, checkpoint);
}

/// Saves at `path` a Diff-UNet of `config` with weights drawn from `seed`, trained (so says the
/// checkpoint) on `inputSize` patches prepared as `preprocessing` (JSON) says; `source` names the
/// test that wrote it.
inline void saveFreshDiffUNet(const std::string& path, const core::engine::DiffUNetConfig& config,
                              int inputSize, const std::string& preprocessing, std::uint64_t seed,
                              const std::string& source, const std::vector<int>& labelValues = {})
{
    torch::manual_seed(seed);
    core::engine::DiffUNet model(config);
    core::engine::Checkpoint checkpoint;
    checkpoint.info.network = "diffunet";
    checkpoint.info.diffunet = config;
    checkpoint.info.inputSize = inputSize;
    checkpoint.info.preprocessingJson = preprocessing;
    checkpoint.info.source = source;
    checkpoint.info.labelValues = labelValues;
    saveWithWeights(path, checkpoint, *model);
}

} // namespace diffseg::test
