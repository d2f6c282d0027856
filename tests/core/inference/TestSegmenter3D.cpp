// Segmenter3D: a generated phantom (crop + resampling + an oblique geometry) and crops of shared
// volumes give label maps, probabilities and uncertainty maps on the input's grid with its
// geometry exactly; label values in range; callbacks = windows x (mirror passes) x steps with the
// step volumes in the last batch; the step cache; determinism for equal seeds; multi-class
// (BraTS-like 4 channels, 4 classes); mirror TTA; cancellation; bad checkpoints and volumes.
// Tiny networks (base 4 features, max 8, 3 stages) keep every run to a second or so.

#include "CheckpointTestSupport.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "imaging/Crop.h"
#include "inference/Segmenter3D.h"
#include "io/VolumeReader.h"

#include <QtTest>

#include <torch/cuda.h>
#include <torch/serialize.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

using namespace diffseg::core;
using namespace diffseg::core::engine;
using diffseg::test::tinyDiffUNetConfig;

namespace {

using Size3 = std::array<std::int64_t, 3>;

/// Saves a freshly initialised tiny Diff-UNet in our checkpoint format.
std::string makeCheckpoint(const QString& dir, const QString& name, const DiffUNetConfig& config,
                           int inputSize, const std::string& preprocessing, std::uint64_t seed,
                           const std::vector<int>& labelValues = {})
{
    const std::string path = (dir + "/" + name).toStdString();
    diffseg::test::saveFreshDiffUNet(path, config, inputSize, preprocessing, seed,
                                     "TestSegmenter3D", labelValues);
    return path;
}

Geometry obliqueGeometry()
{
    // 20 degrees about z, then the axes permuted: nothing is axis-aligned or identity.
    const double a = 20.0 * M_PI / 180.0;
    Geometry g;
    g.spacing = {1.2, 0.9, 2.0};
    g.origin = {-40.5, 12.25, 103.0};
    g.direction = {std::cos(a), -std::sin(a), 0.0, std::sin(a), std::cos(a), 0.0, 0.0, 0.0, 1.0};
    return g;
}

/// A CT-like phantom: a zero border (so that the crop does something), a body of noise and a
/// bright sphere; `channels` copies with different contrasts.
Volume phantom(const Size3& size, int channels)
{
    Volume v(size, channels, PixelType::Float32, obliqueGeometry());
    for (int c = 0; c < channels; ++c) {
        float* d = v.channelData<float>(c);
        for (std::int64_t k = 2; k < size[2] - 2; ++k) {
            for (std::int64_t j = 3; j < size[1] - 2; ++j) {
                for (std::int64_t i = 1; i < size[0] - 4; ++i) {
                    const double dx = (i - size[0] * 0.45) / (size[0] * 0.2);
                    const double dy = (j - size[1] * 0.5) / (size[1] * 0.25);
                    const double dz = (k - size[2] * 0.5) / (size[2] * 0.3);
                    const bool inside = dx * dx + dy * dy + dz * dz < 1.0;
                    const double noise = std::sin(0.7 * i + 1.3 * j + 0.4 * k + c) * 20.0;
                    d[v.linearIndex(i, j, k)] =
                        static_cast<float>((inside ? 300.0 : 40.0) * (1.0 + 0.3 * c) + noise);
                }
            }
        }
    }
    return v;
}

/// The default options but for `steps` denoiser steps (a short run).
Segment3DOptions withSteps(int steps)
{
    Segment3DOptions options;
    options.steps = steps;
    return options;
}

bool sameGeometry(const Geometry& a, const Geometry& b)
{
    return a.spacing == b.spacing && a.origin == b.origin && a.direction == b.direction;
}

bool sameBytes(const Volume& a, const Volume& b)
{
    return a.byteSize() == b.byteSize() && std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

/// Checks everything that must hold for any result on `image`'s grid.
void checkResult(const Segment3DResult& r, const Volume& image, int classes)
{
    QCOMPARE(r.classes, classes);
    for (const Volume* v : {static_cast<const Volume*>(&r.labels), &r.probabilities, &r.entropy}) {
        QCOMPARE(v->size(), image.size());
        QVERIFY(sameGeometry(v->geometry(), image.geometry()));
    }
    QVERIFY(r.labels.isAlignedWith(image, 0.0));
    QCOMPARE(r.labels.pixelType(), PixelType::UInt8);
    QCOMPARE(r.probabilities.channels(), classes);
    const std::size_t n = image.voxelCount();
    const std::uint8_t* l = r.labels.data<std::uint8_t>();
    const float* h = r.entropy.data<float>();
    for (std::size_t v = 0; v < n; ++v) {
        QVERIFY(l[v] < classes);
        double sum = 0.0;
        int best = 0;
        for (int c = 0; c < classes; ++c) {
            const float p = r.probabilities.channelData<float>(c)[v];
            QVERIFY(p >= 0.0f && p <= 1.0f);
            sum += p;
            if (p > r.probabilities.channelData<float>(best)[v]) {
                best = c;
            }
        }
        QVERIFY(std::abs(sum - 1.0) < 1e-4);
        QCOMPARE(int(l[v]), best);
        QVERIFY(h[v] >= -1e-6f && h[v] <= std::log(float(classes)) + 1e-4f);
    }
    if (!r.stepEntropy.empty()) {
        QVERIFY(sameGeometry(r.stepEntropy.geometry(), image.geometry()));
        QCOMPARE(r.stepEntropy.size(), image.size());
    }
    // Outside the crop box: background, certain.
    const auto& b = r.cropBox;
    if (b.begin[0] > 0) {
        QCOMPARE(int(l[image.linearIndex(0, 0, 0)]), 0);
        QVERIFY(r.probabilities.data<float>()[0] > 0.999f);
    }
}

} // namespace

class TestSegmenter3D : public QObject
{
    Q_OBJECT

private:
    QString m_dir;
    std::string m_binary; ///< (1, 2), input 16, z-score, crop, resampled to 1.5 mm
    std::string m_brats;  ///< (4, 4), input 16, z-score, crop, no resampling

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = diffseg::test::scratchDir("segmenter3d");
        m_binary = makeCheckpoint(
            m_dir, "binary.dsckpt", tinyDiffUNetConfig(1, 2), 16,
            R"({"normalization": "zscore", "crop_to_nonzero": true, "target_spacing": [1.5, 1.5, 1.5]})",
            3);
        m_brats = makeCheckpoint(m_dir, "brats.dsckpt", tinyDiffUNetConfig(4, 4), 16, "{}", 4);
    }

