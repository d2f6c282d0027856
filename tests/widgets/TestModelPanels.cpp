// The model panels' options, driven by what the model can do (ModelOptionRows in
// SegmentationPanel): the photo family's rows on the photo panel, the volume family's on the
// volume panel, the seam's request out, the model card's settings in, nothing editable while a
// run goes.

#include "inference/ModelCard.h"
#include "inference/Segmenter2D.h"
#include "inference/Segmenter3D.h"
#include "panels/ModelPanel.h"
#include "panels/VolumePanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSpinBox>
#include <QtTest>

using namespace diffseg;

namespace {

/// Whether the option widget named `name` is shown on `panel` (its form row visible).
bool shown(QWidget& panel, const char* name)
{
    auto* w = panel.findChild<QWidget*>(QString::fromLatin1(name));
    return w != nullptr && w->isVisibleTo(&panel);
}

} // namespace

class TestModelPanels : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aPhotoModelGetsSamplerEnsembleAndEta()
    {
        widgets::ModelPanel panel;
        panel.setCapabilities(core::Segmenter2D::familyCapabilities());
        panel.show();
        for (const char* name : {"samplerBox", "stepsBox", "ensembleBox", "etaBox", "seedBox"}) {
            QVERIFY2(shown(panel, name), name);
        }
        for (const char* name : {"overlapBox", "fusionBox", "mirrorTtaBox"}) {
            QVERIFY2(!shown(panel, name), name);
        }
        core::SegmentationRequest r = panel.options();
        QCOMPARE(r.sampler, std::string("ddim"));
        QCOMPARE(r.steps, 25);
        QCOMPARE(r.ensemble, 5);
        QCOMPARE(r.eta, 0.0);
        QVERIFY(r.overlap < 0.0 && r.fusion.empty() && !r.mirrorTta);
        // The seam accepts what the panel asks for.
        core::Segmenter2D::familyCapabilities().validate(r);

        // DDPM runs every step: no step count, no eta to choose.
        r.sampler = "ddpm";
        panel.setOptions(r);
        QCOMPARE(panel.options().steps, 0);
        QVERIFY(!panel.findChild<QSpinBox*>("stepsBox")->isEnabled());
        QVERIFY(!panel.findChild<QDoubleSpinBox*>("etaBox")->isEnabled());

        // A loaded model's schedule bounds the steps.
        core::ModelCapabilities loaded = core::Segmenter2D::familyCapabilities();
        loaded.maxSteps = 50;
        panel.setCapabilities(loaded);
        QCOMPARE(panel.findChild<QSpinBox*>("stepsBox")->maximum(), 50);
        QCOMPARE(panel.findChild<QSpinBox*>("stepsBox")->value(), 50);

        // The card's validated settings replace the panel's.
        const core::ModelCard card = core::ModelCard::fromJson(
            R"({"validated": {"sampler": "ddim", "steps": 7, "ensemble": 3, "eta": 0.5,
                "overlap": 0.25}})",
            "card");
        QVERIFY(panel.applyCard(card));
        r = panel.options();
        QCOMPARE(r.sampler, std::string("ddim"));
        QCOMPARE(r.steps, 7);
        QCOMPARE(r.ensemble, 3);
        QCOMPARE(r.eta, 0.5);
        QVERIFY(r.overlap < 0.0); // a photo model has no windows
        QVERIFY(!panel.applyCard(core::ModelCard{}));

        // Nothing to change while a run goes.
        panel.addCheckpoint("/models/a.dsckpt", "a");
        panel.setRunning(true);
        for (const char* name : {"samplerBox", "stepsBox", "ensembleBox", "seedBox"}) {
            QVERIFY2(!panel.findChild<QWidget*>(name)->isEnabled(), name);
        }
        panel.setRunning(false);
        QVERIFY(panel.findChild<QSpinBox*>("stepsBox")->isEnabled());
    }

    void aVolumeModelGetsWindowsFusionAndMirrors()
    {
        widgets::VolumePanel panel;
        panel.setCapabilities(core::Segmenter3D::familyCapabilities());
        panel.show();
        for (const char* name :
             {"stepsBox", "overlapBox", "fusionBox", "seedBox", "mirrorTtaBox"}) {
            QVERIFY2(shown(panel, name), name);
        }
        for (const char* name : {"samplerBox", "ensembleBox", "etaBox"}) {
            QVERIFY2(!shown(panel, name), name);
        }
        core::SegmentationRequest r = panel.options();
        QCOMPARE(r.steps, 5);
        QCOMPARE(r.overlap, 0.5);
        QCOMPARE(r.fusion, std::string("mean"));
        QVERIFY(r.sampler.empty() && r.ensemble == 0 && r.eta < 0.0 && !r.mirrorTta);
        core::Segmenter3D::familyCapabilities().validate(r);

        panel.findChild<QCheckBox*>("mirrorTtaBox")->setChecked(true);
        panel.findChild<QComboBox*>("fusionBox")->setCurrentIndex(1);
        r = panel.options();
        QVERIFY(r.mirrorTta);
        QCOMPARE(r.fusion, std::string("uncertainty"));

        const core::ModelCard card = core::ModelCard::fromJson(
            R"({"validated": {"steps": 3, "fusion": "mean", "overlap": 0.25, "mirror_tta": false,
                "ensemble": 4}})",
            "card");
        QVERIFY(panel.applyCard(card));
        r = panel.options();
        QCOMPARE(r.steps, 3);
        QCOMPARE(r.fusion, std::string("mean"));
        QCOMPARE(r.overlap, 0.25);
        QVERIFY(!r.mirrorTta);
        QCOMPARE(r.ensemble, 0); // a volume model samples one chain
    }
};

QTEST_MAIN(TestModelPanels)
#include "TestModelPanels.moc"
