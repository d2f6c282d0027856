// The training worker's engine: reference-style YAML configs (keys, misspellings, errors,
// overrides), the dataset cache and split, a tiny model trained on real dermoscopy pairs (the loss
// falls, checkpoints appear), exact resume, cancellation and refusal to clobber a run.

#include "ExpectError.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/training/DermoSegDiffTrainer.h"
#include "engine/training/TrainingData.h"
#include "engine/training/TrainingSupport.h"

#include <QFile>
#include <QImage>
#include <QPainter>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <numeric>

using namespace diffseg::core;
using namespace diffseg::core::engine;
using diffseg::test::kindOf;

namespace {

const std::string kSourceDir = DIFFSEG_SOURCE_DIR;

/// A complete config in the reference's layout, misspellings and all, for a tiny network.
std::string tinyYaml(const std::string& dataDir, const std::string& saveDir)
{
    return R"(run:
  device: "cpu"
  save_imgs: "saved_imgs"
  continue_training: false
model:
  save_dir: ")" +
           saveDir + R"("
  name: "tiny"
  class: "DermoSegDiff"
  params:
    dim_x: 8
    dim_g: 8
    channels_x: 1
    channels_g: 3
    out_dim: 1
    dim_x_mults: [1, 02]
    dim_g_mults: [1, 2]
    resnet_block_groups: 4
diffusion:
  schedule: {timesteps: 100, mode: "linear", beta_start: 0.0004, beta_end: 0.08}
dataset:
  input_size: 32
  name: "images-masks"
  class_name: "SomeDatasetFast"
  data_dir: ")" +
           dataDir + R"("
  number_classes: 2
  img_channels: 3
  msk_channels: 1
  split: {mode: "fractions", fractions: [0.75, 0.25, 0.0], seed: 3}
data_loader:
  train: {batch_size: 4, shuffle: true, num_workers: 16, pin_memory: true}
  validation: {batch_size: 4, shuffle: false}
  test: {batch_size: 4, shuffle: false}
training:
  epochs: 2
  intial_weights: {use: false, file_path: "path/to/file"}
  loss:
    l2:
      cofficient: 1.0
    boundary:
      cofficient: 0.25
      params: {gamma: 0.25, root: "l2"}
  optimizer:
    name: "AdamW"
    params: {lr: 0.002, betas: [0.9, 0.99], weight_decay: 0.0}
  scheduler: {factor: 0.5, patience: 9}
  ema:
    use: true
    params: {beta: 0.999, update_after_step: 5, update_every: 1, inv_gamma: 1.0, power: 0.9}
testing:
  ensemble: 5
  model_weigths: {overload: false, file_path: "path/to/file"}
  result_imgs: {save: false, dir: "path/to/folder"}
augmentation:
  p: 0.5
  levels:
    pixel:
      p: 1.0
      transforms:
        RandomBrightnessContrast: {p: 0.3}
    spacial:
      p: 1
      transforms:
        HorizontalFlip: {p: 0.5}
        RandomRotate90: {p: 0.5}
)";
}

/// tinyYaml("/data", "/runs") parsed as "tiny.yaml" with `overrides` (as the command line's
/// --set passes them).
DermoSegDiffTrainingConfig
tinyConfig(const std::vector<std::pair<std::string, std::string>>& overrides = {})
{
    return DermoSegDiffTrainingConfig::fromYaml(tinyYaml("/data", "/runs"), "tiny.yaml", overrides);
}

/// How a run of `config` with `options` is refused before it trains: the error's kind (the test
/// fails when it is not refused), its message into `message`.
ErrorKind refusalOf(const DermoSegDiffTrainingConfig& config, const TrainingOptions& options,
                    std::string* message)
{
    return kindOf([&] { DermoSegDiffTrainer(config, options).run({}); }, message);
}

