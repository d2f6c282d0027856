#include "ExpectError.h"
#include "TestSupport.h"
#include "VolumeTestUtils.h"
#include "base/Error.h"
#include "io/VolumeReader.h"
#include "io/VolumeWriter.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

using namespace diffseg::core;
using namespace diffseg::test;
namespace fs = std::filesystem;

namespace {

Volume makeInt16Volume(const std::array<std::int64_t, 3>& size, const Geometry& g, int channels = 1)
{
    Volume v(size, channels, PixelType::Int16, g);
    auto* p = v.data<std::int16_t>();
    for (std::size_t i = 0; i < v.voxelCount() * static_cast<std::size_t>(channels); ++i) {
        p[i] = static_cast<std::int16_t>(static_cast<int>(i * 7919 % 4001) - 2000);
    }
    return v;
}

LabelMap makeLabels(const std::array<std::int64_t, 3>& size, const Geometry& g, PixelType type)
{
    LabelMap labels(size, g, type);
    for (std::size_t i = 0; i < labels.voxelCount(); ++i) {
        const int v = static_cast<int>(i * 31 % 7);
        if (type == PixelType::UInt8) {
            labels.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(v * 40);
        } else {
            labels.data<std::uint16_t>()[i] = static_cast<std::uint16_t>(v * 9000);
        }
    }
    return labels;
}

bool sameBytes(const Volume& a, const Volume& b)
{
    return a.byteSize() == b.byteSize() && std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

/// A one-slice DICOM series (series `uid`) written to `dir`: its file, the file's bytes and where
/// its (0008,0060) Modality element "CT" starts (implicit VR, as ITK writes it; npos if absent).
struct OneSliceDicom
{
    std::string path;
    std::string bytes;
    std::size_t modality = std::string::npos;
};

OneSliceDicom writeOneSliceDicom(const std::string& dir, const std::string& uid)
{
    OneSliceDicom file;
    file.path = diffseg::test::writeDicomSeries(dir, "ct", uid, 1, Geometry{}).front();
    std::ifstream in(file.path, std::ios::binary);
    file.bytes.assign(std::istreambuf_iterator<char>(in), {});
    file.modality = file.bytes.find(std::string("\x08\x00\x60\x00\x02\x00\x00\x00"
                                                "CT",
                                                10));
    return file;
}

void truncateFile(const std::string& path, double fraction)
{
    const auto size = fs::file_size(path);
    fs::resize_file(path, static_cast<std::uintmax_t>(static_cast<double>(size) * fraction));
}

/// Sum of `volume` (int16 HU) over voxels of `labels` equal to `label`, through physical space:
/// proves that the two grids overlay, whatever their axis orders.
double meanInsideLabel(const Volume& volume, const LabelMap& labels, int label, int* count)
{
    double sum = 0.0;
    *count = 0;
    const auto& ls = labels.size();
    const auto& vs = volume.size();
    for (std::int64_t k = 0; k < ls[2]; ++k) {
        for (std::int64_t j = 0; j < ls[1]; ++j) {
            for (std::int64_t i = 0; i < ls[0]; ++i) {
                if (labels.data<std::uint8_t>()[labels.linearIndex(i, j, k)] != label) {
                    continue;
                }
                const auto p = labels.geometry().indexToPhysical({double(i), double(j), double(k)});
                const auto q = volume.geometry().physicalToIndex(p);
                const auto vi = std::llround(q[0]), vj = std::llround(q[1]),
                           vk = std::llround(q[2]);
                if (vi < 0 || vj < 0 || vk < 0 || vi >= vs[0] || vj >= vs[1] || vk >= vs[2]) {
                    continue;
                }
                sum += volume.data<std::int16_t>()[volume.linearIndex(vi, vj, vk)];
                ++*count;
            }
        }
    }
    return *count ? sum / *count : 0.0;
}

/// Every voxel of `a` maps through physical space onto an integer voxel of `b` inside its grid.
void verifyVoxelCentresCoincide(const Volume& a, const Volume& b)
{
    const auto& s = a.size();
    double worst = 0.0;
    for (std::int64_t k = 0; k < s[2]; k += std::max<std::int64_t>(1, s[2] - 1)) {
        for (std::int64_t j = 0; j < s[1]; j += std::max<std::int64_t>(1, s[1] - 1)) {
            for (std::int64_t i = 0; i < s[0]; i += std::max<std::int64_t>(1, s[0] - 1)) {
                const auto q = b.geometry().physicalToIndex(
                    a.geometry().indexToPhysical({double(i), double(j), double(k)}));
                for (int d = 0; d < 3; ++d) {
                    worst = std::max(worst, std::abs(q[d] - std::round(q[d])));
                    QVERIFY2(std::round(q[d]) >= 0 && std::round(q[d]) < double(b.size()[d]),
                             "voxel maps outside the other grid");
                }
            }
        }
    }
    QVERIFY2(worst < 1e-3, qPrintable(QString("voxel centres off by %1 voxel").arg(worst)));
}

const char* kExtensions[] = {".nii.gz", ".nii", ".nrrd", ".seg.nrrd", ".nhdr", ".mha", ".mhd"};

} // namespace

class TestVolumeIo : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // --- Round trips on generated volumes with an oblique, anisotropic geometry ------------------

