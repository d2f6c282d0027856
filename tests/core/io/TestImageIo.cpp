#include "ExpectError.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "io/FileUtils.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"

#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace diffseg::core;
using namespace diffseg::test;
namespace fs = std::filesystem;

namespace {

void writeBytes(const std::string& path, const std::vector<unsigned char>& bytes)
{
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
}

void putLe(std::vector<unsigned char>& b, std::size_t at, std::uint32_t v, int n)
{
    for (int i = 0; i < n; ++i) {
        b[at + static_cast<std::size_t>(i)] = static_cast<unsigned char>(v >> (8 * i));
    }
}

/// A 1-bit palette BMP (as 15 of the 16 PH2 masks are): palette 0 black, 1 white.
std::vector<unsigned char> oneBitBmp(int width, int height, const std::vector<int>& bits)
{
    const int stride = ((width + 31) / 32) * 4;
    const std::uint32_t offset = 14 + 40 + 8;
    std::vector<unsigned char> b(offset + static_cast<std::size_t>(stride * height), 0);
    b[0] = 'B';
    b[1] = 'M';
    putLe(b, 2, static_cast<std::uint32_t>(b.size()), 4);
    putLe(b, 10, offset, 4);
    putLe(b, 14, 40, 4);
    putLe(b, 18, static_cast<std::uint32_t>(width), 4);
    putLe(b, 22, static_cast<std::uint32_t>(height), 4);
    putLe(b, 26, 1, 2);
    putLe(b, 28, 1, 2);
    putLe(b, 46, 2, 4);
    b[54 + 4] = b[54 + 5] = b[54 + 6] = 255; // palette entry 1: white
    for (int y = 0; y < height; ++y) {
        const std::size_t row = offset + static_cast<std::size_t>((height - 1 - y) * stride);
        for (int x = 0; x < width; ++x) {
            if (bits[static_cast<std::size_t>(y * width + x)]) {
                b[row + static_cast<std::size_t>(x / 8)] |=
                    static_cast<unsigned char>(0x80 >> (x % 8));
            }
        }
    }
    return b;
}

Image2D colourChart()
{
    Image2D image(8, 6, 3, PixelType::UInt8);
    for (int y = 0; y < 6; ++y) {
        for (int x = 0; x < 8; ++x) {
            image.at<std::uint8_t>(x, y, 0) = static_cast<std::uint8_t>(20 * x);
            image.at<std::uint8_t>(x, y, 1) = static_cast<std::uint8_t>(30 * y);
            image.at<std::uint8_t>(x, y, 2) = 77;
        }
    }
    image.at<std::uint8_t>(1, 2, 0) = 255; // a red pixel
    image.at<std::uint8_t>(1, 2, 1) = 0;
    image.at<std::uint8_t>(1, 2, 2) = 0;
    return image;
}

std::vector<unsigned char> encode(const cv::Mat& m, const char* ext)
{
    std::vector<unsigned char> out;
    cv::imencode(ext, m, out);
    return out;
}

struct ManifestRow
{
    std::string image;
    std::string mask;
    int width = 0;
    int height = 0;
    double lesionFraction = 0.0;
};

std::vector<ManifestRow> readManifest(const std::string& path)
{
    std::vector<ManifestRow> rows;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        std::vector<std::string> cols;
        std::stringstream ss(line);
        std::string col;
        while (std::getline(ss, col, ',')) {
            cols.push_back(col);
        }
        if (cols.size() > 10) {
            rows.push_back(
                {cols[2], cols[3], std::stoi(cols[4]), std::stoi(cols[5]), std::stod(cols[10])});
        }
    }
    return rows;
}

} // namespace

