// Segmenter2D: output sizes and ranges, determinism, the per-step callback and step cache,
// cancellation, EMA selection, reference .pth import and bad inputs. A freshly initialised tiny
// DermoSegDiff (3 levels, 64 x 64 input) keeps every run to a fraction of a second.

#include "ExpectError.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/model/DermoSegDiff.h"
#include "inference/Segmenter2D.h"
#include "metrics/OtsuBaseline.h"
#include "uncertainty/X0Quantisation.h"

#include <QFile>
#include <QtTest>

#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <cmath>
#include <cstring>
#include <fstream>

using namespace diffseg::core;
using diffseg::test::expectError;
using namespace diffseg::core::engine;

namespace {

const std::string kData = DIFFSEG_ENGINE_TEST_DATA;

DermoSegDiffConfig tinyConfig()
{
    return DermoSegDiffConfig::fromJson(
        R"({"dim_x": 8, "dim_g": 8, "dim_x_mults": [1, 2, 4], "dim_g_mults": [1, 2, 4],
            "resnet_block_groups": 4})");
}

/// Saves a freshly initialised tiny network: `model` weights from `seed`, and EMA weights from
/// `emaSeed` when it is >= 0.
std::string makeCheckpoint(const QString& dir, const QString& name, std::uint64_t seed,
                           int emaSeed = -1, int timesteps = 50)
{
    const auto weightsFor = [](std::uint64_t s) {
        torch::manual_seed(s);
        DermoSegDiff model(tinyConfig());
        NamedTensors weights;
        for (const auto& [key, tensor] : namedWeights(*model)) {
            weights.emplace_back(key, tensor.clone());
        }
        return weights;
    };
    Checkpoint checkpoint;
    checkpoint.info.model = tinyConfig();
    checkpoint.info.schedule = ScheduleConfig{ScheduleMode::Linear, timesteps, 0.0004, 0.08};
    checkpoint.info.inputSize = 64;
    checkpoint.info.source = "TestSegmenter2D";
    checkpoint.model = weightsFor(seed);
    if (emaSeed >= 0) {
        checkpoint.ema = weightsFor(static_cast<std::uint64_t>(emaSeed));
    }
    const std::string path = (dir + "/" + name).toStdString();
    saveCheckpoint(path, checkpoint);
    return path;
}

/// A dermoscopy-like RGB photo: reddish skin with texture, a dark ellipse off-centre.
Image2D syntheticPhoto(int width, int height)
{
    Image2D image(width, height, 3, PixelType::UInt8);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const double dx = (x - 0.45 * width) / (0.28 * width);
            const double dy = (y - 0.55 * height) / (0.3 * height);
            const bool lesion = dx * dx + dy * dy < 1.0;
            const int texture = (x * 7 + y * 13) % 11;
            image.at<std::uint8_t>(x, y, 0) = std::uint8_t(lesion ? 90 + texture : 205 - texture);
            image.at<std::uint8_t>(x, y, 1) = std::uint8_t(lesion ? 60 + texture : 160 - texture);
            image.at<std::uint8_t>(x, y, 2) = std::uint8_t(lesion ? 50 + texture : 140 - texture);
        }
    }
    return image;
}

SegmentOptions fastOptions(int steps = 4, int members = 3, std::uint64_t seed = 1)
{
    SegmentOptions o;
    o.sampler = SamplerMethod::Ddim;
    o.steps = steps;
    o.ensemble = members;
    o.seed = seed;
    return o;
}

bool sameBytes(const Image2D& a, const Image2D& b)
{
    return a.width() == b.width() && a.height() == b.height() && a.byteSize() == b.byteSize() &&
           std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

std::pair<float, float> range(const Image2D& image)
{
    const float* v = image.data<float>();
    float lo = v[0];
    float hi = v[0];
    for (std::size_t i = 0; i < image.pixelCount() * std::size_t(image.channels()); ++i) {
        lo = std::min(lo, v[i]);
        hi = std::max(hi, v[i]);
    }
    return {lo, hi};
}

void writeText(const QString& path, const QByteArray& text)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(text);
}

} // namespace