    void volumeRoundTripKeepsVoxelsAndGeometry_data()
    {
        QTest::addColumn<QString>("ext");
        for (const char* ext : kExtensions) {
            QTest::newRow(ext) << QString(ext);
        }
    }
    void volumeRoundTripKeepsVoxelsAndGeometry()
    {
        QFETCH(QString, ext);
        const std::string dir = str(scratchDir("roundtrip" + ext));
        const Volume v = makeInt16Volume({23, 17, 11}, obliqueGeometry());
        const std::string path = dir + "/ct" + str(ext);
        writeVolume(v, path);
        const LoadedVolume r = readVolume(path);
        QCOMPARE(r.volume.pixelType(), PixelType::Int16);
        QVERIFY(r.volume.size() == v.size());
        QVERIFY(sameBytes(r.volume, v));
        QVERIFY2(r.volume.geometry().isClose(v.geometry(), 1e-5), r.volume.describe().c_str());
        // And a plain ITK reader sees the same geometry in the file.
        QVERIFY(diffseg::test::itkGeometry(path).isClose(v.geometry(), 1e-5));
        // Nothing but the target (and its data file) is left in the folder.
        int files = 0;
        for (const auto& e : fs::directory_iterator(dir)) {
            QVERIFY2(e.path().filename().string().rfind(".diffseg-tmp", 0) != 0,
                     "temp folder left");
            ++files;
        }
        QCOMPARE(files, (ext == ".mhd" || ext == ".nhdr") ? 2 : 1);
    }

    void labelMapRoundTripIsExact_data()
    {
        QTest::addColumn<QString>("ext");
        QTest::addColumn<int>("type");
        for (const char* ext : kExtensions) {
            QTest::newRow((std::string(ext) + " uint8").c_str())
                << QString(ext) << int(PixelType::UInt8);
            QTest::newRow((std::string(ext) + " uint16").c_str())
                << QString(ext) << int(PixelType::UInt16);
        }
    }
    void labelMapRoundTripIsExact()
    {
        QFETCH(QString, ext);
        QFETCH(int, type);
        const std::string dir = str(scratchDir("labels"));
        const LabelMap labels = makeLabels({31, 8, 5}, obliqueGeometry(), PixelType(type));
        const std::string path = dir + "/seg" + str(ext);
        writeLabelMap(labels, path);
        const LoadedLabelMap r = readLabelMap(path);
        QCOMPARE(r.labels.pixelType(), PixelType(type));
        QVERIFY(sameBytes(r.labels, labels));
        QVERIFY(r.labels.isAlignedWith(labels, 1e-5));
    }

    void segNrrdCarriesSlicerSegments()
    {
        const std::string path = str(scratchDir("slicer")) + "/s.seg.nrrd";
        writeLabelMap(makeLabels({10, 10, 3}, Geometry{}, PixelType::UInt8), path);
        std::ifstream in(path, std::ios::binary);
        std::string header(4096, '\0');
        in.read(header.data(), 4096);
        QVERIFY(header.find("Segment0_LabelValue:=40") != std::string::npos);
        QVERIFY(header.find("Segment5_LabelValue:=240") != std::string::npos);
        QVERIFY(header.find("space: left-posterior-superior") != std::string::npos);
    }

    void multiChannelVolumesRoundTrip_data()
    {
        QTest::addColumn<QString>("ext");
        for (const char* ext : {".nii.gz", ".nrrd", ".mha"}) {
            QTest::newRow(ext) << QString(ext);
        }
    }
    void multiChannelVolumesRoundTrip()
    {
        QFETCH(QString, ext);
        const Volume v = makeInt16Volume({9, 7, 5}, obliqueGeometry(), 4);
        const std::string path = str(scratchDir("channels")) + "/mr" + str(ext);
        writeVolume(v, path);
        const LoadedVolume r = readVolume(path);
        QCOMPARE(r.volume.channels(), 4);
        QVERIFY(sameBytes(r.volume, v));
        QVERIFY(r.volume.geometry().isClose(v.geometry(), 1e-5));
    }

    void channelsStackFromSeparateFiles()
    {
        const std::string dir = str(scratchDir("stack"));
        const Volume a = makeInt16Volume({6, 5, 4}, obliqueGeometry());
        Volume b = a.clone();
        b.data<std::int16_t>()[0] = 1234;
        writeVolume(a, dir + "/t1.nii.gz");
        writeVolume(b, dir + "/t2.nii.gz");
        const LoadedVolume r = readVolumeChannels({dir + "/t1.nii.gz", dir + "/t2.nii.gz"});
        QCOMPARE(r.volume.channels(), 2);
        QCOMPARE(r.volume.channelData<std::int16_t>(1)[0], std::int16_t(1234));
        QCOMPARE(r.volume.channelData<std::int16_t>(0)[5], a.data<std::int16_t>()[5]);
        // A file on another grid is named in the error.
        Geometry shifted = obliqueGeometry();
        shifted.origin[0] += 1.0;
        writeVolume(makeInt16Volume({6, 5, 4}, shifted), dir + "/flair.nii.gz");
        expectError(
            [&] {
                readVolumeChannels({dir + "/t1.nii.gz", dir + "/flair.nii.gz"});
            },
            ErrorKind::Mismatch, {"flair.nii.gz", "differs from", "t1.nii.gz"});
    }

    // --- Pixel type policies
    // -----------------------------------------------------------------------

    void uint16ThatFitsBecomesInt16WithoutCopy()
    {
        const std::string path = str(scratchDir("u16")) + "/ct.nii";
        std::vector<std::uint16_t> values(4 * 4 * 4);
        std::iota(values.begin(), values.end(), std::uint16_t(30000));
        diffseg::test::writeWithItk(path, {4, 4, 4}, values, Geometry{});
        const LoadedVolume r = readVolume(path);
        QCOMPARE(r.volume.pixelType(), PixelType::Int16);
        QCOMPARE(r.volume.data<std::int16_t>()[63], std::int16_t(30063));
        QCOMPARE(r.source.storedType, std::string("uint16"));
    }

