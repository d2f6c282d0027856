#include "segmentation/MaskEditor.h"
#include "segmentation/UncertainRegions.h"

#include <QtTest>

#include <cstring>
#include <random>

using namespace diffseg::core;

namespace {

std::size_t countValue(const LabelCanvas& c, int value)
{
    std::size_t n = 0;
    for (std::int64_t k = 0; k < c.size()[2]; ++k) {
        for (std::int64_t j = 0; j < c.size()[1]; ++j) {
            for (std::int64_t i = 0; i < c.size()[0]; ++i) {
                n += c.get(i, j, k) == value ? 1 : 0;
            }
        }
    }
    return n;
}

/// An empty uint8 mask, its undo history and an editor on both: what most tests start from.
struct EditedMask
{
    Image2D mask;
    UndoStack undo;
    MaskEditor editor;

    EditedMask(int width, int height)
        : mask(width, height, 1, PixelType::UInt8)
        , editor(LabelCanvas(mask), undo)
    {}
};

bool sameBytes(const Image2D& a, const Image2D& b)
{
    return a.byteSize() == b.byteSize() && std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

} // namespace

class TestMaskEditor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void strokeIsOneUndoStepAndUndoRestoresExactly()
    {
        EditedMask fixture(200, 100);
        auto& [mask, undo, editor] = fixture;
        const Image2D original = mask.clone();

        editor.beginStroke("Brush");
        for (int x = 20; x <= 180; x += 8) {
            editor.strokeTo(x, 50, 5.0, 1);
        }
        const IndexBox changed = editor.endStroke();
        QCOMPARE(undo.size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(undo.undoTitle()), QStringLiteral("Brush"));
        // A continuous band without gaps: every column between the ends is painted at row 50.
        for (int x = 20; x <= 180; ++x) {
            QVERIFY2(mask.at<std::uint8_t>(x, 50) == 1, qPrintable(QString::number(x)));
        }
        QVERIFY(changed.lo[0] <= 16 && changed.hi[0] >= 184);
        const Image2D painted = mask.clone();

        editor.undo();
        QVERIFY(sameBytes(mask, original));
        QCOMPARE(QString::fromStdString(undo.redoTitle()), QStringLiteral("Brush"));
        editor.redo();
        QVERIFY(sameBytes(mask, painted));
    }

    void gesturesThatChangeNothingAddNoStep()
    {
        EditedMask fixture(50, 50);
        auto& [mask, undo, editor] = fixture;
        editor.beginStroke("Eraser");
        editor.strokeTo(25, 25, 4.0, 0);
        QVERIFY(editor.endStroke().empty());
        QVERIFY(editor.floodFill({}, 10, 10, 0).empty());
        QCOMPARE(undo.size(), std::size_t(0));
    }

    void newEditDropsTheRedoBranch()
    {
        EditedMask fixture(40, 40);
        auto& [mask, undo, editor] = fixture;
        editor.beginStroke("Brush");
        editor.stamp(10, 10, 3, 1);
        editor.endStroke();
        editor.beginStroke("Brush");
        editor.stamp(30, 30, 3, 1);
        editor.endStroke();
        editor.undo();
        QVERIFY(undo.canRedo());
        editor.fillPolygon({}, {{0, 0}, {5, 0}, {5, 5}}, 1, "Polygon");
        QVERIFY(!undo.canRedo());
        QCOMPARE(QString::fromStdString(undo.undoTitle()), QStringLiteral("Polygon"));
        QCOMPARE(undo.size(), std::size_t(2));
    }

    void brushFollowsAnisotropicSpacing()
    {
        Image2D mask(101, 101, 1, PixelType::UInt8);
        mask.setSpacing({0.5, 2.0});
        UndoStack undo;
        MaskEditor editor(LabelCanvas(mask), undo);
        editor.beginStroke("Brush");
        editor.stamp(50.5, 50.5, 10.0, 1); // 10 mm = 20 px along x, 5 px along y
        editor.endStroke();
        QCOMPARE(mask.at<std::uint8_t>(50 + 19, 50), std::uint8_t(1));
        QCOMPARE(mask.at<std::uint8_t>(50 + 21, 50), std::uint8_t(0));
        QCOMPARE(mask.at<std::uint8_t>(50, 50 + 4), std::uint8_t(1));
        QCOMPARE(mask.at<std::uint8_t>(50, 50 + 6), std::uint8_t(0));
    }

