#pragma once

#include "base/LabelMap.h"
#include "base/Volume.h"

#include <string>

namespace diffseg::core {

struct VolumeWriteOptions
{
    /// gzip the voxels (.nrrd, .mha, .mhd); .nii.gz is always compressed and .nii never.
    bool compress = true;
};

/// Writes a volume with its exact geometry (spacing, origin and direction in LPS; NIfTI gets
/// matching qform and sform), so that it overlays its source in any viewer. The format follows
/// the extension: .nii, .nii.gz, .nrrd, .nhdr (+ data file), .mha, .mhd (+ data file). Several
/// channels are written as a 4th axis. Atomic: every file is written into a temporary folder next
/// to the target and renamed into place. Throws Error(Unsupported) for other extensions and
/// Error(Io/NotFound) when the files cannot be written.
void writeVolume(const Volume& volume, const std::string& path,
                 const VolumeWriteOptions& options = {});

/// Writes a label map as writeVolume() does. `.seg.nrrd` files also get the segment description
/// fields (one segment per label present) that 3D Slicer reads.
void writeLabelMap(const LabelMap& labels, const std::string& path,
                   const VolumeWriteOptions& options = {});

} // namespace diffseg::core
