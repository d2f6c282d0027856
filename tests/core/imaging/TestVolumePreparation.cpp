// Diff-UNet volume preparation (seed spec §B2.2) and its inverse: JSON round trip and errors, a
// synthetic exact round trip, and crop + normalise + resample + restore on the shared volumes
// (BraTS float MRI with sform only, the TotalSegmentator CT in RAS at 3 mm resampled to 2 mm and
// back, the PSR spinal-cord MRI), plus nnU-Net's CT statistics against a brute-force computation.

#include "TestSupport.h"
#include "base/Error.h"
#include "imaging/VolumePreparation.h"
#include "io/VolumeReader.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

using namespace diffseg::core;

namespace {

using Size3 = std::array<std::int64_t, 3>;

int labelAt(const LabelMap& l, std::size_t i)
{
    return l.pixelType() == PixelType::UInt8 ? l.data<std::uint8_t>()[i]
                                             : l.data<std::uint16_t>()[i];
}

/// Geometry equality to the last bit: the restore must hand back the source's own numbers.
bool sameGeometry(const Geometry& a, const Geometry& b)
{
    return a.spacing == b.spacing && a.origin == b.origin && a.direction == b.direction;
}

bool sameLabels(const LabelMap& a, const LabelMap& b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.voxelCount(); ++i) {
        if (labelAt(a, i) != labelAt(b, i)) {
            return false;
        }
    }
    return true;
}

/// Dice of label `label` between two label maps of one grid.
double dice(const LabelMap& a, const LabelMap& b, int label)
{
    std::size_t both = 0;
    std::size_t na = 0;
    std::size_t nb = 0;
    for (std::size_t i = 0; i < a.voxelCount(); ++i) {
        const bool x = labelAt(a, i) == label;
        const bool y = labelAt(b, i) == label;
        both += x && y ? 1 : 0;
        na += x ? 1 : 0;
        nb += y ? 1 : 0;
    }
    return na + nb == 0 ? 1.0 : 2.0 * double(both) / double(na + nb);
}

std::map<int, std::size_t> labelCounts(const LabelMap& l)
{
    std::map<int, std::size_t> counts;
    for (std::size_t i = 0; i < l.voxelCount(); ++i) {
        ++counts[labelAt(l, i)];
    }
    return counts;
}

/// Every labelled voxel lies inside the box (so cropping loses nothing).
bool labelsInside(const LabelMap& l, const BoundingBox& box)
{
    const auto& s = l.size();
    for (std::int64_t k = 0; k < s[2]; ++k) {
        for (std::int64_t j = 0; j < s[1]; ++j) {
            for (std::int64_t i = 0; i < s[0]; ++i) {
                const bool inside = i >= box.begin[0] && i < box.end[0] && j >= box.begin[1] &&
                                    j < box.end[1] && k >= box.begin[2] && k < box.end[2];
                if (!inside && labelAt(l, l.linearIndex(i, j, k)) != 0) {
                    return false;
                }
            }
        }
    }
    return true;
}

void checkSamePlace(const Geometry& source, const BoundingBox& box, const Geometry& cropped)
{
    const auto a =
        source.indexToPhysical({double(box.begin[0]), double(box.begin[1]), double(box.begin[2])});
    const auto b = cropped.indexToPhysical({0.0, 0.0, 0.0});
    for (int d = 0; d < 3; ++d) {
        QVERIFY(std::abs(a[d] - b[d]) < 1e-9);
    }
}

} // namespace