    void phantomOnTheSourceGrid()
    {
        Segmenter3D segmenter(m_binary);
        const VolumeModelInfo& info = segmenter.info();
        QCOMPARE(info.format, std::string("diffseg"));
        QCOMPARE(info.inputSize, 16);
        QCOMPARE(info.network.numClasses, 2);
        QCOMPARE(info.preparationSource, std::string("checkpoint"));
        QVERIFY(info.preparation.targetSpacing.has_value());
        QVERIFY(info.id.rfind("dun-", 0) == 0);
        QCOMPARE(info.device, std::string("cpu"));
        QVERIFY(!info.autocast);

        const Volume image = phantom({37, 30, 17}, 1);
        Segment3DOptions options = withSteps(2);
        int calls = 0;
        int completed = 0;
        int lastDone = 0;
        std::vector<LabelMap> stepLabels;
        const Segment3DResult r = segmenter.segment(image, options, [&](const Segment3DStep& s) {
            ++calls;
            QCOMPARE(s.done, lastDone + 1);
            lastDone = s.done;
            QCOMPARE(s.steps, 2);
            QCOMPARE(s.flips, 1);
            QCOMPARE(s.windows, 1);
            QCOMPARE(s.firstWindow, s.batch);
            QVERIFY(s.etaSeconds >= 0.0);
            QVERIFY(s.cache != nullptr);
            if (s.stepLabels != nullptr) {
                ++completed;
                QCOMPARE(s.batch, s.batchCount - 1);
                QCOMPARE(s.step, completed - 1);
                QVERIFY(s.stepLabels->isAlignedWith(image, 0.0));
                QCOMPARE(s.stepProbabilities->channels(), 2);
                QVERIFY(s.cache->isKept(s.step));
                QCOMPARE(s.cache->storedSteps(0).back(), s.step);
                stepLabels.push_back(LabelMap::fromVolume(s.stepLabels->clone()));
            } else {
                QVERIFY(s.stepProbabilities == nullptr);
            }
        });
        checkResult(r, image, 2);
        // The prepared grid: the crop box resampled to 1.5 mm.
        QVERIFY(r.cropBox == (BoundingBox{{1, 3, 2}, {33, 28, 15}}));
        // round(32 x 1.2 / 1.5), round(25 x 0.9 / 1.5), round(13 x 2 / 1.5)
        QCOMPARE(r.preparedSize, (Size3{26, 15, 17}));
        QCOMPARE(r.roi, (Size3{16, 16, 16}));
        QCOMPARE(r.windowCount, 3 * 1 * 2);
        QCOMPARE(calls, r.windowCount * 2);
        QCOMPARE(completed, 2);
        QVERIFY(!r.stepEntropy.empty());
        QVERIFY(r.mirrorVariance.empty());
        QCOMPARE(r.uncertaintySource, VolumeUncertainty::StepEntropy);
        QVERIFY(sameBytes(r.uncertainty, r.stepEntropy));

        // The step cache: one member (the foreground) per step, 1 byte per voxel.
        QVERIFY(r.stepCache);
        QCOMPARE(r.stepCache->config().members, 1);
        QCOMPARE(r.stepCache->storedSteps(0), (std::vector<int>{0, 1}));
        QCOMPARE(r.stepCache->bytesUsed(), 2 * image.voxelCount());
        QCOMPARE(stepLabels.size(), std::size_t{2});
        for (int s = 0; s < 2; ++s) {
            const LabelMap fromCache = Segmenter3D::stepLabelsFromCache(*r.stepCache, s);
            QVERIFY(fromCache.isAlignedWith(image, 0.0));
            std::size_t agree = 0;
            for (std::size_t v = 0; v < image.voxelCount(); ++v) {
                agree += fromCache.data<std::uint8_t>()[v] ==
                                 stepLabels[std::size_t(s)].data<std::uint8_t>()[v]
                             ? 1
                             : 0;
            }
            QVERIFY(agree >= image.voxelCount() - 5);
            const Volume fg = Segmenter3D::stepForegroundFromCache(*r.stepCache, s);
            QCOMPARE(fg.size(), image.size());
            QVERIFY(sameGeometry(fg.geometry(), image.geometry()));
        }
        const QString timings = QString("prepare %1 windows %2 post %3")
                                    .arg(r.timings.prepare)
                                    .arg(r.timings.windows)
                                    .arg(r.timings.postprocess);
        QVERIFY2(r.timings.total >= r.timings.windows && r.timings.firstStepVolume > 0.0,
                 qPrintable(timings));

        // Equal seeds: equal results; another seed changes the noise and so the logits.
        const Segment3DResult again = segmenter.segment(image, options);
        QVERIFY(sameBytes(again.probabilities, r.probabilities));
        QVERIFY(sameBytes(again.labels, r.labels));
        QVERIFY(sameBytes(again.stepEntropy, r.stepEntropy));
        options.seed = 99;
        const Segment3DResult other = segmenter.segment(image, options);
        QVERIFY(!sameBytes(other.probabilities, r.probabilities));
        checkResult(other, image, 2);
    }

