#include "Runtime.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>
#include <thread>

namespace diffseg::core {

void fillTorchVersions(LibraryVersions& versions)
{
    versions.torch = TORCH_VERSION;
    versions.cudaAvailable = torch::cuda::is_available();
    versions.cudaDeviceCount =
        versions.cudaAvailable ? static_cast<int>(torch::cuda::device_count()) : 0;
    versions.computeThreads = computeThreads();
}

void setComputeThreads(int threads)
{
    if (threads <= 0) {
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    if (at::get_num_threads() != threads) {
        at::set_num_threads(threads);
    }
}

int computeThreads()
{
    return at::get_num_threads();
}

} // namespace diffseg::core
