#include "ItkSupport.h"

#include <itkNrrdImageIO.h>

namespace diffseg::core::detail {

RawVolume readNrrdRaw(const std::string& path, std::uint64_t maxBytes, bool headerOnly)
{
    RawVolume raw;
    raw.source.path = path;
    raw.source.format = VolumeFormat::Nrrd;

    itk::NrrdImageIO::Pointer io = itk::NrrdImageIO::New();
    io->SetFileName(path);
    try {
        io->ReadImageInformation();
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorKind::Format, path, "cannot read the NRRD header: " + itkMessage(e));
    }
    shapeFromImageIo(*io, path, raw);
    raw.type = storedTypeFromImageIo(*io, path);
    checkRawShape(raw, maxBytes);
    raw.geometry = geometryFromImageIo(*io);
    raw.source.storedType = storedTypeName(raw.type);
    if (headerOnly) {
        return raw;
    }

    // teem checks the amount of data (raw and gzip) and fails on short reads, so unlike NIfTI and
    // MetaImage the ITK reader can be used as is; it reads straight into our buffer.
    const unsigned n = io->GetNumberOfDimensions();
    itk::ImageIORegion region(n);
    for (unsigned d = 0; d < n; ++d) {
        region.SetIndex(d, 0);
        region.SetSize(d, io->GetDimensions(d));
    }
    io->SetIORegion(region);
    raw.buffer = allocateItkBuffer(raw.type, raw.valueCount());
    const bool interleaved = io->GetNumberOfComponents() > 1;
    PixelBuffer target = interleaved ? PixelBuffer::allocate(raw.byteSize()) : raw.buffer;
    try {
        io->Read(target.data());
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorKind::Format, path, "cannot read the NRRD voxels: " + itkMessage(e));
    }
    if (interleaved) {
        deinterleave(target.data(), raw.buffer.data(), raw.voxelCount(), raw.channels,
                     storedTypeSize(raw.type));
    }
    return raw;
}

} // namespace diffseg::core::detail
