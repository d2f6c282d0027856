#include "base/Error.h"
#include "imaging/Components.h"
#include "imaging/Crop.h"
#include "imaging/Intensity.h"
#include "imaging/Resample.h"
#include "imaging/Resize2D.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

using namespace diffseg::core;

namespace {

Geometry rotatedGeometry(double degrees, std::array<double, 3> spacing,
                         std::array<double, 3> origin)
{
    const double a = degrees * 3.14159265358979323846 / 180.0;
    Geometry g;
    g.spacing = spacing;
    g.origin = origin;
    // Rotation about z, then about x by half the angle: an oblique frame.
    const double c = std::cos(a), s = std::sin(a), c2 = std::cos(a / 2), s2 = std::sin(a / 2);
    const double rz[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
    const double rx[9] = {1, 0, 0, 0, c2, -s2, 0, s2, c2};
    for (int r = 0; r < 3; ++r) {
        for (int col = 0; col < 3; ++col) {
            double sum = 0.0;
            for (int k = 0; k < 3; ++k) {
                sum += rx[r * 3 + k] * rz[k * 3 + col];
            }
            g.direction[r * 3 + col] = sum;
        }
    }
    return g;
}

/// A linear function of the physical position: trilinear interpolation reproduces it exactly.
double plane(const std::array<double, 3>& p)
{
    return 0.7 * p[0] - 1.3 * p[1] + 0.4 * p[2] + 12.0;
}

LabelMap blobs(const std::array<std::int64_t, 3>& size, const Geometry& g)
{
    LabelMap labels(size, g);
    for (std::int64_t k = 0; k < size[2]; ++k) {
        for (std::int64_t j = 0; j < size[1]; ++j) {
            for (std::int64_t i = 0; i < size[0]; ++i) {
                const double d1 = std::hypot(i - 10.0, j - 12.0, k - 8.0);
                const double d2 = std::hypot(i - 24.0, j - 20.0, k - 10.0);
                std::uint8_t v = 0;
                if (d1 < 7.0) {
                    v = 3;
                } else if (d2 < 6.0) {
                    v = 7;
                } else if (d1 < 9.0) {
                    v = 1;
                }
                labels.data<std::uint8_t>()[labels.linearIndex(i, j, k)] = v;
            }
        }
    }
    return labels;
}

std::map<int, std::size_t> histogram(const LabelMap& l)
{
    std::map<int, std::size_t> h;
    for (std::size_t i = 0; i < l.voxelCount(); ++i) {
        ++h[l.data<std::uint8_t>()[i]];
    }
    return h;
}

} // namespace

class TestImaging : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void ctWindowPresets()
    {
        QCOMPARE(ctWindow(CtWindowPreset::Lung).center, -600.0);
        QCOMPARE(ctWindow(CtWindowPreset::Lung).width, 1500.0);
        QCOMPARE(ctWindow(CtWindowPreset::Brain).width, 80.0);
        for (auto p : {CtWindowPreset::Lung, CtWindowPreset::Mediastinum,
                       CtWindowPreset::SoftTissue, CtWindowPreset::Bone, CtWindowPreset::Brain}) {
            QVERIFY(ctWindowFromName(ctWindowName(p)) == p);
        }
        QVERIFY(ctWindowFromName("Soft_Tissue") == CtWindowPreset::SoftTissue);
        QVERIFY(!ctWindowFromName("liver"));
        Volume v({3, 1, 1}, 1, PixelType::Int16);
        v.data<std::int16_t>()[0] = -1000;
        v.data<std::int16_t>()[1] = 40;
        v.data<std::int16_t>()[2] = 3000;
        const Volume w = applyWindow(v, ctWindow(CtWindowPreset::SoftTissue));
        QCOMPARE(w.pixelType(), PixelType::Float32);
        QCOMPARE(w.data<float>()[0], 0.0f);
        QCOMPARE(w.data<float>()[1], 0.5f);
        QCOMPARE(w.data<float>()[2], 1.0f);
        QVERIFY_THROWS_EXCEPTION(Error, applyWindow(v, WindowLevel{0.0, 0.0}));
    }