    void polygonFillsPixelCentresInside()
    {
        EditedMask fixture(20, 20);
        auto& [mask, undo, editor] = fixture;
        // The square [2,12) x [3,8): exactly 10 x 5 pixel centres inside.
        editor.fillPolygon({}, {{2, 3}, {12, 3}, {12, 8}, {2, 8}}, 1);
        LabelCanvas c(mask);
        QCOMPARE(countValue(c, 1), std::size_t(50));
        QCOMPARE(mask.at<std::uint8_t>(2, 3), std::uint8_t(1));
        QCOMPARE(mask.at<std::uint8_t>(11, 7), std::uint8_t(1));
        QCOMPARE(mask.at<std::uint8_t>(12, 7), std::uint8_t(0));
        // A concave "C" shape: its notch stays empty (even-odd rule).
        Image2D c2(20, 20, 1, PixelType::UInt8);
        MaskEditor e2(LabelCanvas(c2), undo);
        e2.fillPolygon({}, {{0, 0}, {10, 0}, {10, 3}, {3, 3}, {3, 7}, {10, 7}, {10, 10}, {0, 10}},
                       1);
        QCOMPARE(c2.at<std::uint8_t>(5, 5), std::uint8_t(0));
        QCOMPARE(c2.at<std::uint8_t>(1, 5), std::uint8_t(1));
    }

    void floodFillStopsAtOtherLabels()
    {
        EditedMask fixture(30, 30);
        auto& [mask, undo, editor] = fixture;
        // A closed ring, then fill its inside.
        editor.beginStroke("Brush");
        for (int a = 0; a <= 72; ++a) {
            const double t = a * 3.14159265358979 / 36;
            editor.strokeTo(15 + 10 * std::cos(t), 15 + 10 * std::sin(t), 1.0, 1);
        }
        editor.endStroke();
        const std::size_t ring = countValue(LabelCanvas(mask), 1);
        editor.floodFill({}, 15, 15, 1, "Fill");
        const std::size_t filled = countValue(LabelCanvas(mask), 1);
        QVERIFY(filled > ring + 200);
        QCOMPARE(mask.at<std::uint8_t>(1, 1), std::uint8_t(0)); // outside untouched
        QCOMPARE(undo.size(), std::size_t(2));
    }

    void acceptingAnAiResultIsOneStep()
    {
        EditedMask fixture(64, 48);
        auto& [mask, undo, editor] = fixture;
        std::vector<std::uint16_t> ai(64 * 48, 0);
        for (int y = 10; y < 30; ++y) {
            for (int x = 5; x < 40; ++x) {
                ai[y * 64 + x] = 1;
            }
        }
        const IndexBox box = editor.replaceAll(ai, "Accept AI result");
        QCOMPARE(box.lo[0], std::int64_t(5));
        QCOMPARE(box.hi[1], std::int64_t(30));
        QCOMPARE(QString::fromStdString(undo.undoTitle()), QStringLiteral("Accept AI result"));
        editor.undo();
        QCOMPARE(countValue(LabelCanvas(mask), 1), std::size_t(0));
        QVERIFY_THROWS_EXCEPTION(Error, editor.replaceAll(std::vector<std::uint16_t>(10, 0)));
    }

