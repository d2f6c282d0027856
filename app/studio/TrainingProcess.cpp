#include "TrainingProcess.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLocale>
#include <QProcessEnvironment>
#include <QTimer>

#include <algorithm>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace diffseg::app {

namespace {

/// stderr lines kept for the failure message of a worker that dies without a `failed` event.
constexpr int kStderrTail = 6;

QString pathIfExecutable(const QString& path)
{
    const QFileInfo info(path);
    return info.isFile() && info.isExecutable() ? info.absoluteFilePath() : QString();
}

} // namespace

QStringList TrainingCommand::arguments() const
{
    QStringList a{QStringLiteral("train"), QStringLiteral("-c"), configPath};
    if (!dataDir.isEmpty()) {
        a << QStringLiteral("--data-dir") << dataDir;
    }
    a << QStringLiteral("--run-dir") << runDir;
    if (epochs > 0) {
        a << QStringLiteral("-e") << QString::number(epochs);
    }
    if (batchSize > 0) {
        a << QStringLiteral("-b") << QString::number(batchSize);
    }
    if (learningRate > 0.0) {
        a << QStringLiteral("-l") << QLocale::c().toString(learningRate, 'g', 10);
    }
    if (!device.isEmpty()) {
        a << QStringLiteral("--device") << device;
    }
    if (!precision.isEmpty()) {
        a << QStringLiteral("--precision") << precision;
    }
    a << QStringLiteral("--threads") << QString::number(std::max(0, threads));
    if (processes > 1) {
        a << QStringLiteral("--nproc") << QString::number(processes);
    }
    a << QStringLiteral("--progress") << progressFile();
    if (resume) {
        a << QStringLiteral("--resume");
    }
    return a;
}

QString TrainingCommand::progressFile() const
{
    return QDir(runDir).filePath(QStringLiteral("gui-progress.jsonl"));
}

QString TrainingProcess::outcomeName(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Completed:
        return QStringLiteral("completed");
    case Outcome::Stopped:
        return QStringLiteral("stopped");
    case Outcome::Failed:
        return QStringLiteral("failed");
    case Outcome::Crashed:
        return QStringLiteral("crashed");
    }
    return QStringLiteral("failed");
}

TrainingProcess::TrainingProcess(QObject* parent)
    : QObject(parent)
{
    m_process = new QProcess(this);
    m_poll = new QTimer(this);
    m_poll->setInterval(250);
    m_killTimer = new QTimer(this);
    m_killTimer->setSingleShot(true);
    connect(m_poll, &QTimer::timeout, this, &TrainingProcess::pollProgress);
    connect(m_killTimer, &QTimer::timeout, this, [this] {
        if (isRunning()) {
            m_killed = true;
            m_process->kill();
        }
    });
    connect(m_process, &QProcess::readyReadStandardOutput, this, [this] {
        readOutput(QProcess::StandardOutput);
        // The worker prints its readable line right after appending the event's JSON line.
        pollProgress();
    });
    connect(m_process, &QProcess::readyReadStandardError, this,
            [this] { readOutput(QProcess::StandardError); });
    connect(m_process, &QProcess::started, this, &TrainingProcess::started);
    connect(m_process, &QProcess::finished, this, &TrainingProcess::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, &TrainingProcess::onError);
}

