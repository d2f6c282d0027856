#pragma once

#include <string>

namespace diffseg::core {

/// Versions of the libraries the engine was built with and what compute it can use; shown by
/// `diffseg --version` and Help > About.
struct LibraryVersions
{
    std::string diffseg;
    std::string itk;
    std::string opencv;
    std::string torch;
    bool cudaAvailable = false; ///< LibTorch has CUDA *and* a device is present
    int cudaDeviceCount = 0;
    int computeThreads = 0; ///< LibTorch intra-op threads currently in use
};

LibraryVersions libraryVersions();

/// Sets LibTorch's intra-op thread count (0 = one per hardware thread). LibTorch defaults to half
/// the cores on x86, so every entry point calls this once at start. Safe to call repeatedly.
void setComputeThreads(int threads);
int computeThreads();

} // namespace diffseg::core
