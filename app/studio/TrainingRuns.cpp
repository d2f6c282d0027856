#include "TrainingRuns.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSet>

#include <algorithm>

namespace diffseg::app {

namespace {

const QString kIndexKey = QStringLiteral("training/index");
/// Runs remembered at most (the oldest are forgotten first).
constexpr int kIndexSize = 200;
/// Bytes of progress.jsonl read to find a run's state (thousands of step lines).
constexpr qint64 kTailBytes = 512 * 1024;
/// A progress file written this recently belongs to a worker that is probably still running.
constexpr qint64 kRecentSeconds = 90;

QString absolute(const QString& dir)
{
    return QDir::cleanPath(QFileInfo(dir).absoluteFilePath());
}

/// Parses the complete lines of `bytes` (the first one is skipped when the read began inside
/// the file, as it is probably cut).
std::vector<QJsonObject> parseLines(const QByteArray& bytes, bool skipFirst)
{
    std::vector<QJsonObject> out;
    const QList<QByteArray> lines = bytes.split('\n');
    for (qsizetype i = skipFirst ? 1 : 0; i < lines.size(); ++i) {
        if (lines[i].trimmed().isEmpty()) {
            continue;
        }
        const QJsonDocument doc = QJsonDocument::fromJson(lines[i]);
        if (doc.isObject()) {
            out.push_back(doc.object());
        }
    }
    return out;
}

std::vector<QJsonObject> readTail(const QString& path, qint64 maxBytes)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    const qint64 start = std::max<qint64>(0, file.size() - maxBytes);
    file.seek(start);
    return parseLines(file.readAll(), start > 0);
}

} // namespace

TrainingRuns::TrainingRuns(const QString& settingsFile, QSettings::Format format)
    : m_settings(settingsFile.isEmpty() ? std::make_unique<QSettings>()
                                        : std::make_unique<QSettings>(settingsFile, format))
{}

QVariantList TrainingRuns::index() const
{
    return m_settings->value(kIndexKey).toList();
}

QVariantMap TrainingRuns::recorded(const QString& runDir) const
{
    const QString dir = absolute(runDir);
    for (const QVariant& v : index()) {
        const QVariantMap m = v.toMap();
        if (m.value(QStringLiteral("dir")).toString() == dir) {
            return m;
        }
    }
    return {};
}

void TrainingRuns::record(const QString& runDir, const QString& status, const QString& message,
                          const QString& configPath, const QString& dataDir)
{
    const QString dir = absolute(runDir);
    QVariantMap entry = recorded(dir);
    entry.insert(QStringLiteral("dir"), dir);
    entry.insert(QStringLiteral("status"), status);
    entry.insert(QStringLiteral("message"), message);
    entry.insert(QStringLiteral("updated"), QDateTime::currentDateTimeUtc());
    if (!configPath.isEmpty()) {
        entry.insert(QStringLiteral("config"), configPath);
    }
    if (!dataDir.isEmpty()) {
        entry.insert(QStringLiteral("dataDir"), dataDir);
    }
    QVariantList list = index();
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const QVariant& v) {
                                  return v.toMap().value(QStringLiteral("dir")).toString() == dir;
                              }),
               list.end());
    list.prepend(entry);
    while (list.size() > kIndexSize) {
        list.removeLast();
    }
    m_settings->setValue(kIndexKey, list);
    m_settings->sync();
}

QString TrainingRuns::recordedConfig(const QString& runDir) const
{
    return recorded(runDir).value(QStringLiteral("config")).toString();
}

void TrainingRuns::forget(const QString& runDir)
{
    const QString dir = absolute(runDir);
    QVariantList list = index();
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const QVariant& v) {
                                  return v.toMap().value(QStringLiteral("dir")).toString() == dir;
                              }),
               list.end());
    m_settings->setValue(kIndexKey, list);
}

