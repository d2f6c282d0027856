#include "Runtime.h"

#include <itkVersion.h>
#include <opencv2/core/version.hpp>

namespace diffseg::core {

// Defined in TorchRuntime.cpp, the only translation unit here that includes LibTorch.
void fillTorchVersions(LibraryVersions& versions);

LibraryVersions libraryVersions()
{
    LibraryVersions v;
    v.diffseg = DIFFSEG_VERSION;
    v.itk = itk::Version::GetITKVersion();
    v.opencv = CV_VERSION;
    fillTorchVersions(v);
    return v;
}

} // namespace diffseg::core
