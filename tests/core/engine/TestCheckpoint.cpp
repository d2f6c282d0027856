// Checkpoints: our format (round trip, atomic writes, bad files) and the import of a checkpoint
// written by the reference's own training code (tests/data/engine/reference_tiny.pth).

#include "ExpectError.h"
#include "NetworkTestSupport.h"
#include "TestSupport.h"
#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/checkpoint/TorchFileReader.h"
#include "engine/model/DermoSegDiff.h"

#include <QFile>
#include <QtTest>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/serialize.h>

#include <csignal>
#include <fstream>
#include <random>
#include <sys/resource.h>

using namespace diffseg::core;
using namespace diffseg::core::engine;
using diffseg::test::kindOf;

namespace {

constexpr auto& maxAbs = diffseg::test::maxAbsDifference;

const std::string kData = DIFFSEG_ENGINE_TEST_DATA;

DermoSegDiffConfig tinyConfig()
{
    return DermoSegDiffConfig::fromJson(
        R"({"dim_x": 4, "dim_g": 4, "channels_x": 1, "channels_g": 3, "out_dim": 1,
            "dim_x_mults": [1], "dim_g_mults": [1], "resnet_block_groups": 4})");
}

/// Two levels, `dimX` channels at the first, dim_g 8, groups of 4.
DermoSegDiffConfig twoLevelConfig(int dimX)
{
    return DermoSegDiffConfig::fromJson(
        R"({"dim_x": )" + std::to_string(dimX) +
        R"(, "dim_g": 8, "dim_x_mults": [1, 2], "dim_g_mults": [1, 2], "resnet_block_groups": 4})");
}

std::map<std::string, at::Tensor> readDict(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    std::map<std::string, at::Tensor> out;
    for (const auto& item : torch::pickle_load(bytes).toGenericDict()) {
        out.emplace(item.key().toStringRef(), item.value().toTensor());
    }
    return out;
}

void writeBytes(const std::string& path, const std::vector<char>& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<char> readBytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
}

} // namespace

