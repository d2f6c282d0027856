#pragma once

#include "base/Volume.h"

#include <vtkSmartPointer.h>

class vtkImageData;
class vtkMatrix4x4;

namespace diffseg::widgets {

/// Turns one channel of a core::Volume into vtkImageData without copying voxels.
///
/// The vtkImageData has the volume's spacing, origin 0 and an identity direction; the physical
/// placement (origin + direction, LPS) is returned separately as a 4x4 matrix for the actor
/// (vtkVolume/vtkImageActor SetUserMatrix). VTK 9.1's mappers do not all honour
/// vtkImageData's direction matrix, so we never rely on it.
///
/// Ownership: the returned image keeps the volume's PixelBuffer alive (shared), so it stays
/// valid when the caller drops its Volume. Writes through either side are visible to both.
/// GUI thread only once attached to a pipeline.
class VtkImageAdapter
{
public:
    /// Throws core::Error(InvalidValue) if `channel` does not exist.
    static vtkSmartPointer<vtkImageData> toImageData(const core::Volume& volume, int channel = 0);
    /// The index-to-LPS placement: translate(origin) * direction (spacing stays in the image).
    static vtkSmartPointer<vtkMatrix4x4> placement(const core::Geometry& geometry);
};

} // namespace diffseg::widgets
