#include "ExpectError.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "base/LabelMap.h"
#include "metrics/DistanceTransform.h"
#include "metrics/MetricsAccumulator.h"
#include "metrics/MetricsReport.h"
#include "metrics/SegmentationMetrics.h"
#include "metrics/SurfaceDistance.h"

#include <QFile>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace diffseg::core;
using diffseg::test::expectError;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

Image2D blankMask(int width, int height)
{
    return Image2D(width, height, 1, PixelType::UInt8);
}

void fillRect(Image2D& mask, int x0, int y0, int x1, int y1)
{
    for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
            mask.at<std::uint8_t>(x, y) = 1;
        }
    }
}

/// Digital disc: pixel centres with (x - cx)^2 + (y - cy)^2 <= r^2.
Image2D disc(int width, int height, double cx, double cy, double r)
{
    Image2D mask = blankMask(width, height);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) {
                mask.at<std::uint8_t>(x, y) = 1;
            }
        }
    }
    return mask;
}

BinaryMask ball(const std::array<std::int64_t, 3>& size, const std::array<double, 3>& spacing,
                const std::array<double, 3>& centre, double r)
{
    BinaryMask mask(size, spacing, 3);
    for (std::int64_t k = 0; k < size[2]; ++k) {
        for (std::int64_t j = 0; j < size[1]; ++j) {
            for (std::int64_t i = 0; i < size[0]; ++i) {
                const double dx = double(i) - centre[0], dy = double(j) - centre[1],
                             dz = double(k) - centre[2];
                mask.at(i, j, k) = dx * dx + dy * dy + dz * dz <= r * r ? 1 : 0;
            }
        }
    }
    return mask;
}

/// Random union of boxes: irregular shapes with holes and several components.
BinaryMask randomBlobs(const std::array<std::int64_t, 3>& size,
                       const std::array<double, 3>& spacing, int dimensions, unsigned seed)
{
    BinaryMask mask(size, spacing, dimensions);
    std::mt19937 rng(seed);
    for (int b = 0; b < 6; ++b) {
        std::array<std::int64_t, 3> lo{}, hi{};
        for (int d = 0; d < 3; ++d) {
            std::uniform_int_distribution<std::int64_t> pick(0, size[d] - 1);
            const std::int64_t a = pick(rng), c = pick(rng);
            lo[d] = std::min(a, c);
            hi[d] = std::max(a, c);
        }
        const bool erase = b == 5; // the last box cuts a hole or a notch
        for (std::int64_t k = lo[2]; k <= hi[2]; ++k) {
            for (std::int64_t j = lo[1]; j <= hi[1]; ++j) {
                for (std::int64_t i = lo[0]; i <= hi[0]; ++i) {
                    mask.at(i, j, k) = erase ? 0 : 1;
                }
            }
        }
    }
    return mask;
}

/// Brute-force directed surface distances: every surface voxel of `from` against every surface
/// voxel of `to` (an independent O(n m) implementation of the documented definition).
std::vector<double> bruteDirected(const BinaryMask& from, const BinaryMask& to)
{
    const auto isSurface = [](const BinaryMask& m, std::int64_t i, std::int64_t j, std::int64_t k) {
        if (!m.at(i, j, k)) {
            return false;
        }
        const auto& s = m.size();
        const int axes = m.dimensions();
        for (int d = 0; d < axes; ++d) {
            for (int dir = -1; dir <= 1; dir += 2) {
                std::array<std::int64_t, 3> n{i, j, k};
                n[d] += dir;
                if (n[d] < 0 || n[d] >= s[d] || !m.at(n[0], n[1], n[2])) {
                    return true;
                }
            }
        }
        return false;
    };
    std::vector<std::array<double, 3>> target;
    const auto& s = to.size();
    const auto& sp = to.spacing();
    for (std::int64_t k = 0; k < s[2]; ++k) {
        for (std::int64_t j = 0; j < s[1]; ++j) {
            for (std::int64_t i = 0; i < s[0]; ++i) {
                if (isSurface(to, i, j, k)) {
                    target.push_back({i * sp[0], j * sp[1], k * sp[2]});
                }
            }
        }
    }
    std::vector<double> out;
    for (std::int64_t k = 0; k < s[2]; ++k) {
        for (std::int64_t j = 0; j < s[1]; ++j) {
            for (std::int64_t i = 0; i < s[0]; ++i) {
                if (!isSurface(from, i, j, k)) {
                    continue;
                }
                double best = std::numeric_limits<double>::infinity();
                for (const auto& t : target) {
                    const double dx = i * sp[0] - t[0], dy = j * sp[1] - t[1],
                                 dz = k * sp[2] - t[2];
                    best = std::min(best, dx * dx + dy * dy + dz * dz);
                }
                out.push_back(std::sqrt(best));
            }
        }
    }
    return out;
}