    void uint16AboveInt16RangeBecomesFloat()
    {
        const std::string path = str(scratchDir("u16big")) + "/ct.nrrd";
        std::vector<std::uint16_t> values(8, 60000);
        values[0] = 3;
        diffseg::test::writeWithItk(path, {2, 2, 2}, values, Geometry{});
        const LoadedVolume r = readVolume(path);
        QCOMPARE(r.volume.pixelType(), PixelType::Float32);
        QCOMPARE(r.volume.data<float>()[1], 60000.0f);
        QCOMPARE(r.volume.data<float>()[0], 3.0f);
        QVERIFY(!r.source.notes.empty());
    }

    void float64AndInt32AreNarrowed()
    {
        const std::string dir = str(scratchDir("narrow"));
        diffseg::test::writeWithItk<double>(dir + "/d.mha", {2, 1, 1}, {1.5, -2.25}, Geometry{});
        const LoadedVolume d = readVolume(dir + "/d.mha");
        QCOMPARE(d.volume.pixelType(), PixelType::Float32);
        QCOMPARE(d.volume.data<float>()[1], -2.25f);
        diffseg::test::writeWithItk<std::int32_t>(dir + "/i.nii.gz", {2, 1, 1}, {-1024, 3071},
                                                  Geometry{});
        const LoadedVolume i = readVolume(dir + "/i.nii.gz");
        QCOMPARE(i.volume.pixelType(), PixelType::Int16);
        QCOMPARE(i.volume.data<std::int16_t>()[0], std::int16_t(-1024));
        diffseg::test::writeWithItk<std::uint8_t>(dir + "/u8.nrrd", {2, 1, 1}, {0, 255},
                                                  Geometry{});
        QCOMPARE(readVolume(dir + "/u8.nrrd").volume.pixelType(), PixelType::Int16);
    }

    void nonFiniteVoxelsAreRejected()
    {
        const std::string dir = str(scratchDir("nan"));
        std::vector<float> values(27, 1.0f);
        values[13] = std::nanf("");
        diffseg::test::writeWithItk(dir + "/nan.nii.gz", {3, 3, 3}, values, Geometry{});
        expectError([&] { readVolume(dir + "/nan.nii.gz"); }, ErrorKind::InvalidValue,
                    {"nan.nii.gz", "non-finite", "voxel (1, 1, 1)"});
        values[13] = INFINITY;
        diffseg::test::writeWithItk<double>(dir + "/inf.mha", {3, 3, 3},
                                            std::vector<double>(values.begin(), values.end()),
                                            Geometry{});
        expectError([&] { readVolume(dir + "/inf.mha"); }, ErrorKind::InvalidValue,
                    {"inf.mha", "non-finite"});
    }

    void labelMapsFromFloatFilesNeedIntegers()
    {
        const std::string dir = str(scratchDir("labelpolicy"));
        diffseg::test::writeWithItk<double>(dir + "/ok.nii.gz", {3, 1, 1}, {0, 2, 5}, Geometry{});
        const LoadedLabelMap ok = readLabelMap(dir + "/ok.nii.gz");
        QCOMPARE(ok.labels.pixelType(), PixelType::UInt8);
        QCOMPARE(ok.labels.maxLabel(), 5);
        diffseg::test::writeWithItk<float>(dir + "/big.nrrd", {2, 1, 1}, {0, 300}, Geometry{});
        QCOMPARE(readLabelMap(dir + "/big.nrrd").labels.pixelType(), PixelType::UInt16);

        diffseg::test::writeWithItk<double>(dir + "/half.nii.gz", {3, 1, 1}, {0, 2, 0.5},
                                            Geometry{});
        expectError([&] { readLabelMap(dir + "/half.nii.gz"); }, ErrorKind::InvalidValue,
                    {"half.nii.gz", "non-integer value 0.5", "voxel (2, 0, 0)"});
        diffseg::test::writeWithItk<std::int16_t>(dir + "/neg.mha", {2, 1, 1}, {0, -1}, Geometry{});
        expectError([&] { readLabelMap(dir + "/neg.mha"); }, ErrorKind::InvalidValue,
                    {"neg.mha", "negative value -1"});
        diffseg::test::writeWithItk<std::int32_t>(dir + "/huge.nii", {2, 1, 1}, {0, 70000},
                                                  Geometry{});
        expectError([&] { readLabelMap(dir + "/huge.nii"); }, ErrorKind::InvalidValue,
                    {"huge.nii", "70000", "65535"});
        writeVolume(makeInt16Volume({2, 2, 2}, Geometry{}, 2), dir + "/two.nii.gz");
        expectError([&] { readLabelMap(dir + "/two.nii.gz"); }, ErrorKind::InvalidValue,
                    {"two.nii.gz", "one channel"});
    }

    // --- Bad input: every failure names the file and the problem
    // -----------------------------------

    void missingAndUnknownFilesAreErrors()
    {
        const std::string dir = str(scratchDir("bad"));
        expectError([&] { readVolume(dir + "/nothing.nii.gz"); }, ErrorKind::NotFound,
                    {"nothing.nii.gz"});
        std::ofstream(dir + "/notes.txt") << "hello";
        expectError([&] { readVolume(dir + "/notes.txt"); }, ErrorKind::Format,
                    {"notes.txt", "unknown volume format"});
        std::ofstream(dir + "/fake.nii.gz") << "not a nifti at all";
        expectError([&] { readVolume(dir + "/fake.nii.gz"); }, ErrorKind::Format, {"fake.nii.gz"});
        std::ofstream(dir + "/fake.mha")
            << "NDims = 3\nDimSize = 2 2\nElementType = MET_SHORT\nElementDataFile = LOCAL\n";
        expectError([&] { readVolume(dir + "/fake.mha"); }, ErrorKind::Format, {"fake.mha"});
        fs::create_directories(dir + "/empty");
        expectError([&] { readVolume(dir + "/empty"); }, ErrorKind::NotFound,
                    {"empty", "no DICOM series"});
        fs::create_directories(dir + "/junk");
        std::ofstream(dir + "/junk/a.dcm") << std::string(200, 'x');
        expectError([&] { readVolume(dir + "/junk"); }, ErrorKind::NotFound,
                    {"junk", "no DICOM series"});
    }