/// images/ + masks/ with `count` 48x40 photos of a dark blob on skin-coloured background.
QString makeDataset(const QString& dir, int count)
{
    QDir().mkpath(dir + "/images");
    QDir().mkpath(dir + "/masks");
    for (int i = 0; i < count; ++i) {
        QImage image(48, 40, QImage::Format_RGB888);
        image.fill(QColor(220 - i * 3, 170, 150));
        QImage mask(48, 40, QImage::Format_Grayscale8);
        mask.fill(0);
        const QRect lesion(8 + i % 5 * 2, 6 + i % 3 * 3, 18 + i % 4 * 2, 16 + i % 3 * 2);
        {
            QPainter p(&image);
            p.setPen(Qt::NoPen);
            p.setBrush(QColor(90 + i, 50, 40));
            p.drawEllipse(lesion);
        }
        {
            QPainter p(&mask);
            p.setPen(Qt::NoPen);
            p.setBrush(QColor(255, 255, 255));
            p.drawEllipse(lesion);
        }
        const QString id = QStringLiteral("case%1").arg(i, 3, 10, QChar('0'));
        image.save(dir + "/images/" + id + ".png");
        mask.save(dir + "/masks/" + id + "_mask.png");
    }
    return dir;
}

struct Recorded
{
    std::vector<nlohmann::json> events;
    std::map<std::int64_t, double> losses; ///< step -> loss

    TrainingEventCallback callback()
    {
        return [this](const nlohmann::json& e) {
            events.push_back(e);
            if (e["event"] == "step") {
                losses[e["step"].get<std::int64_t>()] = e["loss"].get<double>();
            }
        };
    }
    std::size_t count(const std::string& kind) const
    {
        return static_cast<std::size_t>(std::count_if(
            events.begin(), events.end(), [&](const auto& e) { return e["event"] == kind; }));
    }
};

} // namespace

