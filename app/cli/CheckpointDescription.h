#pragma once

// `diffseg info` on a model file: what the header of one of our checkpoints says (network, input,
// schedule, training progress, EMA, the model card), read without loading the weights.

#include <nlohmann/json.hpp>

#include <string>

namespace diffseg::app {

/// True when `path` starts like a PyTorch zip file (our checkpoints, the reference's .pth).
bool looksLikeTorchFile(const std::string& path);

/// The header of our checkpoint as JSON ("kind": "checkpoint"). A PyTorch file that is not ours
/// (a reference .pth) gives {"kind": "torch file", "note": ...}. Throws core::Error naming the file
/// when it cannot be read.
nlohmann::ordered_json describeCheckpoint(const std::string& path);

/// Prints describeCheckpoint()'s JSON as aligned text lines.
void printCheckpoint(const nlohmann::ordered_json& description);

} // namespace diffseg::app
