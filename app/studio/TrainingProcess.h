#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>

class QTimer;

namespace diffseg::app {

/// The command line of one `diffseg train` run started from the studio.
struct TrainingCommand
{
    QString configPath; ///< the YAML file (a resumed run: its own config.yaml)
    QString dataDir;    ///< --data-dir; empty keeps the config's (a resumed run's config has it)
    QString runDir;     ///< --run-dir, absolute
    int epochs = 0;     ///< -e; 0 keeps the config's
    int batchSize = 0;  ///< -b; 0 keeps the config's
    double learningRate = 0.0; ///< -l; 0 keeps the config's
    QString device;            ///< --device ("cpu", "cuda:0"); empty keeps the config's
    QString precision;         ///< --precision ("auto", "fp32", "bf16"); empty: auto
    int threads = 0;           ///< --threads and OMP_NUM_THREADS; 0: all cores
    int processes = 1;         ///< --nproc: data-parallel local processes
    bool resume = false;       ///< --resume from runDir/last.dsckpt

    /// The arguments after the executable: `train -c CONFIG --data-dir DIR --run-dir RUN -e N -b B
    /// -l LR --device D --precision P --threads T --progress RUN/gui-progress.jsonl [--resume]`.
    /// The same flags serve Diff-UNet configurations: `diffseg train` maps -e, -b and -l to their
    /// keys there (app/cli/CommandTrain.cpp, diffUNetOverridesOf), so no --set is needed.
    QStringList arguments() const;
    /// Where the worker writes its JSON lines (its stdout then carries readable lines).
    QString progressFile() const;
};

/// One `diffseg train` worker as a child process (QProcess), never a thread of the GUI: a crash,
/// an out-of-memory kill or a LibTorch abort ends the worker, not the studio. It reads the
/// worker's JSON progress lines from the --progress file as they are appended (polled, and
/// whenever the worker prints a readable line, which it does right after each event) and hands
/// them on as events; the readable lines and stderr become log lines.
///
/// Stop is graceful: SIGTERM (QProcess::terminate), on which the worker finishes its step, saves
/// last.dsckpt and exits with status 3; a worker that has not exited after stopTimeout() is
/// killed, and finished() says so. The child runs with OMP_WAIT_POLICY=PASSIVE, OMP_NUM_THREADS
/// set to its thread count and a lower CPU priority, so the GUI stays responsive on a busy CPU.
///
/// Ownership: owns the QProcess; destroying a running TrainingProcess stops the worker (SIGTERM,
/// waiting up to stopTimeout() for its checkpoint, then SIGKILL). Threads: GUI thread (the
/// thread it lives in) only. Errors: a worker that cannot start, fails, or dies is reported
/// through finished() with a message; nothing throws.
class TrainingProcess : public QObject
{
    Q_OBJECT

public:
    enum class Outcome
    {
        Completed, ///< exit status 0: all epochs done (or --max-steps reached)
        Stopped,   ///< exit status 3 after Stop (checkpoint saved), or killed after Stop
        Failed,    ///< exit status 1 or 2, a `failed` event, or the worker could not start
        Crashed    ///< ended by a signal it did not handle (kill -9, out-of-memory killer)
    };
    Q_ENUM(Outcome)
    /// "completed", "stopped", "failed", "crashed" (the runs list's statuses).
    static QString outcomeName(Outcome outcome);

    explicit TrainingProcess(QObject* parent = nullptr);
    ~TrainingProcess() override;

    /// The diffseg executable: $DIFFSEG_CLI, else `diffseg` next to the running executable
    /// (installed: both in bin/), else ../cli/diffseg (a build folder: app/studio and app/cli).
    /// Empty when none exists; `tried` receives the paths looked at.
    static QString findExecutable(QStringList* tried = nullptr);
    /// Overrides findExecutable() (tests).
    void setExecutable(const QString& path) { m_executable = path; }
    /// Milliseconds between SIGTERM and SIGKILL (60 s by default: a step of a large model on a
    /// CPU plus writing the checkpoint).
    void setStopTimeout(int ms) { m_stopTimeoutMs = ms; }
    int stopTimeout() const { return m_stopTimeoutMs; }

    /// Starts the worker (creating the run folder for the progress file); false with
    /// errorString() when it is already running or diffseg cannot be found.
    bool start(const TrainingCommand& command);
    /// Asks the worker to stop (SIGTERM), killing it after stopTimeout().
    void stop();
    bool isRunning() const;
    bool isStopping() const { return m_stopping; }
    /// The worker's process id (0 when none runs).
    qint64 processId() const;
    const TrainingCommand& command() const { return m_command; }
    QString errorString() const { return m_error; }
    /// The last checkpoint the worker reported saving (empty before the first).
    QString lastCheckpoint() const { return m_lastCheckpoint; }
    /// Waits (running the worker's I/O) until it has exited; false after `ms`.
    bool waitForFinished(int ms);

Q_SIGNALS:
    void started();
    /// One event of the training progress protocol.
    void eventReceived(const QJsonObject& event);
    /// A readable line from the worker's stdout, or (`error`) its stderr.
    void outputLine(const QString& line, bool error);
    /// The worker has exited (or could not start); `message` says how for people.
    void finished(diffseg::app::TrainingProcess::Outcome outcome, const QString& message);

private:
    void readOutput(QProcess::ProcessChannel channel);
    void pollProgress();
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void onError(QProcess::ProcessError error);

    QProcess* m_process = nullptr;
    QTimer* m_poll = nullptr;
    QTimer* m_killTimer = nullptr;
    TrainingCommand m_command;
    QString m_executable;
    QString m_error;
    int m_stopTimeoutMs = 60000;
    bool m_stopping = false;
    bool m_killed = false;
    bool m_reported = false;
    qint64 m_progressOffset = 0;
    QByteArray m_stdoutBuffer;
    QByteArray m_stderrBuffer;
    QStringList m_stderrTail;
    QString m_lastCheckpoint;
    QString m_failure; ///< the `failed` event's reason (with its kind)
    QString m_finishReason;
    qint64 m_lastStep = -1;
};

} // namespace diffseg::app
