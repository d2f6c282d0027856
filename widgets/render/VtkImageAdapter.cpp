#include "VtkImageAdapter.h"

#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkDataArray.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkMatrix4x4.h>
#include <vtkPointData.h>
#include <vtkShortArray.h>
#include <vtkUnsignedCharArray.h>
#include <vtkUnsignedShortArray.h>

#include <memory>

namespace diffseg::widgets {

namespace {

template <class ArrayT, class T>
vtkSmartPointer<vtkDataArray> wrapArray(T* data, vtkIdType count)
{
    auto array = vtkSmartPointer<ArrayT>::New();
    // save = 1: VTK must never free memory it does not own.
    array->SetArray(data, count, 1);
    return array;
}

} // namespace

vtkSmartPointer<vtkImageData> VtkImageAdapter::toImageData(const core::Volume& volume, int channel)
{
    const core::Volume one = volume.channel(channel);
    void* data = const_cast<void*>(one.rawData());
    const auto count = static_cast<vtkIdType>(one.voxelCount());
    vtkSmartPointer<vtkDataArray> array;
    switch (one.pixelType()) {
    case core::PixelType::UInt8:
        array = wrapArray<vtkUnsignedCharArray>(static_cast<unsigned char*>(data), count);
        break;
    case core::PixelType::Int16:
        array = wrapArray<vtkShortArray>(static_cast<short*>(data), count);
        break;
    case core::PixelType::UInt16:
        array = wrapArray<vtkUnsignedShortArray>(static_cast<unsigned short*>(data), count);
        break;
    case core::PixelType::Float32:
        array = wrapArray<vtkFloatArray>(static_cast<float*>(data), count);
        break;
    }
    array->SetName("voxels");

    auto image = vtkSmartPointer<vtkImageData>::New();
    const auto& size = one.size();
    image->SetDimensions(static_cast<int>(size[0]), static_cast<int>(size[1]),
                         static_cast<int>(size[2]));
    const auto& spacing = one.geometry().spacing;
    image->SetSpacing(spacing[0], spacing[1], spacing[2]);
    image->SetOrigin(0.0, 0.0, 0.0);
    image->GetPointData()->SetScalars(array);

    // Keep the voxels alive exactly as long as the array: release our share when VTK deletes it.
    auto* keeper = new core::PixelBuffer(one.buffer());
    auto* release = vtkCallbackCommand::New();
    release->SetClientData(keeper);
    release->SetCallback([](vtkObject*, unsigned long, void* clientData, void*) {
        delete static_cast<core::PixelBuffer*>(clientData);
    });
    array->AddObserver(vtkCommand::DeleteEvent, release);
    release->Delete();
    return image;
}

vtkSmartPointer<vtkMatrix4x4> VtkImageAdapter::placement(const core::Geometry& geometry)
{
    auto m = vtkSmartPointer<vtkMatrix4x4>::New();
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) {
            m->SetElement(r, c, geometry.direction[r * 3 + c]);
        }
        m->SetElement(r, 3, geometry.origin[r]);
    }
    return m;
}

} // namespace diffseg::widgets
