#include "ComputeDevice.h"

#include "base/Error.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace diffseg::core::engine {

namespace {

bool cudaUsable()
{
    return torch::cuda::is_available() && torch::cuda::device_count() > 0;
}

} // namespace

c10::Device parseComputeDevice(const std::string& text)
{
    std::string name = text;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name.empty() || name == "auto") {
        return cudaUsable() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
    }
    if (name == "cpu") {
        return c10::Device(c10::kCPU);
    }
    if (name == "gpu" || name == "cuda" || name.rfind("cuda:", 0) == 0) {
        int index = 0;
        if (name.rfind("cuda:", 0) == 0) {
            const std::string digits = name.substr(5);
            if (digits.empty() || digits.size() > 3 ||
                !std::all_of(digits.begin(), digits.end(),
                             [](unsigned char c) { return std::isdigit(c) != 0; })) {
                throw Error(ErrorKind::Config, "device",
                            "'" + text + "' is not auto, cpu, gpu, cuda or cuda:N");
            }
            index = std::stoi(digits);
        }
        if (!cudaUsable()) {
            throw Error(ErrorKind::Unsupported, "device " + text,
                        "CUDA is not available (this LibTorch is built without CUDA or no GPU is "
                        "visible); use cpu");
        }
        const auto count = static_cast<int>(torch::cuda::device_count());
        if (index >= count) {
            throw Error(ErrorKind::Unsupported, "device " + text,
                        "there are only " + std::to_string(count) + " CUDA device(s)");
        }
        return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw Error(ErrorKind::Config, "device",
                "'" + text + "' is not auto, cpu, gpu, cuda or cuda:N");
}

std::string computeDeviceName(const c10::Device& device)
{
    return device.is_cuda() ? "cuda:" + std::to_string(device.has_index() ? device.index() : 0)
                            : std::string("cpu");
}

std::string weightsId(const NamedTensors& weights, const std::string& prefix)
{
    std::uint64_t state = 14695981039346656037ULL;
    const auto mix = [&](std::uint64_t value) {
        state ^= value;
        state *= 1099511628211ULL;
    };
    // 8-byte words keep hashing a 1.3 GB network cheap next to reading it.
    const auto bytes = [&](const void* data, std::size_t size) {
        const auto* p = static_cast<const unsigned char*>(data);
        std::size_t i = 0;
        for (; i + 8 <= size; i += 8) {
            std::uint64_t word;
            std::memcpy(&word, p + i, 8);
            mix(word);
        }
        for (; i < size; ++i) {
            mix(p[i]);
        }
    };
    for (const auto& [name, tensor] : weights) {
        bytes(name.data(), name.size());
        mix(name.size());
        for (const auto size : tensor.sizes()) {
            bytes(&size, sizeof size);
        }
        const at::Tensor data = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
        bytes(data.data_ptr(), static_cast<std::size_t>(data.nbytes()));
    }
    static const char* kDigits = "0123456789abcdef";
    std::string hex(16, '0');
    for (int i = 0; i < 16; ++i) {
        hex[static_cast<std::size_t>(15 - i)] = kDigits[(state >> (4 * i)) & 0xF];
    }
    return prefix + hex;
}

} // namespace diffseg::core::engine
