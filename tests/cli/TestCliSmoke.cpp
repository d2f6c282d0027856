#include "TestSupport.h"

#include <QProcess>
#include <QtTest>

using diffseg::test::CliRun;

namespace {

/// Runs the command line with a minute to answer: these commands answer at once.
CliRun runQuickly(const QStringList& args)
{
    return diffseg::test::runCli(args, 60000);
}

} // namespace

/// Runs the real diffseg executable as a user would.
class TestCliSmoke : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void versionListsLibraries()
    {
        const CliRun r = runQuickly({"--version"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.startsWith("diffseg " DIFFSEG_TEST_VERSION), qPrintable(r.out));
        for (const char* lib : {"ITK", "OpenCV", "LibTorch", "CUDA"}) {
            QVERIFY2(r.out.contains(QLatin1String(lib)), qPrintable(r.out));
        }
    }

    void helpDescribesTheTool()
    {
        const CliRun r = runQuickly({"--help"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("diffusion"));
        QVERIFY(r.out.contains("--version"));
    }

    void unknownOptionFailsWithUsageStatus()
    {
        const CliRun r = runQuickly({"--no-such-option"});
        QVERIFY2(r.exitCode != 0, qPrintable(r.out + r.err));
        QVERIFY(r.err.contains("no-such-option") || r.out.contains("no-such-option"));
    }
};

QTEST_GUILESS_MAIN(TestCliSmoke)
#include "TestCliSmoke.moc"
