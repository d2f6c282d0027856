// Diff-UNet training: our YAML configs (shipped examples, unknown keys named), a tiny network
// trained on generated NIfTI phantoms (steps, validation Dice, checkpoints of network diffunet
// with their preprocessing), CT statistics recorded, and exact resume.

#include "TestSupport.h"
#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/training/DiffUNetTrainer.h"
#include "io/VolumeWriter.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>

using namespace diffseg::core;
using namespace diffseg::core::engine;

namespace {

const std::string kSourceDir = DIFFSEG_SOURCE_DIR;

/// images/ + masks/ with `count` 24^3 volumes: noise plus a bright ball, the ball as label 1.
void makePhantoms(const std::string& dir, int count, bool ct)
{
    QDir().mkpath(QString::fromStdString(dir + "/images"));
    QDir().mkpath(QString::fromStdString(dir + "/masks"));
    for (int n = 0; n < count; ++n) {
        Geometry g;
        g.spacing = {1.5, 1.5, 2.0};
        Volume image({24, 24, 24}, 1, ct ? PixelType::Int16 : PixelType::Float32, g);
        LabelMap labels({24, 24, 24}, g);
        std::uint32_t state = 12345u + static_cast<std::uint32_t>(n);
        const double cx = 10 + n % 3;
        const double cy = 12 - n % 2;
        const double cz = 11;
        const double r = 5 + n % 2;
        for (int z = 0; z < 24; ++z) {
            for (int y = 0; y < 24; ++y) {
                for (int x = 0; x < 24; ++x) {
                    state = state * 1664525u + 1013904223u;
                    const double noise = double(state >> 8) / double(1u << 24) - 0.5;
                    const bool inside = std::hypot(std::hypot(x - cx, y - cy), z - cz) <= r;
                    const std::size_t i = (std::size_t(z) * 24 + std::size_t(y)) * 24 + x;
                    const double value = (inside ? 1.0 : 0.2) + 0.3 * noise;
                    if (ct) {
                        image.data<std::int16_t>()[i] =
                            static_cast<std::int16_t>(value * 400.0 - 100.0);
                    } else {
                        image.data<float>()[i] = static_cast<float>(value);
                    }
                    labels.data<std::uint8_t>()[i] = inside ? 1 : 0;
                }
            }
        }
        const std::string id = "case" + std::to_string(n);
        writeVolume(image, dir + "/images/" + id + ".nii.gz");
        writeLabelMap(labels, dir + "/masks/" + id + ".nii.gz");
    }
}

std::string tinyYaml(const std::string& dataDir, const std::string& saveDir,
                     const std::string& normalization = "zscore")
{
    return R"(model:
  network: "diffunet"
  save_dir: ")" +
           saveDir + R"("
  name: "tiny3d"
  params: {in_channels: 1, num_classes: 2, base_features: 4, max_features: 8, n_stages: 3}
diffusion: {steps: 2}
dataset:
  name: "images-masks"
  data_dir: ")" +
           dataDir + R"("
  patch_size: 16
  preprocessing: {normalization: ")" +
           normalization + R"(", crop_to_nonzero: true, target_spacing: [2.0, 2.0, 2.0]}
  split: {fractions: [0.75, 0.25, 0.0], seed: 1}
data_loader:
  train: {batch_size: 2}
training:
  epochs: 4
  steps_per_epoch: 3
  checkpoint_every_steps: 2
  optimizer: {name: "SGD", params: {lr: 0.01}}
  validation: {every: 2, patches: 2}
augmentation: {p_rotation: 0.5, p_scale: 0.5, p_noise: 0.5, p_gamma: 0.5, p_mirror: 0.5}
)";
}