    void truncatedFilesAreErrors_data()
    {
        QTest::addColumn<QString>("ext");
        QTest::addColumn<bool>("compress");
        for (const char* ext : {".nii", ".nii.gz", ".nrrd", ".mha", ".mhd"}) {
            QTest::newRow((std::string(ext) + " raw").c_str()) << QString(ext) << false;
            QTest::newRow((std::string(ext) + " gz").c_str()) << QString(ext) << true;
        }
    }
    void truncatedFilesAreErrors()
    {
        QFETCH(QString, ext);
        QFETCH(bool, compress);
        const std::string dir = str(scratchDir("truncated"));
        const std::string path = dir + "/ct" + str(ext);
        writeVolume(makeInt16Volume({40, 30, 20}, Geometry{}), path, VolumeWriteOptions{compress});
        std::string data = path;
        if (ext == ".mhd") {
            data = dir + (compress ? "/ct.zraw" : "/ct.raw");
        }
        for (double fraction : {0.9, 0.5}) {
            truncateFile(data, fraction);
            const Error e = expectError([&] { readVolume(path); });
            QVERIFY2(std::strstr(e.what(), "ct") != nullptr, e.what());
            QVERIFY2(std::strstr(e.what(), "truncated") || std::strstr(e.what(), "corrupt") ||
                         std::strstr(e.what(), "cannot read"),
                     e.what());
        }
    }

    void corruptCompressedDataIsAnError()
    {
        const std::string dir = str(scratchDir("corrupt"));
        for (const char* name : {"/ct.nii.gz", "/ct.mha", "/ct.nrrd"}) {
            const std::string path = dir + name;
            writeVolume(makeInt16Volume({40, 30, 20}, Geometry{}), path);
            // Flip bytes in the middle of the compressed stream.
            std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
            const auto size = static_cast<std::streamoff>(fs::file_size(path));
            for (std::streamoff at = size / 2; at < size / 2 + 64; at += 3) {
                f.seekp(at);
                f.put('\x5a');
            }
            f.close();
            expectError([&] { readVolume(path); }, ErrorKind::Format, {name + 1});
        }
    }

    void absurdDimensionsAreRefusedBeforeAllocating()
    {
        const std::string dir = str(scratchDir("absurd"));
        // A MetaImage header claiming 16000^3 int16 voxels (8 TB) followed by a few bytes.
        std::ofstream(dir + "/huge.mha")
            << "ObjectType = Image\nNDims = 3\nDimSize = 16000 16000 16000\n"
               "ElementType = MET_SHORT\nElementDataFile = LOCAL\nxxxx";
        expectError([&] { readVolume(dir + "/huge.mha"); }, ErrorKind::InvalidValue,
                    {"huge.mha", "more than the limit"});
        std::ofstream(dir + "/zero.mha") << "ObjectType = Image\nNDims = 3\nDimSize = 0 10 10\n"
                                            "ElementType = MET_SHORT\nElementDataFile = LOCAL\n";
        expectError([&] { readVolume(dir + "/zero.mha"); }, ErrorKind::InvalidValue, {"zero.mha"});
        // NIfTI header with a zero dimension.
        writeVolume(makeInt16Volume({4, 4, 4}, Geometry{}), dir + "/z.nii");
        {
            std::fstream f(dir + "/z.nii", std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(42); // dim[1]
            const std::int16_t zero = 0;
            f.write(reinterpret_cast<const char*>(&zero), 2);
        }
        const Error e = expectError([&] { readVolume(dir + "/z.nii"); });
        QVERIFY2(std::strstr(e.what(), "z.nii"), e.what());
        // A caller's memory limit applies before allocation.
        writeVolume(makeInt16Volume({40, 40, 40}, Geometry{}), dir + "/ok.nrrd");
        VolumeReadOptions small;
        small.maxBytes = 1000;
        expectError([&] { readVolume(dir + "/ok.nrrd", small); }, ErrorKind::InvalidValue,
                    {"ok.nrrd", "128000 bytes"});
    }

    void invalidGeometryIsAnError()
    {
        const std::string dir = str(scratchDir("geometry"));
        writeVolume(makeInt16Volume({4, 4, 4}, Geometry{}), dir + "/g.nrrd",
                    VolumeWriteOptions{false});
        // Rewrite the space directions with a zero-length axis.
        std::ifstream in(dir + "/g.nrrd", std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), {});
        in.close();
        const auto at = text.find("space directions:");
        QVERIFY(at != std::string::npos);
        const auto end = text.find('\n', at);
        text.replace(at, end - at, "space directions: (1,0,0) (0,0,0) (0,0,1)");
        std::ofstream(dir + "/g.nrrd", std::ios::binary) << text;
        const Error e = expectError([&] { readVolume(dir + "/g.nrrd"); });
        QVERIFY2(std::strstr(e.what(), "g.nrrd"), e.what());
    }

    void writersRefuseUnknownExtensions()
    {
        expectError(
            [&] {
                writeVolume(makeInt16Volume({2, 2, 2}, Geometry{}), "/tmp/x.vtk");
            },
            ErrorKind::Unsupported, {"x.vtk", ".vtk"});
        expectError(
            [&] {
                writeVolume(makeInt16Volume({2, 2, 2}, Geometry{}), "/no/such/dir/x.nii");
            },
            ErrorKind::NotFound, {"/no/such/dir"});
    }

    // --- Regressions of fuzzing findings

