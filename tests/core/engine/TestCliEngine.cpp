// Runs the real diffseg executable: check-parity on the shared fixture dermosegdiff_small.pt and on
// broken fixtures, and a quick `bench forward`.

#include "TestSupport.h"

#include <QProcess>
#include <QtTest>

#include <torch/serialize.h>

#include <fstream>

using diffseg::test::CliRun;
using diffseg::test::runCli;

class TestCliEngine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void checkParityPassesOnTheSharedFixture()
    {
        DIFFSEG_REQUIRE_SHARED(fixture, "parity/dermosegdiff_small.pt");
        const CliRun r = runCli({"check-parity", fixture});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY(r.out.contains("parity: PASS"));
        for (const char* partName :
             {"eps_hat", "schedule/cosine/betas", "boundary/gamma1.5/t249"}) {
            QVERIFY2(r.out.contains(QLatin1String(partName)), qPrintable(r.out));
        }
    }

    void checkParityFailsOutsideTolerance()
    {
        DIFFSEG_REQUIRE_SHARED(fixture, "parity/dermosegdiff_small.pt");
        std::ifstream in(fixture.toStdString(), std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                      std::istreambuf_iterator<char>());
        c10::impl::GenericDict dict = torch::pickle_load(bytes).toGenericDict();
        dict.insert_or_assign("boundary/gamma0.25/t1",
                              dict.at("boundary/gamma0.25/t1").toTensor() * 0.9);
        const QString path = diffseg::test::scratchDir("cli-parity") + "/tampered.pt";
        const std::vector<char> tampered = torch::pickle_save(dict);
        std::ofstream(path.toStdString(), std::ios::binary)
            .write(tampered.data(), static_cast<std::streamsize>(tampered.size()));
        const CliRun r = runCli({"check-parity", path});
        QCOMPARE(r.exitCode, 4);
        QVERIFY(r.out.contains("parity: FAIL"));
        QVERIFY(r.out.contains("FAIL"));
    }

    void checkParityPassesOnTheDiffUnetFixtureAndRefusesMissingFiles()
    {
        DIFFSEG_REQUIRE_SHARED(fixture, "parity/diffunet_small.pt");
        CliRun r = runCli({"check-parity", fixture});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY(r.out.contains("Diff-UNet"));
        QVERIFY(r.out.contains("denoise_logits"));
        QVERIFY(r.out.contains("parity: PASS"));
        r = runCli({"check-parity", "/nonexistent/fixture.pt"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.err.contains("/nonexistent/fixture.pt"));
    }

    void benchForwardRunsASmallConfig()
    {
        const CliRun r = runCli({"bench", "forward", "--config", "small", "--size", "32", "--batch",
                                 "1,2", "--threads", "1", "--warmup", "0", "--repeats", "1",
                                 "--no-roofline", "--train-size", "32", "--train-batch", "1"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY(r.out.contains("forward"));
        QVERIFY(r.out.contains("B=2"));
        QVERIFY(r.out.contains("train step"));
        const CliRun bad =
            runCli({"bench", "forward", "--size", "100", "--no-roofline", "--no-train"});
        QCOMPARE(bad.exitCode, 1);
        QVERIFY(bad.err.contains("--size"));
    }
};

QTEST_GUILESS_MAIN(TestCliEngine)
#include "TestCliEngine.moc"