    void windowBatchesFusionAndWithoutSteps()
    {
        Segmenter3D segmenter(m_binary);
        const Volume image = phantom({37, 30, 17}, 1);
        Segment3DOptions options = withSteps(3);
        options.windowBatch = 4;
        options.fusion = StepFusionMethod::Uncertainty;
        options.overlap = 0.75;
        options.uncertainty = VolumeUncertainty::FusedEntropy;
        int calls = 0;
        const Segment3DResult r = segmenter.segment(image, options, [&](const Segment3DStep& s) {
            ++calls;
            QVERIFY(s.windows <= 4);
        });
        checkResult(r, image, 2);
        QCOMPARE(calls, r.batchCount * 3);
        QCOMPARE(r.batchCount, (r.windowCount + 3) / 4);
        QVERIFY(sameBytes(r.uncertainty, r.entropy));

        options.stepPredictions = false;
        options.uncertainty = VolumeUncertainty::StepEntropy; // needs the step predictions
        QVERIFY_THROWS_EXCEPTION(Error, segmenter.segment(image, options));
        options.uncertainty = VolumeUncertainty::FusedEntropy;
        const Segment3DResult lean = segmenter.segment(image, options);
        checkResult(lean, image, 2);
        QVERIFY(!lean.stepCache);
        QVERIFY(lean.stepEntropy.empty());
        // The step predictions change nothing in the fused result.
        QVERIFY(sameBytes(lean.probabilities, r.probabilities));
    }

