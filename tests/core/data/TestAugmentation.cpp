#include "ExpectError.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "data/Augmentation.h"
#include "data/PortableRandom.h"
#include "imaging/Resize2D.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"

#include <QElapsedTimer>
#include <QtTest>

#include <array>
#include <cmath>
#include <cstring>
#include <set>
#include <thread>

using namespace diffseg::core;
using diffseg::test::expectError;

namespace {

// The `augmentation` section of DermoSegDiff's configs (identical for ISIC2018, PH2, HAM10000).
const char* const kReference = R"({"p": 0.5, "levels": {
  "pixel": {"p": 1.0, "transforms": {
    "CLAHE": {"clip_limit": 4, "tile_grid_size": [3,3], "p": 0.05},
    "Emboss": {"p": 0.05},
    "GaussNoise": {"var_limit": [10,200], "p": 0.05},
    "HueSaturationValue": {"hue_shift_limit": 7, "sat_shift_limit": 30, "val_shift_limit": 20, "p": 0.05},
    "MultiplicativeNoise": {"multiplier": [0.8,1.25], "elementwise": true, "p": 0.05},
    "RGBShift": {"p": 0.05},
    "RandomBrightnessContrast": {"p": 0.05},
    "RandomGamma": {"gamma_limit": [70,130], "p": 0.05},
    "RandomToneCurve": {"scale": 0.15, "p": 0.05},
    "Sharpen": {"p": 0.05},
    "Spatter": {"mean": 0, "std": 60, "gauss_sigma": 2, "cutout_threshold": 5, "intensity": -3, "p": 0.05},
    "UnsharpMask": {"p": 0.05}}},
  "spacial": {"p": 1, "transforms": {
    "Affine": {"p": 0.05},
    "CoarseDropout": {"min_holes": 1, "max_holes": 5, "min_height": 4, "max_height": 16, "min_width": 4, "max_width": 16, "fill_value": [10,20,60], "p": 0.05},
    "ElasticTransform": {"alpha": 0.5, "sigma": 1.3, "alpha_affine": 20, "border_mode": 2, "p": 0.05},
    "HorizontalFlip": {"p": 0.05},
    "VerticalFlip": {"p": 0.05},
    "Flip": {"p": 0.05},
    "GridDistortion": {"border_mode": 4, "p": 0.05},
    "PiecewiseAffine": {"p": 0.05},
    "PixelDropout": {"p": 0.05},
    "RandomRotate90": {"p": 0.05},
    "Rotate": {"border_mode": 4, "p": 0.05}}}}})";

const QStringList kPixelNames = {"CLAHE",
                                 "Emboss",
                                 "GaussNoise",
                                 "HueSaturationValue",
                                 "MultiplicativeNoise",
                                 "RGBShift",
                                 "RandomBrightnessContrast",
                                 "RandomGamma",
                                 "RandomToneCurve",
                                 "Sharpen",
                                 "Spatter",
                                 "UnsharpMask"};
const QStringList kSpatialNames = {"Affine",         "CoarseDropout",   "ElasticTransform",
                                   "HorizontalFlip", "VerticalFlip",    "Flip",
                                   "GridDistortion", "PiecewiseAffine", "PixelDropout",
                                   "RandomRotate90", "Rotate"};
// Transforms that move pixels (the dropouts only overwrite some).
const QStringList kGeometricNames = {
    "Affine",         "ElasticTransform", "HorizontalFlip", "VerticalFlip", "Flip",
    "GridDistortion", "PiecewiseAffine",  "RandomRotate90", "Rotate"};

/// The reference with every probability at 1: every transform runs.
QString forcedReference()
{
    QString json = QString::fromUtf8(kReference);
    json.replace(QStringLiteral("\"p\": 0.05"), QStringLiteral("\"p\": 1"));
    json.replace(QStringLiteral("\"p\": 0.5"), QStringLiteral("\"p\": 1"));
    return json;
}

/// The parameters the reference gives `name` (without its p), as a JSON object text.
QString referenceParams(const QString& name)
{
    const QString ref = QString::fromUtf8(kReference);
    const int at = ref.indexOf("\"" + name + "\": {");
    const int open = ref.indexOf('{', at);
    const int close = ref.indexOf('}', open);
    QString body = ref.mid(open, close - open + 1);
    body.replace(QRegularExpression(QStringLiteral(",?\\s*\"p\": 0\\.05")), QString());
    body.replace(QStringLiteral("{, "), QStringLiteral("{"));
    return body;
}