class TestVolumePreparation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void jsonRoundTripAndErrors()
    {
        VolumePreparationConfig c;
        c.normalization = VolumePreparationConfig::Normalization::CtClipZScore;
        c.cropToNonZero = false;
        c.targetSpacing = std::array<double, 3>{0.70410156, 0.70410156, 0.5};
        c.clipLow = -1000.5;
        c.clipHigh = 612.25;
        c.mean = -300.125;
        c.stddev = 211.5;
        const VolumePreparationConfig back = VolumePreparationConfig::fromJson(c.toJson());
        QCOMPARE(back.normalization, c.normalization);
        QCOMPARE(back.cropToNonZero, false);
        QVERIFY(back.targetSpacing && *back.targetSpacing == *c.targetSpacing);
        QCOMPARE(back.clipLow, c.clipLow);
        QCOMPARE(back.clipHigh, c.clipHigh);
        QCOMPARE(back.mean, c.mean);
        QCOMPARE(back.stddev, c.stddev);
        // "{}" keeps the defaults (a checkpoint whose network needs nothing else).
        const VolumePreparationConfig empty = VolumePreparationConfig::fromJson("{}");
        QCOMPARE(empty.normalization, VolumePreparationConfig::Normalization::ZScore);
        QVERIFY(empty.cropToNonZero);
        QVERIFY(!empty.targetSpacing);
        QCOMPARE(std::string(normalizationName(empty.normalization)), std::string("zscore"));

        const auto expectConfig = [](const std::string& json, const std::string& key) {
            try {
                VolumePreparationConfig::fromJson(json, "ckpt.pt: header.preprocessing");
                QFAIL(qPrintable(QString::fromStdString("accepted " + json)));
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::Config);
                QVERIFY2(std::string(e.what()).find("ckpt.pt: header.preprocessing") !=
                             std::string::npos,
                         e.what());
                QVERIFY2(std::string(e.what()).find(key) != std::string::npos, e.what());
            }
        };
        expectConfig(R"({"normalisation": "ct"})", "unknown key");
        expectConfig(R"({"normalization": "mri"})", "normalization");
        expectConfig(R"({"target_spacing": [1, 1]})", "target_spacing");
        expectConfig(R"({"target_spacing": [1, -1, 1]})", "target_spacing");
        expectConfig(R"({"clip_low": 5, "clip_high": 1})", "clip_low");
        expectConfig(R"({"std": 0})", "std");
        expectConfig(R"({"crop_to_nonzero": "yes"})", "wrong type");
        expectConfig("[1, 2]", "object");
        expectConfig("{", "JSON");
    }

    void syntheticRoundTripIsExact()
    {
        Geometry g;
        g.spacing = {0.8, 1.3, 2.0};
        g.origin = {10.0, -20.0, 5.5};
        g.direction = {0, 0, 1, 1, 0, 0, 0, 1, 0}; // a permuted, oblique-free frame
        Volume image({30, 22, 14}, 2, PixelType::Int16, g);
        LabelMap labels({30, 22, 14}, g);
        for (std::int64_t k = 3; k < 11; ++k) {
            for (std::int64_t j = 5; j < 18; ++j) {
                for (std::int64_t i = 4; i < 25; ++i) {
                    image.data<std::int16_t>()[image.linearIndex(i, j, k, 0)] =
                        static_cast<std::int16_t>(100 + i * j - k);
                    if ((i - 14) * (i - 14) + (j - 11) * (j - 11) < 20) {
                        labels.data<std::uint8_t>()[labels.linearIndex(i, j, k)] =
                            static_cast<std::uint8_t>(1 + (k % 3));
                    }
                }
            }
        }
        image.data<std::int16_t>()[image.linearIndex(26, 19, 12, 1)] = -7; // channel 1 widens
        VolumePreparationConfig config;
        const PreparedVolume p = prepareVolume(image, config, "synthetic");
        QVERIFY(p.box == (BoundingBox{{4, 5, 3}, {27, 20, 13}}));
        QCOMPARE(p.image.size(), (Size3{23, 15, 10}));
        QCOMPARE(p.image.pixelType(), PixelType::Float32);
        QCOMPARE(p.image.channels(), 2);
        QCOMPARE(p.sourceSize, image.size());
        QVERIFY(sameGeometry(p.sourceGeometry, g));
        checkSamePlace(g, p.box, p.image.geometry());
        // z-score per channel over the whole box, zeros included.
        for (int c = 0; c < 2; ++c) {
            const float* v = p.image.channelData<float>(c);
            double sum = 0.0;
            double squares = 0.0;
            for (std::size_t i = 0; i < p.image.voxelCount(); ++i) {
                sum += v[i];
                squares += double(v[i]) * v[i];
            }
            const double n = double(p.image.voxelCount());
            QVERIFY(std::abs(sum / n) < 1e-4);
            QVERIFY(std::abs(squares / n - 1.0) < 1e-3);
        }
        const LabelMap prepared = prepareLabels(labels, p);
        QCOMPARE(prepared.size(), p.image.size());
        const LabelMap back = restoreLabels(prepared, p);
        QVERIFY(sameLabels(back, labels));
        QVERIFY(sameGeometry(back.geometry(), g));
        QVERIFY(back.isAlignedWith(image, 0.0));

        // Scores: the box gets the values, everything else the fill.
        Volume scores(p.image.size(), 2, PixelType::Float32, p.image.geometry());
        std::fill(scores.data<float>(), scores.data<float>() + 2 * scores.voxelCount(), 0.25f);
        const Volume restored = restoreScores(scores, p, {-5.0, 9.0});
        QCOMPARE(restored.size(), image.size());
        QVERIFY(sameGeometry(restored.geometry(), g));
        QCOMPARE(restored.data<float>()[restored.linearIndex(0, 0, 0, 0)], -5.0f);
        QCOMPARE(restored.data<float>()[restored.linearIndex(0, 0, 0, 1)], 9.0f);
        QCOMPARE(restored.data<float>()[restored.linearIndex(4, 5, 3, 1)], 0.25f);
        QCOMPARE(restored.data<float>()[restored.linearIndex(26, 19, 12, 0)], 0.25f);
        QVERIFY_THROWS_EXCEPTION(Error, restoreScores(image, p, {}));
        QVERIFY_THROWS_EXCEPTION(Error, prepareLabels(LabelMap({3, 3, 3}, g), p));

        // An all-zero volume keeps its whole grid; non-finite voxels are refused by name.
        Volume zero({6, 5, 4}, 1, PixelType::Float32, g);
        QCOMPARE(prepareVolume(zero, config).image.size(), zero.size());
        zero.data<float>()[7] = std::nanf("");
        try {
            prepareVolume(zero, config, "bad.nii.gz");
            QFAIL("NaN accepted");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::InvalidValue);
            QCOMPARE(e.subject(), std::string("bad.nii.gz"));
        }
    }

    void bratsFloatSformOnlyRoundTrip()
    {
        DIFFSEG_REQUIRE_SHARED(dir, "data/volumes/brats2013_deepmedic/brats_2013_pat0001_1");
        const std::string d = dir.toStdString();
        const Volume stored = readVolumeChannels({d + "/Flair_subtrMeanDivStd.nii.gz",
                                                  d + "/T1c_subtrMeanDivStd.nii.gz"})
                                  .volume;
        const LabelMap labels = readLabelMap(d + "/OTMultiClass.nii.gz").labels;
        QCOMPARE(stored.size(), (Size3{240, 240, 155}));
        QCOMPARE(stored.channels(), 2);
        QCOMPARE(stored.pixelType(), PixelType::Float32);
        QVERIFY(labels.isAlignedWith(stored));
        // DeepMedic z-scored the brain, so the background is a constant per channel instead of
        // BraTS's 0: put the zeros back, as BraTS distributes its volumes.
        Volume image = stored.clone();
        std::size_t background = 0;
        for (int c = 0; c < 2; ++c) {
            float* v = image.channelData<float>(c);
            const float corner = v[0];
            for (std::size_t i = 0; i < image.voxelCount(); ++i) {
                if (v[i] == corner) {
                    v[i] = 0.0f;
                    ++background;
                }
            }
        }
        QVERIFY2(background > image.voxelCount(), qPrintable(QString::number(background)));
        // Without that, nothing is zero and the box is the whole grid.
        QVERIFY(prepareVolume(stored, VolumePreparationConfig{}, "stored").box ==
                (BoundingBox{{0, 0, 0}, {240, 240, 155}}));

        // The reference's BraTS preparation: crop, per-channel z-score, 1 mm (a no-op here).
        for (const bool withSpacing : {false, true}) {
            VolumePreparationConfig config;
            if (withSpacing) {
                config.targetSpacing = std::array<double, 3>{1.0, 1.0, 1.0};
            }
            const PreparedVolume p = prepareVolume(image, config, "brats");
            // Skull-stripped: the box is the brain, much smaller than the grid.
            const Size3 s = p.box.size();
            const QString box = QString("box %1 %2 %3 - %4 %5 %6")
                                    .arg(p.box.begin[0])
                                    .arg(p.box.begin[1])
                                    .arg(p.box.begin[2])
                                    .arg(p.box.end[0])
                                    .arg(p.box.end[1])
                                    .arg(p.box.end[2]);
            QVERIFY2(s[0] < 240 && s[1] < 240 && s[2] <= 155, qPrintable(box));
            QVERIFY2(s[0] > 100 && s[1] > 100 && s[2] > 100, qPrintable(box));
            QCOMPARE(p.image.size(), s);
            QCOMPARE(p.croppedSize, s);
            checkSamePlace(image.geometry(), p.box, p.image.geometry());
            QVERIFY(labelsInside(labels, p.box));

            const LabelMap prepared = prepareLabels(labels, p);
            QCOMPARE(labelCounts(prepared)[4], std::size_t{31485});
            const LabelMap back = restoreLabels(prepared, p);
            // Same grid, no resampling: exact, labels and geometry.
            QVERIFY(sameLabels(back, labels));
            QVERIFY(sameGeometry(back.geometry(), labels.geometry()));
            QVERIFY(back.isAlignedWith(image, 0.0));
            QCOMPARE(labelCounts(back), labelCounts(labels));
        }
    }

    void ctResampledTo2mmAndBack()
    {
        DIFFSEG_REQUIRE_SHARED(
            ctPath, "data/volumes/totalsegmentator/ct_abdomen_nifti/example_ct_sm.nii.gz");
        DIFFSEG_REQUIRE_SHARED(segPath,
                               "data/volumes/totalsegmentator/ct_abdomen_nifti/example_seg.nii.gz");
        const Volume ct = readVolume(ctPath.toStdString()).volume;
        const LabelMap seg = readLabelMap(segPath.toStdString()).labels;
        QCOMPARE(ct.size(), (Size3{122, 101, 30}));
        QCOMPARE(ct.geometry().orientationCode(), std::string("RAS"));
        QCOMPARE(ct.pixelType(), PixelType::Int16);

        // nnU-Net's CT statistics over the foreground, against a brute-force computation.
        const VolumePreparationConfig stats = ctStatistics({&ct}, {&seg}, std::size_t(1) << 30);
        std::vector<double> fg;
        for (std::size_t i = 0; i < seg.voxelCount(); ++i) {
            if (labelAt(seg, i) != 0) {
                fg.push_back(ct.data<std::int16_t>()[i]);
            }
        }
        std::sort(fg.begin(), fg.end());
        const auto percentile = [&](double q) {
            const double pos = q / 100.0 * double(fg.size() - 1);
            const auto lo = static_cast<std::size_t>(pos);
            const std::size_t hi = std::min(lo + 1, fg.size() - 1);
            return fg[lo] + (fg[hi] - fg[lo]) * (pos - double(lo));
        };
        double mean = 0.0;
        for (const double v : fg) {
            mean += v;
        }
        mean /= double(fg.size());
        double var = 0.0;
        for (const double v : fg) {
            var += (v - mean) * (v - mean);
        }
        const double stddev = std::sqrt(var / double(fg.size()));
        QCOMPARE(stats.normalization, VolumePreparationConfig::Normalization::CtClipZScore);
        QVERIFY(std::abs(stats.clipLow - percentile(0.5)) < 1e-9);
        QVERIFY(std::abs(stats.clipHigh - percentile(99.5)) < 1e-9);
        QVERIFY(std::abs(stats.mean - mean) < 1e-6);
        QVERIFY(std::abs(stats.stddev - stddev) < 1e-6);
        // Soft tissue and bone: the percentiles span air-free foreground.
        QVERIFY(stats.clipLow < stats.mean && stats.mean < stats.clipHigh);
        QVERIFY(stats.mean > -200.0 && stats.mean < 300.0);
        // Sub-sampling (evenly spread) moves the statistics only a little.
        const VolumePreparationConfig sampled = ctStatistics({&ct}, {&seg}, 10000);
        QVERIFY(std::abs(sampled.mean - stats.mean) < 0.05 * stats.stddev);
        QVERIFY_THROWS_EXCEPTION(Error, ctStatistics({&ct}, {}, 10));
        const LabelMap empty = LabelMap::like(ct);
        QVERIFY_THROWS_EXCEPTION(Error, ctStatistics({&ct}, {&empty}, 10));

        VolumePreparationConfig config = stats;
        config.targetSpacing = std::array<double, 3>{2.0, 2.0, 2.0};
        const PreparedVolume p = prepareVolume(ct, config, "ct");
        // CT is non-zero (air is -1000 HU) nearly everywhere: the box is (almost) the grid.
        QCOMPARE(p.croppedSize, p.box.size());
        const Size3 expected{static_cast<std::int64_t>(std::lround(p.croppedSize[0] * 1.5)),
                             static_cast<std::int64_t>(std::lround(p.croppedSize[1] * 1.5)),
                             static_cast<std::int64_t>(std::lround(p.croppedSize[2] * 1.5))};
        QCOMPARE(p.image.size(), expected);
        for (int d = 0; d < 3; ++d) {
            QVERIFY(std::abs(p.image.geometry().spacing[d] - 2.0) < 0.05);
        }
        // Same orientation; values clipped and z-scored with the statistics.
        QCOMPARE(p.image.geometry().direction, ct.geometry().direction);
        const float* v = p.image.data<float>();
        const auto [lo, hi] = std::minmax_element(v, v + p.image.voxelCount());
        QVERIFY(*lo >= float((stats.clipLow - stats.mean) / stats.stddev) - 1e-4f);
        QVERIFY(*hi <= float((stats.clipHigh - stats.mean) / stats.stddev) + 1e-4f);

        const LabelMap prepared = prepareLabels(seg, p);
        QCOMPARE(prepared.size(), p.image.size());
        const std::map<int, std::size_t> before = labelCounts(seg);
        for (const auto& [label, count] : labelCounts(prepared)) {
            QVERIFY2(before.count(label) == 1, "resampling invented a label");
            (void)count;
        }
        const LabelMap back = restoreLabels(prepared, p);
        QVERIFY(sameGeometry(back.geometry(), seg.geometry()));
        QVERIFY(back.isAlignedWith(ct, 0.0));
        // Up to resampling error: large organs survive 3 -> 2 -> 3 mm almost unchanged.
        std::size_t agree = 0;
        for (std::size_t i = 0; i < seg.voxelCount(); ++i) {
            agree += labelAt(seg, i) == labelAt(back, i) ? 1 : 0;
        }
        QVERIFY2(double(agree) / double(seg.voxelCount()) > 0.97,
                 qPrintable(QString::number(double(agree) / double(seg.voxelCount()))));
        for (const int organ : {1, 5, 6}) { // spleen, liver, stomach
            const double d = dice(seg, back, organ);
            QVERIFY2(d > 0.9, qPrintable(QString("label %1: Dice %2").arg(organ).arg(d)));
        }
    }

    void spinalCordPsrRoundTrip()
    {
        DIFFSEG_REQUIRE_SHARED(imagePath, "data/volumes/sct_spinalcord/t2/t2.nii.gz");
        DIFFSEG_REQUIRE_SHARED(segPath, "data/volumes/sct_spinalcord/t2/t2_seg-manual.nii.gz");
        const Volume image = readVolume(imagePath.toStdString()).volume;
        const LabelMap seg = readLabelMap(segPath.toStdString()).labels;
        QCOMPARE(image.geometry().orientationCode(), std::string("PSR"));
        QVERIFY(seg.isAlignedWith(image));

        // Without resampling: exact.
        VolumePreparationConfig config;
        const PreparedVolume same = prepareVolume(image, config, "t2");
        QCOMPARE(same.image.geometry().direction, image.geometry().direction);
        checkSamePlace(image.geometry(), same.box, same.image.geometry());
        QVERIFY(labelsInside(seg, same.box));
        const LabelMap exact = restoreLabels(prepareLabels(seg, same), same);
        QVERIFY(sameLabels(exact, seg));
        QVERIFY(sameGeometry(exact.geometry(), seg.geometry()));

        // Anisotropic target spacing: the direction stays PSR, the cord survives the round trip.
        config.targetSpacing = std::array<double, 3>{0.7, 0.8, 1.3};
        const PreparedVolume p = prepareVolume(image, config, "t2");
        QCOMPARE(p.image.geometry().orientationCode(), std::string("PSR"));
        QCOMPARE(p.image.geometry().direction, image.geometry().direction);
        const LabelMap prepared = prepareLabels(seg, p);
        QCOMPARE(labelCounts(prepared).size(), std::size_t{2});
        const LabelMap back = restoreLabels(prepared, p);
        QVERIFY(sameGeometry(back.geometry(), seg.geometry()));
        QVERIFY(back.isAlignedWith(image, 0.0));
        const double d = dice(seg, back, 1);
        QVERIFY2(d > 0.85, qPrintable(QString("cord Dice %1").arg(d)));
        // The cord's centre of mass stays within half a voxel.
        const auto centre = [](const LabelMap& l) {
            std::array<double, 3> c{0, 0, 0};
            double n = 0;
            const auto& s = l.size();
            for (std::int64_t k = 0; k < s[2]; ++k) {
                for (std::int64_t j = 0; j < s[1]; ++j) {
                    for (std::int64_t i = 0; i < s[0]; ++i) {
                        if (labelAt(l, l.linearIndex(i, j, k)) != 0) {
                            c[0] += double(i);
                            c[1] += double(j);
                            c[2] += double(k);
                            n += 1;
                        }
                    }
                }
            }
            return std::array<double, 3>{c[0] / n, c[1] / n, c[2] / n};
        };
        const auto a = centre(seg);
        const auto b = centre(back);
        for (int k = 0; k < 3; ++k) {
            QVERIFY2(std::abs(a[k] - b[k]) < 0.5, qPrintable(QString::number(a[k] - b[k])));
        }
    }
};

QTEST_GUILESS_MAIN(TestVolumePreparation)
#include "TestVolumePreparation.moc"
