#include "ExpectError.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "data/DatasetLayout.h"
#include "data/DatasetSplit.h"
#include "data/Samples.h"
#include "io/ImageWriter.h"
#include "io/VolumeWriter.h"

#include <QtTest>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

using namespace diffseg::core;
using namespace diffseg::test;
namespace fs = std::filesystem;

namespace {

void photo(const std::string& path, int w = 8, int h = 6)
{
    fs::create_directories(fs::path(path).parent_path());
    Image2D image(w, h, 3, PixelType::UInt8);
    image.at<std::uint8_t>(1, 1, 0) = 200;
    writeImage(image, path);
}

void mask(const std::string& path, int w = 8, int h = 6)
{
    fs::create_directories(fs::path(path).parent_path());
    Image2D m(w, h, 1, PixelType::UInt8);
    m.at<std::uint8_t>(2, 2) = 1;
    writeMaskPng(m, path);
}

void touch(const std::string& path)
{
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << "x";
}

void volume(const std::string& path, std::int16_t value, Geometry g = {})
{
    fs::create_directories(fs::path(path).parent_path());
    Volume v({6, 5, 4}, 1, PixelType::Int16, g);
    v.data<std::int16_t>()[0] = value;
    writeVolume(v, path);
}

void labels(const std::string& path, Geometry g = {})
{
    fs::create_directories(fs::path(path).parent_path());
    LabelMap l({6, 5, 4}, g);
    l.data<std::uint8_t>()[7] = 3;
    writeLabelMap(l, path);
}

std::vector<std::string> ids(const DatasetScan& scan)
{
    std::vector<std::string> out;
    for (const DatasetSample& s : scan.samples) {
        out.push_back(s.id);
    }
    return out;
}

std::vector<std::string> numberedIds(int n)
{
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "%04d", i);
        out.push_back(id);
    }
    return out;
}

} // namespace

