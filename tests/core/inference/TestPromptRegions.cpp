// A background click grown over the region of its colour (withBackgroundRegions): what it marks,
// what it leaves alone, and its errors. Generated photos, no network.

#include "ExpectError.h"
#include "base/Error.h"
#include "inference/PromptRegions.h"

#include <QtTest>

#include <cstdint>
#include <cstring>

using namespace diffseg::core;
using diffseg::test::expectError;

namespace {

constexpr int kW = 120;
constexpr int kH = 80;

/// Skin everywhere, a brown lesion (x 20..59) and, touching it, an orange sticker (x 60..99),
/// both over rows 20..59, with a little pixel noise so that the 3 x 3 means matter.
Image2D stickerPhoto()
{
    Image2D photo(kW, kH, 3, PixelType::UInt8);
    for (int y = 0; y < kH; ++y) {
        for (int x = 0; x < kW; ++x) {
            std::uint8_t* p =
                photo.data<std::uint8_t>() + (static_cast<std::size_t>(y) * kW + x) * 3;
            const bool inside = y >= 20 && y < 60;
            const int noise = ((x * 7 + y * 13) % 9) - 4;
            int r = 225, g = 190, b = 170; // skin
            if (inside && x >= 20 && x < 60) {
                r = 120, g = 80, b = 60; // lesion
            } else if (inside && x >= 60 && x < 100) {
                r = 240, g = 140, b = 30; // sticker
            }
            p[0] = static_cast<std::uint8_t>(r + noise);
            p[1] = static_cast<std::uint8_t>(g + noise);
            p[2] = static_cast<std::uint8_t>(b + noise);
        }
    }
    return photo;
}

/// The model's mistake: lesion and sticker as one region.
Image2D lesionAndSticker()
{
    Image2D mask(kW, kH, 1, PixelType::UInt8);
    for (int y = 0; y < kH; ++y) {
        for (int x = 0; x < kW; ++x) {
            mask.at<std::uint8_t>(x, y) = (y >= 20 && y < 60 && x >= 20 && x < 100) ? 1 : 0;
        }
    }
    return mask;
}

int countLabel(const Image2D& map, std::uint8_t label, int x0, int x1, int y0, int y1)
{
    int n = 0;
    for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
            n += map.at<std::uint8_t>(x, y) == label ? 1 : 0;
        }
    }
    return n;
}

} // namespace

