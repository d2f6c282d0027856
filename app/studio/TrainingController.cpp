#include "TrainingController.h"

#include "runtime/Runtime.h"
#include "training/TrainingCharts.h"
#include "training/TrainingPanel.h"

#include <QDir>
#include <QFileInfo>
#include <QSettings>

namespace diffseg::app {

namespace {

const QString kRunsFolderKey = QStringLiteral("models/runsFolder");

QString defaultRunsFolder()
{
    return QDir::current().filePath(QStringLiteral("runs"));
}

} // namespace

TrainingController::TrainingController(widgets::TrainingPanel* panel, const QSettings& settings,
                                       QObject* parent)
    : QObject(parent)
    , m_panel(panel)
    , m_settings(std::make_unique<QSettings>(settings.fileName(), settings.format()))
    , m_runs(std::make_unique<TrainingRuns>(settings.fileName(), settings.format()))
{
    m_process = new TrainingProcess(this);
    connect(m_process, &TrainingProcess::eventReceived, this, &TrainingController::onEvent);
    connect(m_process, &TrainingProcess::outputLine, this, [this](const QString& line, bool error) {
        if (m_panel) {
            m_panel->appendLog(line, error);
        }
    });
    connect(m_process, &TrainingProcess::finished, this, &TrainingController::onFinished);

    // The devices this build can train on: the CPU and each CUDA device LibTorch sees.
    QStringList ids{QStringLiteral("cpu")};
    QStringList labels{tr("CPU")};
    const core::LibraryVersions versions = core::libraryVersions();
    for (int i = 0; versions.cudaAvailable && i < versions.cudaDeviceCount; ++i) {
        ids << QStringLiteral("cuda:%1").arg(i);
        labels << tr("CUDA device %1").arg(i);
    }
    panel->setDevices(ids, labels);
    if (versions.cudaAvailable) {
        panel->setDevice(QStringLiteral("cuda:0"));
    }

    // The form as it was left.
    m_settings->beginGroup(QStringLiteral("training"));
    widgets::TrainingRequest r = panel->request();
    r.dataDir = m_settings->value(QStringLiteral("dataDir"), r.dataDir).toString();
    r.configPath = m_settings->value(QStringLiteral("config"), r.configPath).toString();
    r.epochs = m_settings->value(QStringLiteral("epochs"), 0).toInt();
    r.batchSize = m_settings->value(QStringLiteral("batchSize"), 0).toInt();
    r.learningRate = m_settings->value(QStringLiteral("learningRate"), 0.0).toDouble();
    r.device = m_settings->value(QStringLiteral("device"), r.device).toString();
    r.threads = m_settings->value(QStringLiteral("threads"), 0).toInt();
    r.processes = m_settings->value(QStringLiteral("processes"), 1).toInt();
    r.runName.clear(); // a new run gets a new default name
    m_settings->endGroup();
    r.runsFolder = m_settings->value(kRunsFolderKey).toString();
    if (r.runsFolder.isEmpty()) {
        r.runsFolder = defaultRunsFolder();
    }
    if (m_settings->contains(QStringLiteral("training/config"))) {
        panel->setRequest(r);
    } else {
        panel->setRunsFolder(r.runsFolder);
        panel->setDatasetFolder(r.dataDir);
    }

    connect(panel, &widgets::TrainingPanel::startRequested, this,
            [this](const widgets::TrainingRequest& request) { start(request); });
    connect(panel, &widgets::TrainingPanel::stopRequested, this, &TrainingController::stop);
    connect(panel, &widgets::TrainingPanel::resumeRequested, this,
            [this](const QString& dir, int epochs) { resume(dir, epochs); });
    connect(panel, &widgets::TrainingPanel::runSelected, this, [this](const QString& dir) {
        if (dir != m_currentRun) {
            showRun(dir);
        }
    });
    connect(panel, &widgets::TrainingPanel::runsFolderChanged, this, [this](const QString& f) {
        if (f.isEmpty() || f == m_settings->value(kRunsFolderKey).toString()) {
            return;
        }
        m_settings->setValue(kRunsFolderKey, f);
        refreshRuns();
        Q_EMIT runsFolderChanged(f);
    });
    refreshRuns();
}

TrainingController::~TrainingController()
{
    // The window is going away with a worker still training: give it the chance to save its
    // checkpoint (SIGTERM, then the process's stop timeout) and note how it ended.
    if (m_process->isRunning()) {
        const QString run = m_currentRun;
        m_process->disconnect(this);
        m_process->stop();
        const bool exited = m_process->waitForFinished(m_process->stopTimeout() + 5000);
        m_runs->record(run, exited ? QStringLiteral("stopped") : QStringLiteral("crashed"),
                       exited ? tr("stopped when the studio closed")
                              : tr("killed when the studio closed"));
    }
}

bool TrainingController::isRunning() const
{
    return m_process->isRunning();
}

QString TrainingController::modelPrecision() const
{
    // The studio's Model > Precision, which also picks how segmentation runs.
    return m_settings->value(QStringLiteral("models/precision"), QStringLiteral("auto")).toString();
}

QString TrainingController::runsFolder() const
{
    const QString folder = m_settings->value(kRunsFolderKey).toString();
    return folder.isEmpty() ? defaultRunsFolder() : folder;
}

void TrainingController::setRunsFolder(const QString& folder)
{
    const QString absolute = QFileInfo(folder).absoluteFilePath();
    m_settings->setValue(kRunsFolderKey, absolute);
    if (m_panel) {
        m_panel->setRunsFolder(absolute);
    }
    refreshRuns();
}

void TrainingController::refreshRuns()
{
    if (!m_panel) {
        return;
    }
    std::vector<widgets::TrainingRunInfo> runs = m_runs->list(runsFolder());
    for (widgets::TrainingRunInfo& run : runs) {
        if (run.dir == m_currentRun && isRunning()) {
            run.status = QStringLiteral("running");
            run.message.clear();
        }
    }
    m_panel->setRuns(runs);
}

void TrainingController::showRun(const QString& runDir)
{
    if (!m_panel) {
        return;
    }
    m_panel->clearProgress();
    for (const QJsonObject& event : TrainingRuns::history(runDir)) {
        m_panel->applyEvent(event, true);
    }
    m_panel->charts()->flush();
    const widgets::TrainingRunInfo run = m_runs->read(runDir);
    QString text = tr("Run %1: %2").arg(run.name, run.status);
    if (!run.message.isEmpty()) {
        text += QStringLiteral(" (") + run.message + QLatin1Char(')');
    }
    if (!run.lastCheckpoint.isEmpty()) {
        text += QLatin1Char('\n') + tr("last checkpoint: %1").arg(run.lastCheckpoint);
    }
    using Kind = widgets::TrainingPanel::MessageKind;
    m_panel->setMessage(text, run.status == QLatin1String("failed") ||
                                      run.status == QLatin1String("crashed")
                                  ? Kind::Error
                                  : Kind::Info);
}

void TrainingController::saveForm()
{
    const widgets::TrainingRequest r = m_panel->request();
    m_settings->beginGroup(QStringLiteral("training"));
    m_settings->setValue(QStringLiteral("dataDir"), r.dataDir);
    m_settings->setValue(QStringLiteral("config"), r.configPath);
    m_settings->setValue(QStringLiteral("epochs"), r.epochs);
    m_settings->setValue(QStringLiteral("batchSize"), r.batchSize);
    m_settings->setValue(QStringLiteral("learningRate"), r.learningRate);
    m_settings->setValue(QStringLiteral("device"), r.device);
    m_settings->setValue(QStringLiteral("threads"), r.threads);
    m_settings->setValue(QStringLiteral("processes"), r.processes);
    m_settings->endGroup();
    if (!r.runsFolder.isEmpty()) {
        m_settings->setValue(kRunsFolderKey, r.runsFolder);
    }
}

void TrainingController::fail(const QString& message)
{
    m_lastError = message;
    if (m_panel) {
        m_panel->setMessage(message, widgets::TrainingPanel::MessageKind::Error);
        m_panel->appendLog(message, true);
    }
}

bool TrainingController::start(const widgets::TrainingRequest& request)
{
    if (isRunning()) {
        fail(tr("A run is training already: stop it first"));
        return false;
    }
    if (m_panel) {
        const QString problem = m_panel->validate();
        if (!problem.isEmpty()) {
            fail(problem);
            return false;
        }
    }
    const QString runDir = QDir::cleanPath(QFileInfo(request.runDir()).absoluteFilePath());
    if (QFileInfo::exists(QDir(runDir).filePath(QStringLiteral("last.dsckpt")))) {
        fail(tr("%1 already holds a run with a checkpoint: select it in the runs list and "
                "Resume it, or choose another run name")
                 .arg(runDir));
        return false;
    }
    if (m_panel) {
        saveForm();
    }
    TrainingCommand command;
    command.configPath = request.configPath;
    command.dataDir = request.dataDir;
    command.runDir = runDir;
    command.epochs = request.epochs;
    command.batchSize = request.batchSize;
    command.learningRate = request.learningRate;
    command.device = request.device;
    command.precision = modelPrecision();
    command.threads = request.threads;
    command.processes = request.processes;
    m_runs->record(runDir, QStringLiteral("running"), QString(), request.configPath,
                   request.dataDir);
    return launch(command, false);
}

bool TrainingController::resume(const QString& runDir, int epochs)
{
    if (isRunning()) {
        fail(tr("A run is training already: stop it first"));
        return false;
    }
    const QString dir = QDir::cleanPath(QFileInfo(runDir).absoluteFilePath());
    if (!QFileInfo::exists(QDir(dir).filePath(QStringLiteral("last.dsckpt")))) {
        fail(tr("%1 has no checkpoint (last.dsckpt) to resume from").arg(dir));
        return false;
    }
    TrainingCommand command;
    // The run's own effective configuration: the network, schedule and data it was started
    // with (the trainer refuses a checkpoint of another network).
    command.configPath = QDir(dir).filePath(QStringLiteral("config.yaml"));
    if (!QFileInfo::exists(command.configPath)) {
        command.configPath = m_runs->recordedConfig(dir);
    }
    if (command.configPath.isEmpty()) {
        fail(tr("%1 has no config.yaml to resume with").arg(dir));
        return false;
    }
    command.runDir = dir;
    command.epochs = epochs;
    command.resume = true;
    if (m_panel) {
        const widgets::TrainingRequest form = m_panel->request();
        command.device = form.device;
        command.threads = form.threads;
        command.processes = form.processes;
    }
    command.precision = modelPrecision();
    if (m_panel) {
    }
    m_runs->record(dir, QStringLiteral("running"), QString());
    if (m_panel) {
        // The curves so far, which the resumed worker continues.
        showRun(dir);
    }
    return launch(command, true);
}

bool TrainingController::launch(const TrainingCommand& command, bool resumed)
{
    m_lastError.clear();
    m_currentRun = command.runDir;
    if (m_panel) {
        m_panel->beginRun(command.runDir, resumed);
        m_panel->appendLog(QStringLiteral("$ diffseg ") +
                           command.arguments().join(QLatin1Char(' ')));
    }
    if (!m_process->start(command)) {
        const QString message = m_process->errorString();
        m_runs->record(command.runDir, QStringLiteral("failed"), message);
        m_currentRun.clear();
        if (m_panel) {
            m_panel->setRunning(false);
        }
        fail(message);
        refreshRuns();
        return false;
    }
    refreshRuns();
    if (m_panel) {
        m_panel->selectRun(command.runDir);
    }
    m_rowUpdate.start();
    return true;
}

void TrainingController::stop()
{
    if (!isRunning()) {
        return;
    }
    m_process->stop();
    if (m_panel) {
        m_panel->setStopping(true);
        m_panel->appendLog(tr("Stopping: the worker finishes its step, saves last.dsckpt and "
                              "exits (killed if it has not within %1 s)")
                               .arg(m_process->stopTimeout() / 1000));
    }
}

void TrainingController::onEvent(const QJsonObject& event)
{
    if (!m_panel) {
        return;
    }
    m_panel->applyEvent(event);
    const QString kind = event.value(QLatin1String("event")).toString();
    const bool milestone = kind != QLatin1String("step") && kind != QLatin1String("caching");
    if (milestone || m_rowUpdate.elapsed() > 500) {
        m_rowUpdate.restart();
        widgets::TrainingRunInfo run = m_runs->read(m_currentRun);
        run.status = QStringLiteral("running");
        run.message.clear();
        m_panel->updateRun(run);
    }
}

void TrainingController::onFinished(TrainingProcess::Outcome outcome, const QString& message)
{
    const QString run = m_currentRun;
    const QString status = TrainingProcess::outcomeName(outcome);
    m_currentRun.clear();
    m_runs->record(run, status, message);
    if (outcome == TrainingProcess::Outcome::Failed ||
        outcome == TrainingProcess::Outcome::Crashed) {
        m_lastError = message;
    }
    if (m_panel) {
        using Kind = widgets::TrainingPanel::MessageKind;
        m_panel->setRunning(false);
        m_panel->charts()->flush();
        m_panel->setMessage(message, outcome == TrainingProcess::Outcome::Completed ? Kind::Success
                                     : outcome == TrainingProcess::Outcome::Stopped ? Kind::Info
                                                                                    : Kind::Error);
        m_panel->appendLog(message, outcome == TrainingProcess::Outcome::Failed ||
                                        outcome == TrainingProcess::Outcome::Crashed);
        refreshRuns();
        const QSignalBlocker block(m_panel);
        m_panel->selectRun(run);
    }
    Q_EMIT runEnded(run, status);
    const QDir dir(run);
    for (const char* name : {"best.dsckpt", "last.dsckpt"}) {
        if (QFileInfo(dir.filePath(QLatin1String(name))).isFile()) {
            Q_EMIT checkpointAvailable(dir.filePath(QLatin1String(name)));
            break;
        }
    }
}

} // namespace diffseg::app
