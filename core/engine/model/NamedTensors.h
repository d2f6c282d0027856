#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace diffseg::core::engine {

/// Weights by state_dict name, in the model's order (what checkpoints and the EMA exchange).
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

} // namespace diffseg::core::engine
