#include "VolumeTestUtils.h"

#include "io/VolumeReader.h"

#include <itkGDCMImageIO.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkMetaDataObject.h>

#include <cmath>
#include <cstdio>

namespace diffseg::test {

core::Geometry obliqueGeometry()
{
    // Rotation of 30 degrees about the axis (1, 2, 2)/3, then the third axis flipped: a proper
    // rotation composed with a reflection, as NIfTI files in RAS often give.
    const double a = 30.0 * 3.14159265358979323846 / 180.0;
    const double u[3] = {1.0 / 3, 2.0 / 3, 2.0 / 3};
    const double c = std::cos(a), s = std::sin(a), t = 1 - c;
    const double r[9] = {
        t * u[0] * u[0] + c,        t * u[0] * u[1] - s * u[2], t * u[0] * u[2] + s * u[1],
        t * u[0] * u[1] + s * u[2], t * u[1] * u[1] + c,        t * u[1] * u[2] - s * u[0],
        t * u[0] * u[2] - s * u[1], t * u[1] * u[2] + s * u[0], t * u[2] * u[2] + c};
    core::Geometry g;
    g.spacing = {0.7, 1.3, 2.9};
    g.origin = {-12.5, 30.25, 7.0};
    for (int row = 0; row < 3; ++row) {
        g.direction[row * 3 + 0] = r[row * 3 + 0];
        g.direction[row * 3 + 1] = r[row * 3 + 1];
        g.direction[row * 3 + 2] = -r[row * 3 + 2];
    }
    return g;
}

template <class T>
void writeWithItk(const std::string& path, const std::array<std::int64_t, 3>& size,
                  const std::vector<T>& values, const core::Geometry& geometry, bool compress)
{
    core::registerItkImageIoFactories();
    using Image = itk::Image<T, 3>;
    auto image = Image::New();
    typename Image::SizeType s;
    typename Image::SpacingType spacing;
    typename Image::PointType origin;
    typename Image::DirectionType direction;
    for (unsigned d = 0; d < 3; ++d) {
        s[d] = static_cast<itk::SizeValueType>(size[d]);
        spacing[d] = geometry.spacing[d];
        origin[d] = geometry.origin[d];
        for (unsigned c = 0; c < 3; ++c) {
            direction[d][c] = geometry.direction[d * 3 + c];
        }
    }
    image->SetRegions(typename Image::RegionType(s));
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
    image->Allocate();
    std::copy(values.begin(), values.end(), image->GetBufferPointer());
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetFileName(path);
    writer->SetInput(image);
    writer->SetUseCompression(compress);
    writer->Update();
}

// The scalar types the tests write (the definition stays here, with the ITK headers).
#define DIFFSEG_WRITE_WITH_ITK(T)                                                                  \
    template void writeWithItk<T>(const std::string&, const std::array<std::int64_t, 3>&,          \
                                  const std::vector<T>&, const core::Geometry&, bool);
DIFFSEG_WRITE_WITH_ITK(std::uint8_t)
DIFFSEG_WRITE_WITH_ITK(std::int16_t)
DIFFSEG_WRITE_WITH_ITK(std::uint16_t)
DIFFSEG_WRITE_WITH_ITK(std::int32_t)
DIFFSEG_WRITE_WITH_ITK(float)
DIFFSEG_WRITE_WITH_ITK(double)
#undef DIFFSEG_WRITE_WITH_ITK

core::Geometry itkGeometry(const std::string& path)
{
    core::registerItkImageIoFactories();
    using Image = itk::Image<float, 3>;
    auto reader = itk::ImageFileReader<Image>::New();
    reader->SetFileName(path);
    reader->UpdateOutputInformation();
    const Image* image = reader->GetOutput();
    core::Geometry g;
    for (unsigned d = 0; d < 3; ++d) {
        g.spacing[d] = image->GetSpacing()[d];
        g.origin[d] = image->GetOrigin()[d];
        for (unsigned c = 0; c < 3; ++c) {
            g.direction[d * 3 + c] = image->GetDirection()[d][c];
        }
    }
    return g;
}

std::vector<std::string> writeDicomSeries(const std::string& folder, const std::string& prefix,
                                          const std::string& seriesUid, int slices,
                                          const core::Geometry& geometry, double intercept,
                                          double interceptStep)
{
    using Image = itk::Image<std::int16_t, 3>;
    std::vector<std::string> files;
    for (int k = 0; k < slices; ++k) {
        auto image = Image::New();
        const Image::SizeType s = {{12, 9, 1}};
        image->SetRegions(Image::RegionType(s));
        Image::SpacingType spacing;
        Image::PointType origin;
        Image::DirectionType direction;
        for (unsigned d = 0; d < 3; ++d) {
            spacing[d] = geometry.spacing[d];
            origin[d] =
                geometry.origin[d] + k * geometry.spacing[2] * geometry.direction[d * 3 + 2];
            for (unsigned c = 0; c < 3; ++c) {
                direction[d][c] = geometry.direction[d * 3 + c];
            }
        }
        image->SetSpacing(spacing);
        image->SetOrigin(origin);
        image->SetDirection(direction);
        image->Allocate();
        std::int16_t* p = image->GetBufferPointer();
        for (int i = 0; i < 12 * 9; ++i) {
            p[i] = static_cast<std::int16_t>(100 * k + i);
        }
        itk::MetaDataDictionary& dict = image->GetMetaDataDictionary();
        itk::EncapsulateMetaData<std::string>(dict, "0008|0060", "CT");
        itk::EncapsulateMetaData<std::string>(dict, "0028|0004", "MONOCHROME2");
        itk::EncapsulateMetaData<std::string>(dict, "0020|000d", "1.2.826.0.1.3680043.2.1125.1");
        itk::EncapsulateMetaData<std::string>(dict, "0020|000e", seriesUid);
        itk::EncapsulateMetaData<std::string>(dict, "0008|0018",
                                              seriesUid + "." + std::to_string(k + 1));
        itk::EncapsulateMetaData<std::string>(dict, "0008|103e", prefix);
        // Instance numbers run against the position, as in the shared CT series.
        itk::EncapsulateMetaData<std::string>(dict, "0020|0013", std::to_string(slices - k));
        itk::EncapsulateMetaData<std::string>(dict, "0028|1052",
                                              std::to_string(intercept + k * interceptStep));
        itk::EncapsulateMetaData<std::string>(dict, "0028|1053", "1");
        auto io = itk::GDCMImageIO::New();
        io->KeepOriginalUIDOn();
        auto writer = itk::ImageFileWriter<Image>::New();
        // File names sort in the reverse of the slice order, so that name order is wrong too.
        char name[64];
        std::snprintf(name, sizeof name, "%s_%03d", prefix.c_str(), slices - k);
        const std::string path = folder + "/" + name;
        writer->SetFileName(path);
        writer->SetImageIO(io);
        writer->SetInput(image);
        writer->Update();
        files.push_back(path);
    }
    return files;
}

} // namespace diffseg::test