    void multiClassWithMirrorTta()
    {
        Segmenter3D segmenter(m_brats);
        QCOMPARE(segmenter.info().network.inChannels, 4);
        const Volume image = phantom({20, 18, 22}, 4);
        Segment3DOptions options = withSteps(2);
        options.mirrorTta = true;
        options.uncertainty = VolumeUncertainty::MirrorVariance;
        std::set<int> flips;
        int calls = 0;
        int completed = 0;
        const Segment3DResult r = segmenter.segment(image, options, [&](const Segment3DStep& s) {
            ++calls;
            flips.insert(s.flip);
            QCOMPARE(s.flips, 8);
            if (s.stepLabels != nullptr) {
                ++completed;
                QCOMPARE(s.flip, 7);
                QCOMPARE(s.stepProbabilities->channels(), 4);
            }
        });
        checkResult(r, image, 4);
        QCOMPARE(flips.size(), std::size_t{8});
        QCOMPARE(calls, r.windowCount * 8 * 2);
        QCOMPARE(completed, 2);
        QCOMPARE(r.stepCache->config().members, 3);
        QCOMPARE(r.stepCache->bytesUsed(), 3 * 2 * image.voxelCount());
        QCOMPARE(r.mirrorVariance.size(), image.size());
        QVERIFY(sameGeometry(r.mirrorVariance.geometry(), image.geometry()));
        QVERIFY(sameBytes(r.uncertainty, r.mirrorVariance));
        const float* v = r.mirrorVariance.data<float>();
        float peak = 0.0f;
        for (std::size_t i = 0; i < image.voxelCount(); ++i) {
            QVERIFY(v[i] >= 0.0f && v[i] <= 0.25f + 1e-6f);
            peak = std::max(peak, v[i]);
        }
        QVERIFY(peak > 0.0f); // an untrained network is not flip-invariant
        const LabelMap step1 = Segmenter3D::stepLabelsFromCache(*r.stepCache, 1);
        QVERIFY(step1.maxLabel() <= 3);
    }