TrainingProcess::~TrainingProcess()
{
    // Nobody listens any more; the worker still gets the chance to save its checkpoint.
    m_process->disconnect(this);
    if (m_process->state() != QProcess::NotRunning) {
        m_process->terminate();
        if (!m_process->waitForFinished(m_stopTimeoutMs)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
}

QString TrainingProcess::findExecutable(QStringList* tried)
{
    QStringList candidates;
    const QString fromEnv = qEnvironmentVariable("DIFFSEG_CLI");
    if (!fromEnv.isEmpty()) {
        candidates << fromEnv;
    }
    const QString here = QCoreApplication::applicationDirPath();
    candidates << QDir(here).filePath(QStringLiteral("diffseg"))
               << QDir(here).filePath(QStringLiteral("../cli/diffseg"));
    if (tried) {
        *tried = candidates;
    }
    for (const QString& c : candidates) {
        const QString found = pathIfExecutable(c);
        if (!found.isEmpty()) {
            return found;
        }
    }
    return {};
}

bool TrainingProcess::isRunning() const
{
    return m_process->state() != QProcess::NotRunning;
}

qint64 TrainingProcess::processId() const
{
    return isRunning() ? m_process->processId() : 0;
}

bool TrainingProcess::start(const TrainingCommand& command)
{
    if (isRunning()) {
        m_error = tr("A training worker is already running");
        return false;
    }
    QStringList tried;
    const QString exe = m_executable.isEmpty() ? findExecutable(&tried) : m_executable;
    if (exe.isEmpty()) {
        m_error = tr("The diffseg executable was not found (looked at %1); set DIFFSEG_CLI to it")
                      .arg(tried.join(QStringLiteral(", ")));
        return false;
    }
    if (!QDir().mkpath(command.runDir)) {
        m_error = tr("%1: cannot create the run folder").arg(command.runDir);
        return false;
    }
    m_command = command;
    m_error.clear();
    m_stopping = false;
    m_killed = false;
    m_reported = false;
    m_stdoutBuffer.clear();
    m_stderrBuffer.clear();
    m_stderrTail.clear();
    m_lastCheckpoint.clear();
    m_failure.clear();
    m_finishReason.clear();
    m_lastStep = -1;
    // A resumed run appends to the same file: only what this worker writes is new.
    m_progressOffset = QFileInfo(command.progressFile()).size();

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // Spinning OpenMP threads would take the GUI's core whenever the worker waits.
    env.insert(QStringLiteral("OMP_WAIT_POLICY"), QStringLiteral("PASSIVE"));
    if (command.threads > 0) {
        env.insert(QStringLiteral("OMP_NUM_THREADS"), QString::number(command.threads));
        env.insert(QStringLiteral("MKL_NUM_THREADS"), QString::number(command.threads));
    }
    m_process->setProcessEnvironment(env);
    m_process->setWorkingDirectory(command.runDir);
    m_process->setProgram(exe);
    m_process->setArguments(command.arguments());
#ifdef Q_OS_UNIX
    // A lower priority for the worker: the window repaints first when both want the CPU.
    m_process->setChildProcessModifier([] {
        const int niceness = ::nice(5);
        static_cast<void>(niceness);
    });
#endif
    m_process->start(QIODevice::ReadOnly);
    m_poll->start();
    return true;
}

void TrainingProcess::stop()
{
    if (!isRunning() || m_stopping) {
        return;
    }
    m_stopping = true;
    m_process->terminate();
    m_killTimer->start(m_stopTimeoutMs);
}

bool TrainingProcess::waitForFinished(int ms)
{
    QElapsedTimer clock;
    clock.start();
    while (isRunning() && clock.elapsed() < ms) {
        m_process->waitForFinished(static_cast<int>(std::min<qint64>(100, ms - clock.elapsed())));
        QCoreApplication::processEvents();
    }
    return !isRunning();
}

void TrainingProcess::readOutput(QProcess::ProcessChannel channel)
{
    const bool error = channel == QProcess::StandardError;
    QByteArray& buffer = error ? m_stderrBuffer : m_stdoutBuffer;
    buffer += error ? m_process->readAllStandardError() : m_process->readAllStandardOutput();
    qsizetype newline = 0;
    while ((newline = buffer.indexOf('\n')) >= 0) {
        const QString line = QString::fromUtf8(buffer.left(newline)).trimmed();
        buffer.remove(0, newline + 1);
        if (line.isEmpty()) {
            continue;
        }
        if (error) {
            m_stderrTail << line;
            while (m_stderrTail.size() > kStderrTail) {
                m_stderrTail.removeFirst();
            }
        }
        Q_EMIT outputLine(line, error);
    }
}

void TrainingProcess::pollProgress()
{
    QFile file(m_command.progressFile());
    if (!file.open(QIODevice::ReadOnly) || file.size() <= m_progressOffset) {
        return;
    }
    file.seek(m_progressOffset);
    const QByteArray chunk = file.readAll();
    // Only complete lines: the worker may be half-way through writing the last one.
    const qsizetype end = chunk.lastIndexOf('\n');
    if (end < 0) {
        return;
    }
    m_progressOffset += end + 1;
    for (const QByteArray& raw : chunk.left(end).split('\n')) {
        if (raw.trimmed().isEmpty()) {
            continue;
        }
        QJsonParseError error{};
        const QJsonDocument doc = QJsonDocument::fromJson(raw, &error);
        if (!doc.isObject()) {
            // A line cut by a killed worker; the next run appends after it.
            continue;
        }
        const QJsonObject event = doc.object();
        const QString kind = event.value(QLatin1String("event")).toString();
        if (kind == QLatin1String("checkpoint") &&
            event.value(QLatin1String("kind")).toString() == QLatin1String("last")) {
            m_lastCheckpoint = event.value(QLatin1String("path")).toString();
        } else if (kind == QLatin1String("step")) {
            m_lastStep = event.value(QLatin1String("step")).toInteger(m_lastStep);
        } else if (kind == QLatin1String("failed")) {
            const QString errorKind = event.value(QLatin1String("error_kind")).toString();
            m_failure = event.value(QLatin1String("reason")).toString();
            if (errorKind == QLatin1String("out of memory")) {
                m_failure = tr("out of memory: %1 (try a smaller batch size)").arg(m_failure);
            }
            const QString last = event.value(QLatin1String("last_checkpoint")).toString();
            if (!last.isEmpty()) {
                m_lastCheckpoint = last;
            }
        } else if (kind == QLatin1String("finished")) {
            m_finishReason = event.value(QLatin1String("reason")).toString();
            const QString last = event.value(QLatin1String("last_checkpoint")).toString();
            if (!last.isEmpty()) {
                m_lastCheckpoint = last;
            }
        }
        Q_EMIT eventReceived(event);
    }
}

void TrainingProcess::onFinished(int exitCode, QProcess::ExitStatus status)
{
    m_poll->stop();
    m_killTimer->stop();
    readOutput(QProcess::StandardOutput);
    readOutput(QProcess::StandardError);
    pollProgress();
    if (m_reported) {
        return;
    }
    m_reported = true;
    const QString checkpoint =
        m_lastCheckpoint.isEmpty()
            ? (QFileInfo::exists(QDir(m_command.runDir).filePath(QStringLiteral("last.dsckpt")))
                   ? QDir(m_command.runDir).filePath(QStringLiteral("last.dsckpt"))
                   : QString())
            : m_lastCheckpoint;
    const QString checkpointNote = checkpoint.isEmpty() ? tr("no checkpoint was saved")
                                                        : tr("last checkpoint: %1").arg(checkpoint);
    Outcome outcome = Outcome::Failed;
    QString message;
    if (m_killed) {
        outcome = Outcome::Stopped;
        message = tr("The worker did not stop within %1 s after Stop and was killed; %2")
                      .arg(m_stopTimeoutMs / 1000.0, 0, 'f', 1)
                      .arg(checkpointNote);
    } else if (status == QProcess::CrashExit) {
        outcome = Outcome::Crashed;
        message = tr("The worker died without saying why (killed by a signal, e.g. kill -9 or "
                     "the out-of-memory killer)%1; %2")
                      .arg(m_lastStep >= 0 ? tr(" after step %1").arg(m_lastStep) : QString(),
                           checkpointNote);
    } else if (exitCode == 0) {
        outcome = Outcome::Completed;
        message = m_finishReason == QLatin1String("max_steps")
                      ? tr("Reached the step limit; %1").arg(checkpointNote)
                      : tr("Training completed; %1").arg(checkpointNote);
    } else if (exitCode == 3) {
        outcome = Outcome::Stopped;
        message = tr("Stopped; %1").arg(checkpointNote);
    } else {
        outcome = Outcome::Failed;
        QString reason = m_failure;
        if (reason.isEmpty()) {
            reason = m_stderrTail.isEmpty() ? tr("exit status %1").arg(exitCode)
                                            : m_stderrTail.join(QLatin1Char('\n'));
        }
        message = tr("Training failed: %1; %2").arg(reason, checkpointNote);
    }
    m_stopping = false;
    Q_EMIT finished(outcome, message);
}

void TrainingProcess::onError(QProcess::ProcessError error)
{
    // Only a failed start ends without finished(); the other errors come with it.
    if (error != QProcess::FailedToStart || m_reported) {
        return;
    }
    m_poll->stop();
    m_reported = true;
    m_error = tr("Cannot start %1: %2").arg(m_process->program(), m_process->errorString());
    Q_EMIT finished(Outcome::Failed, m_error);
}

} // namespace diffseg::app
