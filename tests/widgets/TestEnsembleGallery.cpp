#include "GuiTestSupport.h"
#include "ImageCompare.h"
#include "TestSupport.h"
#include "base/SampleData.h"
#include "steps/EnsembleGallery.h"

#include <QSignalSpy>
#include <QtTest>

using diffseg::widgets::EnsembleGallery;
namespace core = diffseg::core;

class TestEnsembleGallery : public QObject
{
    Q_OBJECT

private:
    /// Three members: the true mask, and two copies shifted by +-6 pixels.
    static std::vector<core::Image2D> members(const core::Image2D& truth)
    {
        std::vector<core::Image2D> out;
        for (int shift : {0, 6, -6}) {
            core::Image2D m(truth.width(), truth.height(), 1, core::PixelType::UInt8);
            for (int y = 0; y < truth.height(); ++y) {
                for (int x = 0; x < truth.width(); ++x) {
                    const int sx = x - shift;
                    m.at<std::uint8_t>(x, y) =
                        sx >= 0 && sx < truth.width() ? truth.at<std::uint8_t>(sx, y) : 0;
                }
            }
            out.push_back(m);
        }
        return out;
    }

private Q_SLOTS:
    void agreementAndConsensusAreVotes()
    {
        const auto sample = core::makeSampleLesion(128, 3);
        const auto ms = members(sample.mask);
        EnsembleGallery gallery;
        gallery.setEnsemble(sample.image, ms);
        QCOMPARE(gallery.members(), 3);
        for (int y = 0; y < 128; y += 3) {
            for (int x = 0; x < 128; x += 3) {
                int votes = 0;
                for (const auto& m : ms) {
                    votes += m.at<std::uint8_t>(x, y);
                }
                QCOMPARE(gallery.agreement().at<float>(x, y), votes / 3.0f);
                QCOMPARE(int(gallery.consensus().at<std::uint8_t>(x, y)), votes >= 2 ? 1 : 0);
            }
        }
        QVERIFY(gallery.meanPairwiseDice() < 1.0 && gallery.meanPairwiseDice() > 0.7);
        core::Image2D wrong(10, 10, 1, core::PixelType::UInt8);
        QVERIFY_THROWS_EXCEPTION(core::Error, gallery.setEnsemble(sample.image, {wrong}));
    }

    void tilesAreClickableAndLookRight()
    {
        const auto sample = core::makeSampleLesion(128, 3);
        EnsembleGallery gallery;
        gallery.setFixedSize(560, 130);
        gallery.setEnsemble(sample.image, members(sample.mask));
        gallery.show();
        QVERIFY(QTest::qWaitForWindowExposed(&gallery));
        QSignalSpy clicks(&gallery, &EnsembleGallery::tileClicked);
        QTest::mouseClick(&gallery, Qt::LeftButton, {}, QPoint(20, 40));
        QCOMPARE(clicks.count(), 1);
        QCOMPARE(clicks.last().at(0).toInt(), 0);
        const QImage shot = gallery.grab().toImage();
        // Captions are text: compare with a tolerance that ignores font rasterisation.
        const QString failure =
            diffseg::test::checkAgainstBaseline(shot, "EnsembleGallery", 0.03, 0.05);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }
};

DIFFSEG_GUI_TEST_MAIN(TestEnsembleGallery)

#include "TestEnsembleGallery.moc"