    void sharedVolumesKeepTheirGeometry()
    {
        DIFFSEG_REQUIRE_SHARED(t2, "data/volumes/sct_spinalcord/t2/t2.nii.gz");
        DIFFSEG_REQUIRE_SHARED(
            ct, "data/volumes/totalsegmentator/ct_abdomen_nifti/example_ct_sm.nii.gz");
        // The PSR spinal-cord MRI (int16), cropped, through the 1.5 mm model.
        const Volume full = readVolume(t2.toStdString()).volume;
        const Volume mri = cropVolume(full, BoundingBox{{10, 5, 8}, {50, 45, 40}});
        Segmenter3D binary(m_binary);
        Segment3DOptions options = withSteps(1);
        options.roi = 32;
        const Segment3DResult r = binary.segment(mri, options);
        checkResult(r, mri, 2);
        QCOMPARE(r.labels.geometry().orientationCode(), std::string("PSR"));

        // The RAS CT crop, CT preparation from the caller with 2 mm resampling.
        const Volume body = readVolume(ct.toStdString()).volume;
        const Volume crop = cropVolume(body, BoundingBox{{30, 20, 5}, {78, 60, 25}});
        VolumeModelLoadOptions load;
        VolumePreparationConfig prep;
        prep.normalization = VolumePreparationConfig::Normalization::CtClipZScore;
        prep.clipLow = -1000.0;
        prep.clipHigh = 1000.0;
        prep.mean = 50.0;
        prep.stddev = 200.0;
        prep.cropToNonZero = false;
        prep.targetSpacing = std::array<double, 3>{2.0, 2.0, 2.0};
        load.preparation = prep;
        Segmenter3D ctModel(m_binary, load);
        QCOMPARE(ctModel.info().preparationSource, std::string("caller"));
        const Segment3DResult c = ctModel.segment(crop, options);
        checkResult(c, crop, 2);
        QCOMPARE(c.labels.geometry().orientationCode(), std::string("RAS"));
        QCOMPARE(c.preparedSize, (Size3{72, 60, 30}));
    }

