#include "TestSupport.h"

#include <QProcess>
#include <QtTest>

/// Runs the real diffseg executable as a user would.
class TestCliSmoke : public QObject
{
    Q_OBJECT

private:
    struct Run
    {
        int exitCode;
        QString out;
        QString err;
    };

    Run runCli(const QStringList& args)
    {
        QProcess p;
        p.start(QString::fromLocal8Bit(qgetenv("DIFFSEG_CLI")), args);
        if (!p.waitForFinished(60000)) {
            p.kill();
            return {-1, {}, QStringLiteral("timeout")};
        }
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2,
                QString::fromUtf8(p.readAllStandardOutput()),
                QString::fromUtf8(p.readAllStandardError())};
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