class TestSegmenter2D : public QObject
{
    Q_OBJECT

private:
    QString m_dir;
    std::string m_checkpoint; ///< model weights seed 1, EMA weights seed 2

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = diffseg::test::scratchDir("segmenter2d");
        m_checkpoint = makeCheckpoint(m_dir, "tiny.dsckpt", 1, 2);
    }

    void segmentsAtTheOriginalSize()
    {
        Segmenter2D segmenter(m_checkpoint);
        QCOMPARE(segmenter.info().inputSize, 64);
        QCOMPARE(segmenter.info().format, std::string("diffseg"));
        QVERIFY(segmenter.info().usesEma);
        QCOMPARE(segmenter.info().device, std::string("cpu"));
        QVERIFY(segmenter.info().id.rfind("dsd-", 0) == 0);
        QCOMPARE(segmenter.info().id.size(), std::size_t(20));

        const Image2D photo = syntheticPhoto(97, 61);
        const SegmentResult r = segmenter.segment(photo, fastOptions());
        QCOMPARE(r.originalWidth, 97);
        QCOMPARE(r.originalHeight, 61);
        QCOMPARE(r.mask.width(), 97);
        QCOMPARE(r.mask.height(), 61);
        QCOMPARE(r.mask.channels(), 1);
        QCOMPARE(r.mask.pixelType(), PixelType::UInt8);
        const std::uint8_t* m = r.mask.data<std::uint8_t>();
        for (std::size_t i = 0; i < r.mask.pixelCount(); ++i) {
            QVERIFY(m[i] == 0 || m[i] == 1);
        }
        QCOMPARE(r.probabilityOriginal.width(), 97);
        QCOMPARE(r.probabilityOriginal.height(), 61);
        for (const Image2D* map : {&r.maskInput, &r.meanX0, &r.probability, &r.uncertaintyStd,
                                   &r.uncertaintyEntropy, &r.uncertaintyInstability}) {
            QCOMPARE(map->width(), 64);
            QCOMPARE(map->height(), 64);
        }
        const auto [pLo, pHi] = range(r.probability);
        QVERIFY(pLo >= 0.0f && pHi <= 1.0f);
        const auto [poLo, poHi] = range(r.probabilityOriginal);
        QVERIFY(poLo >= 0.0f && poHi <= 1.0f);
        QVERIFY(range(r.uncertaintyStd).second <= 0.5f + 1e-6f);
        QVERIFY(range(r.uncertaintyEntropy).second <= float(std::log(2.0)) + 1e-6f);
        const auto [iLo, iHi] = range(r.uncertaintyInstability);
        QVERIFY(iLo >= 0.0f && iHi <= 1.0f);
        QCOMPARE(r.instabilitySteps.size(), std::size_t(4)); // last 3 transitions: 4 steps

        // The documented definitions: mean of the members, mask = mean > 0, probability = mean
        // of the clamped (x0 + 1) / 2.
        QCOMPARE(r.memberX0.size(), std::size_t(3));
        const float* mean = r.meanX0.data<float>();
        const float* prob = r.probability.data<float>();
        const std::uint8_t* maskInput = r.maskInput.data<std::uint8_t>();
        for (std::size_t i = 0; i < r.meanX0.pixelCount(); ++i) {
            double sum = 0.0;
            double p = 0.0;
            for (const Image2D& x0 : r.memberX0) {
                sum += x0.data<float>()[i];
                p += std::clamp((x0.data<float>()[i] + 1.0) / 2.0, 0.0, 1.0);
            }
            QVERIFY(std::abs(sum / 3.0 - mean[i]) < 1e-5);
            QVERIFY(std::abs(p / 3.0 - prob[i]) < 1e-5);
            QCOMPARE(maskInput[i], std::uint8_t(mean[i] > 0.0f ? 1 : 0));
        }

        QCOMPARE(r.timesteps.size(), std::size_t(4));
        QCOMPARE(r.timesteps.front(), 49);
        QCOMPARE(r.timesteps.back(), 0);
        QVERIFY(r.timings.sampling > 0.0);
        QVERIFY(r.timings.firstPreview > 0.0);
        QVERIFY(r.timings.firstPreview <= r.timings.total);
        QVERIFY(r.timings.preprocess >= 0.0 && r.timings.postprocess >= 0.0);
        QCOMPARE(r.timings.load, segmenter.info().loadSeconds);
    }

    void callbackSeesEveryStepAndTheCacheKeepsThem()
    {
        Segmenter2D segmenter(m_checkpoint);
        const SegmentOptions options = fastOptions(6, 2);
        const std::vector<int> planned = segmenter.plannedTimesteps(options);
        QCOMPARE(planned.size(), std::size_t(6));
        std::vector<int> indices;
        std::vector<int> ts;
        std::vector<std::vector<Image2D>> frames;
        double lastElapsed = 0.0;
        const SegmentResult r =
            segmenter.segment(syntheticPhoto(80, 80), options, [&](const SegmentStep& s) {
                indices.push_back(s.index);
                ts.push_back(s.t);
                QCOMPARE(s.count, 6);
                QCOMPARE(s.x0.size(), std::size_t(2));
                QCOMPARE(s.x0[0].width(), 64);
                QVERIFY(s.cached);
                QVERIFY(s.cache != nullptr);
                QVERIFY(s.elapsedSeconds >= lastElapsed);
                QVERIFY(s.samplingSeconds <= s.elapsedSeconds);
                lastElapsed = s.elapsedSeconds;
                frames.push_back(s.x0);
            });
        QCOMPARE(indices, (std::vector<int>{0, 1, 2, 3, 4, 5}));
        QCOMPARE(ts, planned);
        QCOMPARE(r.timesteps, planned);

        // Every step of every member is stored, and recalled within the 8-bit error.
        QCOMPARE(r.steps->keptSteps().size(), std::size_t(6));
        for (int k = 0; k < 2; ++k) {
            QCOMPARE(r.steps->storedSteps(k), (std::vector<int>{0, 1, 2, 3, 4, 5}));
            for (int step = 0; step < 6; ++step) {
                const StepFrame frame = r.steps->get(k, step);
                QCOMPARE(frame.step, step);
                const Image2D cached = frame.image();
                const float* a = cached.data<float>();
                const float* b = frames[std::size_t(step)][std::size_t(k)].data<float>();
                for (std::size_t i = 0; i < cached.pixelCount(); ++i) {
                    const float clamped = std::clamp(b[i], -1.0f, 1.0f);
                    QVERIFY(std::abs(a[i] - clamped) <= kX0MaxError + 1e-6f);
                    QCOMPARE(a[i] > 0.0f, b[i] > 0.0f);
                }
            }
        }
        // The last step's x0 estimate is the final sample (DDIM's last jump lands on it).
        const float* last = frames.back()[1].data<float>();
        const float* final = r.memberX0[1].data<float>();
        for (std::size_t i = 0; i < r.memberX0[1].pixelCount(); ++i) {
            QVERIFY(std::abs(last[i] - final[i]) < 1e-4f);
        }

        // With a first look the callback sees member 0's first estimate before step 0 (one
        // frame, not yet cached), then the same steps; the result is the same.
        SegmentOptions looking = options;
        looking.firstLook = true;
        std::vector<int> order;
        std::vector<Image2D> look;
        const SegmentResult l =
            segmenter.segment(syntheticPhoto(80, 80), looking, [&](const SegmentStep& s) {
                order.push_back(s.firstLook ? -1 : s.index);
                if (s.firstLook) {
                    look = s.x0;
                    QVERIFY(s.cache->storedSteps(0).empty());
                }
            });
        QCOMPARE(order, (std::vector<int>{-1, 0, 1, 2, 3, 4, 5}));
        QCOMPARE(look.size(), std::size_t(1));
        const float* looked = look[0].data<float>();
        const float* step0 = frames.front()[0].data<float>();
        for (std::size_t i = 0; i < look[0].pixelCount(); ++i) {
            QVERIFY(std::abs(looked[i] - std::clamp(step0[i], -1.0f, 1.0f)) < 1e-4f);
        }
        QVERIFY(l.timings.firstPreview > 0.0 && l.timings.firstPreview <= l.timings.total);
        const float* a = l.meanX0.data<float>();
        const float* b = r.meanX0.data<float>();
        for (std::size_t i = 0; i < r.meanX0.pixelCount(); ++i) {
            QVERIFY(std::abs(a[i] - b[i]) < 1e-4f);
        }
    }

    void noisySamplesAreCachedOnRequest()
    {
        Segmenter2D segmenter(m_checkpoint);
        SegmentOptions options = fastOptions(5, 2);
        const SegmentResult plain = segmenter.segment(syntheticPhoto(64, 64), options);
        QVERIFY(!plain.steps->config().storeNoisy);
        options.storeNoisy = true;
        const SegmentResult r = segmenter.segment(syntheticPhoto(64, 64), options);
        QVERIFY(r.steps->config().storeNoisy);
        for (int k = 0; k < 2; ++k) {
            QCOMPARE(r.steps->storedSteps(k, FrameKind::Noisy), r.steps->storedSteps(k));
        }
        // Step 0's x_t is the start noise: about N(0, 1), unlike its x0 estimate.
        const Image2D noise = r.steps->get(0, 0, FrameKind::Noisy).image();
        double sum = 0.0;
        double squares = 0.0;
        const float* v = noise.data<float>();
        for (std::size_t i = 0; i < noise.pixelCount(); ++i) {
            sum += v[i];
            squares += double(v[i]) * v[i];
        }
        const double n = double(noise.pixelCount());
        const double mean = sum / n;
        const double sd = std::sqrt(squares / n - mean * mean);
        QVERIFY2(std::abs(mean) < 0.1 && sd > 0.85 && sd < 1.15,
                 qPrintable(QString("mean %1 sd %2").arg(mean).arg(sd)));
        // Noise draws are the same with and without the x_t frames: the results agree.
        QVERIFY(sameBytes(plain.meanX0, r.meanX0));
    }

    void equalSeedsGiveEqualResults()
    {
        Segmenter2D segmenter(m_checkpoint);
        const Image2D photo = syntheticPhoto(70, 50);
        const SegmentResult a = segmenter.segment(photo, fastOptions(3, 2, 5));
        const SegmentResult b = segmenter.segment(photo, fastOptions(3, 2, 5));
        const SegmentResult c = segmenter.segment(photo, fastOptions(3, 2, 6));
        QVERIFY(sameBytes(a.meanX0, b.meanX0));
        QVERIFY(sameBytes(a.mask, b.mask));
        QVERIFY(sameBytes(a.probability, b.probability));
        QVERIFY(sameBytes(a.uncertaintyStd, b.uncertaintyStd));
        QVERIFY(!sameBytes(a.meanX0, c.meanX0));
        // Member k of a K-member run is the run of seed + k alone.
        const SegmentResult single = segmenter.segment(photo, fastOptions(3, 1, 6));
        const float* x = a.memberX0[1].data<float>();
        const float* y = single.memberX0[0].data<float>();
        for (std::size_t i = 0; i < a.memberX0[1].pixelCount(); ++i) {
            QVERIFY(std::abs(x[i] - y[i]) < 1e-4f);
        }
    }

    void ddpmRunsEveryTimestep()
    {
        Segmenter2D segmenter(makeCheckpoint(m_dir, "t20.dsckpt", 1, -1, 20));
        SegmentOptions options;
        options.sampler = SamplerMethod::Ddpm;
        options.ensemble = 1;
        int calls = 0;
        const SegmentResult r = segmenter.segment(syntheticPhoto(64, 64), options,
                                                  [&](const SegmentStep&) { ++calls; });
        QCOMPARE(calls, 20);
        QCOMPARE(r.steps->storedSteps(0).size(), std::size_t(20));
        // The instability map looks at the last 10 transitions: steps 9..19.
        QCOMPARE(r.instabilitySteps.size(), std::size_t(11));
        QCOMPARE(r.instabilitySteps.front(), 9);
        options.steps = 10;
        const Error e = expectError([&] { segmenter.segment(syntheticPhoto(64, 64), options); });
        QCOMPARE(e.kind(), ErrorKind::Config);
        QVERIFY2(QString(e.what()).contains("sampler.steps"), e.what());
    }

    void cancelEndsTheRunCleanly()
    {
        Segmenter2D segmenter(m_checkpoint);
        CancelToken cancel;
        int calls = 0;
        Error e = expectError([&] {
            segmenter.segment(
                syntheticPhoto(64, 64), fastOptions(6, 1),
                [&](const SegmentStep& s) {
                    ++calls;
                    if (s.index == 1) {
                        cancel.cancel();
                    }
                },
                cancel);
        });
        QCOMPARE(e.kind(), ErrorKind::Cancelled);
        QCOMPARE(calls, 2);
        // A token cancelled before the call stops it before any step.
        calls = 0;
        e = expectError([&] {
            segmenter.segment(
                syntheticPhoto(64, 64), fastOptions(6, 1), [&](const SegmentStep&) { ++calls; },
                cancel);
        });
        QCOMPARE(e.kind(), ErrorKind::Cancelled);
        QCOMPARE(calls, 0);
        // The segmenter is still usable afterwards.
        cancel.reset();
        const SegmentResult r =
            segmenter.segment(syntheticPhoto(64, 64), fastOptions(2, 1), {}, cancel);
        QCOMPARE(r.mask.width(), 64);
    }

    void emaWeightsAreUsedWhenPresent()
    {
        // Checkpoint A: model seed 1, EMA seed 2. B: model seed 2 without EMA. C: model seed 1.
        const std::string b = makeCheckpoint(m_dir, "ema-b.dsckpt", 2);
        const std::string c = makeCheckpoint(m_dir, "ema-c.dsckpt", 1);
        const Image2D photo = syntheticPhoto(64, 48);
        Segmenter2D withEma(m_checkpoint);
        Segmenter2D online(b);
        QVERIFY(!online.info().usesEma);
        QCOMPARE(withEma.info().id, online.info().id);
        QVERIFY(sameBytes(withEma.segment(photo, fastOptions(3, 1)).meanX0,
                          online.segment(photo, fastOptions(3, 1)).meanX0));
        ModelLoadOptions noEma;
        noEma.useEma = false;
        Segmenter2D forcedOnline(m_checkpoint, noEma);
        QVERIFY(!forcedOnline.info().usesEma);
        Segmenter2D plain(c);
        QCOMPARE(forcedOnline.info().id, plain.info().id);
        QVERIFY(forcedOnline.info().id != withEma.info().id);
    }

    void referenceCheckpointsNeedTheirConfig()
    {
        const std::string pth = kData + "/reference_tiny.pth";
        // The reference's keys and layout, YAML as the reference writes it (`01` is 1).
        const QString yaml = m_dir + "/tiny.yaml";
        writeText(yaml, "run: {device: cpu}\n"
                        "model:\n  class: DermoSegDiff\n  params:\n    dim_x: 4\n    dim_g: 4\n"
                        "    channels_x: 1\n    channels_g: 3\n    out_dim: 1\n"
                        "    dim_x_mults: [01]\n    dim_g_mults: [1]\n"
                        "    resnet_block_groups: 4\n"
                        "diffusion:\n  schedule: {timesteps: 250, mode: linear, beta_start: "
                        "0.0004, beta_end: 0.08}\n"
                        "dataset: {input_size: 16, name: isic2018}\n");
        ModelLoadOptions options;
        options.reference = ReferenceModelConfig::resolve(yaml.toStdString());
        QCOMPARE(options.reference->inputSize, 16);
        QCOMPARE(options.reference->model.dimXMults, std::vector<int>{1});
        Segmenter2D segmenter(pth, options);
        QCOMPARE(segmenter.info().format, std::string("reference"));
        QVERIFY(segmenter.info().usesEma);
        QCOMPARE(segmenter.info().inputSize, 16);
        QCOMPARE(segmenter.info().epoch.value_or(-1), std::int64_t(5));
        const SegmentResult r = segmenter.segment(syntheticPhoto(30, 20), fastOptions(3, 2));
        QCOMPARE(r.mask.width(), 30);
        QCOMPARE(r.mask.height(), 20);
        QCOMPARE(r.probability.width(), 16);

        // Through the seam (the studio's runner loads this way): the file with its config.
        SegmenterLoadOptions seam;
        seam.reference = yaml.toStdString();
        const std::unique_ptr<Segmenter> opened = openSegmenter(pth, seam);
        QCOMPARE(opened->identity().inputSize, 16);
        QCOMPARE(opened->identity().id, segmenter.info().id);
        SegmentationRequest request;
        request.sampler = "ddim";
        request.steps = 3;
        request.ensemble = 2;
        const SegmentationOutcome seamResult =
            opened->segmentInput(SegmentationInput::ofPhoto(syntheticPhoto(30, 20)), request);
        QCOMPARE(seamResult.photo->mask.width(), 30);
        QCOMPARE(seamResult.settings.steps, 3);
        QCOMPARE(expectError([&] { openSegmenter(pth); }).kind(), ErrorKind::Format);

        // The same as JSON.
        const QString json = m_dir + "/tiny.json";
        writeText(json, R"({"model": {"params": {"dim_x": 4, "dim_g": 4, "dim_mults": [1],
                  "resnet_block_groups": 4}}, "dataset": {"input_size": 16}})");
        const ReferenceModelConfig fromJson = ReferenceModelConfig::fromFile(json.toStdString());
        QVERIFY(fromJson.model == options.reference->model);
        QVERIFY(fromJson.schedule == options.reference->schedule);

        // Presets: the reference's ISIC config, which does not fit the tiny weights.
        const ReferenceModelConfig isic = ReferenceModelConfig::resolve("isic2018");
        QVERIFY(isic.model == DermoSegDiffConfig::isic2018());
        QCOMPARE(isic.schedule.timesteps, 250);
        QCOMPARE(isic.inputSize, 128);
        QCOMPARE(ReferenceModelConfig::preset("ham10000").model.dimXMults,
                 (std::vector<int>{2, 2, 2, 2, 2, 2}));
        options.reference = ReferenceModelConfig::preset("ph2");
        Error e = expectError([&] { Segmenter2D wrong(pth, options); });
        QCOMPARE(e.kind(), ErrorKind::Mismatch);
        QVERIFY2(QString(e.what()).contains("reference_tiny.pth"), e.what());
        // Our loader refuses a reference file and says what to do.
        e = expectError([&] { Segmenter2D ours(pth); });
        QCOMPARE(e.kind(), ErrorKind::Format);
        QVERIFY2(QString(e.what()).contains("reference_tiny.pth"), e.what());
    }

    void badReferenceConfigsNameTheKey()
    {
        const QString unknown = m_dir + "/unknown.yaml";
        writeText(unknown, "model:\n  params: {dim_x: 8, dim_g: 8, dim_y: 3}\n");
        Error e = expectError([&] { ReferenceModelConfig::fromFile(unknown.toStdString()); });
        QCOMPARE(e.kind(), ErrorKind::Config);
        QVERIFY2(QString(e.what()).contains("dim_y") && QString(e.what()).contains("unknown.yaml"),
                 e.what());
        const QString baseline = m_dir + "/baseline.yaml";
        writeText(baseline, "model:\n  class: Baseline\n  params: {dim_x: 8, dim_g: 8}\n");
        e = expectError([&] { ReferenceModelConfig::fromFile(baseline.toStdString()); });
        QCOMPARE(e.kind(), ErrorKind::Unsupported);
        const QString size = m_dir + "/size.yaml";
        writeText(size, "model:\n  params: {dim_x: 8, dim_g: 8, dim_mults: [1, 2, 4], "
                        "resnet_block_groups: 4}\ndataset: {input_size: 30}\n");
        e = expectError([&] { ReferenceModelConfig::fromFile(size.toStdString()); });
        QCOMPARE(e.kind(), ErrorKind::Config);
        QVERIFY2(QString(e.what()).contains("input_size"), e.what());
        const QString broken = m_dir + "/broken.yaml";
        writeText(broken, "model: [unclosed\n");
        e = expectError([&] { ReferenceModelConfig::fromFile(broken.toStdString()); });
        QCOMPARE(e.kind(), ErrorKind::Config);
        QVERIFY2(QString(e.what()).contains("broken.yaml"), e.what());
        e = expectError([&] { ReferenceModelConfig::resolve("isic2019"); });
        QCOMPARE(e.kind(), ErrorKind::NotFound);
    }

    void badInputsAreErrorsNamingTheirSubject()
    {
        Error e = expectError([&] { Segmenter2D missing(m_dir.toStdString() + "/nope.dsckpt"); });
        QCOMPARE(e.kind(), ErrorKind::NotFound);
        QVERIFY2(QString(e.what()).contains("nope.dsckpt"), e.what());
        const QString text = m_dir + "/text.dsckpt";
        writeText(text, "not a checkpoint");
        e = expectError([&] { Segmenter2D junk(text.toStdString()); });
        QCOMPARE(e.kind(), ErrorKind::Format);
        QVERIFY2(QString(e.what()).contains("text.dsckpt"), e.what());

        ModelLoadOptions device;
        device.device = "tpu";
        e = expectError([&] { Segmenter2D s(m_checkpoint, device); });
        QCOMPARE(e.kind(), ErrorKind::Config);
        QVERIFY2(QString(e.what()).contains("tpu"), e.what());
        if (!torch::cuda::is_available()) {
            device.device = "gpu"; // an alias of cuda, as in diffseg train
            e = expectError([&] { Segmenter2D s(m_checkpoint, device); });
            QCOMPARE(e.kind(), ErrorKind::Unsupported);
            device.device = "cuda:0";
            e = expectError([&] { Segmenter2D s(m_checkpoint, device); });
            QCOMPARE(e.kind(), ErrorKind::Unsupported);
            QVERIFY2(QString(e.what()).contains("cuda:0"), e.what());
            device.device = "auto";
            QCOMPARE(Segmenter2D(m_checkpoint, device).info().device, std::string("cpu"));
        }

        Segmenter2D segmenter(m_checkpoint);
        e = expectError([&] { segmenter.segment(Image2D()); });
        QCOMPARE(e.kind(), ErrorKind::InvalidValue);
        QVERIFY2(QString(e.what()).contains("image"), e.what());
        Image2D nan(20, 20, 3, PixelType::Float32);
        nan.data<float>()[7] = std::nanf("");
        e = expectError([&] { segmenter.segment(nan, fastOptions(2, 1)); });
        QCOMPARE(e.kind(), ErrorKind::InvalidValue);
        SegmentOptions options = fastOptions(2, 1);
        options.ensemble = 0;
        e = expectError([&] { segmenter.segment(syntheticPhoto(20, 20), options); });
        QCOMPARE(e.kind(), ErrorKind::Config);
        QVERIFY2(QString(e.what()).contains("ensemble"), e.what());
        options = fastOptions(2, 1);
        options.eta = 2.0;
        e = expectError([&] { segmenter.segment(syntheticPhoto(20, 20), options); });
        QCOMPARE(e.kind(), ErrorKind::Config);
        options = fastOptions(2, 1);
        options.stepCacheBudget = 100; // less than one 64 x 64 frame
        e = expectError([&] { segmenter.segment(syntheticPhoto(20, 20), options); });
        QCOMPARE(e.kind(), ErrorKind::Config);
        QCOMPARE(expectError([] { parseSamplerMethod("euler"); }).kind(), ErrorKind::Config);
        QCOMPARE(parseSamplerMethod("DDIM"), SamplerMethod::Ddim);
    }

    void aSmallCacheBudgetThinsOldSteps()
    {
        Segmenter2D segmenter(m_checkpoint);
        SegmentOptions options = fastOptions(16, 1);
        options.stepCacheBudget = 64 * 64 * 8; // 8 steps of the one member
        int cachedSteps = 0;
        const SegmentResult r =
            segmenter.segment(syntheticPhoto(64, 64), options,
                              [&](const SegmentStep& s) { cachedSteps += s.cached ? 1 : 0; });
        QVERIFY(r.steps->bytesUsed() <= options.stepCacheBudget);
        QCOMPARE(int(r.steps->keptSteps().size()), cachedSteps);
        QVERIFY(cachedSteps <= 8);
        QCOMPARE(r.steps->keptSteps().front(), 0);
        QCOMPARE(r.steps->keptSteps().back(), 15);
        // A dropped step is answered with the nearest kept one.
        QVERIFY(r.steps->get(0, 3).valid());
        // The instability map does not depend on what the cache dropped: the last 10
        // transitions, consecutive.
        QCOMPARE(r.instabilitySteps, (std::vector<int>{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}));
    }

    void refinementHonoursEveryPrompt()
    {
        Segmenter2D segmenter(m_checkpoint);
        const Image2D photo = syntheticPhoto(150, 110);
        // The current mask: a rectangle; the prompts contradict parts of it.
        Image2D current(150, 110, 1, PixelType::UInt8);
        for (int y = 0; y < 110; ++y) {
            for (int x = 0; x < 150; ++x) {
                current.at<std::uint8_t>(x, y) = (x >= 30 && x < 100 && y >= 20 && y < 90) ? 1 : 0;
            }
        }
        RefinePrompts prompts;
        prompts.clicks = {{120.5, 60.5, true}, {60.5, 50.5, false}};
        prompts.clickRadius = 6.0;
        prompts.box = std::array<int, 4>{10, 5, 145, 105};
        prompts.strokes = Image2D(150, 110, 1, PixelType::UInt8);
        std::memset(prompts.strokes.rawData(), 0, prompts.strokes.byteSize());
        for (int x = 35; x < 45; ++x) {
            prompts.strokes.at<std::uint8_t>(x, 80) = kPromptBackground; // an eraser stroke
        }
        RefineOptions refine;
        refine.strength = 0.6;
        int steps = 0;
        const SegmentResult r = segmenter.refine(photo, current, prompts, fastOptions(4, 2, 5),
                                                 refine, [&](const SegmentStep&) { ++steps; });
        QCOMPARE(steps, 4);
        // The run started at round(0.6 (T - 1)), T = 50.
        QCOMPARE(r.timesteps.front(), 29);
        QCOMPARE(r.mask.width(), 150);
        const Image2D map = rasterizePrompts(prompts, 150, 110, 150, 110);
        int lesion = 0;
        int background = 0;
        for (int y = 0; y < 110; ++y) {
            for (int x = 0; x < 150; ++x) {
                const std::uint8_t p = map.at<std::uint8_t>(x, y);
                const std::uint8_t m = r.mask.at<std::uint8_t>(x, y);
                if (p == kPromptLesion) {
                    QCOMPARE(int(m), 1);
                    ++lesion;
                } else if (p == kPromptBackground) {
                    QCOMPARE(int(m), 0);
                    ++background;
                }
            }
        }
        QVERIFY(lesion > 100 && background > 1000); // the disks, the box's outside, the stroke
        // At the network's size too, and the click never vanishes there (radius >= 1 cell).
        const Image2D small = rasterizePrompts(prompts, 150, 110, 64, 64);
        QCOMPARE(int(small.at<std::uint8_t>(int(120.5 * 64 / 150), int(60.5 * 64 / 110))),
                 int(kPromptLesion));
        QCOMPARE(int(r.maskInput.at<std::uint8_t>(int(120.5 * 64 / 150), int(60.5 * 64 / 110))), 1);
        // Deterministic for a seed.
        QVERIFY(sameBytes(
            segmenter.refine(photo, current, prompts, fastOptions(4, 2, 5), refine).meanX0,
            r.meanX0));
        // Its own step count (a click may take fewer than a run from noise), planned and run
        // alike over the same span; DDPM visits every timestep below the start whatever it says.
        refine.steps = 2;
        const std::vector<int> plannedTwo =
            segmenter.plannedRefineTimesteps(fastOptions(4, 2, 5), refine);
        QCOMPARE(plannedTwo, (std::vector<int>{29, 0}));
        steps = 0;
        QCOMPARE(segmenter
                     .refine(photo, current, prompts, fastOptions(4, 2, 5), refine,
                             [&](const SegmentStep&) { ++steps; })
                     .timesteps,
                 plannedTwo);
        QCOMPARE(steps, 2);
        SegmentOptions ddpm = fastOptions(4, 2, 5);
        ddpm.sampler = SamplerMethod::Ddpm;
        ddpm.steps = 0;
        QCOMPARE(refine.applyTo(ddpm).steps, 0);
        refine.steps = 9; // never more than the run's own
        QCOMPARE(refine.applyTo(fastOptions(4, 2, 5)).steps, 4);
        refine.steps = -1;
        QCOMPARE(expectError([&] { refine.applyTo(fastOptions()); }).kind(), ErrorKind::Config);
        refine.steps = 0;
        // Without a current mask it redraws from noise; bad input is named.
        refine.strength = 1.0;
        QCOMPARE(segmenter.refine(photo, Image2D(), prompts, fastOptions(3, 1, 5), refine)
                     .timesteps.front(),
                 49);
        refine.strength = 0.0;
        QCOMPARE(expectError([&] {
                     segmenter.refine(photo, current, prompts, fastOptions(), refine);
                 }).kind(),
                 ErrorKind::Config);
        refine.strength = 0.5;
        QCOMPARE(expectError([&] {
                     segmenter.refine(photo, Image2D(20, 20, 1, PixelType::UInt8), prompts,
                                      fastOptions(), refine);
                 }).kind(),
                 ErrorKind::Mismatch);
    }

    void aBackgroundClickClearsTheRegionItLandsIn()
    {
        // The model took a sticker (an orange square) and the lesion for one region; a
        // background click inside the sticker holds all of it as background, not only its disk.
        Segmenter2D segmenter(m_checkpoint);
        Image2D photo = syntheticPhoto(150, 110);
        Image2D current(150, 110, 1, PixelType::UInt8);
        for (int y = 0; y < 110; ++y) {
            for (int x = 0; x < 150; ++x) {
                const bool sticker = x >= 90 && x < 130 && y >= 30 && y < 80;
                if (sticker) {
                    photo.at<std::uint8_t>(x, y, 0) = 240;
                    photo.at<std::uint8_t>(x, y, 1) = 140;
                    photo.at<std::uint8_t>(x, y, 2) = 30;
                }
                current.at<std::uint8_t>(x, y) = (x >= 25 && x < 135 && y >= 25 && y < 90) ? 1 : 0;
            }
        }
        RefinePrompts prompts;
        prompts.clicks = {{110.5, 55.5, false}};
        prompts.clickRadius = 4.0;
        RefineOptions refine = RefineOptions::interactive();
        QCOMPARE(refine.backgroundRegionTolerance, 30.0);
        const SegmentResult r =
            segmenter.refine(photo, current, prompts, fastOptions(4, 2, 5), refine);
        for (int y = 30; y < 80; ++y) {
            for (int x = 90; x < 130; ++x) {
                QCOMPARE(int(r.mask.at<std::uint8_t>(x, y)), 0);
            }
        }
        // With the disk alone, the rest of the sticker is the model's to draw.
        refine.backgroundRegionTolerance = 0.0;
        const Image2D held = rasterizePrompts(prompts, 150, 110, 150, 110);
        const SegmentResult disk =
            segmenter.refine(photo, current, prompts, fastOptions(4, 2, 5), refine);
        for (int y = 30; y < 80; ++y) {
            for (int x = 90; x < 130; ++x) {
                if (held.at<std::uint8_t>(x, y) == kPromptBackground) {
                    QCOMPARE(int(disk.mask.at<std::uint8_t>(x, y)), 0);
                }
            }
        }
        QVERIFY(!sameBytes(disk.meanX0, r.meanX0));
    }

    void startFromOtsuIsARefinementOfTheThreshold()
    {
        Segmenter2D segmenter(m_checkpoint);
        const Image2D photo = syntheticPhoto(150, 110);
        SegmentOptions options = fastOptions(4, 2, 5);
        options.startFromOtsu = 0.6;
        // The plan and the run start at round(0.6 (T - 1)), T = 50, with the steps over that span.
        const std::vector<int> planned = segmenter.plannedTimesteps(options);
        QCOMPARE(planned.front(), 29);
        QCOMPARE(int(planned.size()), 4);
        const SegmentResult started = segmenter.segment(photo, options);
        QCOMPARE(started.timesteps, planned);
        // Exactly a refinement of the Otsu baseline's mask, with no prompts.
        RefineOptions refine;
        refine.strength = 0.6;
        const SegmentResult refined =
            segmenter.refine(photo, otsuBaseline(photo).mask, {}, fastOptions(4, 2, 5), refine);
        QVERIFY(sameBytes(started.meanX0, refined.meanX0));
        QVERIFY(sameBytes(started.mask, refined.mask));
        // 0 samples from noise, as before.
        options.startFromOtsu = 0.0;
        QCOMPARE(segmenter.plannedTimesteps(options).front(), 49);
    }

    void startFromDraftRefinesTheModelsOwnDraft()
    {
        Segmenter2D segmenter(m_checkpoint);
        const Image2D photo = syntheticPhoto(150, 110);
        SegmentOptions options = fastOptions(4, 2, 5);
        options.startFromDraft = 0.6;
        options.draftSteps = 2;
        options.startFromOtsu = 0.9; // the draft wins
        const std::vector<int> planned = segmenter.plannedTimesteps(options);
        QCOMPARE(planned.front(), 29);
        const SegmentResult started = segmenter.segment(photo, options);
        QCOMPARE(started.timesteps, planned);
        QVERIFY(started.timings.draft > 0.0);
        QVERIFY(started.timings.total >= started.timings.draft);
        // Exactly: a 2-step deterministic DDIM draft of the same members, then a refinement of
        // its mask with no prompts.
        SegmentOptions draftOptions = fastOptions(2, 2, 5);
        draftOptions.eta = 0.0;
        const SegmentResult draft = segmenter.segment(photo, draftOptions);
        RefineOptions refine;
        refine.strength = 0.6;
        const SegmentResult refined =
            segmenter.refine(photo, draft.mask, {}, fastOptions(4, 2, 5), refine);
        QVERIFY(sameBytes(started.meanX0, refined.meanX0));
        QVERIFY(sameBytes(started.mask, refined.mask));
        // A draft start differs from the Otsu start it replaces.
        SegmentOptions otsu = fastOptions(4, 2, 5);
        otsu.startFromOtsu = 0.6;
        QVERIFY(!sameBytes(segmenter.segment(photo, otsu).meanX0, started.meanX0));
    }

    void preprocessMatchesTheReference()
    {
        Image2D photo(40, 30, 3, PixelType::UInt8);
        for (int y = 0; y < 30; ++y) {
            for (int x = 0; x < 40; ++x) {
                for (int c = 0; c < 3; ++c) {
                    photo.at<std::uint8_t>(x, y, c) = std::uint8_t(20 + (x * 3 + y * 2 + c) % 180);
                }
            }
        }
        const Image2D input = Segmenter2D::preprocess(photo, 16);
        QCOMPARE(input.width(), 16);
        QCOMPARE(input.height(), 16);
        QCOMPARE(input.channels(), 3);
        QCOMPARE(input.pixelType(), PixelType::Float32);
        const auto [lo, hi] = range(input);
        QCOMPARE(lo, 0.0f);
        QCOMPARE(hi, 1.0f);
        // A flat image is the reference's 0/0 -> NaN -> 0.5.
        Image2D flat(10, 10, 3, PixelType::UInt8);
        std::memset(flat.rawData(), 77, flat.byteSize());
        const auto flatRange = range(Segmenter2D::preprocess(flat, 8));
        QCOMPARE(flatRange.first, 0.5f);
        QCOMPARE(flatRange.second, 0.5f);
        // Gray is replicated to RGB, alpha is dropped.
        Image2D gray(8, 8, 1, PixelType::UInt8);
        for (std::size_t i = 0; i < 64; ++i) {
            gray.data<std::uint8_t>()[i] = std::uint8_t(i);
        }
        const Image2D rgb = Segmenter2D::preprocess(gray, 8);
        QCOMPARE(rgb.channels(), 3);
        QCOMPARE(rgb.at<float>(5, 3, 0), rgb.at<float>(5, 3, 2));
        Image2D rgba(8, 8, 4, PixelType::UInt8);
        QCOMPARE(Segmenter2D::preprocess(rgba, 8).channels(), 3);
    }
};

QTEST_GUILESS_MAIN(TestSegmenter2D)
#include "TestSegmenter2D.moc"