class TestCheckpoint : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void ownFormatRoundTrips()
    {
        const QString dir = diffseg::test::scratchDir("checkpoint-roundtrip");
        const std::string path = (dir + "/model.dsckpt").toStdString();
        DermoSegDiff model(twoLevelConfig(8));
        Checkpoint out;
        out.info.model = model->config();
        out.info.schedule = ScheduleConfig{ScheduleMode::Cosine, 100, 1e-4, 0.02, Prediction::X0};
        out.info.step = 1234;
        out.info.epoch = 7;
        out.info.emaStep = 1234;
        out.info.emaInitted = true;
        out.info.source = "diffseg test";
        out.model = namedWeights(*model);
        for (const auto& [name, tensor] : out.model) {
            out.ema.emplace_back(name, tensor * 0.5);
        }
        saveCheckpoint(path, out);
        // Only the checkpoint is left in the folder: the temporary file was renamed.
        QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden).size(), 1);

        const Checkpoint in = loadCheckpoint(path);
        QVERIFY(in.info.model == model->config());
        QVERIFY(in.info.schedule == out.info.schedule);
        QCOMPARE(*in.info.step, std::int64_t(1234));
        QCOMPARE(*in.info.epoch, std::int64_t(7));
        QCOMPARE(in.info.emaStep, std::int64_t(1234));
        QVERIFY(in.info.emaInitted);
        QCOMPARE(in.info.formatVersion, CheckpointInfo::kFormatVersion);
        QCOMPARE(in.model.size(), out.model.size());
        QCOMPARE(in.ema.size(), out.ema.size());
        for (std::size_t i = 0; i < in.model.size(); ++i) {
            QCOMPARE(in.model[i].first, out.model[i].first);
            QVERIFY(at::equal(in.model[i].second, out.model[i].second));
            QVERIFY(at::equal(in.ema[i].second, out.ema[i].second));
        }
        // A new network from the checkpoint computes exactly what the saved one did.
        DermoSegDiff restored(in.info.model, WeightInit::None);
        loadWeights(*restored, in.model, path);
        model->eval();
        restored->eval();
        c10::InferenceMode inference;
        const at::Tensor x = at::randn({1, 1, 16, 16});
        const at::Tensor g = at::rand({1, 3, 16, 16});
        const at::Tensor t = at::tensor({9}, at::kLong);
        QCOMPARE(maxAbs(model->forward(x, g, t), restored->forward(x, g, t)), 0.0);
        // Saving again replaces the file atomically.
        Checkpoint second = out;
        second.info.step = 99;
        saveCheckpoint(path, second);
        QCOMPARE(*loadCheckpoint(path).info.step, std::int64_t(99));
        QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden).size(), 1);
    }

    void writeFailureMidwayKeepsThePreviousCheckpoint()
    {
        // The checkpoint streams tensor by tensor into its temporary file; a write that fails
        // part-way (here: the file-size limit, as a full disk would) must be an error naming the
        // file, leave the previous checkpoint as it was and no temporary file behind.
        const QString dir = diffseg::test::scratchDir("checkpoint-write-failure");
        const std::string path = (dir + "/model.dsckpt").toStdString();
        DermoSegDiff model(twoLevelConfig(16));
        Checkpoint small;
        small.info.model = tinyConfig();
        small.model = namedWeights(*DermoSegDiff(tinyConfig()));
        saveCheckpoint(path, small);
        const std::vector<char> before = readBytes(path);

        Checkpoint large;
        large.info.model = model->config();
        large.model = namedWeights(*model);
        const std::size_t limit = before.size() + 4096;
        QVERIFY(static_cast<std::size_t>(model->parameterCount()) * sizeof(float) > 2 * limit);
        struct rlimit saved
        {};
        QCOMPARE(::getrlimit(RLIMIT_FSIZE, &saved), 0);
        const auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
        struct rlimit capped = saved;
        capped.rlim_cur = limit;
        QCOMPARE(::setrlimit(RLIMIT_FSIZE, &capped), 0);
        std::string message;
        const ErrorKind kind = kindOf([&] { saveCheckpoint(path, large); }, &message);
        ::setrlimit(RLIMIT_FSIZE, &saved);
        std::signal(SIGXFSZ, previousHandler);
        QCOMPARE(kind, ErrorKind::Io);
        QVERIFY2(message.find(path) != std::string::npos, message.c_str());
        QVERIFY2(message.find("write failed") != std::string::npos, message.c_str());
        QVERIFY(readBytes(path) == before);
        QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden).size(), 1);
        QCOMPARE(loadCheckpoint(path).model.size(), small.model.size());
        // Without the limit the same save succeeds.
        saveCheckpoint(path, large);
        QCOMPARE(loadCheckpoint(path).model.size(), large.model.size());
    }

    void badFilesAreReportedWithTheirName()
    {
        const QString dir = diffseg::test::scratchDir("checkpoint-bad");
        const std::string good = (dir + "/good.dsckpt").toStdString();
        Checkpoint c;
        c.info.model = tinyConfig();
        DermoSegDiff model(c.info.model);
        c.model = namedWeights(*model);
        saveCheckpoint(good, c);
        const std::vector<char> bytes = readBytes(good);

        std::string message;
        QCOMPARE(kindOf([&] { loadCheckpoint((dir + "/absent.dsckpt").toStdString()); }, &message),
                 ErrorKind::NotFound);
        QVERIFY(message.find("absent.dsckpt") != std::string::npos);
        const std::string truncated = (dir + "/truncated.dsckpt").toStdString();
        writeBytes(
            truncated,
            std::vector<char>(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2)));
        QCOMPARE(kindOf([&] { loadCheckpoint(truncated); }, &message), ErrorKind::Format);
        QVERIFY(message.find("truncated.dsckpt") != std::string::npos);
        const std::string garbage = (dir + "/garbage.dsckpt").toStdString();
        writeBytes(garbage, std::vector<char>(1000, 'x'));
        QCOMPARE(kindOf([&] { loadCheckpoint(garbage); }), ErrorKind::Format);
        const std::string empty = (dir + "/empty.dsckpt").toStdString();
        writeBytes(empty, {});
        QCOMPARE(kindOf([&] { loadCheckpoint(empty); }), ErrorKind::Format);
        // A reference .pth is not our format: the message says to import it.
        QCOMPARE(kindOf([&] { loadCheckpoint(kData + "/reference_tiny.pth"); }, &message),
                 ErrorKind::Format);
        QVERIFY2(message.find("import") != std::string::npos, message.c_str());
        // A newer format version is refused, not misread.
        c10::impl::GenericDict future(c10::StringType::get(), c10::AnyType::get());
        future.insert("format", std::string("diffseg-checkpoint"));
        future.insert("version", std::int64_t(99));
        future.insert("header", std::string("{}"));
        const std::string newer = (dir + "/newer.dsckpt").toStdString();
        writeBytes(newer, torch::pickle_save(future));
        QCOMPARE(kindOf([&] { loadCheckpoint(newer); }), ErrorKind::Unsupported);
        // Non-finite weights are refused, naming the tensor.
        Checkpoint nan = c;
        nan.model[3].second = nan.model[3].second.clone().fill_(std::nanf(""));
        const std::string nanPath = (dir + "/nan.dsckpt").toStdString();
        saveCheckpoint(nanPath, nan);
        QCOMPARE(kindOf([&] { loadCheckpoint(nanPath); }, &message), ErrorKind::InvalidValue);
        QVERIFY(message.find(nan.model[3].first) != std::string::npos);
        // Writing into a missing folder fails cleanly.
        QCOMPARE(kindOf([&] { saveCheckpoint((dir + "/no/such/dir/x.dsckpt").toStdString(), c); }),
                 ErrorKind::NotFound);
    }

    void referenceCheckpointImportsModelAndEmaWeights()
    {
        const Checkpoint ref = importReferenceCheckpoint(kData + "/reference_tiny.pth",
                                                         tinyConfig(), ScheduleConfig{});
        QCOMPARE(ref.model.size(), std::size_t(157));
        QCOMPARE(ref.ema.size(), std::size_t(157));
        QCOMPARE(*ref.info.epoch, std::int64_t(5));
        QCOMPARE(ref.info.emaStep, std::int64_t(6));
        QVERIFY(ref.info.emaInitted);
        // The reference's outputs for these weights (same file set, made by the same script).
        const auto expected = readDict(kData + "/reference_tiny_fixture.pt");
        DermoSegDiff model(tinyConfig(), WeightInit::None);
        model->eval();
        c10::NoGradGuard noGrad;
        loadWeights(*model, ref.model, "reference model");
        const at::Tensor& x = expected.at("input/x_t");
        const at::Tensor& g = expected.at("input/g");
        const at::Tensor& t = expected.at("input/t");
        QVERIFY(maxAbs(model->forward(x, g, t), expected.at("output/eps_hat")) < 1e-5);
        loadWeights(*model, ref.ema, "reference EMA");
        QVERIFY(maxAbs(model->forward(x, g, t), expected.at("output/eps_ema")) < 1e-5);
        QVERIFY(maxAbs(expected.at("output/eps_hat"), expected.at("output/eps_ema")) > 1e-3);
    }

    void mismatchErrorsNameKeysAndShapes()
    {
        const Checkpoint ref = importReferenceCheckpoint(kData + "/reference_tiny.pth",
                                                         tinyConfig(), ScheduleConfig{});
        DermoSegDiff wider(DermoSegDiffConfig::fromJson(
            R"({"dim_x": 8, "dim_g": 4, "dim_x_mults": [1], "dim_g_mults": [1], "resnet_block_groups": 4})"));
        std::string message;
        QCOMPARE(kindOf([&] { loadWeights(*wider, ref.model, "ref.pth"); }, &message),
                 ErrorKind::Mismatch);
        QVERIFY2(message.find("ref.pth") != std::string::npos, message.c_str());
        QVERIFY2(message.find(
                     "shape mismatch(es): encoder_blocks.0.0.rb_x1.rb.mlp.1.weight: file [8, 16] "
                     "vs model [16, 32]") != std::string::npos,
                 message.c_str());
        DermoSegDiff model(tinyConfig());
        const at::Tensor before = model->named_parameters()["final_conv.bias"].clone();
        NamedTensors missingOne(ref.model.begin() + 1, ref.model.end());
        missingOne.emplace_back("encoder_blocks.0.0.extra.weight", at::zeros({1}));
        QCOMPARE(kindOf([&] { loadWeights(*model, missingOne, "edited"); }, &message),
                 ErrorKind::Mismatch);
        QVERIFY2(message.find("1 missing key(s): " + ref.model[0].first) != std::string::npos,
                 message.c_str());
        QVERIFY2(message.find("1 unexpected key(s): encoder_blocks.0.0.extra.weight") !=
                     std::string::npos,
                 message.c_str());
        // A failed load leaves the model untouched.
        QVERIFY(at::equal(before, model->named_parameters()["final_conv.bias"]));
        NamedTensors withNan = ref.model;
        withNan.back().second = withNan.back().second.clone().fill_(INFINITY);
        QCOMPARE(kindOf([&] { loadWeights(*model, withNan, "inf"); }, &message),
                 ErrorKind::InvalidValue);
        QVERIFY(message.find(withNan.back().first) != std::string::npos);
    }

    void readerNeverCrashesOnCorruptFiles()
    {
        const QString dir = diffseg::test::scratchDir("checkpoint-corrupt");
        const std::vector<char> original = readBytes(kData + "/reference_tiny.pth");
        QVERIFY(original.size() > 100000);
        const std::string path = (dir + "/corrupt.pth").toStdString();
        std::mt19937 random(1234);
        int rejected = 0;
        for (int round = 0; round < 60; ++round) {
            std::vector<char> bytes = original;
            if (round % 3 == 0) {
                bytes.resize(static_cast<std::size_t>(random() % bytes.size()));
            } else {
                for (int k = 0; k < 1 + round % 8; ++k) {
                    bytes[random() % bytes.size()] = static_cast<char>(random());
                }
            }
            writeBytes(path, bytes);
            try {
                importReferenceCheckpoint(path, tinyConfig(), ScheduleConfig{});
            } catch (const Error&) {
                ++rejected;
            }
        }
        QVERIFY(rejected > 10);
        // Not a zip, e.g. the legacy torch.save format.
        writeBytes(path, {'\x80', '\x02', '\x8a', '\x0a', 'l', 'e', 'g', 'a', 'c', 'y'});
        std::string message;
        QCOMPARE(kindOf([&] { TorchFileReader::read(path); }, &message), ErrorKind::Format);
        QVERIFY(message.find("legacy") != std::string::npos);
        QCOMPARE(kindOf([&] { TorchFileReader::read((dir + "/none.pth").toStdString()); }),
                 ErrorKind::NotFound);
    }

    void readerKeepsNonTensorEntriesInert()
    {
        const PickleRef root = TorchFileReader::read(kData + "/reference_tiny.pth");
        QVERIFY(root->isDict());
        // vl_loss is a numpy.float64 in the reference's checkpoint: decoded as a number.
        const PickleValue* loss = root->find("vl_loss");
        QVERIFY(loss != nullptr);
        QCOMPARE(int(loss->kind), int(PickleValue::Kind::Float));
        QCOMPARE(loss->real, 0.375);
        const PickleValue* optimizer = root->find("optimizer");
        QVERIFY(optimizer != nullptr && optimizer->isDict());
        QVERIFY(optimizer->find("param_groups") != nullptr);
        // Our own files (LibTorch's pickler) read too, e.g. a bare state_dict.
        const QString dir = diffseg::test::scratchDir("checkpoint-bare");
        DermoSegDiff model(tinyConfig());
        c10::Dict<std::string, at::Tensor> bare;
        for (const auto& [name, tensor] : namedWeights(*model)) {
            bare.insert(name, tensor);
        }
        const std::string path = (dir + "/bare.pt").toStdString();
        writeBytes(path, torch::pickle_save(bare));
        const Checkpoint imported = importReferenceCheckpoint(path, tinyConfig(), ScheduleConfig{});
        QCOMPARE(imported.model.size(), std::size_t(157));
        QVERIFY(!imported.hasEma());
        DermoSegDiff copy(tinyConfig());
        loadWeights(*copy, imported.model, path);
        QVERIFY(at::equal(copy->named_parameters()["final_conv.weight"],
                          model->named_parameters()["final_conv.weight"]));
    }
};

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "TestCheckpoint.moc"