class TestDatasets : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void isic2018Layout()
    {
        const std::string root = str(scratchDir("isic2018"));
        const std::string in = root + "/ISIC2018_Task1-2_Training_Input/";
        const std::string gt = root + "/ISIC2018_Task1_Training_GroundTruth/";
        for (const char* id : {"0000009", "0000000", "0000003"}) {
            photo(in + "ISIC_" + id + ".jpg");
            mask(gt + "ISIC_" + id + "_segmentation.png");
        }
        photo(in + "ISIC_0000077.jpg");             // no mask
        mask(gt + "ISIC_0000088_segmentation.png"); // no image
        touch(in + "LICENSE.txt");                  // ignored
        photo(in + "holiday.jpg");                  // does not follow the naming
        QVERIFY(detectDatasetLayout(root) == DatasetLayout::Isic2018);
        const DatasetScan scan = scanDataset(root);
        QVERIFY(ids(scan) == (std::vector<std::string>{"0000000", "0000003", "0000009"}));
        QCOMPARE(scan.samples[1].images.front(), in + "ISIC_0000003.jpg");
        QCOMPARE(scan.samples[1].mask, gt + "ISIC_0000003_segmentation.png");
        QCOMPARE(scan.unpairedImages, std::vector<std::string>{in + "ISIC_0000077.jpg"});
        QCOMPARE(scan.unpairedMasks,
                 std::vector<std::string>{gt + "ISIC_0000088_segmentation.png"});
        QCOMPARE(scan.problems.size(), std::size_t(1));
        QVERIFY(scan.problems.front().find("holiday.jpg") != std::string::npos);
        const ImageMaskPair pair =
            loadImageMaskPair(scan.samples[0].images[0], scan.samples[0].mask);
        QCOMPARE(pair.image.channels(), 3);
        QCOMPARE(int(pair.mask.at<std::uint8_t>(2, 2)), 1);
    }

    void ph2Layout()
    {
        const std::string root = str(scratchDir("ph2"));
        for (const char* id : {"437", "002", "150"}) {
            photo(root + "/trainx/IMD" + id + ".bmp");
            mask(root + "/trainy/IMD" + id + "_lesion.bmp");
        }
        QVERIFY(detectDatasetLayout(root) == DatasetLayout::Ph2);
        const DatasetScan scan = scanDataset(root);
        QVERIFY(ids(scan) == (std::vector<std::string>{"002", "150", "437"}));
        QVERIFY(scan.unpairedImages.empty() && scan.unpairedMasks.empty() && scan.problems.empty());
    }

    void imagesMasksLayoutStripsMaskSuffixes()
    {
        const std::string root = str(scratchDir("generic"));
        photo(root + "/images/ISIC_1.jpg");
        mask(root + "/masks/ISIC_1_segmentation.png");
        photo(root + "/images/IMD2.bmp");
        mask(root + "/masks/IMD2_lesion.bmp");
        photo(root + "/images/c.png");
        mask(root + "/masks/c_mask.png");
        photo(root + "/images/d.png");
        mask(root + "/masks/d.png");
        photo(root + "/images/dup.png");
        photo(root + "/images/dup.jpg");
        mask(root + "/masks/dup_gt.png");
        photo(root + "/images/lonely.png");
        const DatasetScan scan = scanDataset(root);
        QCOMPARE(scan.layout, DatasetLayout::ImagesMasks);
        QVERIFY(ids(scan) == (std::vector<std::string>{"IMD2", "ISIC_1", "c", "d"}));
        QCOMPARE(scan.unpairedImages.size(), std::size_t(1));
        QCOMPARE(scan.problems.size(), std::size_t(1));
        QVERIFY(scan.problems[0].find("ambiguous") != std::string::npos);
        QCOMPARE(pairingStem("a/b/IMD002_lesion.bmp"), std::string("IMD002"));
        QCOMPARE(pairingStem("x_seg.nii.gz"), std::string("x"));
    }

    void aiibLayout()
    {
        const std::string root = str(scratchDir("aiib"));
        for (const char* n : {"AIIB23_12", "AIIB23_3"}) {
            volume(root + "/img/" + n + ".nii.gz", 5);
            labels(root + "/gt/" + n + ".nii.gz");
        }
        volume(root + "/img/AIIB23_99.nii.gz", 1);
        const DatasetScan scan = scanDataset(root);
        QCOMPARE(scan.layout, DatasetLayout::Aiib2023);
        QVERIFY(ids(scan) == (std::vector<std::string>{"AIIB23_12", "AIIB23_3"}));
        QCOMPARE(scan.unpairedImages.size(), std::size_t(1));
        const VolumeCase c = loadVolumeCase(scan.samples[0]);
        QCOMPARE(c.image.channels(), 1);
        QCOMPARE(c.labels.maxLabel(), 3);
    }

    void bratsLayoutOrdersModalities()
    {
        const std::string root = str(scratchDir("brats"));
        const std::string a = root + "/BraTS-GLI-00001-000/";
        // Created in a scrambled order: the sample's channel order must not depend on it.
        volume(a + "BraTS-GLI-00001-000-t1c.nii.gz", 4);
        volume(a + "BraTS-GLI-00001-000-t2w.nii.gz", 1);
        volume(a + "BraTS-GLI-00001-000-t1n.nii.gz", 3);
        volume(a + "BraTS-GLI-00001-000-t2f.nii.gz", 2);
        labels(a + "BraTS-GLI-00001-000-seg.nii.gz");
        const std::string b = root + "/BraTS-GLI-00002-000/"; // renamed as the reference does
        for (const char* m : {"t2w", "t2f", "t1n", "t1c"}) {
            volume(b + m + ".nii.gz", 9);
        }
        labels(b + "seg.nii.gz");
        const std::string noSeg = root + "/BraTS-GLI-00003-000/";
        for (const char* m : {"t2w", "t2f", "t1n", "t1c"}) {
            volume(noSeg + m + ".nii.gz", 9);
        }
        const std::string partial = root + "/BraTS-GLI-00004-000/";
        for (const char* m : {"t2w", "t2f", "t1c", "seg"}) {
            volume(partial + m + ".nii.gz", 9);
        }
        QVERIFY(detectDatasetLayout(root) == DatasetLayout::Brats2023);
        const DatasetScan scan = scanDataset(root);
        QVERIFY(ids(scan) ==
                (std::vector<std::string>{"BraTS-GLI-00001-000", "BraTS-GLI-00002-000"}));
        QCOMPARE(scan.unpairedImages.size(), std::size_t(1));
        QCOMPARE(scan.problems.size(), std::size_t(1));
        QVERIFY(scan.problems[0].find("lacks t1n") != std::string::npos);
        const VolumeCase c = loadVolumeCase(scan.samples[0]);
        QCOMPARE(c.image.channels(), 4);
        for (int ch = 0; ch < 4; ++ch) {
            QCOMPARE(int(c.image.channelData<std::int16_t>(ch)[0]), ch + 1); // t2w, t2f, t1n, t1c
        }
        // A label map on another grid is refused, naming it.
        Geometry shifted;
        shifted.origin = {0, 0, 5};
        labels(a + "BraTS-GLI-00001-000-seg.nii.gz", shifted);
        expectError([&] { loadVolumeCase(scanDataset(root).samples[0]); }, ErrorKind::Mismatch,
                    {"seg.nii.gz", "not on the grid", "t2w.nii.gz"});
    }

    void decathlonListPairsDescribesAndReadsFourDimensionalChannels()
    {
        const std::string root = str(scratchDir("decathlon"));
        // Two modalities in one 4D file, as the Decathlon stores them.
        fs::create_directories(root + "/imagesTr");
        Volume fourD({6, 5, 4}, 2, PixelType::Int16, Geometry{});
        fourD.channelData<std::int16_t>(0)[0] = 11;
        fourD.channelData<std::int16_t>(1)[0] = 22;
        writeVolume(fourD, root + "/imagesTr/case_001.nii.gz");
        labels(root + "/labelsTr/case_001.nii.gz");
        writeVolume(fourD, root + "/imagesTr/case_002.nii.gz"); // no label map
        std::ofstream(root + "/dataset.json") << R"({
            "name": "Toy", "licence": "CC-BY-SA 4.0", "tensorImageSize": "4D",
            "modality": {"0": "FLAIR", "1": "T1w"},
            "labels": {"0": "background", "3": "Tumour"},
            "numTraining": 3,
            "training": [
                {"image": "./imagesTr/case_001.nii.gz", "label": "./labelsTr/case_001.nii.gz"},
                {"image": "./imagesTr/case_002.nii.gz", "label": "./labelsTr/case_002.nii.gz"},
                {"image": "./imagesTr/case_003.nii.gz", "label": "./labelsTr/case_003.nii.gz"}],
            "test": []})";
        QVERIFY(detectDatasetLayout(root) == DatasetLayout::Decathlon);
        QVERIFY(datasetLayoutFromName("Decathlon") == DatasetLayout::Decathlon);
        const DatasetScan scan = scanDataset(root);
        QVERIFY(ids(scan) == std::vector<std::string>{"case_001"});
        QCOMPARE(scan.unpairedImages.size(), std::size_t(1));
        QCOMPARE(scan.problems.size(), std::size_t(1));
        QVERIFY(scan.problems[0].find("case_003.nii.gz: listed in dataset.json but missing") !=
                std::string::npos);
        QCOMPARE(scan.name, std::string("Toy"));
        QCOMPARE(scan.licence, std::string("CC-BY-SA 4.0"));
        QVERIFY(scan.channelNames == (std::vector<std::string>{"FLAIR", "T1w"}));
        QCOMPARE(scan.labelNames.size(), std::size_t(2));
        QCOMPARE(scan.labelName(3), std::string("Tumour"));
        QCOMPARE(scan.labelName(1), std::string());
        const VolumeCase c = loadVolumeCase(scan.samples[0]);
        QCOMPARE(c.image.channels(), 2);
        QCOMPARE(int(c.image.channelData<std::int16_t>(1)[0]), 22);
        QCOMPARE(int(c.labels.maxLabel()), 3);

        std::ofstream(root + "/dataset.json") << "{\"training\": [";
        expectError([&] { scanDataset(root); }, ErrorKind::Format,
                    {"dataset.json", "not valid JSON"});
    }

    void decathlonNnunetChannelFiles()
    {
        const std::string root = str(scratchDir("nnunet"));
        volume(root + "/imagesTr/prostate_01_0000.nii.gz", 1);
        volume(root + "/imagesTr/prostate_01_0001.nii.gz", 2);
        volume(root + "/imagesTr/prostate_02_0000.nii.gz", 1); // a channel short
        labels(root + "/labelsTr/prostate_01.nii.gz");
        labels(root + "/labelsTr/prostate_02.nii.gz");
        std::ofstream(root + "/dataset.json") << R"({
            "channel_names": {"0": "T2", "1": "ADC"},
            "labels": {"background": 0, "PZ": 1, "TZ": 2},
            "numTraining": 2, "file_ending": ".nii.gz"})";
        const DatasetScan scan = scanDataset(root);
        QCOMPARE(scan.layout, DatasetLayout::Decathlon);
        QVERIFY(ids(scan) == std::vector<std::string>{"prostate_01"});
        QCOMPARE(scan.samples[0].images.size(), std::size_t(2));
        QCOMPARE(scan.problems.size(), std::size_t(1));
        QVERIFY(scan.problems[0].find("prostate_02: case has 1 channel files") !=
                std::string::npos);
        QCOMPARE(scan.labelName(2), std::string("TZ"));
        const VolumeCase c = loadVolumeCase(scan.samples[0]);
        QCOMPARE(c.image.channels(), 2);
        QCOMPARE(int(c.image.channelData<std::int16_t>(1)[0]), 2);
    }

    void sharedHippocampusDecathlon()
    {
        DIFFSEG_REQUIRE_SHARED(root, QStringLiteral("data/volumes/msd_hippocampus"));
        const DatasetScan scan = scanDataset(str(root));
        QCOMPARE(scan.layout, DatasetLayout::Decathlon);
        QCOMPARE(scan.samples.size(), std::size_t(208));
        QVERIFY(scan.problems.empty() && scan.unpairedImages.empty());
        QCOMPARE(scan.labelName(1), std::string("Anterior"));
        QCOMPARE(scan.labelName(2), std::string("Posterior"));
        QVERIFY(scan.channelNames == std::vector<std::string>{"MRI"});
        const VolumeCase c = loadVolumeCase(scan.samples.front());
        QCOMPARE(c.image.channels(), 1);
        QCOMPARE(int(c.labels.maxLabel()), 2);
    }

    void unknownLayoutsAndMissingFolders()
    {
        const std::string root = str(scratchDir("nolayout"));
        touch(root + "/readme.txt");
        QVERIFY(!detectDatasetLayout(root));
        expectError([&] { scanDataset(root); }, ErrorKind::Format,
                    {"nolayout", "no known dataset layout"});
        expectError([&] { scanDataset(root, DatasetLayout::Ph2); }, ErrorKind::NotFound,
                    {"trainx", "ph2"});
        expectError([&] { scanDataset(root + "/missing"); }, ErrorKind::NotFound, {"missing"});
        QVERIFY(datasetLayoutFromName("ISIC2018") == DatasetLayout::Isic2018);
        QVERIFY(!datasetLayoutFromName("lits"));
    }

    void imageMaskSizeMismatchNamesBothFiles()
    {
        const std::string root = str(scratchDir("mismatch"));
        photo(root + "/a.png", 8, 6);
        mask(root + "/a_mask.png", 8, 5);
        expectError([&] { loadImageMaskPair(root + "/a.png", root + "/a_mask.png"); },
                    ErrorKind::Mismatch, {"a_mask.png", "8x5", "a.png", "8x6"});
    }

    void sharedDermoscopyFoldersPair()
    {
        for (const char* set : {"isic2017", "ph2"}) {
            DIFFSEG_REQUIRE_SHARED(root, QString("data/dermoscopy/") + set);
            const DatasetScan scan = scanDataset(str(root));
            QCOMPARE(scan.layout, DatasetLayout::ImagesMasks);
            QCOMPARE(scan.samples.size(), std::size_t(16));
            QVERIFY(scan.unpairedImages.empty() && scan.unpairedMasks.empty() &&
                    scan.problems.empty());
            const ImageMaskPair pair =
                loadImageMaskPair(scan.samples[0].images[0], scan.samples[0].mask);
            QVERIFY(pair.image.width() > 700);
        }
    }

    void fractionSplitsAreDeterministicAndComplete()
    {
        const std::vector<std::string> all = numberedIds(103);
        std::vector<std::string> reversed(all.rbegin(), all.rend());
        const DatasetSplit a = makeSplit(all, {0.7, 0.1, 0.2}, 7);
        const DatasetSplit b = makeSplit(reversed, {0.7, 0.1, 0.2}, 7); // input order is irrelevant
        QCOMPARE(a.train, b.train);
        QCOMPARE(a.test, b.test);
        QCOMPARE(a.val.size(), std::size_t(10));
        QCOMPARE(a.test.size(), std::size_t(21));
        QCOMPARE(a.train.size(), std::size_t(72));
        std::set<std::string> seen(a.train.begin(), a.train.end());
        seen.insert(a.val.begin(), a.val.end());
        seen.insert(a.test.begin(), a.test.end());
        QCOMPARE(seen.size(), all.size());
        QVERIFY(makeSplit(all, {0.7, 0.1, 0.2}, 8).test != a.test);
        QVERIFY(std::is_sorted(a.train.begin(), a.train.end()));
        // Pinned (values from an independent Python SplitMix64 + Fisher-Yates): the generator is
        // ours, so this holds on every platform and standard library.
        const DatasetSplit small = makeSplit(numberedIds(10), {0.6, 0.2, 0.2}, 42);
        QCOMPARE(small.val, (std::vector<std::string>{"0002", "0007"}));
        QCOMPARE(small.test, (std::vector<std::string>{"0001", "0003"}));
        expectError(
            [&] {
                makeSplit(all, {0.5, 0.1, 0.1}, 1);
            },
            ErrorKind::InvalidValue, {"do not sum to 1"});
        expectError(
            [&] {
                makeSplit({"a", "b", "a"}, {1, 0, 0}, 1);
            },
            ErrorKind::InvalidValue, {"'a' appears twice"});
    }

    void referenceRangeSplits()
    {
        const DatasetSplit ph2 =
            makeRangeSplit(numberedIds(200), referenceSplitRanges(DatasetLayout::Ph2));
        QCOMPARE(ph2.train.size(), std::size_t(80));
        QCOMPARE(ph2.val.size(), std::size_t(20));
        QCOMPARE(ph2.test.size(), std::size_t(100));
        QCOMPARE(ph2.val.front(), std::string("0080"));
        const DatasetSplit isic =
            makeRangeSplit(numberedIds(2594), referenceSplitRanges(DatasetLayout::Isic2018), 3);
        QCOMPARE(isic.val.size(), std::size_t(259));
        QCOMPARE(isic.test.size(), std::size_t(520));
        expectError(
            [&] { makeRangeSplit(numberedIds(16), referenceSplitRanges(DatasetLayout::Ph2)); },
            ErrorKind::InvalidValue, {"need 200 ids", "has 16"});
        expectError([&] { referenceSplitRanges(DatasetLayout::Brats2023); }, ErrorKind::Unsupported,
                    {"brats2023"});
    }

    void splitFilesRoundTripAndRejectNonsense()
    {
        const std::string dir = str(scratchDir("splits"));
        const DatasetSplit s = makeSplit(numberedIds(20), {0.6, 0.2, 0.2}, 5);
        writeSplit(s, dir + "/split.json");
        const DatasetSplit r = readSplit(dir + "/split.json");
        QCOMPARE(r.train, s.train);
        QCOMPARE(r.val, s.val);
        QCOMPARE(r.test, s.test);
        QCOMPARE(r.seed, std::uint64_t(5));
        QCOMPARE(r.method, s.method);
        const std::string good = splitToJson(s);
        expectError([&] { parseSplitJson("{\"format\": ", "a.json"); }, ErrorKind::Format,
                    {"a.json", "not valid JSON"});
        expectError([&] { parseSplitJson("[1,2]", "b.json"); }, ErrorKind::Format,
                    {"b.json", "object"});
        std::string noTest = good;
        noTest.replace(noTest.find("\"test\""), 6, "\"tset\"");
        expectError([&] { parseSplitJson(noTest, "c.json"); }, ErrorKind::Format,
                    {"c.json", "missing key 'test'"});
        // Well-formed JSON that breaks a rule: the error names the file and the rule.
        const struct
        {
            const char* json;
            const char* file;
            const char* words;
        } broken[] = {
            {R"({"format":"diffseg-split","version":1,"seed":1,"train":["a"],"val":["a"],"test":[]})",
             "d.json", "'a' is listed twice"},
            {R"({"format":"diffseg-split","version":1,"seed":-1,"train":[],"val":[],"test":[]})",
             "e.json", "seed"},
            {R"({"format":"diffseg-split","version":1,"seed":1,"train":[3],"val":[],"test":[]})",
             "f.json", "train"},
            {R"({"format":"other","version":1,"seed":1,"train":[],"val":[],"test":[]})", "g.json",
             "format"}};
        for (const auto& b : broken) {
            expectError([&] { parseSplitJson(b.json, b.file); }, ErrorKind::Format,
                        {b.file, b.words});
        }
        expectError([&] { readSplit(dir + "/none.json"); }, ErrorKind::NotFound, {"none.json"});
    }
};

QTEST_GUILESS_MAIN(TestDatasets)
#include "TestDatasets.moc"
