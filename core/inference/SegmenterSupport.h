#pragma once

// What the two families' implementations (Segmenter2D.cpp, Segmenter3D.cpp) do alike: timing,
// turning LibTorch failures into Errors, and loading a checkpoint's weights for inference.
// Private to core/inference's .cpp files: it includes LibTorch, which the public headers must
// not (the GUI includes them).

#include "base/Error.h"
#include "engine/ComputeDevice.h"
#include "engine/checkpoint/Checkpoint.h"

#include <c10/core/Device.h>
#include <c10/util/Exception.h>

#include <chrono>
#include <mutex>
#include <new>
#include <string>

namespace diffseg::core::detail {

using Clock = std::chrono::steady_clock;

inline double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

inline std::string firstLine(const std::string& text)
{
    const auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end);
}

/// Runs `fn`; engine and LibTorch failures that are not already an Error (allocation, CUDA)
/// become one naming `subject`, what was running. `memoryAdvice` completes "out of device memory
/// (try ...)" with what lowers this family's memory.
template <class Fn>
decltype(auto) translated(const char* memoryAdvice, const std::string& subject, Fn&& fn)
{
    try {
        return fn();
    } catch (const Error&) {
        throw;
    } catch (const c10::OutOfMemoryError& e) {
        throw Error(ErrorKind::Unsupported, subject,
                    std::string("out of device memory (try ") + memoryAdvice +
                        "): " + firstLine(e.what_without_backtrace()));
    } catch (const c10::Error& e) {
        throw Error(ErrorKind::Internal, subject, firstLine(e.what_without_backtrace()));
    } catch (const std::bad_alloc&) {
        throw Error(ErrorKind::InvalidValue, subject, "out of memory");
    }
}

/// What a loaded model of either family holds: its info (ModelInfo, VolumeModelInfo), the device
/// and the network (a LibTorch module holder) there, and the lock that serialises its runs.
template <class Info, class Network>
struct LoadedModel
{
    Info info;
    c10::Device device{c10::kCPU};
    Network model{nullptr};
    std::mutex mutex;

    /// Loads the model from `path` onto the device `deviceName` names: refuses an unusable
    /// device before a possibly large file is read, records where the model comes from and runs,
    /// then runs `read` (the family's reading of the checkpoint into info and model) with its
    /// failures named after the file, and records how long it all took.
    template <class Read>
    void load(const std::string& path, const std::string& deviceName, const char* memoryAdvice,
              Read&& read)
    {
        const auto start = Clock::now();
        device = engine::parseComputeDevice(deviceName);
        info.path = path;
        info.device = engine::computeDeviceName(device);
        translated(memoryAdvice, path, read);
        info.loadSeconds = secondsSince(start);
    }

    /// Records the checkpoint's provenance and which weights are in use.
    void describe(const engine::Checkpoint& checkpoint, bool useEma)
    {
        info.source = checkpoint.info.source;
        info.step = checkpoint.info.step;
        info.epoch = checkpoint.info.epoch;
        info.usesEma = useEma && checkpoint.hasEma();
    }

    /// Loads the weights in use into the built network, names them (`idPrefix` + hash), and puts
    /// the network on the device for inference.
    void install(const engine::Checkpoint& checkpoint, const char* idPrefix)
    {
        engine::loadWeights(*model, info.usesEma ? checkpoint.ema : checkpoint.model,
                            info.path + (info.usesEma ? " (EMA weights)" : ""));
        info.id = engine::weightsId(engine::namedWeights(*model), idPrefix);
        info.parameterCount = model->parameterCount();
        model->to(device);
        model->eval();
    }
};

} // namespace diffseg::core::detail