    void nonFiniteNiftiTransformIsAnErrorNotAHang()
    {
        // ITK's SVD of a NaN sform never returned (fuzz_nifti timeout).
        const std::string dir = str(scratchDir("fuzz-nifti"));
        writeVolume(makeInt16Volume({4, 3, 2}, obliqueGeometry()), dir + "/nan.nii");
        {
            std::fstream f(dir + "/nan.nii", std::ios::in | std::ios::out | std::ios::binary);
            const float nan = std::nanf("");
            f.seekp(280); // srow_x[0]
            f.write(reinterpret_cast<const char*>(&nan), 4);
        }
        expectError([&] { readVolume(dir + "/nan.nii"); }, ErrorKind::InvalidValue,
                    {"nan.nii", "sform", "non-finite"});
    }

    void unknownMetaImageElementTypeIsAnError()
    {
        // An unknown ElementType made ITK's type-name helper throw out of our reader
        // (fuzz_metaimage).
        const std::string dir = str(scratchDir("fuzz-mha"));
        std::ofstream(dir + "/odd.mha") << "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\n"
                                           "ElementType = MET_SEORT\nElementDataFile = LOCAL\n"
                                        << std::string(16, 'x');
        const Error e = expectError([&] { readVolume(dir + "/odd.mha"); });
        QVERIFY2(std::strstr(e.what(), "odd.mha"), e.what());
    }

    void absurdMetaImageNDimsIsRefusedBeforeMetaIO()
    {
        // MetaIO looped over NDims values for minutes (fuzz_metaimage timeout).
        const std::string dir = str(scratchDir("fuzz-mha-ndims"));
        std::ofstream(dir + "/n.mha")
            << "ObjectType = Image\nNDims = 36189037276\nDimSize = 5 4 3\n"
               "ElementType = MET_SHORT\nElementDataFile = LOCAL\n";
        expectError([&] { readVolume(dir + "/n.mha"); }, ErrorKind::Format, {"n.mha", "NDims"});
        std::ofstream(dir + "/d.mha") << "ObjectType = Image\nNDims = 3\nDimSize = 5 4\n"
                                         "ElementType = MET_SHORT\nElementDataFile = LOCAL\n";
        expectError([&] { readVolume(dir + "/d.mha"); }, ErrorKind::Format, {"d.mha", "DimSize"});
    }

    void malformedMetaImageHeaderLinesAreRefused()
    {
        // A 300-character field name overflowed a MetaIO buffer (fuzz_metaimage).
        const std::string dir = str(scratchDir("fuzz-mha-line"));
        std::ofstream(dir + "/long.mha") << "ObjectType = Image\nNDims = 3\n"
                                         << std::string(300, 'B')
                                         << " = 1\nDimSize = 2 2 2\nElementType = MET_SHORT\n"
                                            "ElementDataFile = LOCAL\n"
                                         << std::string(16, 'x');
        expectError([&] { readVolume(dir + "/long.mha"); }, ErrorKind::Format,
                    {"long.mha", "malformed line 3"});
    }

    void malformedDicomNeverReachesGdcm()
    {
        // GDCM aborts (assert) on data sets it cannot parse (fuzz_dicom, fuzz_nifti): our walker
        // refuses them first, naming the file.
        const std::string dir = str(scratchDir("fuzz-dicom-structure"));
        std::string onlyPreamble(128, '\0');
        onlyPreamble += "DICM";
        std::ofstream(dir + "/a.dcm", std::ios::binary) << onlyPreamble;
        expectError([&] { readVolume(dir); }, ErrorKind::Format,
                    {"a.dcm", "corrupt DICOM", "no file meta information"});
        fs::remove(dir + "/a.dcm");
        OneSliceDicom file = writeOneSliceDicom(dir, "1.2.3.78");
        QVERIFY(file.modality != std::string::npos);
        // An item tag where a data element should be.
        file.bytes.replace(file.modality, 4, std::string("\xFE\xFF\x00\xE0", 4));
        std::ofstream(file.path, std::ios::binary) << file.bytes;
        expectError([&] { readVolume(dir); }, ErrorKind::Format,
                    {file.path.c_str(), "item outside a sequence"});
    }

    void dicomElementLongerThanTheFileIsAnError()
    {
        // GDCM allocates whatever an element declares (fuzz_dicom: 3.5 GB for a 10 kB file).
        const std::string dir = str(scratchDir("fuzz-dicom"));
        OneSliceDicom file = writeOneSliceDicom(dir, "1.2.3.77");
        QVERIFY(file.modality != std::string::npos);
        // The Modality element: give it a length beyond the file.
        file.bytes[file.modality + 4] = '\xF0';
        file.bytes[file.modality + 5] = '\xFF';
        std::ofstream(file.path, std::ios::binary) << file.bytes;
        expectError([&] { readVolume(dir); }, ErrorKind::Format,
                    {file.path.c_str(), "claims 65520 bytes"});
    }

    // --- DICOM
    // ---------------------------------------------------------------------------------------

