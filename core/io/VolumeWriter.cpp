#include "VolumeWriter.h"

#include "AtomicWrite.h"
#include "FileUtils.h"
#include "internal/ItkSupport.h"

#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkMetaDataObject.h>
#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>
#include <itkNrrdImageIO.h>

#include <cstdio>
#include <set>
#include <vector>

namespace diffseg::core {

namespace {

itk::ImageIOBase::Pointer imageIoFor(const std::string& path)
{
    const std::string ext = fileExtension(path);
    if (ext == ".nii" || ext == ".nii.gz") {
        return itk::NiftiImageIO::New().GetPointer();
    }
    if (ext == ".nrrd" || ext == ".seg.nrrd" || ext == ".nhdr") {
        return itk::NrrdImageIO::New().GetPointer();
    }
    if (ext == ".mha" || ext == ".mhd") {
        return itk::MetaImageIO::New().GetPointer();
    }
    throw Error(ErrorKind::Unsupported, path,
                "unknown volume extension '" + ext +
                    "' (use .nii.gz, .nii, .nrrd, .seg.nrrd, .nhdr, .mha or .mhd)");
}

template <class T, unsigned N>
void writeImage(const Volume& volume, const std::string& finalPath, const std::string& tempPath,
                itk::ImageIOBase* io, bool compress, const itk::MetaDataDictionary& dictionary)
{
    using Image = itk::Image<T, N>;
    auto image = Image::New();
    typename Image::SizeType size;
    typename Image::SpacingType spacing;
    typename Image::PointType origin;
    typename Image::DirectionType direction;
    direction.SetIdentity();
    for (unsigned d = 0; d < N; ++d) {
        size[d] = d < 3 ? static_cast<itk::SizeValueType>(volume.size()[d])
                        : static_cast<itk::SizeValueType>(volume.channels());
        spacing[d] = d < 3 ? volume.geometry().spacing[d] : 1.0;
        origin[d] = d < 3 ? volume.geometry().origin[d] : 0.0;
    }
    for (unsigned r = 0; r < 3; ++r) {
        for (unsigned c = 0; c < 3; ++c) {
            direction[r][c] = volume.geometry().direction[r * 3 + c];
        }
    }
    image->SetRegions(typename Image::RegionType(size));
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
    // Zero-copy: ITK writes straight from our planar buffer, which is its own layout.
    const std::size_t count = volume.voxelCount() * static_cast<std::size_t>(volume.channels());
    image->GetPixelContainer()->SetImportPointer(const_cast<T*>(volume.data<T>()), count, false);
    image->SetMetaDataDictionary(dictionary);

    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetImageIO(io);
    writer->SetFileName(tempPath);
    writer->SetUseCompression(compress);
    writer->SetInput(image);
    try {
        writer->Update();
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorKind::Io, finalPath, "cannot write the volume: " + detail::itkMessage(e));
    }
}

void writeAny(const Volume& volume, const std::string& path, const VolumeWriteOptions& options,
              const itk::MetaDataDictionary& dictionary)
{
    if (volume.empty()) {
        throw Error(ErrorKind::InvalidValue, path, "cannot write an empty volume");
    }
    itk::ImageIOBase::Pointer io = imageIoFor(path);
    AtomicWrite write(path);
    dispatchPixelType(volume.pixelType(), [&](auto v) {
        using T = decltype(v);
        if (volume.channels() == 1) {
            writeImage<T, 3>(volume, path, write.tempPath(), io, options.compress, dictionary);
        } else {
            writeImage<T, 4>(volume, path, write.tempPath(), io, options.compress, dictionary);
        }
    });
    write.commit();
}

/// The segment fields of a 3D Slicer .seg.nrrd, one segment per label present.
itk::MetaDataDictionary slicerSegments(const LabelMap& labels)
{
    std::set<int> present;
    dispatchPixelType(labels.pixelType(), [&](auto v) {
        using T = decltype(v);
        if constexpr (std::is_integral_v<T>) {
            std::vector<bool> seen(65536, false);
            const T* p = labels.data<T>();
            for (std::size_t i = 0; i < labels.voxelCount(); ++i) {
                seen[static_cast<std::size_t>(p[i])] = true;
            }
            for (int l = 1; l < 65536; ++l) {
                if (seen[static_cast<std::size_t>(l)]) {
                    present.insert(l);
                }
            }
        }
    });
    itk::MetaDataDictionary dict;
    auto put = [&](const std::string& key, const std::string& value) {
        itk::EncapsulateMetaData<std::string>(dict, key, value);
    };
    const auto& s = labels.size();
    const std::string extent = "0 " + std::to_string(s[0] - 1) + " 0 " + std::to_string(s[1] - 1) +
                               " 0 " + std::to_string(s[2] - 1);
    put("Segmentation_MasterRepresentation", "Binary labelmap");
    put("Segmentation_ContainedRepresentationNames", "Binary labelmap|");
    put("Segmentation_ReferenceImageExtentOffset", "0 0 0");
    int index = 0;
    for (int label : present) {
        const std::string prefix = "Segment" + std::to_string(index++) + "_";
        // A fixed, well-spread hue per label so that colours are stable between files.
        const double hue = std::fmod(label * 0.618033988749895, 1.0);
        char colour[64];
        std::snprintf(colour, sizeof colour, "%.3f %.3f %.3f", 0.5 + 0.5 * std::cos(6.2832 * hue),
                      0.5 + 0.5 * std::cos(6.2832 * (hue - 1.0 / 3)),
                      0.5 + 0.5 * std::cos(6.2832 * (hue - 2.0 / 3)));
        put(prefix + "ID", "Segment_" + std::to_string(label));
        put(prefix + "Name", "Label " + std::to_string(label));
        put(prefix + "LabelValue", std::to_string(label));
        put(prefix + "Layer", "0");
        put(prefix + "Color", colour);
        put(prefix + "Extent", extent);
    }
    return dict;
}

} // namespace

void writeVolume(const Volume& volume, const std::string& path, const VolumeWriteOptions& options)
{
    writeAny(volume, path, options, {});
}

void writeLabelMap(const LabelMap& labels, const std::string& path,
                   const VolumeWriteOptions& options)
{
    if (labels.pixelType() != PixelType::UInt8 && labels.pixelType() != PixelType::UInt16) {
        throw Error(ErrorKind::InvalidValue, path, "a label map must hold uint8 or uint16 labels");
    }
    const bool slicer = fileExtension(path) == ".seg.nrrd";
    writeAny(labels, path, options, slicer ? slicerSegments(labels) : itk::MetaDataDictionary());
}

} // namespace diffseg::core