class TestTraining : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void shippedConfigsParse()
    {
        const std::string dir = kSourceDir + "/resources/configs/dermosegdiff/";
        const DermoSegDiffTrainingConfig isic =
            DermoSegDiffTrainingConfig::fromFile(dir + "isic2018.yaml");
        QVERIFY(isic.model == DermoSegDiffConfig::isic2018());
        QCOMPARE(isic.inputSize, 128);
        QCOMPARE(isic.schedule.timesteps, 250);
        QCOMPARE(isic.split.mode, std::string("reference"));
        QCOMPARE(isic.referenceRunName(), std::string("n-dsd_i01_s-128_b-32_t-250_sc-linear"));
        const DermoSegDiffTrainingConfig ph2 =
            DermoSegDiffTrainingConfig::fromFile(dir + "ph2.yaml");
        QCOMPARE(nlohmann::json::parse(ph2.lossJson).size(), std::size_t{2});
        QCOMPARE(ph2.schedulerPatience, 9);
        QCOMPARE(ph2.epochs, 3000);
        const DermoSegDiffTrainingConfig small =
            DermoSegDiffTrainingConfig::fromFile(dir + "small-cpu.yaml");
        QCOMPARE(small.inputSize, 64);
        QCOMPARE(small.validationRun.selectBy, std::string("dice"));
        // The packaged ISIC 2018 model's recipe (packaging/make-isic2018-model.sh).
        // (Its split file comes from the command line, as the script passes it.)
        const DermoSegDiffTrainingConfig cpu = DermoSegDiffTrainingConfig::fromFile(
            dir + "isic2018-cpu.yaml", {{"dataset.split.file", "\"isic2018-split.json\""}});
        QCOMPARE(cpu.schedule.prediction, Prediction::X0);
        QCOMPARE(cpu.schedule.timesteps, 100);
        QCOMPARE(cpu.inputSize, 64);
        QCOMPARE(cpu.epochs, 60);
        QCOMPARE(cpu.schedulerName, std::string("cosine"));
        QVERIFY(cpu.schedulerUse);
        QCOMPARE(cpu.split.mode, std::string("file"));
        // Its second stage: the first stage's weights, a quarter of each batch from pure noise.
        const DermoSegDiffTrainingConfig second = DermoSegDiffTrainingConfig::fromFile(
            dir + "isic2018-cpu-finetune.yaml",
            {{"dataset.split.file", "\"isic2018-split.json\""}});
        QCOMPARE(second.terminalNoiseFraction, 0.25);
        QVERIFY(second.initialWeightsUse);
        QCOMPARE(second.epochs, 16);
        QVERIFY(second.model.dimX == cpu.model.dimX && second.schedule == cpu.schedule);
        // The augmentation section is handed over in the file's order.
        const auto aug = nlohmann::ordered_json::parse(isic.augmentationJson);
        QCOMPARE(aug["levels"]["pixel"]["transforms"].begin().key(), std::string("CLAHE"));
        QCOMPARE(aug["levels"]["spacial"]["transforms"].size(), std::size_t{11});
    }

    void referenceKeysAndQuirks()
    {
        const DermoSegDiffTrainingConfig c = tinyConfig();
        QCOMPARE(c.model.dimXMults, (std::vector<int>{1, 2})); // "02" as the reference writes 05
        QCOMPARE(c.model.resnetBlockGroups, 4);
        QCOMPARE(c.train.numWorkers, 16);
        QCOMPARE(c.optimizerName, std::string("AdamW"));
        QCOMPARE(c.learningRate, 0.002);
        QCOMPARE(c.ema.updateAfterStep, 5);
        QCOMPARE(c.initialWeightsPath, std::string("path/to/file"));
        QCOMPARE(c.modelWeightsPath, std::string("path/to/file"));
        QVERIFY(!c.schedulerUse); // the reference never steps its scheduler
        const DermoSegDiffTrainingConfig back =
            DermoSegDiffTrainingConfig::fromYaml(c.toYaml(), "round-trip");
        QCOMPARE(back.toYaml(), c.toYaml());
        QVERIFY(back.model == c.model);
        QCOMPARE(back.lossJson, c.lossJson);
        QCOMPARE(back.augmentationJson, c.augmentationJson);
        QCOMPARE(back.split.fractions[1], 0.25);
        QCOMPARE(back.schedule.betaStart, 0.0004);
    }

    void errorsNameTheKey_data()
    {
        QTest::addColumn<QString>("from");
        QTest::addColumn<QString>("to");
        QTest::addColumn<QString>("key");
        QTest::newRow("unknown key") << "  epochs: 2\n"
                                     << "  epochs: 2\n  epochz: 3\n"
                                     << "training.epochz";
        QTest::newRow("unknown section") << "run:\n"
                                         << "runn: {}\nrun:\n"
                                         << "runn";
        QTest::newRow("not a number") << "lr: 0.002"
                                      << "lr: fast"
                                      << "training.optimizer.params.lr";
        QTest::newRow("zero batch") << "train: {batch_size: 4"
                                    << "train: {batch_size: 0"
                                    << "data_loader.train.batch_size";
        QTest::newRow("schedule mode") << "mode: \"linear\""
                                       << "mode: \"cubic\""
                                       << "diffusion.schedule.mode";
        QTest::newRow("loss term") << "    l2:\n      cofficient: 1.0\n"
                                   << "    l3:\n      cofficient: 1.0\n"
                                   << "training.loss";
        QTest::newRow("optimizer") << "name: \"AdamW\""
                                   << "name: \"Adagrad\""
                                   << "training.optimizer.name";
        QTest::newRow("input size") << "input_size: 32"
                                    << "input_size: 33"
                                    << "dataset.input_size";
        QTest::newRow("betas") << "betas: [0.9, 0.99]"
                               << "betas: [0.9]"
                               << "training.optimizer.params.betas";
        QTest::newRow("bool") << "shuffle: true, num"
                              << "shuffle: maybe, num"
                              << "data_loader.train.shuffle";
        QTest::newRow("widths") << "dim_x: 8"
                                << "dim_x: 6"
                                << "model.params";
        QTest::newRow("prediction") << "beta_end: 0.08}\n"
                                    << "beta_end: 0.08}\n  prediction: \"v\"\n"
                                    << "diffusion.prediction";
        QTest::newRow("scheduler name") << "scheduler: {factor: 0.5"
                                        << "scheduler: {name: \"step\", factor: 0.5"
                                        << "training.scheduler.name";
        QTest::newRow("warm-up") << "scheduler: {factor: 0.5"
                                 << "scheduler: {warmup_steps: -3, factor: 0.5"
                                 << "training.scheduler.warmup_steps";
        QTest::newRow("timestep power") << "  epochs: 2\n"
                                        << "  epochs: 2\n  timestep_power: 0\n"
                                        << "training.timestep_power";
        QTest::newRow("terminal noise range") << "  epochs: 2\n"
                                              << "  epochs: 2\n  terminal_noise_fraction: 2\n"
                                              << "training.terminal_noise_fraction";
        // The tiny config predicts the noise, which pure-noise rows cannot teach.
        QTest::newRow("terminal noise needs x0") << "  epochs: 2\n"
                                                 << "  epochs: 2\n  terminal_noise_fraction: 0.5\n"
                                                 << "terminal_noise_fraction";
        QTest::newRow("min lr") << "scheduler: {factor: 0.5"
                                << "scheduler: {min_lr: 1.0, factor: 0.5"
                                << "training.scheduler.min_lr";
    }

    void errorsNameTheKey()
    {
        QFETCH(QString, from);
        QFETCH(QString, to);
        QFETCH(QString, key);
        std::string yaml = tinyYaml("/data", "/runs");
        const auto at = yaml.find(from.toStdString());
        QVERIFY2(at != std::string::npos, qPrintable(from));
        yaml.replace(at, static_cast<std::size_t>(from.size()), to.toStdString());
        std::string message;
        QCOMPARE(kindOf([&] { DermoSegDiffTrainingConfig::fromYaml(yaml, "bad.yaml"); }, &message),
                 ErrorKind::Config);
        QVERIFY2(message.find("bad.yaml") != std::string::npos, message.c_str());
        QVERIFY2(message.find(key.toStdString()) != std::string::npos, message.c_str());
    }

    void x0PredictionAndCosineScheduleParseAndRoundTrip()
    {
        const DermoSegDiffTrainingConfig c = tinyConfig({{"diffusion.prediction", "x0"},
                                                         {"training.scheduler.use", "true"},
                                                         {"training.scheduler.name", "cosine"},
                                                         {"training.scheduler.warmup_steps", "10"},
                                                         {"training.scheduler.min_lr", "0.0001"}});
        QCOMPARE(c.schedule.prediction, Prediction::X0);
        QCOMPARE(QString::fromStdString(c.schedulerName), QStringLiteral("cosine"));
        // Linear warm-up from lr/10 to lr over 10 steps, then a cosine down to min_lr at the end.
        const double lr = c.learningRate;
        QVERIFY(std::abs(c.learningRateAt(0, 110) - lr / 10) < 1e-12);
        QVERIFY(std::abs(c.learningRateAt(9, 110) - lr) < 1e-12);
        QVERIFY(std::abs(c.learningRateAt(60, 110) - (lr + 1e-4) / 2) < 1e-9);
        QVERIFY(std::abs(c.learningRateAt(110, 110) - 1e-4) < 1e-12);
        const DermoSegDiffTrainingConfig again =
            DermoSegDiffTrainingConfig::fromYaml(c.toYaml(), "again.yaml");
        QCOMPARE(again.schedule.prediction, Prediction::X0);
        QCOMPARE(again.warmupSteps, std::int64_t(10));
        QCOMPARE(again.minLearningRate, 1e-4);
        // Without the scheduler the rate is constant.
        const DermoSegDiffTrainingConfig plain =
            DermoSegDiffTrainingConfig::fromYaml(tinyYaml("/data", "/runs"), "t.yaml");
        QCOMPARE(plain.learningRateAt(50, 100), plain.learningRate);
        QCOMPARE(plain.schedule.prediction, Prediction::Noise);
    }

    void invalidYamlAndMissingFile()
    {
        std::string message;
        QCOMPARE(
            kindOf([&] { DermoSegDiffTrainingConfig::fromYaml("run: [unclosed", "broken.yaml"); },
                   &message),
            ErrorKind::Config);
        QVERIFY(message.find("broken.yaml") != std::string::npos);
        QCOMPARE(
            kindOf([&] { DermoSegDiffTrainingConfig::fromFile("/no/such/config.yaml"); }, &message),
            ErrorKind::NotFound);
        QVERIFY(message.find("/no/such/config.yaml") != std::string::npos);
    }

    void overrides()
    {
        const DermoSegDiffTrainingConfig c = tinyConfig({{"training.epochs", "7"},
                                                         {"model.params.dim_x_mults", "[1, 2]"},
                                                         {"model.params.dim_x", "16"},
                                                         {"training.optimizer.params.lr", "0.0003"},
                                                         {"training.validation.dice_every", "2"},
                                                         {"augmentation.p", "0"}});
        QCOMPARE(c.epochs, 7);
        QCOMPARE(c.model.dimX, 16);
        QCOMPARE(c.learningRate, 0.0003);
        QCOMPARE(c.validationRun.diceEvery, 2);
        // A path that names no key of the layout is refused like an unknown key in the file.
        const std::pair<const char*, const char*> unknown[] = {
            {"training.bogus", "training.bogus"}, {"training.epochs.x", "training.epochs"}};
        for (const auto& key : unknown) { // (path, the key its message names)
            std::string message;
            QCOMPARE(kindOf([&] { tinyConfig({{key.first, "1"}}); }, &message), ErrorKind::Config);
            QVERIFY2(message.find(key.second) != std::string::npos, message.c_str());
        }
    }

    void datasetCacheAndSplit()
    {
        const QString dir = diffseg::test::scratchDir("train-data");
        makeDataset(dir + "/data", 8);
        DermoSegDiffTrainingConfig c = DermoSegDiffTrainingConfig::fromYaml(
            tinyYaml((dir + "/data").toStdString(), dir.toStdString()), "tiny.yaml");
        const std::string split = (dir + "/split.json").toStdString();
        const TrainingData first = prepareTrainingData(c, split, 2, {}, {});
        QVERIFY(!first.cacheHit);
        QCOMPARE(first.samples.size(), std::size_t{8});
        QCOMPARE(first.train.size() + first.val.size(), std::size_t{8});
        QCOMPARE(first.val.size(), std::size_t{2});
        QVERIFY(QFile::exists(QString::fromStdString(first.cachePath)));
        QVERIFY(QFile::exists(QString::fromStdString(split)));
        for (const CachedSample& s : first.samples) {
            QCOMPARE(s.image.size(), std::size_t{32 * 32 * 3});
            QVERIFY(std::all_of(s.mask.begin(), s.mask.end(), [](auto v) { return v <= 1; }));
            QVERIFY(std::count(s.mask.begin(), s.mask.end(), 1) > 50);
        }
        const TrainingData second = prepareTrainingData(c, split, 1, {}, {});
        QVERIFY(second.cacheHit);
        QCOMPARE(second.split.val, first.split.val);
        QCOMPARE(second.samples[3].image, first.samples[3].image);

        // A damaged cache is rebuilt, not trusted.
        {
            std::fstream f(first.cachePath, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(40);
            f.write("garbage!", 8);
        }
        const TrainingData third = prepareTrainingData(c, split, 1, {}, {});
        QVERIFY(!third.cacheHit);
        QCOMPARE(third.samples[0].image, first.samples[0].image);

        // A truncated image is reported with its name when the cache is rebuilt.
        QFile::remove(QString::fromStdString(first.cachePath));
        const QString victim = dir + "/data/images/case004.png";
        QFile f(victim);
        QVERIFY(f.open(QIODevice::ReadWrite));
        f.resize(60);
        f.close();
        std::string message;
        QVERIFY(kindOf([&] { prepareTrainingData(c, split, 2, {}, {}); }, &message) !=
                ErrorKind::Internal);
        QVERIFY2(message.find("case004.png") != std::string::npos, message.c_str());

        c.dataDir = (dir + "/nowhere").toStdString();
        QCOMPARE(kindOf([&] { prepareTrainingData(c, split, 1, {}, {}); }, &message),
                 ErrorKind::NotFound);
    }

    void tinyModelLearnsOnSharedDermoscopy()
    {
        DIFFSEG_REQUIRE_SHARED(data, "data/dermoscopy/isic2017");
        const QString dir = diffseg::test::scratchDir("train-shared");
        // 16 real pairs downsized to 32x32, a few hundred steps of a ~60 k parameter network.
        DermoSegDiffTrainingConfig c = DermoSegDiffTrainingConfig::fromYaml(
            tinyYaml(data.toStdString(), dir.toStdString()), "tiny.yaml",
            {{"training.epochs", "75"},
             {"dataset.cache_dir", "\"" + (dir + "/cache").toStdString() + "\""},
             {"training.validation.dice_every", "25"},
             {"training.validation.dice_images", "4"},
             {"training.validation.dice_steps", "5"}});
        Recorded r;
        DermoSegDiffTrainer trainer(c, TrainingOptions{"cpu", false, false, {}, 0, 2});
        const TrainingSummary summary = trainer.run(r.callback());
        QCOMPARE(summary.reason, std::string("completed"));
        QCOMPARE(summary.steps, std::int64_t{225}); // 12 training images, batches of 4
        QCOMPARE(r.losses.size(), std::size_t{225});
        const auto mean = [&](std::int64_t from, std::int64_t to) {
            double sum = 0.0;
            for (std::int64_t s = from; s <= to; ++s) {
                sum += r.losses.at(s);
            }
            return sum / static_cast<double>(to - from + 1);
        };
        const double early = mean(1, 15);
        const double late = mean(186, 225);
        qInfo("mean loss: steps 1-15 %.4f, steps 186-225 %.4f", early, late);
        QVERIFY2(late < 0.6 * early, qPrintable(QString("%1 -> %2").arg(early).arg(late)));
        QCOMPARE(r.count("validation"), std::size_t{75});
        QCOMPARE(r.count("started"), std::size_t{1});
        QCOMPARE(r.count("finished"), std::size_t{1});
        const auto lastValidation = std::find_if(r.events.rbegin(), r.events.rend(), [](auto& e) {
            return e["event"] == "validation" && e.contains("dice");
        });
        QVERIFY(lastValidation != r.events.rend());
        QCOMPARE((*lastValidation)["samples"].size(), std::size_t{4});
        QVERIFY(QFile::exists(QString::fromStdString(
            (*lastValidation)["samples"][0]["prediction"].get<std::string>())));

        const QString run = dir + "/tiny";
        for (const char* name :
             {"last.dsckpt", "best.dsckpt", "split.json", "config.yaml", "progress.jsonl"}) {
            QVERIFY2(QFile::exists(run + "/" + name), name);
        }
        const Checkpoint last = loadCheckpoint((run + "/last.dsckpt").toStdString());
        QVERIFY(last.hasEma());
        QCOMPARE(last.info.inputSize, 32);
        QCOMPARE(*last.info.step, std::int64_t{225});
        QCOMPARE(last.info.emaStep, std::int64_t{225});
        QVERIFY(last.info.model == c.model);
        QVERIFY(!last.optimizer.empty());
        const Checkpoint best = loadCheckpoint((run + "/best.dsckpt").toStdString());
        QVERIFY(best.hasEma());
        QVERIFY(best.optimizer.empty()); // inference only
        // The progress log holds the same events, one JSON object per line.
        std::ifstream log((run + "/progress.jsonl").toStdString());
        std::size_t lines = 0;
        for (std::string line; std::getline(log, line); ++lines) {
            QVERIFY(nlohmann::json::parse(line).contains("event"));
        }
        QCOMPARE(lines, r.events.size());
    }

    void timestepPowerDrawsTheNoisyEndMoreOften()
    {
        // Power 1 is the reference's uniform randint, draw for draw.
        auto a = at::make_generator<at::CPUGeneratorImpl>(7);
        auto b = at::make_generator<at::CPUGeneratorImpl>(7);
        QVERIFY(
            drawTimesteps(4000, 100, 1.0, a).equal(at::randint(1, 100, {4000}, b, torch::kLong)));
        // Power 0.4: t = 1 + floor(99 u^0.4); P(t >= 80) = 1 - (79/99)^2.5 = 0.43 (uniform: 0.20).
        auto c = at::make_generator<at::CPUGeneratorImpl>(7);
        const torch::Tensor t = drawTimesteps(20000, 100, 0.4, c);
        QCOMPARE(t.scalar_type(), torch::kLong);
        QVERIFY(t.min().item<std::int64_t>() >= 1); // P(t = 1) = (1/99)^2.5: rarely drawn
        QCOMPARE(t.max().item<std::int64_t>(), std::int64_t{99});
        const double high = (t >= 80).to(torch::kDouble).mean().item<double>();
        QVERIFY2(std::abs(high - 0.431) < 0.02, qPrintable(QString::number(high)));
        // The key parses, round-trips through the run's config.yaml, and defaults to 1.
        const DermoSegDiffTrainingConfig cfg = tinyConfig({{"training.timestep_power", "0.4"}});
        QCOMPARE(cfg.timestepPower, 0.4);
        QCOMPARE(DermoSegDiffTrainingConfig::fromYaml(cfg.toYaml(), "again.yaml").timestepPower,
                 0.4);
        QCOMPARE(tinyConfig({}).timestepPower, 1.0);
    }

    void terminalNoiseRowsTrainAndResumeExactly()
    {
        const QString dir = diffseg::test::scratchDir("train-terminal");
        makeDataset(dir + "/data", 10);
        const std::vector<std::pair<std::string, std::string>> x0{
            {"training.epochs", "2"},
            {"training.checkpoint_every_steps", "1"},
            {"diffusion.prediction", "x0"}};
        const std::string yaml = tinyYaml((dir + "/data").toStdString(), dir.toStdString());
        auto withTerminal = x0;
        withTerminal.push_back({"training.terminal_noise_fraction", "0.5"});
        const DermoSegDiffTrainingConfig plain =
            DermoSegDiffTrainingConfig::fromYaml(yaml, "tiny.yaml", x0);
        const DermoSegDiffTrainingConfig terminal =
            DermoSegDiffTrainingConfig::fromYaml(yaml, "tiny.yaml", withTerminal);
        QCOMPARE(terminal.terminalNoiseFraction, 0.5);
        QCOMPARE(DermoSegDiffTrainingConfig::fromYaml(terminal.toYaml(), "again.yaml")
                     .terminalNoiseFraction,
                 0.5);

        Recorded without;
        TrainingOptions options{"cpu", false, false, (dir + "/plain").toStdString(), 0, 1};
        DermoSegDiffTrainer(plain, options).run(without.callback());
        Recorded whole;
        options.runDir = (dir + "/whole").toStdString();
        DermoSegDiffTrainer(terminal, options).run(whole.callback());
        QCOMPARE(whole.losses.size(), std::size_t{4});
        // Same data, weights and timestep draws, but some rows now see pure noise at t = T - 1.
        QVERIFY(whole.losses != without.losses);
        // The extra draws come from the step's own seed: a resumed run repeats them.
        Recorded first;
        options.runDir = (dir + "/split").toStdString();
        options.maxSteps = 2;
        DermoSegDiffTrainer(terminal, options).run(first.callback());
        Recorded second;
        options.maxSteps = 0;
        options.resume = true;
        DermoSegDiffTrainer(terminal, options).run(second.callback());
        for (const auto& [step, loss] : second.losses) {
            QVERIFY2(std::abs(loss - whole.losses.at(step)) <= 1e-6 * std::abs(loss),
                     qPrintable(QString("step %1").arg(step)));
        }
    }

    void resumeRepeatsTheSameSteps()
    {
        const QString dir = diffseg::test::scratchDir("train-resume");
        makeDataset(dir + "/data", 10);
        const DermoSegDiffTrainingConfig c = DermoSegDiffTrainingConfig::fromYaml(
            tinyYaml((dir + "/data").toStdString(), dir.toStdString()), "tiny.yaml",
            {{"training.epochs", "4"}, {"training.checkpoint_every_steps", "3"}});

        Recorded whole;
        TrainingOptions options{"cpu", false, false, (dir + "/whole").toStdString(), 0, 1};
        DermoSegDiffTrainer(c, options).run(whole.callback());
        QCOMPARE(whole.losses.size(), std::size_t{8}); // 8 training images, 2 per epoch

        // Stopped after step 5, in the middle of the third epoch (a checkpoint is saved there),
        // then resumed: steps 6..8 must repeat exactly.
        Recorded first;
        options.runDir = (dir + "/split").toStdString();
        options.maxSteps = 5;
        const TrainingSummary stopped = DermoSegDiffTrainer(c, options).run(first.callback());
        QCOMPARE(stopped.reason, std::string("max_steps"));
        QCOMPARE(stopped.steps, std::int64_t{5});
        Recorded second;
        options.maxSteps = 0;
        options.resume = true;
        const TrainingSummary resumed = DermoSegDiffTrainer(c, options).run(second.callback());
        QCOMPARE(resumed.reason, std::string("completed"));
        QCOMPARE(second.losses.begin()->first, std::int64_t{6});
        for (const auto& [step, loss] : second.losses) {
            QVERIFY2(
                std::abs(loss - whole.losses.at(step)) <= 1e-6 * std::abs(loss),
                qPrintable(
                    QString("step %1: %2 vs %3").arg(step).arg(loss).arg(whole.losses.at(step))));
        }
        for (const auto& [step, loss] : first.losses) {
            QCOMPARE(loss, whole.losses.at(step));
        }
        // Same final weights, EMA included.
        const Checkpoint a = loadCheckpoint((dir + "/whole/last.dsckpt").toStdString());
        const Checkpoint b = loadCheckpoint((dir + "/split/last.dsckpt").toStdString());
        QCOMPARE(a.model.size(), b.model.size());
        for (std::size_t i = 0; i < a.model.size(); ++i) {
            QVERIFY2(a.model[i].second.allclose(b.model[i].second, 1e-5, 1e-6),
                     a.model[i].first.c_str());
            QVERIFY2(a.ema[i].second.allclose(b.ema[i].second, 1e-5, 1e-6), a.ema[i].first.c_str());
        }
    }

    void cancelSavesAndExistingRunIsKept()
    {
        const QString dir = diffseg::test::scratchDir("train-cancel");
        makeDataset(dir + "/data", 8);
        const DermoSegDiffTrainingConfig c = DermoSegDiffTrainingConfig::fromYaml(
            tinyYaml((dir + "/data").toStdString(), dir.toStdString()), "tiny.yaml",
            {{"training.epochs", "50"}});
        const CancelToken cancel;
        Recorded r;
        const auto record = r.callback();
        const TrainingSummary summary = DermoSegDiffTrainer(c, {"cpu", false, false, {}, 0, 1})
                                            .run(
                                                [&](const nlohmann::json& e) {
                                                    record(e);
                                                    if (e["event"] == "step" && e["step"] == 3) {
                                                        cancel.cancel();
                                                    }
                                                },
                                                cancel);
        QCOMPARE(summary.reason, std::string("stopped"));
        QCOMPARE(summary.steps, std::int64_t{3});
        const Checkpoint last = loadCheckpoint(summary.lastCheckpoint);
        QCOMPARE(*last.info.step, std::int64_t{3});

        // Starting again in the same folder is refused unless asked to resume or overwrite.
        std::string message;
        QCOMPARE(refusalOf(c, {"cpu", false, false, {}, 0, 1}, &message), ErrorKind::Config);
        QVERIFY2(message.find("--resume") != std::string::npos, message.c_str());
        Recorded fresh;
        TrainingOptions overwrite{"cpu", false, true, {}, 2, 1};
        QCOMPARE(DermoSegDiffTrainer(c, overwrite).run(fresh.callback()).steps, std::int64_t{2});

        // A resume against another network is refused with the file named.
        const DermoSegDiffTrainingConfig other = DermoSegDiffTrainingConfig::fromYaml(
            tinyYaml((dir + "/data").toStdString(), dir.toStdString()), "tiny.yaml",
            {{"model.params.dim_x", "16"}});
        QCOMPARE(refusalOf(other, {"cpu", true, false, {}, 0, 1}, &message), ErrorKind::Mismatch);
        QVERIFY2(message.find("last.dsckpt") != std::string::npos, message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestTraining)
#include "TestTraining.moc"