/// One transform at p = 1 in a pipeline that always runs.
std::string single(const QString& name, const QString& params, const QString& level = "pixel")
{
    QString body = params.trimmed();
    body.chop(1); // drop the closing brace, add p
    body += body.trimmed() == "{" ? "\"p\": 1}" : ", \"p\": 1}";
    return QStringLiteral(R"({"p": 1, "levels": {"%1": {"p": 1, "transforms": {"%2": %3}}}})")
        .arg(level, name, body)
        .toStdString();
}

/// A textured RGB image: gradients, a pattern and a bright disc, so that every filter has
/// something to change.
Image2D texturedImage(int w, int h)
{
    Image2D image(w, h, 3, PixelType::UInt8);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const double dx = x - w * 0.4;
            const double dy = y - h * 0.55;
            const bool disc = dx * dx + dy * dy < (w * 0.25) * (w * 0.25);
            image.at<std::uint8_t>(x, y, 0) = static_cast<std::uint8_t>(disc ? 90 : 40 + x % 150);
            image.at<std::uint8_t>(x, y, 1) =
                static_cast<std::uint8_t>(disc ? 60 : 80 + ((x * 7 + y * 13) % 90));
            image.at<std::uint8_t>(x, y, 2) = static_cast<std::uint8_t>(disc ? 50 : 30 + y % 200);
        }
    }
    return image;
}

Image2D squareMask(int w, int h, int x0, int y0, int x1, int y1)
{
    Image2D mask(w, h, 1, PixelType::UInt8);
    for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
            mask.at<std::uint8_t>(x, y) = 1;
        }
    }
    return mask;
}

/// Dark image with a white square where the mask is 1.
Image2D squareImage(const Image2D& mask)
{
    Image2D image(mask.width(), mask.height(), 3, PixelType::UInt8);
    for (int y = 0; y < mask.height(); ++y) {
        for (int x = 0; x < mask.width(); ++x) {
            for (int c = 0; c < 3; ++c) {
                image.at<std::uint8_t>(x, y, c) = mask.at<std::uint8_t>(x, y) ? 255 : 40;
            }
        }
    }
    return image;
}

bool samePixels(const Image2D& a, const Image2D& b)
{
    return a.width() == b.width() && a.height() == b.height() && a.channels() == b.channels() &&
           a.pixelType() == b.pixelType() &&
           std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

/// Size, type and a {0, 1} mask; returns an empty string when valid.
QString invalidity(const Image2D& image, const Image2D& mask, int w, int h)
{
    if (image.width() != w || image.height() != h || image.channels() != 3 ||
        image.pixelType() != PixelType::UInt8) {
        return "image is " + QString::fromStdString(image.describe());
    }
    if (mask.width() != w || mask.height() != h || mask.channels() != 1 ||
        mask.pixelType() != PixelType::UInt8) {
        return "mask is " + QString::fromStdString(mask.describe());
    }
    const auto* m = mask.data<std::uint8_t>();
    for (std::size_t i = 0; i < mask.pixelCount(); ++i) {
        if (m[i] > 1) {
            return QStringLiteral("mask value %1 at %2").arg(m[i]).arg(i);
        }
    }
    return {};
}

/// numpy.rot90(image, k) (counter-clockwise) of a square image.
Image2D rot90(const Image2D& in, int k)
{
    Image2D out = in.clone();
    const int n = in.width();
    for (int turn = 0; turn < k; ++turn) {
        const Image2D src = out.clone();
        for (int y = 0; y < n; ++y) {
            for (int x = 0; x < n; ++x) {
                for (int c = 0; c < in.channels(); ++c) {
                    out.at<std::uint8_t>(x, y, c) = src.at<std::uint8_t>(n - 1 - y, x, c);
                }
            }
        }
    }
    return out;
}

Image2D flipped(const Image2D& in, bool horizontal, bool vertical)
{
    Image2D out = in.clone();
    for (int y = 0; y < in.height(); ++y) {
        for (int x = 0; x < in.width(); ++x) {
            const int sx = horizontal ? in.width() - 1 - x : x;
            const int sy = vertical ? in.height() - 1 - y : y;
            for (int c = 0; c < in.channels(); ++c) {
                out.at<std::uint8_t>(x, y, c) = in.at<std::uint8_t>(sx, sy, c);
            }
        }
    }
    return out;
}

/// Small image whose every pixel and channel holds a different value.
Image2D uniqueImage(int w, int h)
{
    Image2D image(w, h, 3, PixelType::UInt8);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            for (int c = 0; c < 3; ++c) {
                image.at<std::uint8_t>(x, y, c) = static_cast<std::uint8_t>((y * w + x) * 3 + c);
            }
        }
    }
    return image;
}