class TestPromptRegions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aBackgroundClickClearsTheRegionOfItsColour()
    {
        RefinePrompts prompts;
        prompts.clicks = {{80.5, 40.5, false}};
        prompts.clickRadius = 4.0;
        const RefinePrompts grown =
            withBackgroundRegions(prompts, stickerPhoto(), lesionAndSticker(), 30.0);
        QCOMPARE(grown.clicks.size(), std::size_t(1));
        QCOMPARE(grown.strokes.width(), kW);
        // The whole sticker, nothing of the lesion beside it, nothing outside the current mask.
        QCOMPARE(countLabel(grown.strokes, kPromptBackground, 60, 100, 20, 60), 40 * 40);
        QCOMPARE(countLabel(grown.strokes, kPromptBackground, 0, kW, 0, kH), 40 * 40);
        // Rasterised, the sticker is background and the click's disk too.
        const Image2D map = rasterizePrompts(grown, kW, kH, kW, kH);
        QCOMPARE(countLabel(map, kPromptBackground, 60, 100, 20, 60), 40 * 40);
        QCOMPARE(countLabel(map, kPromptUnknown, 20, 60, 20, 60), 40 * 40);
    }

    void lesionPromptsKeepWinning()
    {
        RefinePrompts prompts;
        prompts.clickRadius = 4.0;
        // A lesion click inside the sticker, after the background one: clicks win over strokes.
        prompts.clicks = {{80.5, 40.5, false}, {95.5, 25.5, true}};
        // A lesion stroke the user painted on the sticker stays a lesion stroke.
        prompts.strokes = Image2D(kW, kH, 1, PixelType::UInt8);
        std::memset(prompts.strokes.rawData(), 0, prompts.strokes.byteSize());
        for (int x = 62; x < 66; ++x) {
            prompts.strokes.at<std::uint8_t>(x, 50) = kPromptLesion;
        }
        const Image2D original = prompts.strokes.clone();
        const RefinePrompts grown =
            withBackgroundRegions(prompts, stickerPhoto(), lesionAndSticker(), 30.0);
        QCOMPARE(countLabel(grown.strokes, kPromptLesion, 62, 66, 50, 51), 4);
        QCOMPARE(countLabel(original, kPromptBackground, 0, kW, 0, kH), 0); // the input untouched
        const Image2D map = rasterizePrompts(grown, kW, kH, kW, kH);
        QCOMPARE(int(map.at<std::uint8_t>(95, 25)), int(kPromptLesion));
        QCOMPARE(int(map.at<std::uint8_t>(63, 50)), int(kPromptLesion));
        QCOMPARE(int(map.at<std::uint8_t>(75, 45)), int(kPromptBackground));
    }

    void clicksOffTheLesionAndAZeroToleranceChangeNothing()
    {
        RefinePrompts prompts;
        prompts.clickRadius = 4.0;
        prompts.clicks = {{10.5, 70.5, false}, {40.5, 40.5, true}}; // skin, and a lesion click
        const RefinePrompts off =
            withBackgroundRegions(prompts, stickerPhoto(), lesionAndSticker(), 30.0);
        QVERIFY(off.strokes.empty() ||
                countLabel(off.strokes, kPromptBackground, 0, kW, 0, kH) == 0);
        // On the current outline's edge (the ring around the disk is partly skin) the click
        // corrects the outline: its disk alone.
        prompts.clicks = {{97.5, 40.5, false}};
        const RefinePrompts edge =
            withBackgroundRegions(prompts, stickerPhoto(), lesionAndSticker(), 30.0);
        QVERIFY(edge.strokes.empty() ||
                countLabel(edge.strokes, kPromptBackground, 0, kW, 0, kH) == 0);
        prompts.clicks = {{80.5, 40.5, false}};
        QVERIFY(withBackgroundRegions(prompts, stickerPhoto(), lesionAndSticker(), 0.0)
                    .strokes.empty());
        QVERIFY(withBackgroundRegions(prompts, stickerPhoto(), Image2D(), 30.0).strokes.empty());
        // A tolerance wide enough for brown and orange alike takes the lesion too, as far as the
        // click's reach: twice its depth in the mask (20: the mask's edge at x = 100), so the
        // lesion's columns from x = 40 on.
        const RefinePrompts wide =
            withBackgroundRegions(prompts, stickerPhoto(), lesionAndSticker(), 250.0);
        QCOMPARE(countLabel(wide.strokes, kPromptBackground, 60, 100, 20, 60), 40 * 40);
        QCOMPARE(countLabel(wide.strokes, kPromptBackground, 20, 40, 20, 60), 0);
        QVERIFY(countLabel(wide.strokes, kPromptBackground, 40, 60, 20, 60) > 20 * 20);
    }

    void aRegionStopsAtTwiceTheClickDepth()
    {
        // The failure this bound is for: the model took in a band of skin above a pale lesion of
        // nearly the skin's colour (within the tolerance), and the user clicks that band. The
        // region must not run over the whole lesion.
        constexpr int w = 200;
        constexpr int h = 200;
        Image2D photo(w, h, 3, PixelType::UInt8);
        Image2D mask(w, h, 1, PixelType::UInt8);
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
                std::uint8_t* p =
                    photo.data<std::uint8_t>() + (static_cast<std::size_t>(y) * w + x) * 3;
                const bool lesion = y >= 40 && y < 190 && x >= 20 && x < 180;
                p[0] = lesion ? 205 : 225; // pale lesion: 20 from the skin in red alone
                p[1] = 190;
                p[2] = 170;
                mask.at<std::uint8_t>(x, y) = (y >= 10 && y < 190 && x >= 10 && x < 190) ? 1 : 0;
            }
        }
        RefinePrompts prompts;
        prompts.clickRadius = 4.0;
        prompts.clicks = {{100.5, 29.5, false}}; // 20 below the mask's top edge (row 9)
        const RefinePrompts grown = withBackgroundRegions(prompts, photo, mask, 30.0);
        QVERIFY(!grown.strokes.empty());
        int inside = 0;
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
                if (grown.strokes.at<std::uint8_t>(x, y) != kPromptBackground) {
                    continue;
                }
                const double dx = x + 0.5 - 100.5;
                const double dy = y + 0.5 - 29.5;
                QVERIFY2(dx * dx + dy * dy <= 40.0 * 40.0 + 1e-9, "beyond twice the depth");
                ++inside;
            }
        }
        // Past the skin band, into the lesion as far as the reach, and no farther: the disk of
        // radius 40 around the click within the mask holds about 3,900 pixels; the lesion from
        // row 70 on none.
        QVERIFY(inside > 3000);
        QCOMPARE(countLabel(grown.strokes, kPromptBackground, 0, w, 70, h), 0);
    }

    void badInputIsNamed()
    {
        RefinePrompts prompts;
        prompts.clicks = {{80.5, 40.5, false}};
        QCOMPARE(expectError([&] {
                     withBackgroundRegions(prompts, stickerPhoto(), lesionAndSticker(), -1.0);
                 }).kind(),
                 ErrorKind::InvalidValue);
        QCOMPARE(expectError([&] {
                     withBackgroundRegions(prompts, stickerPhoto(),
                                           Image2D(10, 10, 1, PixelType::UInt8), 30.0);
                 }).subject(),
                 std::string("current mask"));
        QCOMPARE(expectError([&] {
                     withBackgroundRegions(prompts, Image2D(kW, kH, 1, PixelType::UInt8),
                                           lesionAndSticker(), 30.0);
                 }).kind(),
                 ErrorKind::Mismatch);
    }
};

QTEST_GUILESS_MAIN(TestPromptRegions)
#include "TestPromptRegions.moc"