    void dicomFolderWithTwoSeriesPicksTheLongerAndSaysSo()
    {
        const std::string dir = str(scratchDir("dicom2"));
        // DICOM stacks slices along row x column cosines: a proper rotation (det +1).
        Geometry g = obliqueGeometry();
        g.spacing = {0.8, 0.6, 2.5};
        for (int r = 0; r < 3; ++r) {
            g.direction[r * 3 + 2] = -g.direction[r * 3 + 2];
        }
        const auto shortSeries = diffseg::test::writeDicomSeries(dir, "scout", "1.2.3.4.1", 3, g);
        const auto longSeries =
            diffseg::test::writeDicomSeries(dir, "axial", "1.2.3.4.2", 6, g, -1024);
        const LoadedVolume r = readVolume(dir);
        QCOMPARE(r.volume.size()[2], std::int64_t(6));
        QCOMPARE(r.source.dicomSeries.size(), std::size_t(2));
        QCOMPARE(r.source.dicomSeries[std::size_t(r.source.chosenSeries)].seriesUid,
                 std::string("1.2.3.4.2"));
        QVERIFY(!r.source.notes.empty());
        QVERIFY2(r.source.notes.front().find("2 DICOM series") != std::string::npos,
                 r.source.notes.front().c_str());
        QVERIFY2(r.volume.geometry().isClose(g, 1e-4), r.volume.describe().c_str());
        // Slices are in position order although names and instance numbers run backwards.
        QCOMPARE(r.source.dicomSeries[std::size_t(r.source.chosenSeries)].files, longSeries);
        for (int k = 0; k < 6; ++k) {
            QCOMPARE(int(r.volume.data<std::int16_t>()[r.volume.linearIndex(5, 4, k)]),
                     100 * k + 4 * 12 + 5);
        }
        // Opening one file of the short series reads that series.
        const LoadedVolume one = readVolume(shortSeries[1]);
        QCOMPARE(one.volume.size()[2], std::int64_t(3));
        // Header only: same answer without decoding pixels.
        const VolumeHeader h = readVolumeHeader(dir);
        QCOMPARE(h.size[2], std::int64_t(6));
    }

