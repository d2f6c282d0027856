#include "TestSupport.h"

#include <QFileInfo>
#include <QProcess>

namespace diffseg::test {

namespace {

QString envOr(const char* name, const QString& fallback)
{
    const QByteArray value = qgetenv(name);
    return value.isEmpty() ? fallback : QString::fromLocal8Bit(value);
}

} // namespace

QString sharedDir()
{
    return QDir::cleanPath(envOr("DIFFSEG_SHARED_DIR", QStringLiteral(DIFFSEG_DEFAULT_SHARED_DIR)));
}

QString sharedPath(const QString& relative)
{
    const QString path = QDir(sharedDir()).filePath(relative);
    return QFileInfo::exists(path) ? path : QString();
}

QString outputDir()
{
    const QString dir = envOr("DIFFSEG_TEST_OUTPUT_DIR", QDir::temp().filePath("diffseg-tests"));
    QDir().mkpath(dir);
    return dir;
}

QString baselineDir()
{
    return envOr("DIFFSEG_BASELINE_DIR", QStringLiteral(DIFFSEG_DEFAULT_BASELINE_DIR));
}

QString binaryDir()
{
    return envOr("DIFFSEG_BINARY_DIR", QStringLiteral(DIFFSEG_DEFAULT_BINARY_DIR));
}

QString scratchDir(const QString& name)
{
    QDir dir(QDir(outputDir()).filePath(QStringLiteral("scratch/") + name));
    dir.removeRecursively();
    QDir().mkpath(dir.path());
    return dir.path();
}

CliRun runCli(const QStringList& args, int timeoutMs)
{
    QProcess p;
    p.start(QString::fromLocal8Bit(qgetenv("DIFFSEG_CLI")), args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return {-1, {}, QStringLiteral("timeout")};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2,
            QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

} // namespace diffseg::test
