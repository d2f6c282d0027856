#pragma once

#include "base/Geometry.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace diffseg::test {

/// A rotated, anisotropic, off-centre geometry: what real scans look like and what a reader that
/// drops or transposes the direction would get wrong.
core::Geometry obliqueGeometry();

/// Writes `values` (x fastest) as a 3D file of scalar type T through plain ITK, to produce inputs
/// that our own writers never make (uint16, float64, int32, ...).
template <class T>
void writeWithItk(const std::string& path, const std::array<std::int64_t, 3>& size,
                  const std::vector<T>& values, const core::Geometry& geometry,
                  bool compress = false);

/// Geometry of a file as a plain itk::ImageFileReader reports it (the reference for ours).
core::Geometry itkGeometry(const std::string& path);

/// Writes a DICOM series of `slices` single-slice files with the given series UID (int16 pixels,
/// CT, rescale intercept `intercept` + k * `interceptStep` for slice k), slice k at origin + k *
/// step along the geometry's normal. Pixel (i, j) of slice k holds 100 k + 12 j + i after rescale.
/// Returns the file paths, in slice order.
std::vector<std::string> writeDicomSeries(const std::string& folder, const std::string& prefix,
                                          const std::string& seriesUid, int slices,
                                          const core::Geometry& geometry, double intercept = 0.0,
                                          double interceptStep = 0.0);

} // namespace diffseg::test