    void referenceStateDictWithACallerPreprocessing()
    {
        // The tiny network's weights as the reference trainer saves them: a plain state_dict
        // with edge_model.* / denoise_model.* keys, wrapped in "module." by DataParallel.
        const Checkpoint ours = loadCheckpoint(m_binary);
        c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
        for (const auto& [name, tensor] : ours.model) {
            dict.insert("module." + name, tensor);
        }
        const std::vector<char> bytes = torch::pickle_save(dict);
        const std::string path = (m_dir + "/best_model_0.5000.pt").toStdString();
        std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));

        VolumeModelLoadOptions load;
        load.referenceNetwork = tinyDiffUNetConfig(1, 2);
        load.referenceName = "tiny test network";
        load.referenceInputSize = 16;
        load.preparation = VolumePreparationConfig::fromJson(ours.info.preprocessingJson);
        Segmenter3D reference(path, load);
        Segmenter3D native(m_binary);
        QCOMPARE(reference.info().format, std::string("reference"));
        QCOMPARE(reference.info().referenceConfig, std::string("tiny test network"));
        QCOMPARE(reference.info().preparationSource, std::string("caller"));
        QCOMPARE(reference.info().id, native.info().id); // the same weights
        const Volume image = phantom({30, 26, 19}, 1);
        Segment3DOptions options = withSteps(2);
        const Segment3DResult a = reference.segment(image, options);
        const Segment3DResult b = native.segment(image, options);
        QVERIFY(sameBytes(a.probabilities, b.probabilities));
        QVERIFY(sameBytes(a.labels, b.labels));
        // The wrong network for the weights: a shape mismatch naming the file.
        load.referenceNetwork = tinyDiffUNetConfig(4, 4);
        try {
            Segmenter3D wrong(path, load);
            QFAIL("loaded a (1, 2) state_dict as (4, 4)");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Mismatch);
            QVERIFY2(std::string(e.what()).find(path) != std::string::npos, e.what());
        }
        // Through the seam (the studio loads so): the file is recognised as a volume model by
        // its keys, and a preset without its training set's CT statistics is refused by name.
        QCOMPARE(checkpointInputKind(path), std::optional<InputKind>(InputKind::Volume));
        SegmenterLoadOptions seam;
        seam.reference = "aiib2023";
        try {
            openSegmenter(path, seam);
            QFAIL("opened a reference AIIB state_dict without its CT statistics");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Config);
            QVERIFY2(std::string(e.what()).find(path) != std::string::npos &&
                         std::string(e.what()).find("--preprocessing") != std::string::npos,
                     e.what());
        }
    }

    void refinementHonoursClicksInEveryWindow()
    {
        // Clicks on both classes, strokes, a start from a current label map: the prompted voxels
        // keep their classes on the source grid, the run counts only the steps it ran, and the
        // same seed gives the same labels.
        Segmenter3D segmenter(m_brats);
        const Volume image = phantom({30, 26, 20}, 4);
        Segment3DOptions options = withSteps(4);
        options.seed = 9;
        const Segment3DResult first = segmenter.segment(image, options);
        VolumePrompts prompts;
        prompts.clicks = {{{10.5, 10.5, 10.5}, 2}, {{25.2, 5.1, 3.7}, 0}, {{3.5, 20.5, 15.5}, 3}};
        prompts.radiusMm = 2.0;
        LabelMap strokes = LabelMap::like(image);
        strokes.data<std::uint8_t>()[image.linearIndex(15, 13, 10)] = 2; // class 1
        prompts.strokes = strokes;
        const LabelMap known = rasterizeVolumePrompts(prompts, image);
        int calls = 0;
        int completed = 0;
        const Segment3DResult refined = segmenter.refine(
            image, first.labels, prompts, options, 0.5, [&](const Segment3DStep& s) {
                ++calls;
                QCOMPARE(s.steps, 2); // round((1 - 0.5) x 4) = 2 steps skipped
                completed += s.stepLabels != nullptr;
            });
        QCOMPARE(refined.steps, 2);
        QCOMPARE(completed, 2);
        QCOMPARE(calls, refined.windowCount * 2);
        checkResult(refined, image, 4);
        std::size_t prompted = 0;
        for (std::size_t v = 0; v < known.voxelCount(); ++v) {
            const int k = known.data<std::uint8_t>()[v];
            if (k > 0) {
                ++prompted;
                QCOMPARE(int(refined.labels.data<std::uint8_t>()[v]), k - 1);
            }
        }
        QVERIFY(prompted > 3); // spheres, not single voxels
        QCOMPARE(int(refined.labels.data<std::uint8_t>()[image.linearIndex(15, 13, 10)]), 1);
        const Segment3DResult again = segmenter.refine(image, first.labels, prompts, options, 0.5);
        QVERIFY(sameBytes(again.labels, refined.labels));
        // From noise (no current labels): every step runs.
        const Segment3DResult fromNoise = segmenter.refine(image, LabelMap(), prompts, options);
        QCOMPARE(fromNoise.steps, 4);

        bool threw = false;
        try {
            segmenter.refine(image, first.labels, prompts, options, 1.5);
        } catch (const Error& e) {
            threw = e.kind() == ErrorKind::Config && e.subject() == "strength";
        }
        QVERIFY(threw);
        threw = false;
        VolumePrompts wrong;
        wrong.strokes = LabelMap::like(phantom({8, 8, 8}, 1));
        try {
            segmenter.refine(image, first.labels, wrong, options);
        } catch (const Error& e) {
            threw = e.kind() == ErrorKind::Mismatch;
        }
        QVERIFY(threw);
    }

    void cancellation()
    {
        Segmenter3D segmenter(m_binary);
        const Volume image = phantom({37, 30, 17}, 1);
        CancelToken cancel;
        int calls = 0;
        try {
            segmenter.segment(
                image, {},
                [&](const Segment3DStep&) {
                    ++calls;
                    cancel.cancel();
                },
                cancel);
            QFAIL("not cancelled");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Cancelled);
        }
        QCOMPARE(calls, 1); // polled between steps
        try {
            segmenter.segment(image, {}, {}, cancel);
            QFAIL("not cancelled");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Cancelled);
        }
        cancel.reset();
        Segment3DOptions one;
        one.steps = 1;
        QCOMPARE(segmenter.segment(image, one, {}, cancel).labels.size(), image.size());
    }

    void labelMapsUseTheTrainingsLabelValues()
    {
        // Same weights (seed 4) as m_brats, trained on labels {0, 2, 4, 300}: the label map holds
        // those values (UInt16 for 300), class for class, and the step maps too.
        const std::string valued = makeCheckpoint(m_dir, "valued.dsckpt", tinyDiffUNetConfig(4, 4),
                                                  16, "{}", 4, {0, 2, 4, 300});
        Segmenter3D plain(m_brats);
        Segmenter3D named(valued);
        QCOMPARE(named.info().labelValues, (std::vector<int>{0, 2, 4, 300}));
        QVERIFY(plain.info().labelValues.empty());
        const Volume image = phantom({20, 18, 22}, 4);
        Segment3DOptions options = withSteps(2);
        const Segment3DResult a = plain.segment(image, options);
        const Segment3DResult b = named.segment(image, options);
        QCOMPARE(b.labels.pixelType(), PixelType::UInt16);
        const int values[] = {0, 2, 4, 300};
        std::set<int> seen;
        for (std::size_t v = 0; v < image.voxelCount(); ++v) {
            const int index = a.labels.data<std::uint8_t>()[v];
            QCOMPARE(int(b.labels.data<std::uint16_t>()[v]), values[index]);
            seen.insert(index);
        }
        QVERIFY2(seen.size() >= 2, "an untrained network predicts more than one class");
        const LabelMap step =
            Segmenter3D::stepLabelsFromCache(*b.stepCache, 1, named.info().labelValues);
        QVERIFY(step.maxLabel() == 0 || step.maxLabel() == 2 || step.maxLabel() == 4 ||
                step.maxLabel() == 300);
        // A header whose values do not fit the model is refused, naming the file.
        Checkpoint broken = loadCheckpoint(valued);
        broken.info.labelValues = {0, 2, 2, 5};
        const std::string duplicate = (m_dir + "/duplicate-values.dsckpt").toStdString();
        saveCheckpoint(duplicate, broken);
        try {
            loadCheckpoint(duplicate);
            QFAIL("duplicate label values accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("label_values") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find(duplicate) != std::string::npos, e.what());
        }
    }

    void badCheckpointsAndVolumes()
    {
        const auto expect = [](ErrorKind kind, const std::string& needle, auto&& fn) {
            try {
                fn();
                QFAIL(qPrintable(QString::fromStdString("no error for " + needle)));
            } catch (const Error& e) {
                QVERIFY2(e.kind() == kind, e.what());
                QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
            }
        };
        // A 2D checkpoint.
        Checkpoint dsd;
        dsd.info.network = "dermosegdiff";
        dsd.model.emplace_back("w", torch::zeros({1}));
        const std::string twoD = (m_dir + "/dermosegdiff.dsckpt").toStdString();
        saveCheckpoint(twoD, dsd);
        expect(ErrorKind::Mismatch, twoD, [&] { Segmenter3D s(twoD); });
        expect(ErrorKind::NotFound, "missing.dsckpt",
               [&] { Segmenter3D s((m_dir + "/missing.dsckpt").toStdString()); });
        // A reference state_dict needs a preprocessing.
        VolumeModelLoadOptions reference;
        reference.referenceNetwork = tinyDiffUNetConfig(1, 2);
        expect(ErrorKind::Config, "preprocessing", [&] { Segmenter3D s(m_binary, reference); });
        if (!torch::cuda::is_available()) {
            VolumeModelLoadOptions cuda;
            cuda.device = "cuda:0";
            expect(ErrorKind::Unsupported, "CUDA", [&] { Segmenter3D s(m_binary, cuda); });
        }
        VolumeModelLoadOptions badDevice;
        badDevice.device = "tpu";
        expect(ErrorKind::Config, "tpu", [&] { Segmenter3D s(m_binary, badDevice); });

        Segmenter3D segmenter(m_binary);
        expect(ErrorKind::Mismatch, "4 channel(s)", [&] {
            segmenter.segment(phantom({20, 20, 20}, 4));
        });
        Segment3DOptions options;
        options.roi = 18;
        expect(ErrorKind::Config, "roi", [&] {
            segmenter.segment(phantom({20, 20, 20}, 1), options);
        });
        options = {};
        options.uncertainty = VolumeUncertainty::MirrorVariance;
        expect(ErrorKind::Config, "mirror", [&] {
            segmenter.segment(phantom({20, 20, 20}, 1), options);
        });
        options = {};
        options.steps = 0;
        expect(ErrorKind::Config, "steps", [&] {
            segmenter.segment(phantom({20, 20, 20}, 1), options);
        });
        options = {};
        options.stepCacheBudget = 100;
        expect(ErrorKind::Config, "budget", [&] {
            segmenter.segment(phantom({20, 20, 20}, 1), options);
        });
        expect(ErrorKind::InvalidValue, "volume", [&] { segmenter.segment(Volume()); });

        // Names and presets.
        QCOMPARE(parseStepFusion("Uncertainty"), StepFusionMethod::Uncertainty);
        QCOMPARE(parseVolumeUncertainty("mirror"), VolumeUncertainty::MirrorVariance);
        expect(ErrorKind::Config, "--fusion", [] { parseStepFusion("median", "--fusion"); });
        const DiffUNetReferencePreset brats = DiffUNetReferencePreset::resolve("BraTS2023");
        QCOMPARE(brats.network, DiffUNetConfig::reference(4, 4));
        QVERIFY(brats.preparation.has_value());
        QCOMPARE(brats.channels.size(), std::size_t{4});
        const DiffUNetReferencePreset aiib = DiffUNetReferencePreset::resolve("aiib2023");
        QCOMPARE(aiib.network, DiffUNetConfig::reference(1, 2));
        QVERIFY(!aiib.preparation.has_value());
        expect(ErrorKind::Config, "isic2018", [] { DiffUNetReferencePreset::resolve("isic2018"); });
    }
    void cardSettingsBecomeTheDefaults()
    {
        const ModelCard card = ModelCard::fromJson(
            R"({"validated": {"steps": 2, "fusion": "uncertainty", "overlap": 0.25,
                "mirror_tta": true, "largest_component": true}})",
            "card");
        Segment3DOptions o;
        QCOMPARE(applyValidatedSettings(card, o),
                 (std::vector<std::string>{"steps", "fusion", "overlap", "mirror_tta",
                                           "largest_component"}));
        QCOMPARE(o.steps, 2);
        QVERIFY(o.fusion == StepFusionMethod::Uncertainty);
        QCOMPARE(o.overlap, 0.25);
        QVERIFY(o.mirrorTta && o.largestComponent);
        // What the caller was told stays; a value this build cannot read is left out.
        Segment3DOptions kept;
        kept.steps = 7;
        QCOMPARE(applyValidatedSettings(card, kept, {"steps", "mirror_tta"}),
                 (std::vector<std::string>{"fusion", "overlap", "largest_component"}));
        QCOMPARE(kept.steps, 7);
        QVERIFY(!kept.mirrorTta);
        const ModelCard odd = ModelCard::fromJson(
            R"({"validated": {"fusion": "median", "largest_component": "maybe"}})", "odd");
        Segment3DOptions plain;
        QVERIFY(applyValidatedSettings(odd, plain).empty());
        QVERIFY(plain.fusion == StepFusionMethod::Mean && !plain.largestComponent);
        // A model without a card: the plain defaults.
        const Segmenter3D model(m_binary);
        QCOMPARE(model.defaultOptions().steps, Segment3DOptions().steps);
        QCOMPARE(model.capabilities().defaults.steps, Segment3DOptions().steps);
    }
};

QTEST_GUILESS_MAIN(TestSegmenter3D)
#include "TestSegmenter3D.moc"
