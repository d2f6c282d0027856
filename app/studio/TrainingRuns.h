#pragma once

#include "training/TrainingPanel.h"

#include <QJsonObject>
#include <QSettings>
#include <QString>

#include <memory>
#include <vector>

namespace diffseg::app {

/// The training runs the studio knows, kept across restarts: every sub-folder of the runs
/// folder that holds a `progress.jsonl` (or a checkpoint), plus the runs started from the studio
/// anywhere, remembered in the settings ("training/index") with what the studio saw happen to
/// them (a worker killed after Stop, one that could not even start).
///
/// A run's status comes from its `progress.jsonl`, the worker's own record: after the last
/// `started`, a `finished` event means completed or stopped, a `failed` event failed, and no
/// final event a worker that died (crashed) or one still writing (running, when the file changed
/// in the last 90 s). What the studio recorded wins when it is newer than the file. Only the
/// file's tail is read, so listing stays quick for long runs.
///
/// Ownership: keeps its own QSettings on the given file (QSettings objects on one file share
/// their data in a process), so it may outlive the window's. Threads: the thread that made it.
/// Errors: unreadable folders and files are skipped; nothing throws.
class TrainingRuns
{
public:
    /// Settings in `settingsFile` with `format`; an empty file name: the application's.
    TrainingRuns(const QString& settingsFile, QSettings::Format format);

    /// Runs under `runsFolder` and the remembered ones that still exist, newest first.
    std::vector<widgets::TrainingRunInfo> list(const QString& runsFolder) const;
    /// One run folder as listed.
    widgets::TrainingRunInfo read(const QString& runDir) const;

    /// Remembers what the studio saw: `status` ("running", "completed", "stopped", "failed",
    /// "crashed") and a message; the configuration and dataset it was started with are kept
    /// when given (a resume needs the configuration when the run never wrote its config.yaml).
    void record(const QString& runDir, const QString& status, const QString& message,
                const QString& configPath = {}, const QString& dataDir = {});
    /// The configuration file a run was started with (empty when not started here).
    QString recordedConfig(const QString& runDir) const;
    /// Forgets a run (its files stay).
    void forget(const QString& runDir);

    /// The events of a run's progress.jsonl in order (lines that do not parse are skipped); at
    /// most the last `maxBytes` of a very long file.
    static std::vector<QJsonObject> history(const QString& runDir,
                                            qint64 maxBytes = 64 * 1024 * 1024);

private:
    QVariantList index() const;
    QVariantMap recorded(const QString& runDir) const;

    std::unique_ptr<QSettings> m_settings;
};

} // namespace diffseg::app
