#pragma once

#include "TrainingProcess.h"
#include "TrainingRuns.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>

#include <memory>

class QSettings;

namespace diffseg::widgets {
class TrainingPanel;
struct TrainingRequest;
} // namespace diffseg::widgets

namespace diffseg::app {

/// Drives a TrainingPanel: starts `diffseg train` workers (TrainingProcess) for its Start and
/// Resume, stops them for its Stop, feeds it the worker's events and log, and keeps the runs list
/// (TrainingRuns) up to date across restarts. The panel's form and the runs folder are kept in
/// the settings; the runs folder is the model chooser's ("models/runsFolder"), so a run's
/// checkpoints are listed there as `run NAME: best` / `run NAME: last`.
///
/// Ownership: owns the worker process and its own QSettings on the same file as `settings`
/// (so it may outlive the window's); does not own the panel (it is watched, and may go first).
/// Destroying the controller stops a running worker gracefully (waiting for its checkpoint up to
/// the process's stop timeout). Threads: GUI thread only. Errors: a start that cannot happen (a
/// bad form, a run folder that already holds a run, no diffseg executable) and a worker that
/// fails or dies are shown in the panel's message line and lastError(); nothing throws.
class TrainingController : public QObject
{
    Q_OBJECT

public:
    TrainingController(widgets::TrainingPanel* panel, const QSettings& settings,
                       QObject* parent = nullptr);
    ~TrainingController() override;

    widgets::TrainingPanel* panel() const { return m_panel; }
    TrainingProcess* process() const { return m_process; }
    TrainingRuns& runs() { return *m_runs; }

    /// Starts a new run; false (with lastError()) when it cannot.
    bool start(const widgets::TrainingRequest& request);
    /// Continues a stopped, crashed or failed run from its last.dsckpt, up to `epochs` epochs
    /// (0: the run's own); false (with lastError()) when it cannot.
    bool resume(const QString& runDir, int epochs = 0);
    /// Asks the running worker to stop (it saves a checkpoint and exits).
    void stop();
    bool isRunning() const;
    /// The folder of the run being trained (empty when none).
    QString currentRun() const { return m_currentRun; }
    QString lastError() const { return m_lastError; }

    QString runsFolder() const;
    /// Changes the runs folder (kept in the settings) and lists its runs.
    void setRunsFolder(const QString& folder);
    /// Lists the runs again.
    void refreshRuns();
    /// Shows a stored run's curves, samples and log from its progress.jsonl.
    void showRun(const QString& runDir);

Q_SIGNALS:
    /// A run ended with a checkpoint the model chooser can offer (best.dsckpt when there is
    /// one, else last.dsckpt).
    void checkpointAvailable(const QString& path);
    /// A run ended: `status` is "completed", "stopped", "failed" or "crashed".
    void runEnded(const QString& runDir, const QString& status);
    /// The user chose another runs folder in the panel.
    void runsFolderChanged(const QString& folder);

private:
    bool launch(const TrainingCommand& command, bool resumed);
    void fail(const QString& message);
    void onEvent(const QJsonObject& event);
    void onFinished(TrainingProcess::Outcome outcome, const QString& message);
    void saveForm();

    QPointer<widgets::TrainingPanel> m_panel;
    /// Model > Precision ("auto", "fp32", "bf16"), passed to the worker as --precision.
    QString modelPrecision() const;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<TrainingRuns> m_runs;
    TrainingProcess* m_process = nullptr;
    QString m_currentRun;
    QString m_lastError;
    QElapsedTimer m_rowUpdate; ///< the runs list's row of a live run is refreshed twice a second
};

} // namespace diffseg::app
