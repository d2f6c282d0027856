// Writes small valid inputs for every fuzz target into OUT/<target>/ (generated, never committed).
// Usage: fuzz_make_seeds OUT [SHARED_DATA_DIR]

#include "base/Image2D.h"
#include "base/LabelMap.h"
#include "data/DatasetSplit.h"
#include "io/ImageWriter.h"
#include "io/VolumeReader.h"
#include "io/VolumeWriter.h"

#include <itkGDCMImageIO.h>
#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkMetaDataObject.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace diffseg::core;

namespace {

Geometry oblique()
{
    Geometry g;
    g.spacing = {0.7, 1.3, 2.5};
    g.origin = {-10.0, 20.0, 5.0};
    const double c = std::cos(0.5), s = std::sin(0.5);
    g.direction = {c, -s, 0, s, c, 0, 0, 0, 1};
    return g;
}

Volume smallVolume(int channels)
{
    Volume v({5, 4, 3}, channels, PixelType::Int16, oblique());
    for (std::size_t i = 0; i < v.voxelCount() * std::size_t(channels); ++i) {
        v.data<std::int16_t>()[i] = static_cast<std::int16_t>(i * 37 % 300 - 100);
    }
    return v;
}

LabelMap smallLabels()
{
    LabelMap l({5, 4, 3}, oblique());
    for (std::size_t i = 0; i < l.voxelCount(); ++i) {
        l.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(i % 3);
    }
    return l;
}

std::vector<unsigned char> oneBitBmp()
{
    // 8x2, 1 bit per pixel, palette black/white.
    std::vector<unsigned char> b(62 + 8, 0);
    b[0] = 'B';
    b[1] = 'M';
    b[2] = static_cast<unsigned char>(b.size());
    b[10] = 62;
    b[14] = 40;
    b[18] = 8;
    b[22] = 2;
    b[26] = 1;
    b[28] = 1;
    b[46] = 2;
    b[58] = b[59] = b[60] = 255;
    b[62] = 0xF0;
    b[66] = 0x0F;
    return b;
}

void writeDicomSlice(const std::string& path)
{
    using Image = itk::Image<std::int16_t, 3>;
    auto image = Image::New();
    Image::SizeType size;
    size[0] = 6;
    size[1] = 5;
    size[2] = 1;
    image->SetRegions(Image::RegionType(size));
    image->Allocate();
    for (int i = 0; i < 30; ++i) {
        image->GetBufferPointer()[i] = static_cast<std::int16_t>(i * 11);
    }
    itk::MetaDataDictionary& d = image->GetMetaDataDictionary();
    itk::EncapsulateMetaData<std::string>(d, "0008|0060", "CT");
    itk::EncapsulateMetaData<std::string>(d, "0028|0004", "MONOCHROME2");
    itk::EncapsulateMetaData<std::string>(d, "0028|1052", "-1024");
    itk::EncapsulateMetaData<std::string>(d, "0028|1053", "1");
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetImageIO(itk::GDCMImageIO::New());
    writer->SetFileName(path);
    writer->SetInput(image);
    writer->Update();
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: fuzz_make_seeds OUT [SHARED_DATA_DIR]\n");
        return 2;
    }
    const std::string out = argv[1];
    for (const char* t : {"fuzz_image_decode", "fuzz_mask_decode", "fuzz_nifti", "fuzz_nrrd",
                          "fuzz_metaimage", "fuzz_dicom", "fuzz_split_json"}) {
        fs::create_directories(out + "/" + t);
    }
    // 2D images.
    Image2D rgb(8, 6, 3, PixelType::UInt8);
    for (int i = 0; i < 8 * 6 * 3; ++i) {
        rgb.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(i * 7);
    }
    const std::string img = out + "/fuzz_image_decode/";
    for (const char* ext : {".png", ".jpg", ".bmp", ".tif"}) {
        writeImage(rgb, img + "rgb" + ext);
    }
    cv::imwrite(img + "deep.png", cv::Mat(4, 3, CV_16UC1, cv::Scalar(1000)));
    cv::imwrite(img + "float.tif", cv::Mat(4, 3, CV_32FC1, cv::Scalar(0.25)));
    cv::imwrite(img + "rgba.png", cv::Mat(4, 3, CV_8UC4, cv::Scalar(1, 2, 3, 255)));
    // Masks.
    const std::string msk = out + "/fuzz_mask_decode/";
    Image2D mask(8, 6, 1, PixelType::UInt8);
    mask.at<std::uint8_t>(3, 3) = 1;
    writeMaskPng(mask, msk + "mask.png");
    cv::Mat m01(6, 8, CV_8U, cv::Scalar(0));
    m01.at<std::uint8_t>(2, 2) = 1;
    cv::imwrite(msk + "m01.png", m01);
    cv::Mat m3;
    cv::merge(std::vector<cv::Mat>{m01 * 255, m01 * 255, m01 * 255}, m3);
    cv::imwrite(msk + "rgb.bmp", m3);
    std::ofstream(msk + "onebit.bmp", std::ios::binary)
        .write(reinterpret_cast<const char*>(oneBitBmp().data()),
               std::streamsize(oneBitBmp().size()));
    // Volumes, in each format's raw and compressed flavours, with one and two channels.
    writeVolume(smallVolume(1), out + "/fuzz_nifti/ct.nii");
    writeVolume(smallVolume(1), out + "/fuzz_nifti/ct.nii.gz");
    writeVolume(smallVolume(2), out + "/fuzz_nifti/two.nii");
    writeLabelMap(smallLabels(), out + "/fuzz_nifti/labels.nii");
    writeVolume(smallVolume(1), out + "/fuzz_nrrd/ct.nrrd", VolumeWriteOptions{false});
    writeVolume(smallVolume(1), out + "/fuzz_nrrd/gz.nrrd", VolumeWriteOptions{true});
    writeVolume(smallVolume(2), out + "/fuzz_nrrd/two.nrrd", VolumeWriteOptions{false});
    writeLabelMap(smallLabels(), out + "/fuzz_nrrd/labels.seg.nrrd", VolumeWriteOptions{false});
    writeVolume(smallVolume(1), out + "/fuzz_metaimage/ct.mha", VolumeWriteOptions{false});
    writeVolume(smallVolume(1), out + "/fuzz_metaimage/z.mha", VolumeWriteOptions{true});
    writeVolume(smallVolume(2), out + "/fuzz_metaimage/two.mha", VolumeWriteOptions{false});
    // DICOM: a generated uncompressed slice, plus one real JPEG 2000 CT slice when available.
    writeDicomSlice(out + "/fuzz_dicom/slice.dcm");
    if (argc > 2) {
        const fs::path shared =
            fs::path(argv[2]) / "volumes/totalsegmentator/ct_abdomen_dicom/series";
        const fs::path mr =
            fs::path(argv[2]) / "volumes/dicom2nifti_mr/hitachi_anatomical_001/series/001.dcm";
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(shared, ec)) {
            fs::copy_file(e.path(), out + "/fuzz_dicom/j2k_ct.dcm",
                          fs::copy_options::overwrite_existing, ec);
            break;
        }
        fs::copy_file(mr, out + "/fuzz_dicom/mr.dcm", fs::copy_options::overwrite_existing, ec);
    }
    // Split files.
    const DatasetSplit split = makeSplit({"a", "b", "c", "d", "e"}, {0.6, 0.2, 0.2}, 3);
    std::ofstream(out + "/fuzz_split_json/split.json") << splitToJson(split);
    std::printf("seeds written to %s\n", out.c_str());
    return 0;
}
