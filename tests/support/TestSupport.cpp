#include "TestSupport.h"

#include <QFileInfo>

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

} // namespace diffseg::test