/// The message of the error that tinyYaml is refused with, read as "bad.yaml" with `key` set to
/// `value`; empty when it is accepted.
std::string refusalOf(const std::string& key, const std::string& value)
{
    try {
        DiffUNetTrainingConfig::fromYaml(tinyYaml("/d", "/r"), "bad.yaml", {{key, value}});
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

struct Recorded
{
    std::vector<nlohmann::json> events;
    std::map<std::int64_t, double> losses;
    TrainingEventCallback callback()
    {
        return [this](const nlohmann::json& e) {
            events.push_back(e);
            if (e["event"] == "step") {
                losses[e["step"].get<std::int64_t>()] = e["loss"].get<double>();
            }
        };
    }
};

} // namespace

class TestDiffUNetTraining : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void shippedConfigs()
    {
        const auto shipped = [](const std::string& name) {
            return DiffUNetTrainingConfig::fromFile(kSourceDir + "/resources/configs/diffunet/" +
                                                    name);
        };
        const auto brats = shipped("brats2023.yaml");
        QVERIFY(brats.model == DiffUNetConfig::reference(4, 4));
        QCOMPARE(brats.patchSize, 128);
        QCOMPARE(brats.labelValues, (std::vector<int>{0, 1, 2, 3}));
        const auto aiib = shipped("aiib2023.yaml");
        QVERIFY(aiib.model == DiffUNetConfig::reference(1, 2));
        QVERIFY(aiib.preprocessing.normalization ==
                VolumePreparationConfig::Normalization::CtClipZScore);
        QCOMPARE((*aiib.preprocessing.targetSpacing)[2], 0.5);
        const auto small = shipped("nifti-small-cpu.yaml");
        QVERIFY(small.voxelwiseUncertainty);
        QVERIFY(DiffUNetTrainingConfig::isDiffUNetYaml(small.toYaml()));
        const auto back = DiffUNetTrainingConfig::fromYaml(small.toYaml(), "round-trip");
        QCOMPARE(back.toYaml(), small.toYaml());
        const auto hippocampus = shipped("hippocampus-cpu.yaml");
        QCOMPARE(hippocampus.datasetName, std::string("decathlon"));
        QCOMPARE(hippocampus.model.numClasses, 3);
        QCOMPARE(hippocampus.epochs * hippocampus.stepsPerEpoch, 5000);

        std::string message = refusalOf("training.optimiser", "{}");
        QVERIFY2(message.find("bad.yaml") != std::string::npos &&
                     message.find("training.optimiser") != std::string::npos,
                 message.c_str());
        message = refusalOf("dataset.patch_size", "18");
        QVERIFY2(message.find("dataset.patch_size") != std::string::npos, message.c_str());
        // The Dice term (ours) is off by default, read, written back and range-checked.
        QCOMPARE(small.diceWeight, 0.0);
        const auto withDice = DiffUNetTrainingConfig::fromYaml(tinyYaml("/d", "/r"), "dice.yaml",
                                                               {{"training.loss.dice", "0.5"}});
        QCOMPARE(withDice.diceWeight, 0.5);
        QCOMPARE(DiffUNetTrainingConfig::fromYaml(withDice.toYaml(), "again").diceWeight, 0.5);
        message = refusalOf("training.loss.dice", "-1");
        QVERIFY2(message.find("training.loss.dice") != std::string::npos, message.c_str());
    }

    void trainsResumesAndRecordsPreprocessing()
    {
        const QString root = diffseg::test::scratchDir("diffunet-train");
        const std::string data = (root + "/data").toStdString();
        makePhantoms(data, 4, false);
        const DiffUNetTrainingConfig c =
            DiffUNetTrainingConfig::fromYaml(tinyYaml(data, root.toStdString()), "tiny3d.yaml");

        Recorded whole;
        TrainingOptions options{"cpu", false, false, (root + "/whole").toStdString(), 0, 1};
        const TrainingSummary done = DiffUNetTrainer(c, options).run(whole.callback());
        QCOMPARE(done.reason, std::string("completed"));
        QCOMPARE(done.steps, std::int64_t{12});
        QCOMPARE(whole.losses.size(), std::size_t{12});
        int validations = 0;
        for (const auto& e : whole.events) {
            if (e["event"] == "validation") {
                ++validations;
                QVERIFY(e["dice"].get<double>() >= 0.0 && e["dice"].get<double>() <= 1.0);
                QCOMPARE(e["dice_per_class"].size(), std::size_t{1});
            }
            if (e["event"] == "started") {
                QCOMPARE(e["dataset"]["train"].get<int>(), 3);
                QCOMPARE(e["network"].get<std::string>(), std::string("diffunet"));
            }
        }
        QCOMPARE(validations, 2);
        const Checkpoint last = loadCheckpoint(done.lastCheckpoint);
        QCOMPARE(last.info.network, std::string("diffunet"));
        QVERIFY(last.info.diffunet == c.model);
        QCOMPARE(last.info.inputSize, 16);
        QCOMPARE(last.info.labelValues, (std::vector<int>{0, 1})); // the default: 0..C-1
        const auto prep = VolumePreparationConfig::fromJson(last.info.preprocessingJson);
        QCOMPARE((*prep.targetSpacing)[0], 2.0);
        QVERIFY(!done.bestCheckpoint.empty());
        QCOMPARE(loadCheckpoint(done.bestCheckpoint).info.network, std::string("diffunet"));

        // Stopped after 5 steps (mid-epoch), resumed: steps 6..12 repeat exactly.
        Recorded first;
        options.runDir = (root + "/split").toStdString();
        options.maxSteps = 5;
        QCOMPARE(DiffUNetTrainer(c, options).run(first.callback()).reason,
                 std::string("max_steps"));
        Recorded second;
        options.maxSteps = 0;
        options.resume = true;
        QCOMPARE(DiffUNetTrainer(c, options).run(second.callback()).steps, std::int64_t{12});
        QCOMPARE(second.losses.begin()->first, std::int64_t{6});
        for (const auto& [step, loss] : second.losses) {
            QVERIFY2(
                std::abs(loss - whole.losses.at(step)) <= 1e-5 * std::abs(loss) + 1e-7,
                qPrintable(
                    QString("step %1: %2 vs %3").arg(step).arg(loss).arg(whole.losses.at(step))));
        }
    }

    void ctStatisticsAreComputedAndStored()
    {
        const QString root = diffseg::test::scratchDir("diffunet-ct");
        const std::string data = (root + "/data").toStdString();
        makePhantoms(data, 4, true);
        const DiffUNetTrainingConfig c = DiffUNetTrainingConfig::fromYaml(
            tinyYaml(data, root.toStdString(), "ct"), "tiny3d.yaml", {{"training.epochs", "1"}});
        Recorded r;
        const TrainingSummary done =
            DiffUNetTrainer(c, {"cpu", false, false, {}, 0, 1}).run(r.callback());
        const auto prep = VolumePreparationConfig::fromJson(
            loadCheckpoint(done.lastCheckpoint).info.preprocessingJson);
        QVERIFY(prep.normalization == VolumePreparationConfig::Normalization::CtClipZScore);
        // The foreground is about 400 - 100 = 300 HU with +-60 HU of noise.
        QVERIFY2(prep.mean > 250 && prep.mean < 350, qPrintable(QString::number(prep.mean)));
        QVERIFY(prep.clipLow > 150 && prep.clipHigh < 450);
        QVERIFY(prep.stddev > 10 && prep.stddev < 100);
    }

    void decathlonDatasetNamesTheModelsLabelsAndChannels()
    {
        const QString root = diffseg::test::scratchDir("diffunet-decathlon");
        const std::string data = (root + "/data").toStdString();
        makePhantoms(data, 4, false);
        QVERIFY(QDir().rename(QString::fromStdString(data + "/images"),
                              QString::fromStdString(data + "/imagesTr")));
        QVERIFY(QDir().rename(QString::fromStdString(data + "/masks"),
                              QString::fromStdString(data + "/labelsTr")));
        const auto writeJson = [&](const std::string& modality) {
            nlohmann::json j{{"name", "Balls"},
                             {"modality", nlohmann::json::parse(modality)},
                             {"labels", {{"0", "background"}, {"1", "Ball"}}},
                             {"training", nlohmann::json::array()}};
            for (int n = 0; n < 4; ++n) {
                const std::string id = "case" + std::to_string(n) + ".nii.gz";
                j["training"].push_back(
                    {{"image", "./imagesTr/" + id}, {"label", "./labelsTr/" + id}});
            }
            std::ofstream(data + "/dataset.json") << j.dump(1);
        };
        writeJson(R"({"0": "MRI"})");
        const DiffUNetTrainingConfig c =
            DiffUNetTrainingConfig::fromYaml(tinyYaml(data, root.toStdString()), "tiny3d.yaml",
                                             {{"dataset.name", ""}, {"training.epochs", "1"}});
        Recorded r;
        const TrainingSummary done =
            DiffUNetTrainer(c, {"cpu", false, false, {}, 0, 1}).run(r.callback());
        const Checkpoint last = loadCheckpoint(done.lastCheckpoint);
        QVERIFY(last.info.labelNames == (std::vector<std::string>{"background", "Ball"}));
        QVERIFY(last.info.channelNames == std::vector<std::string>{"MRI"});
        for (const auto& e : r.events) {
            if (e["event"] == "started") {
                QCOMPARE(e["dataset"]["layout"].get<std::string>(), std::string("decathlon"));
            }
        }
        // The config's own names win; a dataset of two channels is refused for a 1-channel net.
        const DiffUNetTrainingConfig named =
            DiffUNetTrainingConfig::fromYaml(tinyYaml(data, root.toStdString()), "tiny3d.yaml",
                                             {{"dataset.name", "decathlon"},
                                              {"dataset.label_names", "[\"bg\", \"sphere\"]"},
                                              {"training.epochs", "1"}});
        QVERIFY(DiffUNetTrainingConfig::fromYaml(named.toYaml(), "again.yaml").labelNames ==
                named.labelNames);
        const TrainingSummary again =
            DiffUNetTrainer(named, {"cpu", false, false, (root + "/named").toStdString(), 1, 1})
                .run(r.callback());
        QVERIFY(loadCheckpoint(again.lastCheckpoint).info.labelNames ==
                (std::vector<std::string>{"bg", "sphere"}));
        writeJson(R"({"0": "T1", "1": "T2"})");
        try {
            DiffUNetTrainer(c, {"cpu", false, false, (root + "/two").toStdString(), 1, 1})
                .run(r.callback());
            QFAIL("a two-channel dataset trained a one-channel network");
        } catch (const Error& e) {
            const std::string what = e.what();
            QVERIFY2(what.find("dataset.json") != std::string::npos &&
                         what.find("names 2 image channels") != std::string::npos,
                     e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestDiffUNetTraining)
#include "TestDiffUNetTraining.moc"
