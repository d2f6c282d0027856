#include "TestSupport.h"
#include "base/Error.h"
#include "data/DemoData.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <vector>

using namespace diffseg::core;

namespace {

double luminance(const Image2D& image, std::size_t i)
{
    const std::uint8_t* p = image.data<std::uint8_t>() + 3 * i;
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
}

bool sameBytes(const Image2D& a, const Image2D& b)
{
    return a.byteSize() == b.byteSize() && std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

bool sameBytes(const Volume& a, const Volume& b)
{
    return a.byteSize() == b.byteSize() && std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

/// Number of 4-connected pixels of value 1 reachable from the first one.
std::size_t largestComponentFromFirst(const Image2D& mask)
{
    const int w = mask.width();
    const int h = mask.height();
    const std::uint8_t* m = mask.data<std::uint8_t>();
    std::vector<std::uint8_t> seen(mask.pixelCount(), 0);
    std::vector<std::size_t> stack;
    for (std::size_t i = 0; i < mask.pixelCount(); ++i) {
        if (m[i]) {
            stack.push_back(i);
            seen[i] = 1;
            break;
        }
    }
    std::size_t count = 0;
    while (!stack.empty()) {
        const std::size_t i = stack.back();
        stack.pop_back();
        ++count;
        const int x = static_cast<int>(i % w);
        const int y = static_cast<int>(i / w);
        const int nx[4] = {x - 1, x + 1, x, x};
        const int ny[4] = {y, y, y - 1, y + 1};
        for (int k = 0; k < 4; ++k) {
            if (nx[k] < 0 || ny[k] < 0 || nx[k] >= w || ny[k] >= h) {
                continue;
            }
            const std::size_t n = static_cast<std::size_t>(ny[k]) * w + nx[k];
            if (m[n] && !seen[n]) {
                seen[n] = 1;
                stack.push_back(n);
            }
        }
    }
    return count;
}

struct TissueStats
{
    double sum = 0.0;
    std::size_t count = 0;
    double mean() const { return count ? sum / double(count) : 0.0; }
};

} // namespace

class TestDemoData : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void dermoscopySizesAndTypes()
    {
        for (const auto& [w, h] : {std::pair{96, 64}, std::pair{64, 96}, std::pair{16, 16}}) {
            const DermoscopyDemo d = generateDermoscopyDemo(w, h, 7);
            QCOMPARE(d.image.width(), w);
            QCOMPARE(d.image.height(), h);
            QCOMPARE(d.image.channels(), 3);
            QCOMPARE(d.image.pixelType(), PixelType::UInt8);
            for (const Image2D* m : {&d.mask, &d.hair}) {
                QCOMPARE(m->width(), w);
                QCOMPARE(m->height(), h);
                QCOMPARE(m->channels(), 1);
                QCOMPARE(m->pixelType(), PixelType::UInt8);
            }
        }
    }

    void dermoscopyIsDeterministic()
    {
        const DermoscopyDemo a = generateDermoscopyDemo(120, 90, 42);
        const DermoscopyDemo b = generateDermoscopyDemo(120, 90, 42);
        QVERIFY(sameBytes(a.image, b.image));
        QVERIFY(sameBytes(a.mask, b.mask));
        QVERIFY(sameBytes(a.hair, b.hair));
        QCOMPARE(a.blueWhiteVeil, b.blueWhiteVeil);
        const DermoscopyDemo c = generateDermoscopyDemo(120, 90, 43);
        QVERIFY(!sameBytes(a.image, c.image));
        QVERIFY(!sameBytes(a.mask, c.mask));
    }

    void dermoscopyMaskIsOneBinaryLesion()
    {
        int veils = 0;
        for (std::uint64_t seed = 0; seed < 16; ++seed) {
            const DermoscopyDemo d = generateDermoscopyDemo(128, 96, seed);
            const std::uint8_t* m = d.mask.data<std::uint8_t>();
            const std::uint8_t* hair = d.hair.data<std::uint8_t>();
            std::size_t area = 0;
            double inside = 0.0;
            double outside = 0.0;
            std::size_t nIn = 0;
            std::size_t nOut = 0;
            for (std::size_t i = 0; i < d.mask.pixelCount(); ++i) {
                QVERIFY(m[i] <= 1);
                area += m[i];
                if (hair[i]) {
                    continue;
                }
                (m[i] ? inside : outside) += luminance(d.image, i);
                (m[i] ? nIn : nOut) += 1;
            }
            const double fraction = double(area) / double(d.mask.pixelCount());
            QVERIFY2(
                fraction > 0.03 && fraction < 0.6,
                qPrintable(QStringLiteral("seed %1: lesion fraction %2").arg(seed).arg(fraction)));
            // One connected lesion, darker than the skin around it.
            QCOMPARE(largestComponentFromFirst(d.mask), area);
            QVERIFY2(inside / double(nIn) < outside / double(nOut) - 30.0,
                     qPrintable(QStringLiteral("seed %1: lesion %2 vs skin %3")
                                    .arg(seed)
                                    .arg(inside / double(nIn))
                                    .arg(outside / double(nOut))));
            veils += d.blueWhiteVeil ? 1 : 0;
        }
        // The veil is optional: some lesions have one, some do not.
        QVERIFY2(veils > 0 && veils < 16, qPrintable(QString::number(veils)));
    }

    void hairsAreDarkCrossTheSkinAndSometimesTheLesion()
    {
        int imagesWithHairOnLesion = 0;
        for (std::uint64_t seed = 0; seed < 12; ++seed) {
            const DermoscopyDemo d = generateDermoscopyDemo(256, 256, seed);
            const std::uint8_t* m = d.mask.data<std::uint8_t>();
            const std::uint8_t* hair = d.hair.data<std::uint8_t>();
            double hairLum = 0.0;
            double skinLum = 0.0;
            std::size_t nHair = 0;
            std::size_t nSkin = 0;
            std::size_t hairOutside = 0;
            std::size_t hairInside = 0;
            for (std::size_t i = 0; i < d.mask.pixelCount(); ++i) {
                QVERIFY(hair[i] <= 1);
                if (hair[i]) {
                    hairLum += luminance(d.image, i);
                    ++nHair;
                    (m[i] ? hairInside : hairOutside) += 1;
                } else if (!m[i]) {
                    skinLum += luminance(d.image, i);
                    ++nSkin;
                }
            }
            QVERIFY2(nHair > 100, qPrintable(QStringLiteral("seed %1: %2").arg(seed).arg(nHair)));
            QVERIFY2(hairOutside > 0, qPrintable(QString::number(seed)));
            QVERIFY2(hairLum / double(nHair) < 0.5 * skinLum / double(nSkin),
                     qPrintable(QStringLiteral("seed %1: hair %2 vs skin %3")
                                    .arg(seed)
                                    .arg(hairLum / double(nHair))
                                    .arg(skinLum / double(nSkin))));
            imagesWithHairOnLesion += hairInside > 0 ? 1 : 0;
        }
        // Hairs cross the lesion in many images (the mask keeps the lesion whole under them:
        // checked by the connectivity test above).
        QVERIFY2(imagesWithHairOnLesion >= 6, qPrintable(QString::number(imagesWithHairOnLesion)));
    }

    void dermoscopyLayoutDoesNotDependOnResolution()
    {
        auto fraction = [](int side) {
            const DermoscopyDemo d = generateDermoscopyDemo(side, side, 5);
            std::size_t area = 0;
            for (std::size_t i = 0; i < d.mask.pixelCount(); ++i) {
                area += d.mask.data<std::uint8_t>()[i];
            }
            return double(area) / double(d.mask.pixelCount());
        };
        QVERIFY(std::abs(fraction(64) - fraction(256)) < 0.02);
    }

    void dermoscopyRejectsBadSizes()
    {
        QVERIFY_THROWS_EXCEPTION(Error, generateDermoscopyDemo(15, 64, 0));
        QVERIFY_THROWS_EXCEPTION(Error, generateDermoscopyDemo(64, 0, 0));
        QVERIFY_THROWS_EXCEPTION(Error, generateDermoscopyDemo(Image2D::kMaxSide + 1, 64, 0));
    }

    void ctPhantomGeometry()
    {
        const CtPhantomDemo d = generateCtPhantomDemo({80, 64, 40}, 3);
        QCOMPARE(d.volume.pixelType(), PixelType::Int16);
        QCOMPARE(d.volume.channels(), 1);
        QCOMPARE(d.volume.size()[0], 80);
        QCOMPARE(d.volume.size()[1], 64);
        QCOMPARE(d.volume.size()[2], 40);
        const Geometry& g = d.volume.geometry();
        QVERIFY(g.isValid());
        QCOMPARE(g.orientationCode(), std::string("LPS"));
        QCOMPARE(g.spacing[0], 5.0);
        QCOMPARE(g.spacing[1], 6.25);
        QCOMPARE(g.spacing[2], 5.0);
        // Centred on the origin.
        const auto centre = g.indexToPhysical({79 / 2.0, 63 / 2.0, 39 / 2.0});
        for (const double c : centre) {
            QVERIFY(std::abs(c) < 1e-9);
        }
        QCOMPARE(d.labels.pixelType(), PixelType::UInt8);
        QVERIFY(d.labels.isAlignedWith(d.volume));
        QVERIFY(d.tissues.isAlignedWith(d.volume));
        QCOMPARE(d.labels.maxLabel(), 2);
    }

    void ctPhantomIsDeterministic()
    {
        const CtPhantomDemo a = generateCtPhantomDemo({48, 48, 24}, 11);
        const CtPhantomDemo b = generateCtPhantomDemo({48, 48, 24}, 11);
        QVERIFY(sameBytes(a.volume, b.volume));
        QVERIFY(sameBytes(a.labels, b.labels));
        QVERIFY(sameBytes(a.tissues, b.tissues));
        const CtPhantomDemo c = generateCtPhantomDemo({48, 48, 24}, 12);
        QVERIFY(!sameBytes(a.volume, c.volume));
    }

    void ctPhantomAnatomyAndHounsfieldUnits()
    {
        for (const std::uint64_t seed : {0u, 1u, 2u}) {
            const std::array<std::int64_t, 3> size{96, 96, 40};
            const CtPhantomDemo d = generateCtPhantomDemo(size, seed);
            const std::int16_t* hu = d.volume.data<std::int16_t>();
            const std::uint8_t* labels = d.labels.data<std::uint8_t>();
            const std::uint8_t* tissues = d.tissues.data<std::uint8_t>();
            TissueStats stats[10];
            TissueStats liverI;
            TissueStats lungK;
            std::size_t lesion = 0;
            std::size_t liver = 0;
            std::int64_t lesionBox[6] = {size[0], size[1], size[2], -1, -1, -1};
            std::int64_t liverBox[6] = {size[0], size[1], size[2], -1, -1, -1};
            std::size_t index = 0;
            for (std::int64_t k = 0; k < size[2]; ++k) {
                for (std::int64_t j = 0; j < size[1]; ++j) {
                    for (std::int64_t i = 0; i < size[0]; ++i, ++index) {
                        const int t = tissues[index];
                        QVERIFY(t <= 9);
                        stats[t].sum += hu[index];
                        stats[t].count += 1;
                        QVERIFY(labels[index] <= 2);
                        // The label map is exactly the liver and lesion tissues.
                        QCOMPARE(labels[index] == CtPhantomDemo::kLiverLabel,
                                 t == int(CtTissue::Liver));
                        QCOMPARE(labels[index] == CtPhantomDemo::kLesionLabel,
                                 t == int(CtTissue::Lesion));
                        const std::int64_t at[3] = {i, j, k};
                        if (labels[index] == CtPhantomDemo::kLesionLabel) {
                            ++lesion;
                            for (int a = 0; a < 3; ++a) {
                                lesionBox[a] = std::min(lesionBox[a], at[a]);
                                lesionBox[a + 3] = std::max(lesionBox[a + 3], at[a]);
                            }
                        } else if (labels[index] == CtPhantomDemo::kLiverLabel) {
                            ++liver;
                            liverI.sum += double(i);
                            liverI.count += 1;
                            for (int a = 0; a < 3; ++a) {
                                liverBox[a] = std::min(liverBox[a], at[a]);
                                liverBox[a + 3] = std::max(liverBox[a + 3], at[a]);
                            }
                        }
                        if (t == int(CtTissue::Lung)) {
                            lungK.sum += double(k);
                            lungK.count += 1;
                        }
                    }
                }
            }
            const QString s = QStringLiteral("seed %1").arg(seed);
            // Every tissue is there, with its Hounsfield units.
            for (int t = 0; t <= 9; ++t) {
                QVERIFY2(stats[t].count > 0, qPrintable(s + QStringLiteral(" tissue %1").arg(t)));
            }
            auto inRange = [&](CtTissue t, double lo, double hi) {
                const double m = stats[int(t)].mean();
                QVERIFY2(m > lo && m < hi,
                         qPrintable(s + QStringLiteral(" tissue %1 mean %2").arg(int(t)).arg(m)));
            };
            inRange(CtTissue::Air, -1024.0, -900.0);
            inRange(CtTissue::Fat, -130.0, -70.0);
            inRange(CtTissue::SoftTissue, 10.0, 70.0);
            inRange(CtTissue::Liver, 90.0, 125.0);
            inRange(CtTissue::Lesion, 40.0, 80.0);
            inRange(CtTissue::Vessel, 100.0, 250.0);
            inRange(CtTissue::Bone, 200.0, 800.0);
            inRange(CtTissue::Lung, -900.0, -780.0);
            inRange(CtTissue::Organ, 90.0, 180.0);
            inRange(CtTissue::IntervertebralDisc, 60.0, 120.0);
            QVERIFY(stats[int(CtTissue::Liver)].mean() - stats[int(CtTissue::Lesion)].mean() >
                    25.0);
            // A lesion of a sensible size inside the liver's extent.
            QVERIFY2(lesion > 20 && liver > 4 * lesion,
                     qPrintable(s + QStringLiteral(" %1 %2").arg(lesion).arg(liver)));
            for (int a = 0; a < 3; ++a) {
                QVERIFY(lesionBox[a] > liverBox[a] && lesionBox[a + 3] < liverBox[a + 3]);
            }
            // The liver on the patient's right (LPS: low i), the lungs at the top (high k).
            QVERIFY(liverI.mean() < 0.5 * double(size[0] - 1));
            QVERIFY(lungK.mean() > 0.7 * double(size[2] - 1));
        }
    }

    void ctPhantomRejectsBadSizes()
    {
        QVERIFY_THROWS_EXCEPTION(Error, generateCtPhantomDemo({15, 64, 64}, 0));
        QVERIFY_THROWS_EXCEPTION(Error, generateCtPhantomDemo({64, 64, 2000}, 0));
    }
};

QTEST_GUILESS_MAIN(TestDemoData)
#include "TestDemoData.moc"
