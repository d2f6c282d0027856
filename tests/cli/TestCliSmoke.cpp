#include "TestSupport.h"

#include <QProcess>
#include <QtTest>

/// Runs the real diffseg executable as a user would.
class TestCliSmoke : public QObject
{
    Q_OBJECT

private:
    using Run = diffseg::test::CliRun;

    static Run runCli(const QStringList& args, int timeoutMs = 60000)
    {
        return diffseg::test::runCli(args, timeoutMs);
    }

private Q_SLOTS:
    void versionListsLibraries()
    {
        const Run r = runCli({"--version"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.startsWith("diffseg " DIFFSEG_TEST_VERSION), qPrintable(r.out));
        for (const char* lib : {"ITK", "OpenCV", "LibTorch", "CUDA"}) {
            QVERIFY2(r.out.contains(QLatin1String(lib)), qPrintable(r.out));
        }
    }

    void helpDescribesTheTool()
    {
        const Run r = runCli({"--help"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("diffusion"));
        QVERIFY(r.out.contains("--version"));
    }

    void unknownOptionFailsWithUsageStatus()
    {
        const Run r = runCli({"--no-such-option"});
        QVERIFY2(r.exitCode != 0, qPrintable(r.out + r.err));
        QVERIFY(r.err.contains("no-such-option") || r.out.contains("no-such-option"));
    }
};

QTEST_GUILESS_MAIN(TestCliSmoke)
#include "TestCliSmoke.moc"