class TestImageIo : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void channelOrderIsRgbInEveryFormat_data()
    {
        QTest::addColumn<QString>("ext");
        QTest::addColumn<bool>("lossless");
        QTest::newRow("png") << ".png" << true;
        QTest::newRow("bmp") << ".bmp" << true;
        QTest::newRow("tiff") << ".tif" << true;
        QTest::newRow("jpeg") << ".jpg" << false;
    }
    void channelOrderIsRgbInEveryFormat()
    {
        QFETCH(QString, ext);
        QFETCH(bool, lossless);
        const std::string path = str(scratchDir("rgb")) + "/chart" + str(ext);
        const Image2D chart = colourChart();
        writeImage(chart, path);
        const Image2D back = readImage(path, {ImageColor::Rgb});
        QCOMPARE(back.width(), 8);
        QCOMPARE(back.height(), 6);
        QCOMPARE(back.channels(), 3);
        QCOMPARE(back.pixelType(), PixelType::UInt8);
        if (lossless) {
            QVERIFY(std::memcmp(back.rawData(), chart.rawData(), chart.byteSize()) == 0);
        } else {
            // Lossy: red is the x gradient and blue the constant 77, not the other way round.
            QVERIFY(back.at<std::uint8_t>(7, 0, 0) > back.at<std::uint8_t>(0, 0, 0) + 100);
            QVERIFY(std::abs(int(back.at<std::uint8_t>(5, 4, 2)) - 77) < 20);
        }
        const ImageHeader h = readImageHeader(path);
        QCOMPARE(h.width, 8);
        QCOMPARE(h.height, 6);
        QCOMPARE(QString(imageFormatName(h.format)).toLower(), ext == ".jpg"   ? QString("jpeg")
                                                               : ext == ".tif" ? QString("tiff")
                                                                               : ext.mid(1));
    }

    void colourModesConvert()
    {
        const std::string dir = str(scratchDir("modes"));
        writeImage(colourChart(), dir + "/c.png");
        const Image2D gray = readImage(dir + "/c.png", {ImageColor::Gray});
        QCOMPARE(gray.channels(), 1);
        Image2D g(4, 4, 1, PixelType::UInt8);
        g.at<std::uint8_t>(2, 3) = 99;
        writeImage(g, dir + "/g.png");
        const Image2D rgb = readImage(dir + "/g.png", {ImageColor::Rgb});
        QCOMPARE(rgb.channels(), 3);
        QCOMPARE(int(rgb.at<std::uint8_t>(2, 3, 1)), 99);
        QCOMPARE(readImage(dir + "/g.png").channels(), 1);
    }

    void deepImagesBecomeFloatAndMustBeFinite()
    {
        const std::string dir = str(scratchDir("deep"));
        cv::Mat deep(3, 5, CV_16UC1, cv::Scalar(40000));
        cv::imwrite(dir + "/d.png", deep);
        const Image2D d = readImage(dir + "/d.png");
        QCOMPARE(d.pixelType(), PixelType::Float32);
        QCOMPARE(d.at<float>(4, 2), 40000.0f);
        cv::Mat f(3, 5, CV_32FC1, cv::Scalar(0.5));
        f.at<float>(1, 3) = std::nanf("");
        cv::imwrite(dir + "/nan.tif", f);
        expectError([&] { readImage(dir + "/nan.tif"); }, ErrorKind::InvalidValue,
                    {"nan.tif", "non-finite", "(3, 1)"});
    }

    void masksInEveryAcceptedEncoding()
    {
        const std::string dir = str(scratchDir("masks"));
        cv::Mat m255(4, 6, CV_8U, cv::Scalar(0));
        m255(cv::Rect(1, 1, 3, 2)) = 255;
        cv::imwrite(dir + "/a.png", m255);
        cv::Mat m01 = m255 / 255;
        cv::imwrite(dir + "/b.png", m01);
        cv::Mat rgb;
        cv::merge(std::vector<cv::Mat>{m255, m255, m255}, rgb);
        cv::imwrite(dir + "/c.bmp", rgb);
        cv::Mat deep;
        m255.convertTo(deep, CV_16U, 257.0);
        cv::imwrite(dir + "/d.png", deep);
        std::vector<int> bits(6 * 4, 0);
        for (int y = 1; y < 3; ++y) {
            for (int x = 1; x < 4; ++x) {
                bits[static_cast<std::size_t>(y * 6 + x)] = 1;
            }
        }
        writeBytes(dir + "/e.bmp", oneBitBmp(6, 4, bits));
        for (const char* name : {"a.png", "b.png", "c.bmp", "d.png", "e.bmp"}) {
            const Image2D mask = readMask(dir + "/" + name);
            QCOMPARE(mask.channels(), 1);
            QCOMPARE(mask.pixelType(), PixelType::UInt8);
            int sum = 0;
            for (int y = 0; y < 4; ++y) {
                for (int x = 0; x < 6; ++x) {
                    const int v = mask.at<std::uint8_t>(x, y);
                    QVERIFY(v == 0 || v == 1);
                    sum += v;
                }
            }
            QVERIFY2(sum == 6, name);
            QCOMPARE(int(mask.at<std::uint8_t>(1, 1)), 1);
        }
        // An empty mask (no lesion) is binary too.
        cv::imwrite(dir + "/empty.png", cv::Mat(4, 4, CV_8U, cv::Scalar(0)));
        QCOMPARE(int(readMask(dir + "/empty.png").at<std::uint8_t>(0, 0)), 0);
    }

    void nonBinaryMasksAreRejectedWithTheirValues()
    {
        const std::string dir = str(scratchDir("badmasks"));
        cv::Mat three(4, 4, CV_8U, cv::Scalar(0));
        three.at<std::uint8_t>(0, 1) = 128;
        three.at<std::uint8_t>(0, 2) = 255;
        cv::imwrite(dir + "/three.png", three);
        expectError([&] { readMask(dir + "/three.png"); }, ErrorKind::InvalidValue,
                    {"three.png", "not binary", "3 distinct values (0, 128, 255)"});
        cv::Mat odd(4, 4, CV_8U, cv::Scalar(0));
        odd.at<std::uint8_t>(1, 1) = 7;
        cv::imwrite(dir + "/odd.png", odd);
        expectError([&] { readMask(dir + "/odd.png"); }, ErrorKind::InvalidValue,
                    {"odd.png", "(0, 7)"});
        cv::Mat colour(4, 4, CV_8UC3, cv::Scalar(0, 0, 0));
        colour.at<cv::Vec3b>(2, 3) = cv::Vec3b(0, 0, 255);
        cv::imwrite(dir + "/colour.png", colour);
        expectError([&] { readMask(dir + "/colour.png"); }, ErrorKind::InvalidValue,
                    {"colour.png", "colour channels differ", "(3, 2)"});
        // A mask saved as JPEG: compression noise leaves many grey levels around the edge.
        cv::Mat disk(64, 64, CV_8U, cv::Scalar(0));
        for (int y = 0; y < 64; ++y) {
            for (int x = 0; x < 64; ++x) {
                if ((x - 32) * (x - 32) + (y - 30) * (y - 30) < 300) {
                    disk.at<std::uint8_t>(y, x) = 255;
                }
            }
        }
        cv::imwrite(dir + "/lossy.jpg", disk);
        expectError([&] { readMask(dir + "/lossy.jpg"); }, ErrorKind::InvalidValue,
                    {"lossy.jpg", "not binary"});
        cv::Mat rgba(4, 4, CV_8UC4, cv::Scalar(255, 255, 255, 255));
        rgba.at<cv::Vec4b>(0, 0)[3] = 10;
        cv::imwrite(dir + "/alpha.png", rgba);
        expectError([&] { readMask(dir + "/alpha.png"); }, ErrorKind::InvalidValue,
                    {"alpha.png", "transparent"});
    }

    void maskWriterStores0And255Atomically()
    {
        const std::string dir = str(scratchDir("maskwrite"));
        Image2D mask(5, 3, 1, PixelType::UInt8);
        mask.at<std::uint8_t>(4, 2) = 1;
        const std::string path = dir + "/m.png";
        std::ofstream(path) << "old content";
        writeMaskPng(mask, path);
        const cv::Mat stored = cv::imread(path, cv::IMREAD_UNCHANGED);
        QCOMPARE(stored.type(), CV_8UC1);
        QCOMPARE(int(stored.at<std::uint8_t>(2, 4)), 255);
        QCOMPARE(int(stored.at<std::uint8_t>(0, 0)), 0);
        const Image2D back = readMask(path);
        QVERIFY(std::memcmp(back.rawData(), mask.rawData(), mask.byteSize()) == 0);
        for (const auto& e : fs::directory_iterator(dir)) {
            QCOMPARE(QString::fromStdString(e.path().filename().string()), QString("m.png"));
        }
        mask.at<std::uint8_t>(0, 0) = 2;
        expectError([&] { writeMaskPng(mask, path); }, ErrorKind::InvalidValue,
                    {"m.png", "value 2"});
        QVERIFY(readMask(path).at<std::uint8_t>(0, 0) == 0); // the old file survived the failure
        expectError([&] { writeMaskPng(colourChart(), dir + "/x.png"); }, ErrorKind::InvalidValue,
                    {"x.png"});
    }

    void badFilesAreErrorsNamingTheFile()
    {
        const std::string dir = str(scratchDir("badimages"));
        expectError([&] { readImage(dir + "/missing.jpg"); }, ErrorKind::NotFound, {"missing.jpg"});
        writeBytes(dir + "/empty.png", {});
        expectError([&] { readImage(dir + "/empty.png"); }, ErrorKind::Format,
                    {"empty.png", "empty"});
        std::ofstream(dir + "/text.jpg") << "this is not an image";
        expectError([&] { readImage(dir + "/text.jpg"); }, ErrorKind::Format,
                    {"text.jpg", "unknown image format"});
        expectError([&] { readImage(dir); }, ErrorKind::NotFound, {"badimages"});
    }

    void truncatedImagesAreErrors_data()
    {
        QTest::addColumn<QString>("ext");
        for (const char* ext : {".png", ".jpg", ".bmp", ".tif"}) {
            QTest::newRow(ext) << QString(ext);
        }
    }
    void truncatedImagesAreErrors()
    {
        QFETCH(QString, ext);
        cv::Mat noise(120, 160, CV_8UC3);
        cv::randu(noise, 0, 255);
        const std::vector<unsigned char> full = encode(noise, qPrintable(ext));
        const std::string name = "cut" + str(ext);
        for (double fraction : {0.98, 0.6, 0.1}) {
            std::vector<unsigned char> cut(
                full.begin(), full.begin() + static_cast<long>(full.size() * fraction));
            expectError([&] { decodeImage(cut.data(), cut.size(), name); }, ErrorKind::Format,
                        {name.c_str()});
        }
        // Losing only the JPEG end marker is also caught.
        if (ext == ".jpg") {
            std::vector<unsigned char> cut(full.begin(), full.end() - 2);
            expectError([&] { decodeImage(cut.data(), cut.size(), name); }, ErrorKind::Format,
                        {name.c_str(), "truncated JPEG"});
        }
        QCOMPARE(decodeImage(full.data(), full.size(), name).width(), 160);
    }

    void zeroAndAbsurdSizesAreRefusedBeforeDecoding()
    {
        std::vector<unsigned char> png = encode(cv::Mat(2, 2, CV_8U, cv::Scalar(0)), ".png");
        auto setSize = [&](std::uint32_t w, std::uint32_t h) {
            std::vector<unsigned char> b = png;
            for (int i = 0; i < 4; ++i) {
                b[static_cast<std::size_t>(16 + i)] = static_cast<unsigned char>(w >> (24 - 8 * i));
                b[static_cast<std::size_t>(20 + i)] = static_cast<unsigned char>(h >> (24 - 8 * i));
            }
            return b;
        };
        const auto zero = setSize(0, 2);
        expectError([&] { decodeImage(zero.data(), zero.size(), "zero.png"); },
                    ErrorKind::InvalidValue, {"zero.png", "0x2"});
        const auto wide = setSize(100000, 2);
        expectError([&] { decodeImage(wide.data(), wide.size(), "wide.png"); },
                    ErrorKind::InvalidValue, {"wide.png", "100000x2"});
        const auto huge = setSize(60000, 60000);
        expectError([&] { decodeMask(huge.data(), huge.size(), "huge.png"); },
                    ErrorKind::InvalidValue, {"huge.png", "above the limit"});
    }

    void sharedDermoscopyPairsLoad()
    {
        DIFFSEG_REQUIRE_SHARED(manifest, "data/dermoscopy/manifest.csv");
        const std::vector<ManifestRow> rows = readManifest(str(manifest));
        QCOMPARE(rows.size(), std::size_t(32));
        for (const ManifestRow& row : rows) {
            const std::string root = str(diffseg::test::sharedDir()) + "/data/";
            const Image2D image = readImage(root + row.image, {ImageColor::Rgb});
            const Image2D mask = readMask(root + row.mask);
            QVERIFY2(image.width() == row.width && image.height() == row.height, row.image.c_str());
            QVERIFY2(mask.width() == row.width && mask.height() == row.height, row.mask.c_str());
            QCOMPARE(image.channels(), 3);
            QCOMPARE(image.pixelType(), PixelType::UInt8);
            std::size_t lesion = 0;
            const auto* m = mask.data<std::uint8_t>();
            for (std::size_t i = 0; i < mask.pixelCount(); ++i) {
                lesion += m[i];
            }
            const double fraction = double(lesion) / double(mask.pixelCount());
            QVERIFY2(std::abs(fraction - row.lesionFraction) < 1e-3,
                     qPrintable(QString("%1: %2 vs %3")
                                    .arg(row.mask.c_str())
                                    .arg(fraction)
                                    .arg(row.lesionFraction)));
            const ImageHeader h = readImageHeader(root + row.image);
            QCOMPARE(h.width, row.width);
        }
    }
};

QTEST_GUILESS_MAIN(TestImageIo)
#include "TestImageIo.moc"