Image2D patternMask(int w, int h)
{
    Image2D mask(w, h, 1, PixelType::UInt8);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            mask.at<std::uint8_t>(x, y) =
                static_cast<std::uint8_t>((x * 3 + y * 5 + x * y) % 7 < 3);
        }
    }
    return mask;
}

} // namespace

class TestAugmentation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void portableRandom()
    {
        PortableRandom a(42);
        PortableRandom b(42);
        PortableRandom c(43);
        const std::uint64_t first = a.nextU64();
        QCOMPARE(first, b.nextU64());
        QVERIFY(first != c.nextU64());
        // Known values: a change here changes every augmented sample of every run.
        PortableRandom golden(0);
        QCOMPARE(golden.nextU64(), std::uint64_t(0x99EC5F36CB75F2B4ULL));
        QCOMPARE(golden.nextU64(), std::uint64_t(0xBF6E1F784956452AULL));

        PortableRandom r(7);
        double sum = 0.0;
        double sumNormal = 0.0;
        double sumSquares = 0.0;
        std::set<std::int64_t> ints;
        const int n = 100000;
        for (int i = 0; i < n; ++i) {
            const double u = r.uniform();
            QVERIFY(u >= 0.0 && u < 1.0);
            sum += u;
            const double z = r.normal();
            sumNormal += z;
            sumSquares += z * z;
            const std::int64_t k = r.uniformInt(-1, 3);
            QVERIFY(k >= -1 && k <= 3);
            ints.insert(k);
        }
        QVERIFY(std::abs(sum / n - 0.5) < 0.01);
        QVERIFY(std::abs(sumNormal / n) < 0.02);
        QVERIFY(std::abs(sumSquares / n - 1.0) < 0.02);
        QCOMPARE(ints.size(), std::size_t(5));
        QVERIFY(!r.chance(0.0));
        QVERIFY(r.chance(1.0));
    }

    void parsesReference()
    {
        const Augmentation aug = Augmentation::fromJson(kReference);
        QVERIFY(aug.enabled());
        QStringList names;
        for (const std::string& n : aug.transformNames()) {
            names << QString::fromStdString(n);
        }
        QCOMPARE(names, kPixelNames + kSpatialNames);
        // The same with the correctly spelt level key.
        QString spatial = QString::fromUtf8(kReference);
        spatial.replace("\"spacial\"", "\"spatial\"");
        QCOMPARE(Augmentation::fromJson(spatial.toStdString()).transformNames().size(),
                 std::size_t(23));
    }

    void identityConfigs()
    {
        QVERIFY(!Augmentation().enabled());
        QString noP = QString::fromUtf8(kReference);
        noP.replace("{\"p\": 0.5,", "{\"p\": 0,");
        QString levelsOff = QString::fromUtf8(kReference);
        levelsOff.replace("\"p\": 1.0,", "\"p\": 0,").replace("\"p\": 1,", "\"p\": 0,");
        QString transformsOff = QString::fromUtf8(kReference);
        transformsOff.replace("\"p\": 0.05", "\"p\": 0");
        const std::vector<std::string> configs = {"",
                                                  "  ",
                                                  "null",
                                                  "{}",
                                                  R"({"p": 0.5})",
                                                  R"({"p": 1, "levels": {}})",
                                                  R"({"levels": {"pixel": {"transforms": {}}}})",
                                                  noP.toStdString(),
                                                  levelsOff.toStdString(),
                                                  transformsOff.toStdString()};
        const Image2D original = texturedImage(32, 24);
        const Image2D originalMask = squareMask(32, 24, 4, 4, 20, 16);
        for (const std::string& config : configs) {
            const Augmentation aug = Augmentation::fromJson(config);
            QVERIFY2(!aug.enabled(), config.c_str());
            for (std::uint64_t seed = 0; seed < 20; ++seed) {
                Image2D image = original;
                Image2D mask = originalMask;
                aug.apply(image, mask, seed);
                QCOMPARE(image.rawData(), original.rawData()); // not even copied
                QCOMPARE(mask.rawData(), originalMask.rawData());
            }
        }
        // always_apply runs a transform even where every probability is 0.
        const Augmentation always = Augmentation::fromJson(
            R"({"p": 0, "levels": {"pixel": {"p": 0, "transforms": {"RGBShift": {"p": 0, "always_apply": true}}}}})");
        QVERIFY(always.enabled());
        Image2D image = original;
        Image2D mask = originalMask;
        always.apply(image, mask, 3);
        QVERIFY(!samePixels(image, original));
    }

    void eachTransform_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("params");
        QTest::addColumn<bool>("spatial");
        for (const QString& name : kPixelNames) {
            QTest::newRow(qPrintable(name + " reference"))
                << name << referenceParams(name) << false;
            QTest::newRow(qPrintable(name + " defaults")) << name << QString("{}") << false;
        }
        for (const QString& name : kSpatialNames) {
            QTest::newRow(qPrintable(name + " reference")) << name << referenceParams(name) << true;
            QTest::newRow(qPrintable(name + " defaults")) << name << QString("{}") << true;
        }
        QTest::newRow("Spatter mud") << "Spatter" << QString(R"({"mode": "mud"})") << false;
        QTest::newRow("ElasticTransform approximate")
            << "ElasticTransform" << QString(R"({"approximate": true, "same_dxdy": true})") << true;
        QTest::newRow("GridDistortion normalized")
            << "GridDistortion" << QString(R"({"normalized": true})") << true;
        QTest::newRow("CoarseDropout fractions mask fill")
            << "CoarseDropout"
            << QString(R"({"max_height": 0.3, "max_width": 0.3, "mask_fill_value": 0})") << true;
        QTest::newRow("PixelDropout mask")
            << "PixelDropout" << QString(R"({"dropout_prob": 0.2, "drop_value": null,
                                              "mask_drop_value": 1})")
            << true;
        QTest::newRow("Affine px")
            << "Affine" << QString(R"({"translate_px": {"x": [-9, 9]}, "rotate": [-30, 30],
                                      "mode": 1, "keep_ratio": true, "scale": [0.8, 1.2]})")
            << true;
        QTest::newRow("Rotate constant")
            << "Rotate" << QString(R"({"border_mode": 0, "value": [255, 0, 0],
                                            "mask_value": 1})")
            << true;
    }

    void eachTransform()
    {
        QFETCH(QString, name);
        QFETCH(QString, params);
        QFETCH(bool, spatial);
        const Augmentation aug = Augmentation::fromJson(single(name, params));
        QVERIFY(aug.enabled());
        const int w = 64;
        const int h = 64;
        const Image2D original = texturedImage(w, h);
        const Image2D originalMask = squareMask(w, h, 8, 12, 30, 40);
        const bool movesMask = kGeometricNames.contains(name) || params.contains("mask_");
        int imageChanged = 0;
        int maskChanged = 0;
        for (std::uint64_t seed = 0; seed < 10; ++seed) {
            Image2D image = original;
            Image2D mask = originalMask;
            aug.apply(image, mask, seed);
            const QString bad = invalidity(image, mask, w, h);
            QVERIFY2(bad.isEmpty(), qPrintable(bad));
            imageChanged += samePixels(image, original) ? 0 : 1;
            maskChanged += samePixels(mask, originalMask) ? 0 : 1;
            if (!spatial) {
                QVERIFY2(samePixels(mask, originalMask), "a pixel transform changed the mask");
            }
        }
        QVERIFY2(imageChanged > 0, "the image never changed");
        if (movesMask) {
            QVERIFY2(maskChanged > 0, "the mask never changed");
        } else {
            QCOMPARE(maskChanged, 0);
        }
    }

    void flipsAreExact()
    {
        const Image2D image = uniqueImage(5, 4);
        const Image2D mask = patternMask(5, 4);
        auto run = [](const char* name, const Image2D& img, const Image2D& msk,
                      std::uint64_t seed) {
            Image2D i = img;
            Image2D m = msk;
            Augmentation::fromJson(single(name, "{}", "spacial")).apply(i, m, seed);
            return std::pair<Image2D, Image2D>(i, m);
        };
        {
            const auto [i, m] = run("HorizontalFlip", image, mask, 1);
            QVERIFY(samePixels(i, flipped(image, true, false)));
            QVERIFY(samePixels(m, flipped(mask, true, false)));
        }
        {
            const auto [i, m] = run("VerticalFlip", image, mask, 1);
            QVERIFY(samePixels(i, flipped(image, false, true)));
            QVERIFY(samePixels(m, flipped(mask, false, true)));
        }
        std::set<int> flipKinds;
        for (std::uint64_t seed = 0; seed < 30; ++seed) {
            const auto [i, m] = run("Flip", image, mask, seed);
            int kind = -1;
            for (int k = 0; k < 3; ++k) {
                const bool hz = k != 0;
                const bool vt = k != 1;
                if (samePixels(i, flipped(image, hz, vt))) {
                    kind = k;
                    QVERIFY2(samePixels(m, flipped(mask, hz, vt)), "mask flipped differently");
                }
            }
            QVERIFY2(kind >= 0, "Flip gave something else than a flip");
            flipKinds.insert(kind);
        }
        QCOMPARE(flipKinds.size(), std::size_t(3));

        const Image2D square = uniqueImage(4, 4);
        const Image2D squareMaskImage = patternMask(4, 4);
        std::set<int> turns;
        for (std::uint64_t seed = 0; seed < 30; ++seed) {
            const auto [i, m] = run("RandomRotate90", square, squareMaskImage, seed);
            int turn = -1;
            for (int k = 0; k < 4; ++k) {
                if (samePixels(i, rot90(square, k))) {
                    turn = k;
                    QVERIFY2(samePixels(m, rot90(squareMaskImage, k)), "mask rotated differently");
                }
            }
            QVERIFY2(turn >= 0, "RandomRotate90 gave something else than numpy.rot90");
            turns.insert(turn);
        }
        QCOMPARE(turns.size(), std::size_t(4));
        // Non-square: only 0 or 2 quarter turns keep the size.
        for (std::uint64_t seed = 0; seed < 10; ++seed) {
            const auto [i, m] = run("RandomRotate90", image, mask, seed);
            const bool same = samePixels(i, image) && samePixels(m, mask);
            const bool half = samePixels(i, flipped(image, true, true)) &&
                              samePixels(m, flipped(mask, true, true));
            QVERIFY(same || half);
        }
    }

    void spatialKeepsAlignment_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("params");
        for (const QString& name : kGeometricNames) {
            QTest::newRow(qPrintable(name)) << name << referenceParams(name);
        }
        QTest::newRow("Rotate constant border")
            << "Rotate" << QString(R"({"border_mode": 0, "limit": 45})");
        QTest::newRow("Affine strong")
            << "Affine" << QString(R"({"scale": [0.7, 1.3], "rotate": [-40, 40],
                                          "shear": {"x": [-20, 20], "y": [-20, 20]},
                                          "translate_percent": [-0.2, 0.2]})");
    }

    void spatialKeepsAlignment()
    {
        QFETCH(QString, name);
        QFETCH(QString, params);
        const Augmentation aug = Augmentation::fromJson(single(name, params, "spacial"));
        const Image2D originalMask = squareMask(128, 128, 20, 30, 70, 80);
        const Image2D original = squareImage(originalMask);
        int moved = 0;
        for (std::uint64_t seed = 0; seed < 10; ++seed) {
            Image2D image = original;
            Image2D mask = originalMask;
            aug.apply(image, mask, seed);
            QVERIFY(invalidity(image, mask, 128, 128).isEmpty());
            moved += samePixels(mask, originalMask) ? 0 : 1;
            int inside = 0;
            int insideWhite = 0;
            int outside = 0;
            int outsideWhite = 0;
            for (int y = 0; y < 128; ++y) {
                for (int x = 0; x < 128; ++x) {
                    const bool white = image.at<std::uint8_t>(x, y, 0) > 147;
                    if (mask.at<std::uint8_t>(x, y)) {
                        ++inside;
                        insideWhite += white ? 1 : 0;
                    } else {
                        ++outside;
                        outsideWhite += white ? 1 : 0;
                    }
                }
            }
            QVERIFY2(inside > 500, qPrintable(QString("only %1 mask pixels left").arg(inside)));
            QVERIFY2(insideWhite >= 0.95 * inside,
                     qPrintable(QString("seed %1: %2 of %3 mask pixels are white")
                                    .arg(seed)
                                    .arg(insideWhite)
                                    .arg(inside)));
            QVERIFY2(outsideWhite <= 0.02 * outside,
                     qPrintable(QString("seed %1: %2 of %3 background pixels are white")
                                    .arg(seed)
                                    .arg(outsideWhite)
                                    .arg(outside)));
        }
        QVERIFY(moved > 0);
    }

    void geometryConventions()
    {
        const Image2D image = texturedImage(64, 64);
        const Image2D mask = squareMask(64, 64, 10, 20, 30, 50);
        auto run = [&](const char* name, const char* params) {
            Image2D i = image;
            Image2D m = mask;
            Augmentation::fromJson(single(name, params, "spacial")).apply(i, m, 5);
            return std::pair<Image2D, Image2D>(i, m);
        };
        // An integer translation is exact, and moves content right/down as in albumentations.
        {
            const auto [i, m] = run("Affine", R"({"translate_px": {"x": [5, 5], "y": [-3, -3]}})");
            for (int y = 0; y < 61; ++y) {
                for (int x = 0; x < 59; ++x) {
                    QCOMPARE(m.at<std::uint8_t>(x + 5, y), mask.at<std::uint8_t>(x, y + 3));
                    for (int c = 0; c < 3; ++c) {
                        QCOMPARE(i.at<std::uint8_t>(x + 5, y, c),
                                 image.at<std::uint8_t>(x, y + 3, c));
                    }
                }
            }
            QCOMPARE(i.at<std::uint8_t>(2, 10, 0), std::uint8_t(0)); // constant border (mode 0)
        }
        // Affine's rotate and Rotate's limit turn the same way about the same centre.
        {
            const auto [a, am] = run("Affine", R"({"rotate": [30, 30], "mode": 4})");
            const auto [r, rm] = run("Rotate", R"({"limit": [30, 30]})");
            int close = 0;
            for (std::size_t k = 0; k < a.byteSize(); ++k) {
                const int d = int(a.data<std::uint8_t>()[k]) - int(r.data<std::uint8_t>()[k]);
                close += std::abs(d) <= 1 ? 1 : 0;
            }
            QVERIFY(close >= 0.99 * static_cast<double>(a.byteSize()));
            QVERIFY(samePixels(am, rm));
            QVERIFY(!samePixels(am, mask));
        }
    }

    void tinyImages()
    {
        // Every transform at p = 1 on images smaller than kernels, grids and tiles.
        const Augmentation aug = Augmentation::fromJson(forcedReference().toStdString());
        QString defaults = forcedReference();
        defaults.replace(QRegularExpression(QStringLiteral("\\{[^{}]*\\}")),
                         QStringLiteral("{\"p\": 1}"));
        const Augmentation withDefaults = Augmentation::fromJson(defaults.toStdString());
        QVERIFY(withDefaults.transformNames().size() == 23);
        for (const auto& [w, h] : std::vector<std::pair<int, int>>{
                 {1, 1}, {2, 1}, {1, 3}, {2, 2}, {3, 3}, {5, 4}, {7, 2}, {9, 9}, {17, 5}}) {
            for (const Augmentation* a : {&aug, &withDefaults}) {
                for (std::uint64_t seed = 0; seed < 5; ++seed) {
                    Image2D image = texturedImage(w, h);
                    Image2D mask = squareMask(w, h, 0, 0, (w + 1) / 2, (h + 1) / 2);
                    a->apply(image, mask, seed);
                    const QString bad = invalidity(image, mask, w, h);
                    QVERIFY2(bad.isEmpty(),
                             qPrintable(QString("%1x%2: %3").arg(w).arg(h).arg(bad)));
                }
            }
        }
    }

    void deterministic()
    {
        const Augmentation forced = Augmentation::fromJson(forcedReference().toStdString());
        const Image2D original = texturedImage(96, 96);
        const Image2D originalMask = squareMask(96, 96, 20, 30, 60, 70);
        auto run = [&](const Augmentation& aug, std::uint64_t seed) {
            Image2D image = original;
            Image2D mask = originalMask;
            aug.apply(image, mask, seed);
            return std::pair<Image2D, Image2D>(image, mask);
        };
        const auto [a1, m1] = run(forced, 11);
        const auto [a2, m2] = run(forced, 11);
        const auto [b, mb] = run(forced, 12);
        QVERIFY(samePixels(a1, a2));
        QVERIFY(samePixels(m1, m2));
        QVERIFY(!samePixels(a1, b));
        // The input and copies sharing its pixels are untouched.
        QVERIFY(!samePixels(a1, original));
        QCOMPARE(original.at<std::uint8_t>(0, 0, 0), std::uint8_t(40));

        // Concurrent calls on one (const) pipeline give the same results as serial ones.
        std::array<std::pair<Image2D, Image2D>, 4> results;
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < results.size(); ++t) {
            threads.emplace_back([&, t] { results[t] = run(forced, 11); });
        }
        for (std::thread& t : threads) {
            t.join();
        }
        for (const auto& [image, mask] : results) {
            QVERIFY(samePixels(image, a1));
            QVERIFY(samePixels(mask, m1));
        }

        // The reference (p = 0.5 overall, 0.05 each): about half the seeds change nothing.
        const Augmentation reference = Augmentation::fromJson(kReference);
        int unchanged = 0;
        for (std::uint64_t seed = 0; seed < 200; ++seed) {
            const auto [image, mask] = run(reference, seed);
            unchanged += samePixels(image, original) && samePixels(mask, originalMask) ? 1 : 0;
        }
        // P(no change) = 0.5 + 0.5 * 0.95^23 = 0.65 (a few transforms can draw an identity).
        QVERIFY2(unchanged > 100 && unchanged < 170, qPrintable(QString::number(unchanged)));
    }

    void errorsNameTheKey()
    {
        expectError([] { Augmentation::fromJson(single("Blur", "{}")); }, ErrorKind::Config,
                    {"augmentation.levels.pixel.transforms.Blur", "unknown transform"});
        expectError([] { Augmentation::fromJson(single("GaussNoise", R"({"sigma": 3})")); },
                    ErrorKind::Config,
                    {"augmentation.levels.pixel.transforms.GaussNoise.sigma", "unknown parameter",
                     "var_limit"});
        expectError(
            [] {
                Augmentation::fromJson(
                    R"({"levels": {"pixel": {"transforms": {"GaussNoise": {"p": 1.5}}}}})");
            },
            ErrorKind::Config, {"augmentation.levels.pixel.transforms.GaussNoise.p", "[0, 1]"});
        expectError(
            [] { Augmentation::fromJson(single("GaussNoise", R"({"var_limit": [200, 10]})")); },
            ErrorKind::Config,
            {"augmentation.levels.pixel.transforms.GaussNoise.var_limit", "min > max"});
        expectError(
            [] {
                Augmentation::fromJson(single("CoarseDropout", R"({"max_height": -4})", "spacial"),
                                       "train.augmentation");
            },
            ErrorKind::Config,
            {"train.augmentation.levels.spacial.transforms.CoarseDropout.max_height", "positive"});
        expectError([] { Augmentation::fromJson(R"({"p": "often"})"); }, ErrorKind::Config,
                    {"augmentation.p", "expected a number"});
        expectError([] { Augmentation::fromJson(R"({"p": 0.5, "level": {}})"); }, ErrorKind::Config,
                    {"augmentation.level", "unknown key"});
        expectError([] { Augmentation::fromJson(R"({"levels": {"colour": {}}})"); },
                    ErrorKind::Config, {"augmentation.levels.colour", "unknown level"});
        expectError([] { Augmentation::fromJson(R"({"levels": {"pixel": {"p": -0.1}}})"); },
                    ErrorKind::Config, {"augmentation.levels.pixel.p"});
        expectError([] { Augmentation::fromJson("{\"p\": "); }, ErrorKind::Config,
                    {"augmentation", "not valid JSON"});
        expectError(
            [] { Augmentation::fromJson(single("Rotate", R"({"border_mode": 7})", "spatial")); },
            ErrorKind::Config, {"augmentation.levels.spatial.transforms.Rotate.border_mode"});
        expectError(
            [] { Augmentation::fromJson(single("Rotate", R"({"mask_value": 255})", "spatial")); },
            ErrorKind::Config, {"Rotate.mask_value", "binary"});
        expectError(
            [] { Augmentation::fromJson(single("CLAHE", R"({"tile_grid_size": [3, -1]})")); },
            ErrorKind::Config, {"CLAHE.tile_grid_size", "positive"});
        expectError([] { Augmentation::fromJson(single("Sharpen", R"({"alpha": [0.2, 1.5]})")); },
                    ErrorKind::Config, {"Sharpen.alpha", "[0, 1]"});
        expectError([] { Augmentation::fromJson(single("Emboss", R"({"alpha": "x"})")); },
                    ErrorKind::Config, {"Emboss.alpha"});
        expectError(
            [] { Augmentation::fromJson(single("UnsharpMask", R"({"blur_limit": [3, 6]})")); },
            ErrorKind::Config, {"UnsharpMask.blur_limit", "odd"});
        expectError(
            [] { Augmentation::fromJson(single("Affine", R"({"fit_output": true})", "spacial")); },
            ErrorKind::Config, {"Affine.fit_output"});

        const Augmentation aug = Augmentation::fromJson(forcedReference().toStdString());
        expectError(
            [&] {
                Image2D image = texturedImage(16, 16);
                Image2D mask(16, 15, 1, PixelType::UInt8);
                aug.apply(image, mask, 1);
            },
            ErrorKind::Mismatch, {"16x15", "16x16"});
        expectError(
            [&] {
                Image2D image(16, 16, 1, PixelType::UInt8);
                Image2D mask(16, 16, 1, PixelType::UInt8);
                aug.apply(image, mask, 1);
            },
            ErrorKind::InvalidValue, {"RGB"});
        expectError(
            [&] {
                Image2D image = texturedImage(16, 16);
                Image2D mask(16, 16, 1, PixelType::UInt8);
                mask.at<std::uint8_t>(3, 3) = 255;
                aug.apply(image, mask, 1);
            },
            ErrorKind::InvalidValue, {"0 and 1"});
    }

    void realDermoscopyImage()
    {
        DIFFSEG_REQUIRE_SHARED(dataDir, "data");
        const QString imagePath =
            diffseg::test::sharedPath("data/dermoscopy/ph2/images/IMD002.bmp");
        const QString maskPath =
            diffseg::test::sharedPath("data/dermoscopy/ph2/masks/IMD002_lesion.bmp");
        if (imagePath.isEmpty() || maskPath.isEmpty()) {
            QSKIP(qPrintable("PH2 sample IMD002 (image and lesion mask) not found under " +
                             dataDir + "/dermoscopy/ph2"));
        }
        ImageReadOptions options;
        options.color = ImageColor::Rgb;
        const Image2D image =
            resizeImage(readImage(imagePath.toStdString(), options), 128, 128, ResizeFilter::Area);
        const Image2D mask = resizeMask(readMask(maskPath.toStdString()), 128, 128);
        QVERIFY(invalidity(image, mask, 128, 128).isEmpty());

        for (const std::string& config :
             {std::string(kReference), forcedReference().toStdString()}) {
            const Augmentation aug = Augmentation::fromJson(config);
            int changed = 0;
            for (std::uint64_t seed = 0; seed < 50; ++seed) {
                Image2D i = image;
                Image2D m = mask;
                aug.apply(i, m, seed);
                const QString bad = invalidity(i, m, 128, 128);
                QVERIFY2(bad.isEmpty(), qPrintable(QString("seed %1: %2").arg(seed).arg(bad)));
                changed += samePixels(i, image) ? 0 : 1;
                // Not collapsed to one colour.
                const auto* px = i.data<std::uint8_t>();
                const auto [lo, hi] = std::minmax_element(px, px + i.byteSize());
                QVERIFY(*hi - *lo > 20);
            }
            QVERIFY(changed > 5);
        }

        // A contact sheet for review: the input, then each transform alone (p = 1, seed 1), with
        // the augmented mask's outline in green.
        const int tile = 128;
        Image2D sheet(6 * tile, 4 * tile, 3, PixelType::UInt8);
        const QStringList names = QStringList{"input"} + kPixelNames + kSpatialNames;
        for (int n = 0; n < names.size(); ++n) {
            Image2D i = image;
            Image2D m = mask;
            if (n > 0) {
                const QString level = n <= kPixelNames.size() ? "pixel" : "spacial";
                Augmentation::fromJson(single(names[n], referenceParams(names[n]), level))
                    .apply(i, m, 1);
            }
            const int ox = (n % 6) * tile;
            const int oy = (n / 6) * tile;
            for (int y = 0; y < tile; ++y) {
                for (int x = 0; x < tile; ++x) {
                    const bool in = m.at<std::uint8_t>(x, y) != 0;
                    const bool edge =
                        in && (x == 0 || y == 0 || x == tile - 1 || y == tile - 1 ||
                               !m.at<std::uint8_t>(x - 1, y) || !m.at<std::uint8_t>(x + 1, y) ||
                               !m.at<std::uint8_t>(x, y - 1) || !m.at<std::uint8_t>(x, y + 1));
                    for (int c = 0; c < 3; ++c) {
                        sheet.at<std::uint8_t>(ox + x, oy + y, c) =
                            edge ? (c == 1 ? 255 : 0) : i.at<std::uint8_t>(x, y, c);
                    }
                }
            }
        }
        const QString sheetPath = diffseg::test::outputDir() + "/augmentation-contact-sheet.png";
        writeImage(sheet, sheetPath.toStdString());
        qDebug("contact sheet (input, then %s): %s",
               qPrintable((kPixelNames + kSpatialNames).join(", ")), qPrintable(sheetPath));
    }

    void timing()
    {
        // Every transform of the reference at p = 1 on a 128x128 image (measured, not asserted).
        const Augmentation aug = Augmentation::fromJson(forcedReference().toStdString());
        const Image2D original = texturedImage(128, 128);
        const Image2D originalMask = squareMask(128, 128, 30, 30, 90, 90);
        const int runs = 30;
        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < runs; ++i) {
            Image2D image = original;
            Image2D mask = originalMask;
            aug.apply(image, mask, static_cast<std::uint64_t>(i));
        }
        const double ms = static_cast<double>(timer.nsecsElapsed()) / 1e6 / runs;
        qDebug("full reference pipeline, every p = 1, 128x128: %.2f ms per apply()", ms);
        QStringList parts;
        for (const QString& name : kPixelNames + kSpatialNames) {
            const QString level = kPixelNames.contains(name) ? "pixel" : "spacial";
            const Augmentation one =
                Augmentation::fromJson(single(name, referenceParams(name), level));
            timer.restart();
            for (int i = 0; i < runs; ++i) {
                Image2D image = original;
                Image2D mask = originalMask;
                one.apply(image, mask, static_cast<std::uint64_t>(i));
            }
            parts << QStringLiteral("%1 %2").arg(name).arg(
                static_cast<double>(timer.nsecsElapsed()) / 1e6 / runs, 0, 'f', 2);
        }
        qDebug("per transform (ms): %s", qPrintable(parts.join(", ")));
    }
};

QTEST_GUILESS_MAIN(TestAugmentation)
#include "TestAugmentation.moc"
