// The full DermoSegDiff networks: parameter counts and the widths of the spec's tables (§A4.4).
// Weights are allocated but not initialised, to keep the test quick; no forward runs here (the
// benchmark does that).

#include "NetworkTestSupport.h"
#include "TestSupport.h"
#include "engine/model/DermoSegDiff.h"

#include <QtTest>

using namespace diffseg::core::engine;

class TestDermoSegDiffSizes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void isicAndPh2NetworkHas321MParameters()
    {
        const DermoSegDiff model(DermoSegDiffConfig::isic2018(), WeightInit::None);
        QCOMPARE(model->parameterCount(), std::int64_t(321181377));
        QVERIFY(DermoSegDiffConfig::ph2() == DermoSegDiffConfig::isic2018());
        // Rows of the spec's tables: EM widths, Down_g/Down_x, the last level's 3x3 convs, the
        // bottleneck (GN 4), decoder RB inputs, Upsample, and the final block.
        diffseg::test::verifyShapes(
            diffseg::test::parameterShapes(*model),
            {{"encoder_blocks.0.1.1.weight", {64, 768, 1, 1}},
             {"encoder_blocks.0.2.1.weight", {128, 512, 1, 1}},
             {"encoder_blocks.4.1.1.weight", {1024, 4096, 1, 1}},
             {"encoder_blocks.4.2.1.weight", {640, 2048, 1, 1}},
             {"encoder_blocks.5.0.rb_g2.rb.block1.proj.weight", {1024, 1664, 3, 3}},
             {"encoder_blocks.5.1.weight", {2048, 1664, 3, 3}},
             {"encoder_blocks.5.2.weight", {768, 640, 3, 3}},
             {"bottleneck.rb_before.rb.block1.proj.weight", {768, 2816, 3, 3}},
             {"bottleneck.rb_after.rb.block1.proj.weight", {768, 1536, 3, 3}},
             {"bottleneck.rb_before.rb.block1.norm.weight", {768}},
             {"decoder_blocks.0.0.rb_d1.rb.block1.proj.weight", {768, 2432, 3, 3}},
             {"decoder_blocks.1.0.rb_d2.rb.block1.proj.weight", {640, 1664, 3, 3}},
             {"decoder_blocks.4.0.rb_d1.rb.block1.proj.weight", {256, 448, 3, 3}},
             {"decoder_blocks.5.0.rb_d1.rb.block1.proj.weight", {128, 320, 3, 3}},
             {"decoder_blocks.0.1.1.weight", {640, 768, 3, 3}},
             {"decoder_blocks.4.1.1.weight", {128, 256, 3, 3}},
             {"decoder_blocks.5.1.weight", {128, 128, 3, 3}},
             {"final_rb.rb.block1.proj.weight", {128, 320, 3, 3}},
             {"final_conv.weight", {1, 128, 1, 1}},
             {"time_mlp_x.3.weight", {512, 512}},
             {"time_mlp_g.3.weight", {256, 256}}});
    }

    void ham10000NetworkHas158MParameters()
    {
        const DermoSegDiff model(DermoSegDiffConfig::ham10000(), WeightInit::None);
        QCOMPARE(model->parameterCount(), std::int64_t(157749441));
    }

    void fullNetworkIsSixLevelsDeep()
    {
        QCOMPARE(DermoSegDiffConfig::isic2018().sizeMultiple(), 32);
        QCOMPARE(DermoSegDiffConfig::isic2018().dimsX(),
                 (std::vector<int>{128, 128, 256, 384, 512, 640, 768}));
        QCOMPARE(DermoSegDiffConfig::isic2018().dimsG(),
                 (std::vector<int>{64, 64, 128, 256, 512, 1024, 2048}));
    }
};

QTEST_GUILESS_MAIN(TestDermoSegDiffSizes)
#include "TestDermoSegDiffSizes.moc"