    void dicomStoredBitsAreMaskedAndSignExtended()
    {
        // 12 bits stored in 16: bits above the high bit are not part of the value, and a signed
        // value's sign is bit 11.
        const std::string dir = str(scratchDir("dicom12bit"));
        const auto files = diffseg::test::writeDicomSeries(dir, "ct", "1.2.3.12", 1, Geometry{});
        std::ifstream in(files[0], std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), {});
        in.close();
        auto patchUs = [&](const char* tag, std::uint16_t value) {
            const std::string key = std::string(tag, 4) + std::string("\x02\x00\x00\x00", 4);
            const auto at = bytes.find(key);
            QVERIFY(at != std::string::npos);
            bytes[at + 8] = static_cast<char>(value & 0xFF);
            bytes[at + 9] = static_cast<char>(value >> 8);
        };
        patchUs("\x28\x00\x01\x01", 12); // BitsStored
        patchUs("\x28\x00\x02\x01", 11); // HighBit
        const std::size_t pixels = bytes.size() - 12 * 9 * 2;
        bytes[pixels] = '\x05'; // 0x7005: garbage in the top bits, value 5
        bytes[pixels + 1] = '\x70';
        bytes[pixels + 2] = '\xFB'; // 0xFFFB: -5 in 12-bit two's complement
        bytes[pixels + 3] = '\x0F';
        std::ofstream(files[0], std::ios::binary) << bytes;
        const LoadedVolume r = readVolume(dir);
        QCOMPARE(int(r.volume.data<std::int16_t>()[0]), 5);
        QCOMPARE(int(r.volume.data<std::int16_t>()[1]), -5);
    }

    void dicomRescaleThatVariesPerSliceIsAppliedPerSlice()
    {
        const std::string dir = str(scratchDir("dicomrescale"));
        diffseg::test::writeDicomSeries(dir, "pet", "1.2.3.55", 3, Geometry{}, -5.0, 7.0);
        const LoadedVolume r = readVolume(dir);
        QCOMPARE(r.volume.pixelType(), PixelType::Float32);
        for (int k = 0; k < 3; ++k) {
            QCOMPARE(r.volume.data<float>()[r.volume.linearIndex(5, 4, k)],
                     float(100 * k + 4 * 12 + 5));
        }
        QVERIFY(!r.source.notes.empty());
    }

    void dicomWithAMissingSliceIsAnError()
    {
        const std::string dir = str(scratchDir("dicomgap"));
        const auto files = diffseg::test::writeDicomSeries(dir, "ct", "1.2.3.9", 5, Geometry{});
        fs::remove(files[2]);
        expectError([&] { readVolume(dir); }, ErrorKind::InvalidValue,
                    {"not uniform", "missing slices"});
    }

    // --- Shared real data
    // ------------------------------------------------------------------------------

    void sharedVolumesLoadWithTheirHeaderGeometry_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("dims");
        QTest::addColumn<QString>("spacing");
        QTest::addColumn<QString>("orientation");
        QTest::addColumn<bool>("isLabelMap");
        QTest::addColumn<int>("maxValue");
        // The files of one volume share its grid: stated once per volume.
        struct File
        {
            QString row;
            QString path;
            bool isLabelMap;
            int maxValue;
        };
        const auto addVolume = [](const char* dims, const char* spacing, const char* orientation,
                                  std::initializer_list<File> files) {
            for (const File& f : files) {
                QTest::newRow(qPrintable(f.row))
                    << f.path << QString(dims) << QString(spacing) << QString(orientation)
                    << f.isLabelMap << f.maxValue;
            }
        };
        const QString b = "volumes/brats2013_deepmedic/brats_2013_pat000%1_1/%2";
        for (const char* p : {"1", "5"}) {
            addVolume(
                "240x240x155", "1x1x1", "LPS",
                {{QString("flair %1").arg(p), b.arg(p, "Flair_subtrMeanDivStd.nii.gz"), false, 0},
                 {QString("t1c %1").arg(p), b.arg(p, "T1c_subtrMeanDivStd.nii.gz"), false, 0},
                 {QString("labels %1").arg(p), b.arg(p, "OTMultiClass.nii.gz"), true, 4}});
        }
        const QString ct = "volumes/totalsegmentator/ct_abdomen_nifti/";
        addVolume("122x101x30", "3x3x3", "RAS",
                  {{"ct nifti", ct + "example_ct_sm.nii.gz", false, 0},
                   {"ct seg", ct + "example_seg.nii.gz", true, 117}});
        addVolume(
            "512x512x20", "0.976563x0.976563x2", "LAS",
            {{"dicom seg", "volumes/totalsegmentator/ct_abdomen_dicom/example_seg_dicom.nii.gz",
              true, 117}});
        const QString t2 = "volumes/sct_spinalcord/t2/";
        addVolume("60x55x52", "1x1x1", "PSR",
                  {{"t2 psr", t2 + "t2.nii.gz", false, 0},
                   {"cord", t2 + "t2_seg-manual.nii.gz", true, 1},
                   {"levels f64", t2 + "t2_seg-manual_labeled.nii.gz", true, 5}});
        addVolume("64x64x4", "2.34375x2.34375x4", "PIL",
                  {{"mr reference",
                    "volumes/dicom2nifti_mr/hitachi_anatomical_001/expected_conversion.nii.gz",
                    false, 0}});
    }
    void sharedVolumesLoadWithTheirHeaderGeometry()
    {
        QFETCH(QString, file);
        QFETCH(QString, dims);
        QFETCH(QString, spacing);
        QFETCH(QString, orientation);
        QFETCH(bool, isLabelMap);
        QFETCH(int, maxValue);
        DIFFSEG_REQUIRE_SHARED(path, "data/" + file);
        Volume v;
        if (isLabelMap) {
            const LoadedLabelMap r = readLabelMap(str(path));
            QCOMPARE(r.labels.maxLabel(), maxValue);
            v = r.labels;
        } else {
            v = readVolume(str(path)).volume;
        }
        const auto& s = v.size();
        QCOMPARE(QString("%1x%2x%3").arg(s[0]).arg(s[1]).arg(s[2]), dims);
        const auto& sp = v.geometry().spacing;
        QCOMPARE(QString("%1x%2x%3").arg(sp[0]).arg(sp[1]).arg(sp[2]), spacing);
        QCOMPARE(QString::fromStdString(v.geometry().orientationCode()), orientation);
        QVERIFY(v.geometry().isClose(diffseg::test::itkGeometry(str(path)), 1e-6));
    }

    void sharedLabelMapsAlignWithTheirImages()
    {
        DIFFSEG_REQUIRE_SHARED(root, "data/volumes");
        const std::string r = str(root);
        const std::pair<const char*, const char*> pairs[] = {
            {"/brats2013_deepmedic/brats_2013_pat0001_1/Flair_subtrMeanDivStd.nii.gz",
             "/brats2013_deepmedic/brats_2013_pat0001_1/OTMultiClass.nii.gz"},
            {"/brats2013_deepmedic/brats_2013_pat0005_1/T1c_subtrMeanDivStd.nii.gz",
             "/brats2013_deepmedic/brats_2013_pat0005_1/OTMultiClass.nii.gz"},
            {"/totalsegmentator/ct_abdomen_nifti/example_ct_sm.nii.gz",
             "/totalsegmentator/ct_abdomen_nifti/example_seg.nii.gz"},
            {"/sct_spinalcord/t2/t2.nii.gz", "/sct_spinalcord/t2/t2_seg-manual.nii.gz"},
            {"/sct_spinalcord/t2/t2.nii.gz", "/sct_spinalcord/t2/t2_seg-manual_labeled.nii.gz"}};
        for (const auto& [image, labels] : pairs) {
            const Volume v = readVolume(r + image).volume;
            const LabelMap l = readLabelMap(r + labels).labels;
            QVERIFY2(l.isAlignedWith(v, 1e-3), labels);
        }
    }

    void bratsLabelCountsMatchTheReadme()
    {
        DIFFSEG_REQUIRE_SHARED(
            path, "data/volumes/brats2013_deepmedic/brats_2013_pat0001_1/OTMultiClass.nii.gz");
        const LoadedLabelMap r = readLabelMap(str(path));
        QCOMPARE(r.source.storedType, std::string("float32"));
        std::map<int, int> counts;
        for (std::size_t i = 0; i < r.labels.voxelCount(); ++i) {
            ++counts[r.labels.data<std::uint8_t>()[i]];
        }
        QCOMPARE(counts[1], 26371);
        QCOMPARE(counts[2], 53050);
        QCOMPARE(counts[3], 818);
        QCOMPARE(counts[4], 31485);
    }

    void dicomCtSeriesOverlaysItsLabelMap()
    {
        DIFFSEG_REQUIRE_SHARED(series, "data/volumes/totalsegmentator/ct_abdomen_dicom/series");
        DIFFSEG_REQUIRE_SHARED(
            seg, "data/volumes/totalsegmentator/ct_abdomen_dicom/example_seg_dicom.nii.gz");
        const LoadedVolume ct = readVolume(str(series));
        QCOMPARE(ct.source.format, VolumeFormat::Dicom);
        QCOMPARE(ct.volume.pixelType(), PixelType::Int16);
        QVERIFY(ct.volume.size() == (std::array<std::int64_t, 3>{512, 512, 20}));
        QCOMPARE(ct.source.dicomSeries.size(), std::size_t(1));
        QCOMPARE(ct.source.dicomSeries[0].files.size(), std::size_t(20));
        QVERIFY(ct.source.dicomSeries[0].seriesUid.empty());
        const Geometry& g = ct.volume.geometry();
        QVERIFY(std::abs(g.spacing[0] - 0.9765625) < 1e-6 && std::abs(g.spacing[2] - 2.0) < 1e-6);
        QCOMPARE(QString::fromStdString(g.orientationCode()), QString("LPS"));
        // Slices ascend in z; the first one is the lowest.
        QVERIFY(g.direction[8] > 0.99);
        const LabelMap labels = readLabelMap(str(seg)).labels;
        QVERIFY(labels.size() == ct.volume.size());
        verifyVoxelCentresCoincide(labels, ct.volume);
        // Voxel (i, j, k) of the label map is DICOM column i, row 511 - j, slice k.
        const auto q = g.physicalToIndex(labels.geometry().indexToPhysical({10, 20, 3}));
        QCOMPARE(std::llround(q[0]), 10LL);
        QCOMPARE(std::llround(q[1]), 491LL);
        QCOMPARE(std::llround(q[2]), 3LL);
        // HU through the overlay: liver about 89, aorta about 177 (README).
        int n = 0;
        const double liver = meanInsideLabel(ct.volume, labels, 5, &n);
        QVERIFY2(n > 1000 && std::abs(liver - 89.0) < 3.0, qPrintable(QString::number(liver)));
        const double aorta = meanInsideLabel(ct.volume, labels, 52, &n);
        QVERIFY2(n > 100 && std::abs(aorta - 177.0) < 3.0, qPrintable(QString::number(aorta)));
    }

    void obliqueMrDicomMatchesItsReferenceConversion()
    {
        DIFFSEG_REQUIRE_SHARED(series, "data/volumes/dicom2nifti_mr/hitachi_anatomical_001/series");
        DIFFSEG_REQUIRE_SHARED(
            ref, "data/volumes/dicom2nifti_mr/hitachi_anatomical_001/expected_conversion.nii.gz");
        const Volume mr = readVolume(str(series)).volume;
        const Volume reference = readVolume(str(ref)).volume;
        QVERIFY(mr.size() == reference.size() || mr.voxelCount() == reference.voxelCount());
        // Every DICOM voxel lands on a reference voxel holding the same value.
        const auto& s = mr.size();
        for (std::int64_t k = 0; k < s[2]; ++k) {
            for (std::int64_t j = 0; j < s[1]; ++j) {
                for (std::int64_t i = 0; i < s[0]; ++i) {
                    const auto q = reference.geometry().physicalToIndex(
                        mr.geometry().indexToPhysical({double(i), double(j), double(k)}));
                    const auto ri = std::llround(q[0]), rj = std::llround(q[1]),
                               rk = std::llround(q[2]);
                    QVERIFY(std::abs(q[0] - ri) < 0.01 && std::abs(q[1] - rj) < 0.01 &&
                            std::abs(q[2] - rk) < 0.01);
                    QVERIFY(ri >= 0 && rj >= 0 && rk >= 0 && ri < s[0] && rj < s[1] && rk < s[2]);
                    QCOMPARE(mr.data<std::int16_t>()[mr.linearIndex(i, j, k)],
                             reference.data<std::int16_t>()[reference.linearIndex(ri, rj, rk)]);
                }
            }
        }
    }

    void labelMapsWrittenForSharedVolumesReopenAligned_data()
    {
        QTest::addColumn<QString>("source");
        QTest::newRow("brats LPS")
            << "volumes/brats2013_deepmedic/brats_2013_pat0001_1/Flair_subtrMeanDivStd.nii.gz";
        QTest::newRow("ct RAS") << "volumes/totalsegmentator/ct_abdomen_nifti/example_ct_sm.nii.gz";
        QTest::newRow("t2 PSR") << "volumes/sct_spinalcord/t2/t2.nii.gz";
        QTest::newRow("dicom CT") << "volumes/totalsegmentator/ct_abdomen_dicom/series";
        QTest::newRow("dicom oblique MR") << "volumes/dicom2nifti_mr/hitachi_anatomical_001/series";
    }
    void labelMapsWrittenForSharedVolumesReopenAligned()
    {
        QFETCH(QString, source);
        DIFFSEG_REQUIRE_SHARED(path, "data/" + source);
        const Volume v = readVolume(str(path)).volume;
        // A label map derived from the image, so that content errors would show as well.
        LabelMap labels = LabelMap::like(v);
        dispatchPixelType(v.pixelType(), [&](auto t) {
            using T = decltype(t);
            const T* in = v.data<T>();
            double mean = 0.0;
            for (std::size_t i = 0; i < v.voxelCount(); ++i) {
                mean += double(in[i]);
            }
            mean /= double(v.voxelCount());
            for (std::size_t i = 0; i < v.voxelCount(); ++i) {
                labels.data<std::uint8_t>()[i] = double(in[i]) > mean ? 1 : (i % 11 == 0 ? 2 : 0);
            }
        });
        const std::string dir = str(scratchDir("aligned"));
        for (const char* ext : {".nii.gz", ".nrrd", ".seg.nrrd", ".mha"}) {
            const std::string out = dir + "/labels" + ext;
            writeLabelMap(labels, out);
            const LabelMap back = readLabelMap(out).labels;
            QVERIFY2(back.isAlignedWith(v, 1e-4),
                     (std::string(ext) + " " + back.describe() + " vs " + v.describe()).c_str());
            QVERIFY2(sameBytes(back, labels), ext);
            verifyVoxelCentresCoincide(back, v);
        }
    }

    void truncatedDicomSliceIsAnError()
    {
        DIFFSEG_REQUIRE_SHARED(series, "data/volumes/totalsegmentator/ct_abdomen_dicom/series");
        const std::string dir = str(scratchDir("dicomtrunc"));
        for (const auto& e : fs::directory_iterator(str(series))) {
            fs::copy_file(e.path(), dir + "/" + e.path().filename().string());
            fs::permissions(dir + "/" + e.path().filename().string(), fs::perms::owner_write,
                            fs::perm_options::add);
        }
        const std::string victim =
            dir + "/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016580";
        truncateFile(victim, 0.6);
        const Error e = expectError([&] { readVolume(dir); });
        QVERIFY2(std::strstr(e.what(), "dicomtrunc"), e.what());
    }
};

QTEST_GUILESS_MAIN(TestVolumeIo)
#include "TestVolumeIo.moc"
