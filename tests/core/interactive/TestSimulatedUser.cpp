// The simulated user of the interactive benchmark: where its clicks go (the centre of the largest
// error region, positive on misses, negative on additions, the border counting as boundary), its
// course over N clicks and NoC, the click disks, and GrabCut as the classical baseline
// (deterministic, better with clicks than without on a generated photo).

#include "base/Error.h"
#include "data/DemoData.h"
#include "interactive/GrabCutBaseline.h"
#include "interactive/SimulatedUser.h"
#include "interactive/SimulatedUser3D.h"
#include "metrics/ForegroundOverlap.h"

#include <QtTest>

#include <cstring>

using namespace diffseg::core;

namespace {

Image2D rectangle(int w, int h, int x0, int y0, int x1, int y1)
{
    Image2D m(w, h, 1, PixelType::UInt8);
    for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
            m.data<std::uint8_t>()[static_cast<std::size_t>(y) * w + x] = 1;
        }
    }
    return m;
}

Image2D unite(const Image2D& a, const Image2D& b)
{
    Image2D out = a.clone();
    for (std::size_t i = 0; i < out.pixelCount(); ++i) {
        out.data<std::uint8_t>()[i] |= b.data<std::uint8_t>()[i];
    }
    return out;
}

} // namespace

class TestSimulatedUser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void clicksGoToTheCentreOfTheLargestError()
    {
        const Image2D truth = rectangle(100, 80, 20, 10, 61, 51); // 41 x 41, centre (40, 30)
        const Image2D empty(100, 80, 1, PixelType::UInt8);
        std::optional<PromptClick> c = nextSimulatedClick(empty, truth);
        QVERIFY(c && c->lesion);
        QCOMPARE(c->x, 40.5);
        QCOMPARE(c->y, 30.5);

        // The result adds a 30 x 30 blob on the skin, larger than the miss (a 10 x 10 corner).
        Image2D result =
            unite(rectangle(100, 80, 20, 10, 61, 51), rectangle(100, 80, 65, 40, 95, 70));
        for (int y = 10; y < 20; ++y) {
            for (int x = 20; x < 30; ++x) {
                result.data<std::uint8_t>()[static_cast<std::size_t>(y) * 100 + x] = 0;
            }
        }
        c = nextSimulatedClick(result, truth);
        QVERIFY(c && !c->lesion);
        QCOMPARE(c->x, 79.5); // the blob's centre: 15 pixels from each side
        QCOMPARE(c->y, 54.5);

        // A miss touching the photo's border: the border is boundary, so the click keeps off it.
        const Image2D edge = rectangle(100, 80, 0, 0, 21, 80);
        c = nextSimulatedClick(empty, edge);
        QVERIFY(c && c->lesion);
        QCOMPARE(c->x, 10.5);

        QVERIFY(!nextSimulatedClick(truth, truth));
        bool threw = false;
        try {
            nextSimulatedClick(Image2D(10, 10, 1, PixelType::UInt8), truth);
        } catch (const Error& e) {
            threw = e.kind() == ErrorKind::Mismatch;
        }
        QVERIFY(threw);
    }

    void courseCountsClicksUntilATarget()
    {
        const Image2D truth = rectangle(120, 120, 30, 30, 90, 90);
        const Image2D photo(120, 120, 3, PixelType::UInt8);
        // Clicks alone: each click adds a disk inside the lesion.
        const InteractiveCourse disks = playSimulatedUser(
            photo, truth, 4,
            [](const Image2D& p, const Image2D&, const std::vector<PromptClick>& clicks) {
                return clickDiskMask(p.width(), p.height(), clicks, 12.0);
            });
        QCOMPARE(disks.dice.size(), std::size_t(5));
        QCOMPARE(disks.dice[0], 0.0);
        QCOMPARE(disks.clicks.size(), std::size_t(4));
        QCOMPARE(disks.clickSeconds.size(), std::size_t(4));
        for (std::size_t k = 1; k < disks.dice.size(); ++k) {
            QVERIFY(disks.dice[k] > disks.dice[k - 1]);
        }
        for (const PromptClick& c : disks.clicks) {
            QVERIFY(c.lesion);
        }
        QCOMPARE(disks.clicksTo(0.0), 0);
        QCOMPARE(disks.clicksTo(0.99), 4); // never reached: N

        // A method that is right from the start gets no click, and its Dice is carried forward.
        const InteractiveCourse perfect =
            playSimulatedUser(photo, truth, 3,
                              [&truth](const Image2D&, const Image2D&,
                                       const std::vector<PromptClick>&) { return truth; });
        QCOMPARE(perfect.dice, (std::vector<double>{1.0, 1.0, 1.0, 1.0}));
        QVERIFY(perfect.clicks.empty());
        QCOMPARE(perfect.clicksTo(0.9), 0);
    }

    void clickDisksFollowTheirOrder()
    {
        const std::vector<PromptClick> clicks = {{50.5, 50.5, true}, {50.5, 50.5, false}};
        const Image2D m = clickDiskMask(100, 100, clicks, 5.0);
        QCOMPARE(foregroundDice(m, Image2D(100, 100, 1, PixelType::UInt8)), 1.0); // erased again
        const Image2D one = clickDiskMask(100, 100, {clicks[0]}, 5.0);
        QCOMPARE(one.data<std::uint8_t>()[50 * 100 + 50], std::uint8_t(1));
        QCOMPARE(one.data<std::uint8_t>()[50 * 100 + 60], std::uint8_t(0));
    }

    void volumeClicksGoToTheCentreOfTheLargestError()
    {
        // A 9 x 9 x 9 cube of class 2 in a 20 x 16 x 12 grid with 2 mm slices: the click goes into
        // the cube, 5 mm from its sides; an added blob elsewhere is smaller, so it waits.
        Geometry g;
        g.spacing = {1.0, 1.0, 2.0};
        LabelMap truth({20, 16, 12}, g);
        LabelMap prediction({20, 16, 12}, g);
        for (int k = 2; k < 11; ++k) {
            for (int j = 3; j < 12; ++j) {
                for (int i = 4; i < 13; ++i) {
                    truth.data<std::uint8_t>()[truth.linearIndex(i, j, k)] = 2;
                }
            }
        }
        prediction.data<std::uint8_t>()[prediction.linearIndex(18, 1, 1)] = 1;
        std::optional<VolumeClick> c = nextSimulatedClick3D(prediction, truth);
        QVERIFY(c);
        QCOMPARE(c->label, 2);
        // In mm: 5 from the sides in x and y; in z (2 mm slices) 5 or more for k = 4..8: the first.
        QCOMPARE(c->index, (std::array<double, 3>{8.5, 7.5, 4.5}));
        // Once the cube is right, the blob is the error: a background click on it.
        LabelMap right = LabelMap::fromVolume(truth.clone());
        right.data<std::uint8_t>()[right.linearIndex(18, 1, 1)] = 1;
        c = nextSimulatedClick3D(right, truth);
        QVERIFY(c);
        QCOMPARE(c->label, 0);
        QCOMPARE(c->index, (std::array<double, 3>{18.5, 1.5, 1.5}));
        QVERIFY(!nextSimulatedClick3D(truth, truth));

        // The spheres alone grow the overlap with every click.
        const Volume image({20, 16, 12}, 1, PixelType::Float32, g);
        const InteractiveVolumeCourse course = playSimulatedUser3D(
            image, truth, 3,
            [](const Volume& v, const LabelMap&, const std::vector<VolumeClick>& clicks) {
                VolumePrompts prompts;
                prompts.clicks = clicks;
                prompts.radiusMm = 3.0;
                LabelMap known = rasterizeVolumePrompts(prompts, v);
                for (std::size_t i = 0; i < known.voxelCount(); ++i) {
                    std::uint8_t& k = known.data<std::uint8_t>()[i];
                    k = k > 0 ? static_cast<std::uint8_t>(k - 1) : 0;
                }
                return known;
            });
        QCOMPARE(course.dice.size(), std::size_t(4));
        QCOMPARE(course.dice[0], 0.0);
        QVERIFY(course.dice[1] > 0.0);
        QVERIFY(course.dice[3] > course.dice[1]);
        QCOMPARE(clicksToReach(course.dice, 0.99), 3);
    }

    void grabCutIsDeterministicAndLearnsFromClicks()
    {
        const DermoscopyDemo demo = generateDermoscopyDemo(128, 96, 21);
        const std::array<int, 4> box = insetBox(128, 96);
        QCOMPARE(box, (std::array<int, 4>{6, 5, 122, 91}));
        const Image2D a = grabCutSegment(demo.image, box, {});
        const Image2D b = grabCutSegment(demo.image, box, {});
        QVERIFY(std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0);
        const double start = foregroundDice(a, demo.mask);
        const InteractiveCourse course = playSimulatedUser(
            demo.image, demo.mask, 5,
            [&box](const Image2D& p, const Image2D&, const std::vector<PromptClick>& clicks) {
                return grabCutSegment(p, box, clicks);
            });
        QCOMPARE(course.dice[0], start);
        qInfo("GrabCut on a generated photo: Dice %.3f at the start, %.3f after 5 clicks", start,
              course.dice.back());
        QVERIFY(course.dice.back() >= start);
        QVERIFY(course.dice.back() > 0.6);
        // A large photo is cut at a smaller size and the result comes back at the photo's size,
        // close to the full-size cut.
        const DermoscopyDemo big = generateDermoscopyDemo(480, 360, 21);
        const Image2D full = grabCutSegment(big.image, insetBox(480, 360), {}, 0.0, 5, 0);
        const Image2D cut = grabCutSegment(big.image, insetBox(480, 360), {}, 0.0, 5, 160);
        QCOMPARE(cut.width(), 480);
        QCOMPARE(cut.height(), 360);
        qInfo("GrabCut at 160 px against full size: Dice %.3f", foregroundDice(cut, full));
        QVERIFY(foregroundDice(cut, full) > 0.8);
        bool threw = false;
        try {
            grabCutSegment(demo.mask, box, {});
        } catch (const Error& e) {
            threw = e.kind() == ErrorKind::InvalidValue;
        }
        QVERIFY(threw);
    }
};

QTEST_GUILESS_MAIN(TestSimulatedUser)
#include "TestSimulatedUser.moc"