widgets::TrainingRunInfo TrainingRuns::read(const QString& runDir) const
{
    widgets::TrainingRunInfo run;
    run.dir = absolute(runDir);
    run.name = QFileInfo(run.dir).fileName();
    const QDir dir(run.dir);
    for (const auto& [name, target] : {std::pair{"last.dsckpt", &run.lastCheckpoint},
                                       std::pair{"best.dsckpt", &run.bestCheckpoint}}) {
        if (QFileInfo(dir.filePath(QLatin1String(name))).isFile()) {
            *target = dir.filePath(QLatin1String(name));
        }
    }

    const QFileInfo progress(dir.filePath(QStringLiteral("progress.jsonl")));
    QString fileStatus;
    QString fileMessage;
    bool sawStart = false;
    if (progress.isFile()) {
        run.updated = progress.lastModified();
        for (const QJsonObject& e : readTail(progress.filePath(), kTailBytes)) {
            const QString kind = e.value(QLatin1String("event")).toString();
            if (kind == QLatin1String("started")) {
                sawStart = true;
                fileStatus.clear();
                fileMessage.clear();
                run.totalSteps = e.value(QLatin1String("total_steps")).toInteger(run.totalSteps);
                run.epochs = e.value(QLatin1String("epochs")).toInt(run.epochs);
                if (e.value(QLatin1String("resumed_from_step")).isDouble()) {
                    run.step = e.value(QLatin1String("resumed_from_step")).toInteger();
                }
            } else if (kind == QLatin1String("step")) {
                sawStart = true;
                run.step = e.value(QLatin1String("step")).toInteger(run.step);
                run.totalSteps = e.value(QLatin1String("total_steps")).toInteger(run.totalSteps);
                run.epochs = e.value(QLatin1String("epochs")).toInt(run.epochs);
                run.epoch = std::max(run.epoch, e.value(QLatin1String("epoch")).toInt() - 1);
            } else if (kind == QLatin1String("epoch")) {
                run.epoch = e.value(QLatin1String("epoch")).toInt(run.epoch);
            } else if (kind == QLatin1String("finished")) {
                const QString reason = e.value(QLatin1String("reason")).toString();
                fileStatus = reason == QLatin1String("stopped") ? QStringLiteral("stopped")
                                                                : QStringLiteral("completed");
                fileMessage = reason == QLatin1String("max_steps")
                                  ? QStringLiteral("reached the step limit")
                                  : QString();
                run.step = e.value(QLatin1String("steps")).toInteger(run.step);
            } else if (kind == QLatin1String("failed")) {
                fileStatus = QStringLiteral("failed");
                fileMessage = e.value(QLatin1String("reason")).toString();
                const QString errorKind = e.value(QLatin1String("error_kind")).toString();
                if (!errorKind.isEmpty()) {
                    fileMessage = errorKind + QStringLiteral(": ") + fileMessage;
                }
            }
        }
        if (fileStatus.isEmpty() && sawStart) {
            const bool recent =
                progress.lastModified().secsTo(QDateTime::currentDateTime()) < kRecentSeconds;
            fileStatus = recent ? QStringLiteral("running") : QStringLiteral("crashed");
            fileMessage = recent ? QStringLiteral("the worker is writing to its progress file")
                                 : QStringLiteral("the worker ended without a final event "
                                                  "(killed or crashed)");
        }
    }

    const QVariantMap entry = recorded(run.dir);
    const QString recordedStatus = entry.value(QStringLiteral("status")).toString();
    const QDateTime recordedAt = entry.value(QStringLiteral("updated")).toDateTime();
    // The studio's record counts when it is the newer word: a worker it killed after Stop, one
    // that died (no final event in the file), one that failed before writing anything.
    const bool recordWins =
        !recordedStatus.isEmpty() && recordedStatus != QLatin1String("running") &&
        (fileStatus.isEmpty() || !run.updated.isValid() || recordedAt.addSecs(2) >= run.updated);
    if (recordWins) {
        run.status = recordedStatus;
        run.message = entry.value(QStringLiteral("message")).toString();
        if (!run.updated.isValid()) {
            run.updated = recordedAt.toLocalTime();
        }
    } else if (!fileStatus.isEmpty()) {
        run.status = fileStatus;
        run.message = fileMessage;
    } else if (!recordedStatus.isEmpty()) {
        // Started here, nothing in the file, and no word on how it ended: the studio went away.
        run.status = QStringLiteral("crashed");
        run.message = QStringLiteral("the studio closed while the run was starting");
        run.updated = recordedAt.toLocalTime();
    } else {
        run.status =
            run.lastCheckpoint.isEmpty() ? QStringLiteral("failed") : QStringLiteral("stopped");
        run.message = QStringLiteral("no progress.jsonl in the run folder");
    }
    return run;
}

std::vector<widgets::TrainingRunInfo> TrainingRuns::list(const QString& runsFolder) const
{
    QStringList dirs;
    if (!runsFolder.isEmpty()) {
        const QDir root(runsFolder);
        for (const QString& name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
            const QDir sub(root.filePath(name));
            if (sub.exists(QStringLiteral("progress.jsonl")) ||
                sub.exists(QStringLiteral("last.dsckpt"))) {
                dirs << absolute(sub.path());
            }
        }
    }
    for (const QVariant& v : index()) {
        const QString dir = v.toMap().value(QStringLiteral("dir")).toString();
        if (!dir.isEmpty() && QFileInfo(dir).isDir()) {
            dirs << dir;
        }
    }
    dirs.removeDuplicates();
    std::vector<widgets::TrainingRunInfo> out;
    out.reserve(static_cast<std::size_t>(dirs.size()));
    for (const QString& dir : dirs) {
        out.push_back(read(dir));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.updated > b.updated; });
    return out;
}

std::vector<QJsonObject> TrainingRuns::history(const QString& runDir, qint64 maxBytes)
{
    return readTail(QDir(runDir).filePath(QStringLiteral("progress.jsonl")), maxBytes);
}

} // namespace diffseg::app