    void percentilesStatsAndClipping()
    {
        Volume v({10, 10, 1}, 1, PixelType::Int16);
        for (int i = 0; i < 100; ++i) {
            v.data<std::int16_t>()[i] = static_cast<std::int16_t>(i);
        }
        const auto p = percentiles(v, {0.0, 50.0, 99.5, 100.0});
        QCOMPARE(p[0], 0.0);
        QCOMPARE(p[1], 49.5);
        QCOMPARE(p[2], 98.505);
        QCOMPARE(p[3], 99.0);
        LabelMap mask = LabelMap::like(v);
        for (int i = 50; i < 100; ++i) {
            mask.data<std::uint8_t>()[i] = 1;
        }
        QCOMPARE(percentiles(v, {0.0}, 0, &mask)[0], 50.0);
        const IntensityStats s = intensityStats(v, 0, &mask);
        QCOMPARE(s.count, std::size_t(50));
        QCOMPARE(s.mean, 74.5);
        const Volume clipped = percentileClip(v, 10.0, 90.0);
        QCOMPARE(clipped.pixelType(), PixelType::Int16);
        QCOMPARE(int(clipped.data<std::int16_t>()[0]), 10); // 9.9 rounds to 10
        QCOMPARE(int(clipped.data<std::int16_t>()[99]), 89);
        QCOMPARE(int(clipped.data<std::int16_t>()[42]), 42);
        QCOMPARE(int(clipIntensity(v, 5, 7).data<std::int16_t>()[99]), 7);
        QVERIFY_THROWS_EXCEPTION(Error, percentiles(v, {101.0}));
        LabelMap wrong({5, 5, 1}, Geometry{});
        try {
            intensityStats(v, 0, &wrong);
            QFAIL("misaligned mask accepted");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Mismatch);
        }
        LabelMap empty = LabelMap::like(v);
        QVERIFY_THROWS_EXCEPTION(Error, intensityStats(v, 0, &empty));
    }

    void zScoreWholeAndInsideMask()
    {
        Volume v({4, 4, 2}, 2, PixelType::Float32);
        for (std::size_t i = 0; i < v.voxelCount(); ++i) {
            v.channelData<float>(0)[i] = float(i);
            v.channelData<float>(1)[i] = 100.0f + 3.0f * float(i % 5);
        }
        const Volume z = zScore(v);
        for (int c = 0; c < 2; ++c) {
            const IntensityStats s = intensityStats(z, c);
            QVERIFY(std::abs(s.mean) < 1e-6);
            QVERIFY(std::abs(s.stddev - 1.0) < 1e-5);
        }
        LabelMap brain = LabelMap::like(v);
        for (std::size_t i = 8; i < 24; ++i) {
            brain.data<std::uint8_t>()[i] = 1;
        }
        const Volume zm = zScore(v, {&brain, true});
        const IntensityStats inside = intensityStats(zm, 0, &brain);
        QVERIFY(std::abs(inside.mean) < 1e-6 && std::abs(inside.stddev - 1.0) < 1e-5);
        QCOMPARE(zm.channelData<float>(0)[0], 0.0f);
        // A constant channel does not divide by zero.
        Volume flat({2, 2, 2}, 1, PixelType::Int16);
        QCOMPARE(zScore(flat).data<float>()[3], 0.0f);
    }

    void minMaxNormalizeIsGlobal()
    {
        Image2D rgb(2, 1, 3, PixelType::UInt8);
        rgb.at<std::uint8_t>(0, 0, 0) = 10;
        rgb.at<std::uint8_t>(1, 0, 2) = 210;
        const Image2D n = minMaxNormalize(rgb);
        QCOMPARE(n.pixelType(), PixelType::Float32);
        QCOMPARE(n.at<float>(1, 0, 2), 1.0f);
        QCOMPARE(n.at<float>(0, 0, 0), 10.0f / 210.0f);
        QCOMPARE(n.at<float>(0, 0, 1), 0.0f);
    }

    void cropToNonZeroAndBackIsExact()
    {
        const Geometry g = rotatedGeometry(25.0, {0.8, 1.1, 2.5}, {-30.0, 12.0, 100.0});
        Volume v({20, 16, 9}, 2, PixelType::Int16, g);
        for (std::int64_t k = 2; k < 7; ++k) {
            for (std::int64_t j = 3; j < 10; ++j) {
                for (std::int64_t i = 4; i < 15; ++i) {
                    v.data<std::int16_t>()[v.linearIndex(i, j, k, 0)] =
                        static_cast<std::int16_t>(i + 100 * j + k);
                }
            }
        }
        v.data<std::int16_t>()[v.linearIndex(17, 12, 8, 1)] = 5; // channel 1 widens the box
        const CroppedVolume c = cropToNonZero(v);
        QVERIFY(c.box == (BoundingBox{{4, 3, 2}, {18, 13, 9}}));
        QVERIFY(c.volume.size() == (std::array<std::int64_t, 3>{14, 10, 7}));
        // Voxels keep their physical place.
        const auto before = v.geometry().indexToPhysical({4, 3, 2});
        const auto after = c.volume.geometry().indexToPhysical({0, 0, 0});
        for (int d = 0; d < 3; ++d) {
            QVERIFY(std::abs(before[d] - after[d]) < 1e-9);
        }
        QCOMPARE(c.volume.data<std::int16_t>()[c.volume.linearIndex(1, 1, 1)],
                 std::int16_t(5 + 400 + 3));
        const Volume back = uncropVolume(c.volume, c.box, c.originalSize, c.originalGeometry);
        QVERIFY(std::memcmp(back.rawData(), v.rawData(), v.byteSize()) == 0);
        QVERIFY(back.geometry().isClose(v.geometry(), 1e-12));
        // Label maps the same way; an all-zero volume keeps its full extent.
        const LabelMap l = blobs({30, 30, 20}, g);
        const BoundingBox box = *nonZeroBoundingBox(l);
        const LabelMap lc = cropLabelMap(l, box);
        const LabelMap lb = uncropLabelMap(lc, box, l.size(), l.geometry());
        QVERIFY(std::memcmp(lb.rawData(), l.rawData(), l.byteSize()) == 0);
        Volume zero({5, 5, 5}, 1, PixelType::Float32);
        QVERIFY(!nonZeroBoundingBox(zero));
        QVERIFY(cropToNonZero(zero).volume.size() == zero.size());
        QVERIFY_THROWS_EXCEPTION(Error, cropVolume(v, BoundingBox{{0, 0, 0}, {21, 1, 1}}));
        QVERIFY_THROWS_EXCEPTION(Error, uncropVolume(zero, box, l.size(), l.geometry()));
    }

    void resampleOntoItsOwnGridIsIdentity()
    {
        const Geometry g = rotatedGeometry(40.0, {0.9, 1.2, 3.0}, {5.0, -7.0, 1.0});
        const LabelMap l = blobs({32, 30, 18}, g);
        for (auto interp : {Interpolation::Nearest, Interpolation::Linear, Interpolation::Label}) {
            const Volume r = resampleToGrid(l, l.size(), l.geometry(), interp);
            QVERIFY(std::memcmp(r.rawData(), l.rawData(), l.byteSize()) == 0);
        }
    }

    void spacingChangeKeepsFieldOfView()
    {
        const Geometry g = rotatedGeometry(30.0, {0.5, 0.7, 2.0}, {-10.0, 4.0, 60.0});
        Volume v({40, 30, 12}, 1, PixelType::Float32, g);
        const Volume r = resampleToSpacing(v, {1.0, 1.0, 1.0});
        QVERIFY(r.size() == (std::array<std::int64_t, 3>{20, 21, 24}));
        QVERIFY(std::abs(r.geometry().spacing[0] - 1.0) < 1e-12);
        QVERIFY(std::abs(r.geometry().spacing[1] - 0.7 * 30 / 21) < 1e-12);
        // The outer faces of the field of view stay in place: same centre, same corner.
        auto corner = [](const Volume& x) {
            return x.geometry().indexToPhysical({-0.5, -0.5, -0.5});
        };
        auto centre = [](const Volume& x) {
            return x.geometry().indexToPhysical(
                {(x.size()[0] - 1) / 2.0, (x.size()[1] - 1) / 2.0, (x.size()[2] - 1) / 2.0});
        };
        for (int d = 0; d < 3; ++d) {
            QVERIFY(std::abs(corner(r)[d] - corner(v)[d]) < 1e-9);
            QVERIFY(std::abs(centre(r)[d] - centre(v)[d]) < 1e-9);
        }
        QVERIFY(r.geometry().isValid());
        QVERIFY_THROWS_EXCEPTION(Error, resampleToSpacing(v, {0.0, 1.0, 1.0}));
    }

    void linearResamplingFollowsPhysicalSpace()
    {
        // Any linear function of the physical position survives trilinear resampling exactly,
        // whatever the two grids' rotations: a wrong index <-> physical mapping would not.
        const Geometry from = rotatedGeometry(20.0, {1.0, 1.5, 2.0}, {0.0, 0.0, 0.0});
        Volume v({30, 24, 16}, 1, PixelType::Float32, from);
        for (std::int64_t k = 0; k < 16; ++k) {
            for (std::int64_t j = 0; j < 24; ++j) {
                for (std::int64_t i = 0; i < 30; ++i) {
                    v.data<float>()[v.linearIndex(i, j, k)] = static_cast<float>(
                        plane(from.indexToPhysical({double(i), double(j), double(k)})));
                }
            }
        }
        const Geometry to = rotatedGeometry(-35.0, {0.8, 0.8, 0.8}, {10.0, 5.0, 8.0});
        const std::array<std::int64_t, 3> size{20, 20, 20};
        const Volume r = resampleToGrid(v, size, to, Interpolation::Linear, -9999.0);
        int inside = 0;
        for (std::int64_t k = 0; k < 20; ++k) {
            for (std::int64_t j = 0; j < 20; ++j) {
                for (std::int64_t i = 0; i < 20; ++i) {
                    const auto p = to.indexToPhysical({double(i), double(j), double(k)});
                    const auto q = from.physicalToIndex(p);
                    const float got = r.data<float>()[r.linearIndex(i, j, k)];
                    const bool interior = q[0] >= 0 && q[1] >= 0 && q[2] >= 0 && q[0] <= 29 &&
                                          q[1] <= 23 && q[2] <= 15;
                    const bool far = q[0] < -0.6 || q[1] < -0.6 || q[2] < -0.6 || q[0] > 29.6 ||
                                     q[1] > 23.6 || q[2] > 15.6;
                    if (interior) {
                        ++inside;
                        QVERIFY2(std::abs(got - plane(p)) < 1e-3,
                                 qPrintable(QString("%1 vs %2").arg(got).arg(plane(p))));
                    } else if (far) {
                        QCOMPARE(got, -9999.0f);
                    }
                }
            }
        }
        QVERIFY(inside > 1000);
    }

    void labelAwareResamplingInventsNoLabels()
    {
        const Geometry g = rotatedGeometry(10.0, {1.0, 1.0, 1.0}, {0.0, 0.0, 0.0});
        const LabelMap l = blobs({36, 32, 20}, g);
        const auto before = histogram(l);
        const LabelMap down = resampleLabelMapToSpacing(l, {1.7, 1.3, 2.2});
        const LabelMap up = resampleLabelMapToSpacing(l, {0.6, 0.6, 0.6});
        for (const LabelMap* r : {&down, &up}) {
            const auto h = histogram(*r);
            double scale = 1.0;
            for (int d = 0; d < 3; ++d) {
                scale *= r->geometry().spacing[d] / l.geometry().spacing[d];
            }
            for (const auto& [label, count] : h) {
                QVERIFY2(before.count(label), "a label appeared that was not in the input");
                // Each label keeps its physical volume within a few percent.
                const double ratio = double(count) * scale / double(before.at(label));
                QVERIFY2(std::abs(ratio - 1.0) < 0.2,
                         qPrintable(QString("label %1: %2").arg(label).arg(ratio)));
            }
            QCOMPARE(h.size(), before.size());
        }
        // Up and back onto the original grid reproduces the labels almost everywhere.
        const LabelMap back = resampleLabelMapToGrid(up, l.size(), l.geometry());
        std::size_t same = 0;
        for (std::size_t i = 0; i < l.voxelCount(); ++i) {
            same += back.data<std::uint8_t>()[i] == l.data<std::uint8_t>()[i];
        }
        QVERIFY2(double(same) / double(l.voxelCount()) > 0.99, qPrintable(QString::number(same)));
        QVERIFY(back.isAlignedWith(l));
    }

    void resize2D()
    {
        Image2D ramp(4, 2, 1, PixelType::UInt8);
        for (int x = 0; x < 4; ++x) {
            ramp.at<std::uint8_t>(x, 0) = ramp.at<std::uint8_t>(x, 1) =
                static_cast<std::uint8_t>(x * 40);
        }
        ramp.setSpacing({0.5, 0.5});
        const Image2D big = resizeImage(ramp, 8, 4);
        QCOMPARE(big.width(), 8);
        QCOMPARE(big.pixelType(), PixelType::UInt8);
        // Bilinear with half-pixel centres: output x=1 samples input x=0.25.
        QCOMPARE(int(big.at<std::uint8_t>(1, 0)), 10);
        QCOMPARE(big.spacing()[0], 0.25);
        Image2D mask(5, 5, 1, PixelType::UInt8);
        mask.at<std::uint8_t>(2, 2) = 1;
        const Image2D m = resizeMask(mask, 13, 7);
        std::set<int> values;
        for (int y = 0; y < 7; ++y) {
            for (int x = 0; x < 13; ++x) {
                values.insert(m.at<std::uint8_t>(x, y));
            }
        }
        QVERIFY(values == (std::set<int>{0, 1}));
        Image2D rgbf(6, 6, 3, PixelType::Float32);
        QCOMPARE(resizeImage(rgbf, 3, 3, ResizeFilter::Area).channels(), 3);
        QVERIFY_THROWS_EXCEPTION(Error, resizeImage(ramp, 0, 4));
    }
    void largestComponentsPerLabel()
    {
        LabelMap l({10, 8, 6}, Geometry{});
        std::uint8_t* d = l.data<std::uint8_t>();
        const auto at = [&](int x, int y, int z) -> std::uint8_t& {
            return d[(z * 8 + y) * 10 + x];
        };
        for (int x = 1; x <= 4; ++x) {
            at(x, 2, 2) = 1; // a bar of label 1
        }
        at(5, 3, 3) = 1; // touching diagonally (26-connected): kept
        at(9, 7, 5) = 1; // an island of label 1: removed
        at(0, 7, 0) = 2; // label 2's only piece: kept
        at(8, 0, 0) = 1; // another island, which a prompt protects
        LabelMap keep({10, 8, 6}, Geometry{});
        keep.data<std::uint8_t>()[(0 * 8 + 0) * 10 + 8] = 2;
        QCOMPARE(keepLargestComponents(l, keep), std::size_t(1));
        QCOMPARE(int(at(9, 7, 5)), 0);
        QCOMPARE(int(at(5, 3, 3)), 1);
        QCOMPARE(int(at(0, 7, 0)), 2);
        QCOMPARE(int(at(8, 0, 0)), 1);
        QCOMPARE(int(at(3, 2, 2)), 1);
        QCOMPARE(keepLargestComponents(l), std::size_t(1)); // now the protected island goes
        LabelMap wide({4, 4, 4}, Geometry{}, PixelType::UInt16);
        wide.data<std::uint16_t>()[0] = 300;
        wide.data<std::uint16_t>()[63] = 300;
        QCOMPARE(keepLargestComponents(wide), std::size_t(1)); // equal sizes: the first stays
        QCOMPARE(int(wide.data<std::uint16_t>()[0]), 300);
    }
    void sampledPercentilesAndCtGuess()
    {
        Volume ct({50, 40, 30}, 1, PixelType::Int16, Geometry{});
        std::int16_t* d = ct.data<std::int16_t>();
        for (std::size_t i = 0; i < ct.voxelCount(); ++i) {
            d[i] = static_cast<std::int16_t>(i % 7 == 0 ? -1000 : 40 + int(i % 200)); // air, tissue
        }
        const auto p = sampledPercentiles(ct, 0, 1000);
        QVERIFY(p && (*p)[0] == -1000.0 && (*p)[1] > 200.0);
        QCOMPARE(sampleVoxels(ct, 0, 1000).size(), std::size_t(1000));
        QVERIFY(looksLikeCt(ct));
        QVERIFY(!looksLikeCt(ct, "MR")); // a DICOM modality decides
        Volume mr({20, 20, 20}, 1, PixelType::Float32, Geometry{});
        for (std::size_t i = 0; i < mr.voxelCount(); ++i) {
            mr.data<float>()[i] = float(i % 140);
        }
        QVERIFY(!looksLikeCt(mr));
        QVERIFY(looksLikeCt(mr, "CT"));
        mr.data<float>()[0] = std::nanf("");
        QCOMPARE(sampleVoxels(mr, 0, 1u << 20).size(), mr.voxelCount() - 1); // NaN left out
        Volume nan({2, 2, 2}, 1, PixelType::Float32, Geometry{});
        std::fill(nan.data<float>(), nan.data<float>() + nan.voxelCount(), std::nanf(""));
        QVERIFY(!sampledPercentiles(nan, 0, 8)); // nothing finite: no range
    }
};

QTEST_GUILESS_MAIN(TestImaging)
#include "TestImaging.moc"
