#pragma once

#include "TrainingPresets.h"

#include <QDateTime>
#include <QDir>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QWidget>

#include <vector>

class QComboBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QToolButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace diffseg::widgets {

class TrainingCharts;

/// What the user asked for when pressing Start: a new run of `diffseg train`.
struct TrainingRequest
{
    QString dataDir;         ///< the dataset folder
    QString configPath;      ///< the preset's (or the user's) YAML file
    QString presetName;      ///< for people: "Small CPU (DermoSegDiff, 64x64)"
    bool volumetric = false; ///< a Diff-UNet configuration
    int epochs = 1;
    int batchSize = 1;
    double learningRate = 1e-4;
    QString device = QStringLiteral("cpu"); ///< "cpu" or "cuda:N"
    int threads = 1;                        ///< compute threads of the worker (per process)
    /// Data-parallel processes (`diffseg train --nproc`): each takes a batch, the
    /// global batch is processes x batch.
    int processes = 1;
    QString runName;
    QString runsFolder;

    /// `runsFolder/runName`, where the run's files go.
    QString runDir() const { return QDir(runsFolder).filePath(runName); }
};

/// One run as the runs list shows it.
struct TrainingRunInfo
{
    QString dir;  ///< absolute path of the run folder
    QString name; ///< the folder's name
    /// "running", "stopped", "completed", "failed" or "crashed".
    QString status;
    QString message; ///< why it failed or crashed, or a note
    qint64 step = 0;
    qint64 totalSteps = 0;
    int epoch = 0; ///< epochs done
    int epochs = 0;
    QString lastCheckpoint; ///< empty when there is none
    QString bestCheckpoint;
    QDateTime updated;

    /// A run with a last checkpoint that is not running can be continued with --resume.
    bool resumable() const
    {
        return !lastCheckpoint.isEmpty() && status != QLatin1String("running");
    }
};

/// The Training panel: choose a dataset folder (its layout, cases and the split a run would make
/// are shown), a preset configuration (DermoSegDiff-A/B, a small CPU model, Diff-UNet, or any
/// YAML file), epochs, batch size, learning rate, device and the run's name and folder; Start,
/// Stop and Resume; while a run trains: a progress bar with the ETA, live loss and validation
/// curves (TrainingCharts), the validation images with the sampled prediction's and the ground
/// truth's contours, and the worker's log; the runs found with their status.
///
/// It is a view: it reads the training progress protocol's events (README, "Training progress
/// protocol") handed to applyEvent() and emits what the user asks for; the app starts, stops and
/// watches the `diffseg train` process and keeps the list of runs.
///
/// Ownership: owns its child widgets. Threads: GUI thread only. Errors: bad choices (no dataset,
/// no run name) are shown in the panel's message line and no start is requested; events with
/// missing or mistyped fields are shown as far as they go, never thrown.
class TrainingPanel : public QWidget
{
    Q_OBJECT

public:
    explicit TrainingPanel(QWidget* parent = nullptr);

    /// The presets offered (by default the shipped ones, shippedTrainingPresets()).
    void setPresets(const std::vector<TrainingPreset>& presets);
    const std::vector<TrainingPreset>& presets() const { return m_presets; }
    /// Adds a YAML file as a "custom" preset (if not offered yet) and selects it; false (and a
    /// message) when it cannot be read.
    bool setConfigFile(const QString& path);
    /// The devices offered: ids ("cpu", "cuda:0") with what users read.
    void setDevices(const QStringList& ids, const QStringList& labels);
    /// Chooses a device by id; ignored when it is not offered.
    void setDevice(const QString& id);
    void setDatasetFolder(const QString& folder);
    QString datasetFolder() const;
    void setRunsFolder(const QString& folder);
    QString runsFolder() const;
    /// Fills the form (preset by its config path, then the numbers, device and run name).
    void setRequest(const TrainingRequest& request);
    TrainingRequest request() const;
    /// What the dataset folder holds, as shown under it.
    const DatasetSummary& datasetSummary() const { return m_summary; }
    /// Checks the form; the problem for people, or an empty string when Start may go ahead.
    QString validate() const;

    /// Lists the runs (replacing the list; the selection stays on the same folder).
    void setRuns(const std::vector<TrainingRunInfo>& runs);
    /// Updates (or adds) one run's row.
    void updateRun(const TrainingRunInfo& run);
    void selectRun(const QString& dir);
    QString selectedRun() const;
    /// The status shown for a run folder, or an empty string when it is not listed.
    QString runStatus(const QString& dir) const;
    TrainingRunInfo runInfo(const QString& dir) const;

