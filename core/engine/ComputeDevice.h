#pragma once

// Choosing where the networks run and naming weights, shared by the 2D and 3D segmenters and the
// trainers. Engine-internal header (LibTorch types).

#include "engine/model/NamedTensors.h"

#include <c10/core/Device.h>

#include <string>

namespace diffseg::core::engine {

/// "auto" (the first CUDA device when LibTorch has CUDA and a GPU is visible, else the CPU),
/// "cpu", "gpu" or "cuda" (cuda:0), "cuda:N" (case-insensitive). Throws Error(Unsupported) naming
/// the device when CUDA is asked for but unavailable or N is out of range, Error(Config) for
/// anything else.
c10::Device parseComputeDevice(const std::string& name);

/// "cpu" or "cuda:N".
std::string computeDeviceName(const c10::Device& device);

/// A stable identity of a set of weights: `prefix` + 16 hex digits of a 64-bit FNV-1a over the
/// names, shapes and float32 values (8-byte words), so the same weights give the same id whatever
/// the file they came from.
std::string weightsId(const NamedTensors& weights, const std::string& prefix);

} // namespace diffseg::core::engine