void compareSets(std::vector<double> a, std::vector<double> b)
{
    QCOMPARE(a.size(), b.size());
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    for (std::size_t n = 0; n < a.size(); ++n) {
        QVERIFY2(std::abs(a[n] - b[n]) <= 1e-9 * std::max(1.0, b[n]),
                 qPrintable(QStringLiteral("%1 vs %2").arg(a[n]).arg(b[n])));
    }
}

/// Distance from the point at angle theta on a circle of radius r (centre 0) to the circle of
/// radius r centred at (d, 0): the continuous counterpart of shifted discs.
double circleGap(double r, double d, double theta)
{
    return std::abs(std::sqrt(r * r - 2 * r * d * std::cos(theta) + d * d) - r);
}

bool isNaN(double v)
{
    return std::isnan(v);
}

} // namespace

class TestSegmentationMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void squaresWithKnownOverlap()
    {
        // 10x10; prediction [2,6)^2 and reference [4,8)^2 overlap in [4,6)^2 = 4 pixels.
        Image2D pred = blankMask(10, 10), ref = blankMask(10, 10);
        fillRect(pred, 2, 2, 6, 6);
        fillRect(ref, 4, 4, 8, 8);
        const CaseMetrics m = computeCaseMetrics(pred, ref, {}, "squares");
        QCOMPARE(m.counts.tp, std::uint64_t(4));
        QCOMPARE(m.counts.fp, std::uint64_t(12));
        QCOMPARE(m.counts.fn, std::uint64_t(12));
        QCOMPARE(m.counts.tn, std::uint64_t(72));
        QCOMPARE(m.overlap.dice, 8.0 / 32.0);
        QCOMPARE(m.overlap.iou, 4.0 / 28.0);
        QCOMPARE(m.overlap.sensitivity, 4.0 / 16.0);
        QCOMPARE(m.overlap.specificity, 72.0 / 84.0);
        QCOMPARE(m.overlap.accuracy, 76.0 / 100.0);
        QCOMPARE(m.overlap.precision, 4.0 / 16.0);
        QVERIFY(!m.predictionEmpty && !m.referenceEmpty);
        // The squares are translates by (2, 2): the farthest corners are 2*sqrt(2) apart.
        QCOMPARE(m.surface.hausdorffMm, 2.0 * std::sqrt(2.0));
        QCOMPARE(m.surface.predictionSurfaceVoxels, std::size_t(12));
    }

    void hd95AndAssdFollowTheDocumentedPooling()
    {
        // A 1-pixel-high image: every foreground pixel is surface. Reference: x = 0; prediction:
        // x = 0..9. Directed sets: {0..9} and {0}; pooled sorted {0,0,1,...,9} (11 values).
        Image2D pred = blankMask(20, 1), ref = blankMask(20, 1);
        fillRect(pred, 0, 0, 10, 1);
        fillRect(ref, 0, 0, 1, 1);
        const CaseMetrics m = computeCaseMetrics(pred, ref);
        QVERIFY(m.surface.defined);
        QCOMPARE(m.surface.hausdorffMm, 9.0);
        // rank 0.95 * 10 = 9.5 -> halfway between 8 and 9 (numpy / medpy hd95).
        QCOMPARE(m.surface.hd95Mm, 8.5);
        // Mean of the concatenation (45 + 0) / 11; medpy's assd would be (4.5 + 0) / 2.
        QCOMPARE(m.surface.assdMm, 45.0 / 11.0);
        QCOMPARE(m.surface.asdPredictionToReferenceMm, 4.5);
        QCOMPARE(m.surface.asdReferenceToPredictionMm, 0.0);

        std::vector<double> v{3.0, 1.0, 2.0, 4.0};
        QCOMPARE(percentileLinear(v, 50.0), 2.5);
        QCOMPARE(percentileLinear(v, 100.0), 4.0);
        QCOMPARE(percentileLinear(v, 0.0), 1.0);
        std::vector<double> none;
        QVERIFY(isNaN(percentileLinear(none, 95.0)));
        QVERIFY_THROWS_EXCEPTION(Error, percentileLinear(v, 101.0));
    }

    void shiftedDiscsHaveTheShiftAsHausdorffDistance()
    {
        // Disc B = disc A translated by d along an axis. Every surface pixel of A has its
        // translate in B's surface (distance d), and A's pixel on the axis opposite the shift is
        // exactly r from A's centre, so r + d from B's, hence >= d from every pixel of B's disc:
        // HD = d exactly. HD95 and ASSD are compared with the continuous circles (d small
        // against r): the digital surface lies within 1 px of the continuous circle (surface
        // pixels have r - 1 < |p - c| <= r), so each distance, hence each statistic, is within
        // 1 px of the continuous value.
        const double r = 40.0;
        for (int d : {1, 3, 7}) {
            for (bool alongY : {false, true}) {
                const Image2D a = disc(128, 128, 60, 60, r);
                const Image2D b =
                    alongY ? disc(128, 128, 60, 60 + d, r) : disc(128, 128, 60 + d, 60, r);
                const CaseMetrics m = computeCaseMetrics(a, b);
                QCOMPARE(m.surface.hausdorffMm, double(d));

                std::vector<double> gaps;
                const int samples = 200000;
                for (int s = 0; s < samples; ++s) {
                    gaps.push_back(circleGap(r, d, 2.0 * M_PI * (s + 0.5) / samples));
                }
                double mean = 0.0;
                for (double g : gaps) {
                    mean += g;
                }
                mean /= samples;
                const double hd95 = percentileLinear(gaps, 95.0);
                qInfo("shift %d along %s: HD95 %.3f (circles %.3f), ASSD %.3f (circles %.3f)", d,
                      alongY ? "y" : "x", m.surface.hd95Mm, hd95, m.surface.assdMm, mean);
                QVERIFY2(std::abs(m.surface.hd95Mm - hd95) <= 1.0,
                         qPrintable(QStringLiteral("d=%1 hd95 %2 analytic %3")
                                        .arg(d)
                                        .arg(m.surface.hd95Mm)
                                        .arg(hd95)));
                QVERIFY2(std::abs(m.surface.assdMm - mean) <= 1.0,
                         qPrintable(QStringLiteral("d=%1 assd %2 analytic %3")
                                        .arg(d)
                                        .arg(m.surface.assdMm)
                                        .arg(mean)));
                QVERIFY(m.surface.hd95Mm <= m.surface.hausdorffMm);
            }
        }
    }

    void anisotropicSpacingScalesDistances()
    {
        // Spacing (0.5, 2.0) mm: a shift of d pixels along x is 0.5 d mm, along y 2 d mm.
        const int d = 4;
        Image2D a = disc(96, 96, 40, 40, 20);
        Image2D bx = disc(96, 96, 40 + d, 40, 20);
        Image2D by = disc(96, 96, 40, 40 + d, 20);
        for (Image2D* img : {&a, &bx, &by}) {
            img->setSpacing({0.5, 2.0});
        }
        const CaseMetrics mx = computeCaseMetrics(a, bx);
        const CaseMetrics my = computeCaseMetrics(a, by);
        QCOMPARE(mx.surface.hausdorffMm, 0.5 * d);
        QCOMPARE(my.surface.hausdorffMm, 2.0 * d);
        // Overlap metrics do not depend on the spacing.
        Image2D a1 = a.clone(), bx1 = bx.clone();
        a1.setSpacing({1.0, 1.0});
        bx1.setSpacing({1.0, 1.0});
        const CaseMetrics iso = computeCaseMetrics(a1, bx1);
        QCOMPARE(iso.overlap.dice, mx.overlap.dice);
        QCOMPARE(iso.surface.hausdorffMm, double(d));
    }

    void threeDimensionalAnisotropicCase()
    {
        // Spacing (1, 1, 3): two voxels 2 slices apart are 6 mm apart, in every statistic.
        const std::array<std::int64_t, 3> size{5, 5, 5};
        BinaryMask pred(size, {1.0, 1.0, 3.0}, 3), ref(size, {1.0, 1.0, 3.0}, 3);
        pred.at(2, 2, 1) = 1;
        ref.at(2, 2, 3) = 1;
        const CaseMetrics single = computeCaseMetrics(pred, ref);
        QCOMPARE(single.surface.hausdorffMm, 6.0);
        QCOMPARE(single.surface.hd95Mm, 6.0);
        QCOMPARE(single.surface.assdMm, 6.0);

        // Balls shifted by 2 slices along z: HD = 2 * 3 mm exactly (same argument as the discs).
        const BinaryMask a = ball({40, 40, 24}, {1.0, 1.0, 3.0}, {20, 20, 10}, 8.0);
        const BinaryMask b = ball({40, 40, 24}, {1.0, 1.0, 3.0}, {20, 20, 12}, 8.0);
        const CaseMetrics m = computeCaseMetrics(a, b);
        QCOMPARE(m.surface.hausdorffMm, 6.0);
        QVERIFY(m.surface.hd95Mm > 0.0 && m.surface.hd95Mm <= 6.0);
        // The same from LabelMaps with a selected label (direction must not matter).
        Geometry g;
        g.spacing = {1.0, 1.0, 3.0};
        g.direction = {0, 1, 0, 1, 0, 0, 0, 0, 1};
        LabelMap la({40, 40, 24}, g), lb({40, 40, 24}, g);
        for (std::size_t n = 0; n < a.voxelCount(); ++n) {
            la.data<std::uint8_t>()[n] = a.data()[n] ? 2 : 0;
            lb.data<std::uint8_t>()[n] = b.data()[n] ? 2 : 1; // label 1 everywhere else
        }
        const CaseMetrics viaLabels = computeCaseMetrics(la, lb, LabelSelection::only(2));
        QCOMPARE(viaLabels.surface.hausdorffMm, 6.0);
        QCOMPARE(viaLabels.counts, m.counts);
        // "Any non-zero" turns lb into (almost) the whole volume.
        const CaseMetrics anyLabel = computeCaseMetrics(la, lb, LabelSelection::any());
        QCOMPARE(anyLabel.counts.tn, std::uint64_t(0));
    }

    void distanceTransformIsExact()
    {
        std::mt19937 rng(11);
        for (const auto& spacing :
             {std::array<double, 3>{1.0, 1.0, 1.0}, std::array<double, 3>{0.5, 2.0, 3.0},
              std::array<double, 3>{0.7, 1.3, 0.9}}) {
            const std::array<std::int64_t, 3> size{13, 9, 7};
            std::vector<std::uint8_t> sites(13 * 9 * 7, 0);
            for (int s = 0; s < 6; ++s) {
                sites[rng() % sites.size()] = 1;
            }
            const std::vector<double> dt = squaredDistanceTransform(sites.data(), size, spacing);
            std::size_t n = 0;
            for (std::int64_t k = 0; k < size[2]; ++k) {
                for (std::int64_t j = 0; j < size[1]; ++j) {
                    for (std::int64_t i = 0; i < size[0]; ++i, ++n) {
                        double best = std::numeric_limits<double>::infinity();
                        std::size_t m = 0;
                        for (std::int64_t kk = 0; kk < size[2]; ++kk) {
                            for (std::int64_t jj = 0; jj < size[1]; ++jj) {
                                for (std::int64_t ii = 0; ii < size[0]; ++ii, ++m) {
                                    if (sites[m]) {
                                        const double dx = (i - ii) * spacing[0],
                                                     dy = (j - jj) * spacing[1],
                                                     dz = (k - kk) * spacing[2];
                                        best = std::min(best, dx * dx + dy * dy + dz * dz);
                                    }
                                }
                            }
                        }
                        QVERIFY(std::abs(dt[n] - best) <= 1e-9 * std::max(1.0, best));
                    }
                }
            }
        }
        std::vector<std::uint8_t> none(8, 0);
        const std::vector<double> dt = squaredDistanceTransform(none.data(), {2, 2, 2}, {1, 1, 1});
        QVERIFY(std::isinf(dt[0]));
        QVERIFY_THROWS_EXCEPTION(Error,
                                 squaredDistanceTransform(none.data(), {2, 2, 2}, {1, 0, 1}));
        QVERIFY_THROWS_EXCEPTION(Error, squaredDistanceTransform(nullptr, {2, 2, 2}, {1, 1, 1}));
    }

    void surfaceDistancesMatchBruteForce()
    {
        for (unsigned seed = 1; seed <= 6; ++seed) {
            const bool threeD = seed % 2 == 0;
            const std::array<std::int64_t, 3> size = threeD
                                                         ? std::array<std::int64_t, 3>{17, 14, 11}
                                                         : std::array<std::int64_t, 3>{41, 33, 1};
            const std::array<double, 3> spacing = threeD ? std::array<double, 3>{1.0, 1.0, 3.0}
                                                         : std::array<double, 3>{0.5, 2.0, 1.0};
            const int dims = threeD ? 3 : 2;
            const BinaryMask p = randomBlobs(size, spacing, dims, seed);
            const BinaryMask r = randomBlobs(size, spacing, dims, seed + 100);
            const SurfaceDistanceSets sets = surfaceDistanceSets(p, r);
            compareSets(sets.predictionToReference, bruteDirected(p, r));
            compareSets(sets.referenceToPrediction, bruteDirected(r, p));
        }
    }

    void surfaceIsFaceConnectedWithBackgroundOutside()
    {
        // A 3x3 square in 2D has 8 surface pixels (the centre's 4 neighbours are foreground);
        // touching the image edge makes pixels surface too.
        BinaryMask m({5, 5, 1}, {1, 1, 1}, 2);
        for (int y = 1; y < 4; ++y) {
            for (int x = 1; x < 4; ++x) {
                m.at(x, y) = 1;
            }
        }
        QCOMPARE(surfaceVoxels(m).foregroundCount(), std::size_t(8));
        BinaryMask full({3, 3, 1}, {1, 1, 1}, 2);
        std::fill(full.data(), full.data() + 9, std::uint8_t(1));
        QCOMPARE(surfaceVoxels(full).foregroundCount(), std::size_t(8));
        // In 3D a one-slice slab is all surface (its faces touch the outside).
        BinaryMask slab({3, 3, 1}, {1, 1, 1}, 3);
        std::fill(slab.data(), slab.data() + 9, std::uint8_t(1));
        QCOMPARE(surfaceVoxels(slab).foregroundCount(), std::size_t(9));
    }

    void emptyPredictionReferenceAndBoth()
    {
        Image2D empty = blankMask(16, 16), lesion = blankMask(16, 16);
        fillRect(lesion, 4, 4, 9, 9); // 25 pixels

        const CaseMetrics both = computeCaseMetrics(empty, empty);
        QVERIFY(both.bothEmpty());
        QCOMPARE(both.overlap.dice, 1.0);
        QCOMPARE(both.overlap.iou, 1.0);
        QCOMPARE(both.overlap.specificity, 1.0);
        QCOMPARE(both.overlap.accuracy, 1.0);
        QVERIFY(isNaN(both.overlap.sensitivity) && isNaN(both.overlap.precision));
        QVERIFY(!both.surface.defined);
        QVERIFY(isNaN(both.surface.hd95Mm) && isNaN(both.surface.assdMm) &&
                isNaN(both.surface.hausdorffMm));

        const CaseMetrics noPred = computeCaseMetrics(empty, lesion);
        QVERIFY(noPred.predictionEmpty && !noPred.referenceEmpty);
        QCOMPARE(noPred.overlap.dice, 0.0);
        QCOMPARE(noPred.overlap.iou, 0.0);
        QCOMPARE(noPred.overlap.sensitivity, 0.0);
        QVERIFY(isNaN(noPred.overlap.precision));
        QCOMPARE(noPred.overlap.specificity, 1.0);
        QVERIFY(!noPred.surface.defined && isNaN(noPred.surface.hd95Mm));

        const CaseMetrics noRef = computeCaseMetrics(lesion, empty);
        QVERIFY(!noRef.predictionEmpty && noRef.referenceEmpty);
        QCOMPARE(noRef.overlap.dice, 0.0);
        QVERIFY(isNaN(noRef.overlap.sensitivity));
        QCOMPARE(noRef.overlap.precision, 0.0);
        QCOMPARE(noRef.overlap.specificity, (256.0 - 25.0) / 256.0);
        QVERIFY(!noRef.surface.defined && isNaN(noRef.surface.assdMm));

        // The BraTS script's convention: Dice 0 and HD95 50 whenever either mask is empty.
        MetricsOptions brats;
        brats.emptyConvention = EmptyConvention::BraTS;
        for (const auto& pr : {std::make_pair(&empty, &empty), std::make_pair(&empty, &lesion),
                               std::make_pair(&lesion, &empty)}) {
            const CaseMetrics m = computeCaseMetrics(*pr.first, *pr.second, brats);
            QCOMPARE(m.overlap.dice, 0.0);
            QCOMPARE(m.surface.hd95Mm, 50.0);
            QVERIFY(!m.surface.defined);
        }
        const CaseMetrics normal = computeCaseMetrics(lesion, lesion, brats);
        QCOMPARE(normal.overlap.dice, 1.0);
        QCOMPARE(normal.surface.hd95Mm, 0.0);
        brats.bratsEmptyHd95Mm = -1.0;
        QVERIFY_THROWS_EXCEPTION(Error, computeCaseMetrics(empty, lesion, brats));
    }

    void pooledDiffersFromPerCaseMean()
    {
        // Case A: a 10x10 lesion found exactly. Case B: a 1-pixel lesion missed, with one false
        // positive pixel. Per case Dice 1 and 0 (mean 0.5, population std 0.5); pooled over all
        // pixels TP 100, FP 1, FN 1: Dice 200 / 202.
        Image2D a = blankMask(32, 32);
        fillRect(a, 5, 5, 15, 15);
        Image2D bPred = blankMask(32, 32), bRef = blankMask(32, 32);
        bPred.at<std::uint8_t>(30, 30) = 1;
        bRef.at<std::uint8_t>(2, 2) = 1;
        MetricsAccumulator acc;
        acc.add(computeCaseMetrics(a, a, {}, "A"));
        acc.add(BinaryMask::fromImage(bPred, "B prediction"),
                BinaryMask::fromImage(bRef, "B reference"), "B");
        const MetricsSummary s = acc.summary();
        QCOMPARE(s.cases.size(), std::size_t(2));
        QCOMPARE(s.pooledCounts.tp, std::uint64_t(100));
        QCOMPARE(s.pooledCounts.fp, std::uint64_t(1));
        QCOMPARE(s.pooledCounts.fn, std::uint64_t(1));
        QCOMPARE(s.pooledCounts.total(), std::uint64_t(2 * 32 * 32));
        QCOMPARE(s.pooled.dice, 200.0 / 202.0);
        QCOMPARE(s.pooled.iou, 100.0 / 102.0);
        QCOMPARE(s.statistics(Metric::Dice).mean, 0.5);
        QCOMPARE(s.statistics(Metric::Dice).std, 0.5);
        QCOMPARE(s.statistics(Metric::Dice).defined, std::size_t(2));
        // HD of case B: (30,30) to (2,2) = 28 sqrt(2); case A: 0.
        QCOMPARE(s.statistics(Metric::Hausdorff).mean, 14.0 * std::sqrt(2.0));

        // NaNs are left out of the statistics and counted.
        acc.add(computeCaseMetrics(blankMask(32, 32), blankMask(32, 32), {}, "C"));
        const MetricsSummary s3 = acc.summary();
        QCOMPARE(s3.statistics(Metric::Hd95).defined, std::size_t(2));
        QCOMPARE(s3.statistics(Metric::Hd95).undefined, std::size_t(1));
        QCOMPARE(s3.statistics(Metric::Dice).mean, 2.0 / 3.0);
        QCOMPARE(s3.bothEmptyCases, std::size_t(1));
    }

    void reportsCarryEveryCaseAndUndefinedValues()
    {
        Image2D a = blankMask(8, 8), b = blankMask(8, 8);
        fillRect(a, 1, 1, 5, 5);
        fillRect(b, 2, 2, 6, 6);
        MetricsAccumulator acc;
        acc.add(computeCaseMetrics(a, b, {}, "lesion, \"one\""));
        acc.add(computeCaseMetrics(blankMask(8, 8), b, {}, "missed"));
        const MetricsSummary s = acc.summary();

        const std::string csv = metricsToCsv(s);
        const QStringList lines = QString::fromStdString(csv).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 1 + 2 + 3);
        QVERIFY(lines[0].startsWith("kind,case,tp,fp,tn,fn,dice,iou"));
        QVERIFY(lines[1].startsWith("case,\"lesion, \"\"one\"\"\",9,7,41,7,0.5625,"));
        QVERIFY(lines[2].contains(",NaN,"));
        QVERIFY(lines[3].startsWith("pooled,,9,7,"));
        QVERIFY(lines[4].startsWith("mean,"));
        QVERIFY(lines[5].startsWith("std,"));
        const int columns = lines[0].count(',');
        for (int i = 2; i < lines.size(); ++i) { // line 1 has commas inside its quoted name
            QCOMPARE(lines[i].count(','), columns);
        }

        const nlohmann::json j = metricsToJson(s);
        QCOMPARE(j["cases"].size(), std::size_t(2));
        QCOMPARE(j["cases"][0]["dice"].get<double>(), 0.5625);
        QVERIFY(j["cases"][1]["hd95_mm"].is_null());
        QCOMPARE(j["cases"][1]["prediction_empty"].get<bool>(), true);
        QCOMPARE(j["pooled"]["counts"]["tp"].get<int>(), 9);
        QCOMPARE(j["per_case"]["dice"]["defined"].get<int>(), 2);
        QCOMPARE(j["per_case"]["hd95_mm"]["undefined"].get<int>(), 1);
        QCOMPARE(j["empty_convention"].get<std::string>(), std::string("default"));

        const std::string table = metricsTable(s);
        QVERIFY(table.find("lesion, \"one\"") != std::string::npos);
        QVERIFY(table.find("n/a") != std::string::npos);
        QVERIFY(table.find("pooled (all pixels)") != std::string::npos);
        QVERIFY(table.find("0.5625") != std::string::npos);

        const QString dir = diffseg::test::scratchDir("metrics-report");
        const std::string csvPath = (dir + "/metrics.csv").toStdString();
        const std::string jsonPath = (dir + "/metrics.json").toStdString();
        writeMetricsCsv(csvPath, s);
        writeMetricsJson(jsonPath, s);
        QFile csvFile(QString::fromStdString(csvPath));
        QVERIFY(csvFile.open(QIODevice::ReadOnly));
        QCOMPARE(csvFile.readAll().toStdString(), csv);
        QFile jsonFile(QString::fromStdString(jsonPath));
        QVERIFY(jsonFile.open(QIODevice::ReadOnly));
        QCOMPARE(nlohmann::json::parse(jsonFile.readAll().toStdString()), j);
        const Error e =
            expectError([&] { writeMetricsCsv(dir.toStdString() + "/no/such/dir/x.csv", s); });
        QCOMPARE(e.kind(), ErrorKind::Io);
    }

    void badInputIsRejectedWithAMessage()
    {
        Image2D a = blankMask(10, 10), b = blankMask(12, 10);
        Error e = expectError([&] { computeCaseMetrics(a, b, {}, "case7"); });
        QCOMPARE(e.kind(), ErrorKind::Mismatch);
        QVERIFY2(std::strstr(e.what(), "10x10") && std::strstr(e.what(), "12x10"), e.what());

        Image2D grey = blankMask(10, 10);
        grey.at<std::uint8_t>(3, 4) = 255;
        e = expectError([&] { computeCaseMetrics(grey, a, {}, "case8"); });
        QCOMPARE(e.kind(), ErrorKind::InvalidValue);
        QVERIFY2(std::strstr(e.what(), "case8: prediction") && std::strstr(e.what(), "255") &&
                     std::strstr(e.what(), "(3, 4)"),
                 e.what());

        Image2D floats(10, 10, 1, PixelType::Float32);
        e = expectError([&] { computeCaseMetrics(a, floats); });
        QCOMPARE(e.kind(), ErrorKind::InvalidValue);
        QVERIFY(std::strstr(e.what(), "reference"));

        e = expectError([&] { computeCaseMetrics(Image2D(), a); });
        QCOMPARE(e.kind(), ErrorKind::InvalidValue);

        Image2D spaced = a.clone();
        spaced.setSpacing({0.5, 0.5});
        e = expectError([&] { computeCaseMetrics(spaced, a); });
        QCOMPARE(e.kind(), ErrorKind::Mismatch);
        QVERIFY(std::strstr(e.what(), "spacing"));

        Volume fl({4, 4, 4}, 1, PixelType::Float32);
        e = expectError([&] { BinaryMask::fromVolume(fl, LabelSelection::any(), "pred.nii"); });
        QVERIFY(std::strstr(e.what(), "pred.nii") && std::strstr(e.what(), "float32"));
        Volume two({4, 4, 4}, 2, PixelType::UInt8);
        QVERIFY_THROWS_EXCEPTION(Error, BinaryMask::fromVolume(two, LabelSelection::any(), "x"));
        QVERIFY_THROWS_EXCEPTION(Error, BinaryMask({0, 4, 1}, {1, 1, 1}, 2));
        QVERIFY_THROWS_EXCEPTION(Error, BinaryMask({4, 4, 2}, {1, 1, 1}, 2));
        QVERIFY_THROWS_EXCEPTION(Error, BinaryMask({4, 4, 1}, {1, kNaN, 1}, 2));
        // 2D against 3D of the same voxel count is a mismatch too.
        e = expectError([&] {
            computeCaseMetrics(BinaryMask({4, 4, 1}, {1, 1, 1}, 2),
                               BinaryMask({4, 4, 1}, {1, 1, 1}, 3));
        });
        QCOMPARE(e.kind(), ErrorKind::Mismatch);
    }
};

QTEST_GUILESS_MAIN(TestSegmentationMetrics)
#include "TestSegmentationMetrics.moc"