    /// A run starts (or resumes): the curves and samples are cleared unless it resumes, and the
    /// panel shows it as running.
    void beginRun(const QString& runDir, bool resumed);
    /// Clears the curves, progress and samples (before replaying a stored run's history).
    void clearProgress();
    /// Shows one event of the training progress protocol. `fromHistory`: replayed from a run's
    /// progress.jsonl, so readable lines for the log are made from the events themselves (live,
    /// the worker's own output fills the log).
    void applyEvent(const QJsonObject& event, bool fromHistory = false);
    void appendLog(const QString& line, bool error = false);
    /// While a worker runs: Start and Resume are disabled, Stop enabled.
    void setRunning(bool running);
    /// A stop was asked for: Stop says so until the worker has exited.
    void setStopping(bool stopping);
    bool isRunning() const { return m_running; }
    /// The message line under the progress bar: an outcome, an error or a hint.
    enum class MessageKind
    {
        Info,
        Success,
        Error
    };
    void setMessage(const QString& text, MessageKind kind = MessageKind::Info);
    QString message() const;
    QString statusText() const;

    // Parts, for tests and screenshots.
    TrainingCharts* charts() const { return m_charts; }
    QProgressBar* progressBar() const { return m_progress; }
    QPushButton* startButton() const { return m_start; }
    QPushButton* stopButton() const { return m_stop; }
    QPushButton* resumeButton() const { return m_resume; }
    QSpinBox* resumeEpochsBox() const { return m_resumeEpochs; }
    QTreeWidget* runsView() const { return m_runs; }
    QPlainTextEdit* logView() const { return m_log; }
    QTabWidget* tabs() const { return m_tabs; }
    /// Validation thumbnails shown (all rows).
    int sampleThumbnailCount() const { return m_thumbnailCount; }

Q_SIGNALS:
    void startRequested(const diffseg::widgets::TrainingRequest& request);
    void stopRequested();
    /// Continue the run in `runDir` from its last checkpoint, up to `epochs` epochs.
    void resumeRequested(const QString& runDir, int epochs);
    /// The user selected a run in the list (to see its curves and log).
    void runSelected(const QString& runDir);
    void runsFolderChanged(const QString& folder);

private:
    /// The columns of the run list.
    enum RunColumn
    {
        ColumnName,
        ColumnStatus,
        ColumnProgress,
        ColumnUpdated,
        ColumnCount
    };

    void choosePreset(int index);
    void refreshDatasetSummary();
    void updateEnabled();
    void updateRunItem(QTreeWidgetItem* item, const TrainingRunInfo& run);
    void showSamples(int epoch, double dice, const QJsonArray& samples);
    QString defaultRunName() const;
    const TrainingPreset* currentPreset() const;

    std::vector<TrainingPreset> m_presets;
    DatasetSummary m_summary;
    QLineEdit* m_dataDir = nullptr;
    QLabel* m_dataInfo = nullptr;
    QComboBox* m_preset = nullptr;
    QSpinBox* m_epochs = nullptr;
    QSpinBox* m_batch = nullptr;
    QLineEdit* m_learningRate = nullptr;
    QComboBox* m_device = nullptr;
    QSpinBox* m_threads = nullptr;
    QSpinBox* m_processes = nullptr;
    QLineEdit* m_runName = nullptr;
    QLineEdit* m_runsFolder = nullptr;
    QPushButton* m_start = nullptr;
    QPushButton* m_stop = nullptr;
    QPushButton* m_resume = nullptr;
    QSpinBox* m_resumeEpochs = nullptr;
    QPushButton* m_openFolder = nullptr;
    QTreeWidget* m_runs = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_message = nullptr;
    TrainingCharts* m_charts = nullptr;
    QTabWidget* m_tabs = nullptr;
    QWidget* m_samples = nullptr;
    QGridLayout* m_samplesGrid = nullptr;
    QLabel* m_samplesHint = nullptr;
    QPlainTextEdit* m_log = nullptr;

    bool m_running = false;
    bool m_stopping = false;
    bool m_runNameEdited = false;
    QString m_activeRun;
    qint64 m_totalSteps = 0;
    QString m_lastCheckpointText;
    int m_thumbnailCount = 0;
    /// The newest validations with samples, newest first: (epoch, Dice, samples).
    struct SampleRow
    {
        int epoch = 0;
        double dice = 0.0;
        QJsonArray samples;
    };
    std::vector<SampleRow> m_sampleRows;
};

} // namespace diffseg::widgets
