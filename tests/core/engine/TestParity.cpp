// Parity with the reference implementation, on the shared fixture dermosegdiff_small.pt (made by
// the reference code for a small config) and on a fixture of another config and schedule.

#include "TestSupport.h"
#include "base/Error.h"
#include "engine/model/DermoSegDiff.h"
#include "engine/parity/ParityCheck.h"

#include <QtTest>

#include <ATen/ATen.h>
#include <torch/serialize.h>

#include <fstream>
#include <map>
#include <set>

using namespace diffseg::core;
using namespace diffseg::core::engine;

namespace {

c10::impl::GenericDict readFixture(const QString& path)
{
    std::ifstream in(path.toStdString(), std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    return torch::pickle_load(bytes).toGenericDict();
}

void writeFixture(const QString& path, const c10::impl::GenericDict& dict)
{
    const std::vector<char> bytes = torch::pickle_save(dict);
    std::ofstream out(path.toStdString(), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

const ParityPart* part(const ParityReport& report, const std::string& name)
{
    for (const auto& p : report.parts) {
        if (p.name.rfind(name, 0) == 0) {
            return &p;
        }
    }
    return nullptr;
}

} // namespace

class TestParity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sharedFixtureMatchesTheReference()
    {
        DIFFSEG_REQUIRE_SHARED(fixture, "parity/dermosegdiff_small.pt");
        const ParityReport report = runParityCheck(fixture.toStdString());
        QCOMPARE(QString::fromStdString(report.network), QStringLiteral("DermoSegDiff"));
        QCOMPARE(report.parameterCount, 724217LL);
        QCOMPARE(report.weightTensors, 347);
        QCOMPARE(report.parts.size(), std::size_t(2 + 4 + 6));
        for (const auto& p : report.parts) {
            QVERIFY2(p.passed,
                     qPrintable(QString("%1: %2").arg(p.name.c_str()).arg(p.maxAbsError)));
        }
        QVERIFY(report.passed());
        QVERIFY(part(report, "eps_hat (eval")->maxAbsError <= 1e-4);
        QVERIFY(part(report, "eps_hat (train")->maxAbsError <= 1e-4);
        for (const char* mode : {"linear", "quadratic", "cosine", "sigmoid"}) {
            QVERIFY(part(report, std::string("schedule/") + mode + "/betas")->maxAbsError <= 1e-12);
        }
        for (const char* key :
             {"boundary/gamma0.25/t1", "boundary/gamma0.25/t125", "boundary/gamma0.25/t249",
              "boundary/gamma1.5/t1", "boundary/gamma1.5/t125", "boundary/gamma1.5/t249"}) {
            QVERIFY2(part(report, key) != nullptr && part(report, key)->maxAbsError <= 1e-4, key);
        }
    }

    void parameterNamesEqualTheReferenceStateDict()
    {
        DIFFSEG_REQUIRE_SHARED(fixture, "parity/dermosegdiff_small.pt");
        const c10::impl::GenericDict dict = readFixture(fixture);
        std::map<std::string, std::vector<std::int64_t>> reference;
        for (const auto& item : dict) {
            const std::string& key = item.key().toStringRef();
            if (key.rfind("param/", 0) == 0) {
                reference[key.substr(6)] = item.value().toTensor().sizes().vec();
            }
        }
        const at::Tensor configBytes = dict.at("meta/config").toTensor();
        const std::string json(reinterpret_cast<const char*>(configBytes.data_ptr<std::uint8_t>()),
                               static_cast<std::size_t>(configBytes.numel()));
        DermoSegDiff model(DermoSegDiffConfig::fromJson(json));
        std::map<std::string, std::vector<std::int64_t>> ours;
        for (const auto& p : model->named_parameters()) {
            ours[p.key()] = p.value().sizes().vec();
        }
        QCOMPARE(ours.size(), reference.size());
        QVERIFY(ours == reference);
    }

    void anotherConfigAndScheduleInTheSameFormat()
    {
        // One level, 4 groups, T = 100 with betas 1e-4..0.02 (meta/schedule), gamma 0.5.
        const ParityReport report =
            runParityCheck(std::string(DIFFSEG_ENGINE_TEST_DATA) + "/reference_tiny_fixture.pt");
        QCOMPARE(report.parameterCount, 19333LL);
        QCOMPARE(report.parts.size(), std::size_t(2 + 4 + 3));
        for (const auto& p : report.parts) {
            QVERIFY2(p.passed,
                     qPrintable(QString("%1: %2").arg(p.name.c_str()).arg(p.maxAbsError)));
        }
    }

    void tamperedFixtureFailsThePartThatDiffers()
    {
        DIFFSEG_REQUIRE_SHARED(fixture, "parity/dermosegdiff_small.pt");
        c10::impl::GenericDict dict = readFixture(fixture);
        dict.insert_or_assign("output/eps_hat", dict.at("output/eps_hat").toTensor() + 1e-3);
        dict.insert_or_assign("schedule/cosine/betas",
                              dict.at("schedule/cosine/betas").toTensor() * (1 + 1e-9));
        const QString path = diffseg::test::scratchDir("parity-tampered") + "/tampered.pt";
        writeFixture(path, dict);
        const ParityReport report = runParityCheck(path.toStdString());
        QVERIFY(!report.passed());
        QVERIFY(!part(report, "eps_hat (eval")->passed);
        QVERIFY(!part(report, "schedule/cosine/betas")->passed);
        QVERIFY(part(report, "schedule/linear/betas")->passed);
        QVERIFY(part(report, "boundary/gamma1.5/t1")->passed);
    }

    void brokenFixturesAreErrorsNamingTheProblem()
    {
        DIFFSEG_REQUIRE_SHARED(fixture, "parity/dermosegdiff_small.pt");
        const QString dir = diffseg::test::scratchDir("parity-broken");
        c10::impl::GenericDict dict = readFixture(fixture);
        QCOMPARE(dict.erase("param/final_conv.bias"), std::size_t(1));
        writeFixture(dir + "/missing.pt", dict);
        try {
            runParityCheck((dir + "/missing.pt").toStdString());
            QFAIL("no exception");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Mismatch);
            QVERIFY2(std::string(e.what()).find("final_conv.bias") != std::string::npos, e.what());
        }
        try {
            runParityCheck((dir + "/absent.pt").toStdString());
            QFAIL("no exception");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::NotFound);
        }
    }

    void diffUnetFixturePasses()
    {
        DIFFSEG_REQUIRE_SHARED(fixture, "parity/diffunet_small.pt");
        const ParityReport report = runParityCheck(fixture.toStdString());
        QCOMPARE(report.network, std::string("Diff-UNet"));
        QVERIFY(report.passed());
        QCOMPARE(report.parameterCount, 272812LL);
    }
};

QTEST_GUILESS_MAIN(TestParity)
#include "TestParity.moc"
