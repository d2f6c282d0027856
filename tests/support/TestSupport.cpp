#include "TestSupport.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
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

QJsonObject readJson(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QJsonDocument::fromJson(file.readAll()).object();
}

QList<QJsonObject> jsonLines(const QString& out)
{
    QList<QJsonObject> events;
    for (const QString& line : out.split('\n', Qt::SkipEmptyParts)) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(line.toUtf8(), &error);
        if (error.error != QJsonParseError::NoError || !doc.isObject()) {
            return {};
        }
        events.push_back(doc.object());
    }
    return events;
}

int countEvents(const QList<QJsonObject>& events, const QString& name)
{
    int n = 0;
    for (const QJsonObject& e : events) {
        n += e.value("event").toString() == name ? 1 : 0;
    }
    return n;
}

QList<QJsonObject> finishedRunEvents(const CliRun& run, int cases)
{
    const QList<QJsonObject> events = jsonLines(run.out);
    const bool whole = run.exitCode == 0 && !events.isEmpty() &&
                       events.front().value("event").toString() == QLatin1String("start") &&
                       countEvents(events, QStringLiteral("case")) == cases &&
                       events.back().value("event").toString() == QLatin1String("finished");
    return whole ? events : QList<QJsonObject>();
}

} // namespace diffseg::test
