#pragma once

#include "BackgroundRunner.h"
#include "LatestValue.h"

#include <QString>

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace diffseg::app {

/// What every job says of its model: the checkpoint and how to load it (the part of a
/// SegmentationJob or VolumeSegmentationJob that ModelRunner reads).
struct ModelJob
{
    QString checkpoint;      ///< a checkpoint of ours, or a reference .pth or state_dict
    QString referencePreset; ///< for a reference file: "isic2018", "brats2023", ... or a config
    QString device = QStringLiteral("auto");
    QString precision = QStringLiteral("auto"); ///< "auto", "fp32" or "bf16"
};

/// What the photo and volume runners (SegmentationRunner, VolumeSegmentationRunner) share beyond
/// BackgroundRunner, written once for any model family: a `Job` started one at a time; the
/// `Model` (a core segmenter) kept loaded between runs while the checkpoint, its reference
/// preset, the device and the precision stay the same; the newest `Progress` handed to the GUI
/// through a LatestValue (a busy GUI skips updates instead of queueing them); and the last run's
/// model description and `Output` for the GUI.
///
/// `Job` is a ModelJob with the input and options; Model::info() describes the loaded model.
/// Q_OBJECT cannot sit on a template: the subclass declares the signals and passes their emission
/// to postModelInfo() and postProgress().
///
/// Threads: start() and the accessors are for the GUI thread; runJob(), loadedModel() and the
/// post...() calls run on the worker. Ownership: owns the cached model; a subclass's destructor
/// calls stopWorker() before its own members go (BackgroundRunner). Errors: as BackgroundRunner
/// (runJob()'s exceptions end the run with failed()).
template <typename Job, typename Model, typename Output, typename Progress>
class ModelRunner : public BackgroundRunner
{
    static_assert(std::is_base_of_v<ModelJob, Job>, "a job names its model as a ModelJob");

public:
    using ModelInfo = std::decay_t<decltype(std::declval<const Model&>().info())>;

    /// Starts a run; false (and nothing happens) while another runs.
    bool start(Job job)
    {
        if (isRunning()) {
            return false;
        }
        m_latest.reset();
        resetRun();
        return startWorker(
            [this, job = std::move(job)](const core::CancelToken& cancel) { runJob(job, cancel); });
    }

    /// The output of the last successful run.
    const std::shared_ptr<const Output>& output() const { return m_output; }
    /// The model of the last run (valid from the subclass's modelReady() on).
    const std::optional<ModelInfo>& modelInfo() const { return m_modelInfo; }

protected:
    ModelRunner(QString threadName, QObject* parent)
        : BackgroundRunner(std::move(threadName), parent)
    {}

    /// GUI thread, as a run starts: forget what the subclass kept of the previous run.
    virtual void resetRun() {}
    /// The worker's body: load (loadedModel()), run, and end with postOutput().
    virtual void runJob(const Job& job, const core::CancelToken& cancel) = 0;

    /// The model for `job`: the one loaded for an earlier job with the same checkpoint, preset,
    /// device and precision, or else the std::shared_ptr<Model> that `load()` makes (nothing is
    /// kept when it throws). Worker only.
    template <typename Load>
    Model& loadedModel(const ModelJob& job, Load&& load)
    {
        const QString key =
            loadedModelKey(job.checkpoint, job.referencePreset, job.device + "/" + job.precision);
        if (!m_model || key != m_modelKey) {
            m_model.reset();
            m_model = std::forward<Load>(load)();
            m_modelKey = key;
        }
        return *m_model;
    }

    /// From the worker: modelInfo() becomes `info` on the GUI thread, then `announce` runs there
    /// (the subclass's signals).
    void postModelInfo(ModelInfo info, std::function<void()> announce)
    {
        postToGui([this, info = std::move(info), announce = std::move(announce)] {
            m_modelInfo = info;
            announce();
        });
    }

    /// From the worker: the newest progress; `notify` runs on the GUI thread when no earlier
    /// notification waits to be taken.
    void postProgress(Progress progress, std::function<void()> notify)
    {
        if (m_latest.put(std::move(progress))) {
            postToGui(std::move(notify));
        }
    }
    /// The newest progress not yet taken (empty when there is none), and its counters.
    std::optional<Progress> takeLatest() { return m_latest.take(); }
    const LatestValue<Progress>& latest() const { return m_latest; }

    /// From the worker: output() becomes `output` on the GUI thread and finished() follows.
    void postOutput(std::shared_ptr<const Output> output)
    {
        postFinished([this, output = std::move(output)] { m_output = output; });
    }

private:
    std::shared_ptr<Model> m_model; ///< touched by the worker only while it runs
    QString m_modelKey;
    LatestValue<Progress> m_latest;
    std::shared_ptr<const Output> m_output;
    std::optional<ModelInfo> m_modelInfo;
};

} // namespace diffseg::app