    void editsOneSliceOfA3dLabelMap()
    {
        Geometry g;
        g.spacing = {1.0, 1.0, 3.0};
        LabelMap labels({40, 30, 20}, g, PixelType::UInt16);
        UndoStack undo;
        MaskEditor editor(LabelCanvas(labels), undo);
        // Coronal slice j = 12: plane (u, v) = (i, k); 3 mm slices, so a 6 mm brush is 2 voxels in
        // k.
        editor.beginStroke("Brush", {1, 12});
        editor.stamp(20.5, 10.5, 6.0, 300);
        const IndexBox changed = editor.endStroke();
        QCOMPARE(changed.lo[1], std::int64_t(12));
        QCOMPARE(changed.hi[1], std::int64_t(13));
        QCOMPARE(labels.data<std::uint16_t>()[labels.linearIndex(20, 12, 10)], std::uint16_t(300));
        QCOMPARE(labels.data<std::uint16_t>()[labels.linearIndex(20, 12, 12)], std::uint16_t(300));
        QCOMPARE(labels.data<std::uint16_t>()[labels.linearIndex(20, 12, 13)], std::uint16_t(0));
        QCOMPARE(labels.data<std::uint16_t>()[labels.linearIndex(20, 11, 10)], std::uint16_t(0));
        editor.undo();
        QCOMPARE(countValue(LabelCanvas(labels), 300), std::size_t(0));
        QVERIFY_THROWS_EXCEPTION(Error, editor.beginStroke("Brush", {2, 99}));
        Image2D mask(4, 4, 1, PixelType::UInt8);
        MaskEditor small(LabelCanvas(mask), undo);
        small.beginStroke("Brush");
        QVERIFY_THROWS_EXCEPTION(Error, small.stamp(1, 1, 1, 256));
    }

    void historyRespectsItsMemoryBudget()
    {
        Image2D mask(256, 256, 1, PixelType::UInt8);
        UndoStack undo(64 * 1024, 3);
        MaskEditor editor(LabelCanvas(mask), undo);
        std::mt19937 rng(1);
        std::vector<std::uint16_t> noise(256 * 256);
        for (int i = 0; i < 12; ++i) {
            // Random labels compress badly: each step is large.
            for (auto& v : noise) {
                v = rng() & 1;
            }
            editor.replaceAll(noise, "Noise " + std::to_string(i));
        }
        QVERIFY(undo.size() >= 3);
        QVERIFY(undo.size() < 12);
        QCOMPARE(QString::fromStdString(undo.undoTitle()), QStringLiteral("Noise 11"));
        // Deltas of compact strokes are tiny.
        UndoStack small;
        Image2D big(4000, 3000, 1, PixelType::UInt8);
        MaskEditor e2(LabelCanvas(big), small);
        e2.beginStroke("Brush");
        e2.strokeTo(100, 100, 20, 1);
        e2.strokeTo(3900, 2900, 20, 1);
        e2.endStroke();
        QVERIFY2(small.bytes() < 2 * 1024 * 1024, qPrintable(QString::number(small.bytes())));
    }

    void cancelRestoresTheStroke()
    {
        EditedMask fixture(32, 32);
        auto& [mask, undo, editor] = fixture;
        editor.beginStroke("Brush");
        editor.strokeTo(5, 5, 3, 1);
        editor.strokeTo(25, 25, 3, 1);
        QVERIFY(!editor.cancelStroke().empty());
        QCOMPARE(countValue(LabelCanvas(mask), 1), std::size_t(0));
        QCOMPARE(undo.size(), std::size_t(0));
    }

    void findsUncertainRegionsLargestFirst()
    {
        Image2D map(50, 40, 1, PixelType::Float32);
        for (int y = 5; y < 10; ++y) {
            for (int x = 5; x < 10; ++x) {
                map.at<float>(x, y) = 0.9f; // 25 px
            }
        }
        for (int y = 20; y < 30; ++y) {
            for (int x = 30; x < 40; ++x) {
                map.at<float>(x, y) = 0.7f; // 100 px
            }
        }
        map.at<float>(45, 2) = 0.8f; // 1 px, below minVoxels
        const auto regions = findUncertainRegions(map, 0.5f, 2);
        QCOMPARE(regions.size(), std::size_t(2));
        QCOMPARE(regions[0].voxels, std::size_t(100));
        QCOMPARE(regions[0].centroid[0], 35.0);
        QCOMPARE(regions[0].centroid[1], 25.0);
        QVERIFY(std::abs(regions[0].meanValue - 0.7) < 1e-6);
        QCOMPARE(regions[1].voxels, std::size_t(25));
        Image2D wrong(4, 4, 1, PixelType::UInt8);
        QVERIFY_THROWS_EXCEPTION(Error, findUncertainRegions(wrong, 0.5f));
    }
};

QTEST_GUILESS_MAIN(TestMaskEditor)
#include "TestMaskEditor.moc"
