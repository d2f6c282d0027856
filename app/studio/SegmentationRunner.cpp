#include "SegmentationRunner.h"

#include "MaskOps.h"
#include "base/Error.h"

#include <QFileInfo>
#include <QThread>

#include <algorithm>
#include <cmath>

namespace diffseg::app {

namespace {

/// Identifies a loaded model: the same file (path, size, time) on the same device.
QString modelKey(const SegmentationJob& job)
{
    const QFileInfo info(job.checkpoint);
    return QStringLiteral("%1|%2|%3|%4|%5")
        .arg(info.absoluteFilePath(), job.referencePreset, job.device)
        .arg(info.size())
        .arg(info.lastModified().toMSecsSinceEpoch());
}

QString describe(const std::exception& e)
{
    return QString::fromStdString(e.what());
}

} // namespace

SegmentationRunner::SegmentationRunner(QObject* parent)
    : QObject(parent)
{}

SegmentationRunner::~SegmentationRunner()
{
    m_cancel.cancel();
    if (m_thread) {
        m_thread->wait();
        delete m_thread;
    }
}

bool SegmentationRunner::start(SegmentationJob job)
{
    if (m_running) {
        return false;
    }
    if (m_thread) {
        // The previous worker posted its end just before returning: this wait is short, and it
        // orders the worker's writes to the cached model before this run reads them.
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
    }
    m_running = true;
    m_cancel = core::CancelToken();
    m_produced = 0;
    m_skipped = 0;
    m_stepPosted = false;
    {
        std::lock_guard<std::mutex> lock(m_stepMutex);
        m_latest.reset();
    }
    m_planned.clear();
    const core::CancelToken token = m_cancel;
    m_thread = QThread::create(
        [this, job = std::move(job), token]() mutable { runJob(std::move(job), token); });
    m_thread->setObjectName(QStringLiteral("diffseg-sampling"));
    m_thread->start();
    return true;
}

void SegmentationRunner::cancel()
{
    m_cancel.cancel();
}

bool SegmentationRunner::waitForIdle(int ms)
{
    return !m_thread || m_thread->wait(QDeadlineTimer(ms));
}

std::optional<StepUpdate> SegmentationRunner::takeLatestStep()
{
    // Cleared before taking: a step that arrives meanwhile posts a new notification.
    m_stepPosted = false;
    std::lock_guard<std::mutex> lock(m_stepMutex);
    std::optional<StepUpdate> out = std::move(m_latest);
    m_latest.reset();
    return out;
}

void SegmentationRunner::postStep(const core::SegmentStep& step)
{
    ++m_produced;
    {
        std::lock_guard<std::mutex> lock(m_stepMutex);
        if (m_latest) {
            ++m_skipped;
        }
        m_latest = StepUpdate{step.index,           step.count, step.t,    step.elapsedSeconds,
                              step.samplingSeconds, step.x0,    step.cache};
    }
    if (!m_stepPosted.exchange(true)) {
        QMetaObject::invokeMethod(
            this, [this] { Q_EMIT stepAvailable(); }, Qt::QueuedConnection);
    }
}

void SegmentationRunner::runJob(SegmentationJob job, core::CancelToken cancel)
{
    auto fail = [this](const QString& message, bool cancelled) {
        QMetaObject::invokeMethod(
            this,
            [this, message, cancelled] {
                m_running = false;
                Q_EMIT failed(message, cancelled);
            },
            Qt::QueuedConnection);
    };
    try {
        const QString key = modelKey(job);
        if (!m_model || key != m_modelKey) {
            m_model.reset();
            core::ModelLoadOptions load;
            load.device = job.device.toStdString();
            if (!job.referencePreset.isEmpty()) {
                load.reference =
                    core::ReferenceModelConfig::resolve(job.referencePreset.toStdString());
            }
            m_model = std::make_shared<core::Segmenter2D>(job.checkpoint.toStdString(), load);
            m_modelKey = key;
        }
        cancel.throwIfCancelled("segmentation");
        core::SegmentOptions options = job.options;
        const int timesteps = m_model->info().schedule.timesteps;
        if (options.sampler == core::SamplerMethod::Ddim) {
            options.steps = std::min(options.steps, timesteps);
        } else {
            options.steps = 0;
        }
        std::vector<int> planned = m_model->plannedTimesteps(options);
        // Keep every step of every member (x0 and x_t) when it costs at most 256 MiB.
        const std::size_t side = static_cast<std::size_t>(m_model->info().inputSize);
        const std::size_t needed = side * side * planned.size() *
                                   static_cast<std::size_t>(options.ensemble) *
                                   (options.storeNoisy ? 2u : 1u);
        options.stepCacheBudget =
            std::clamp(needed + (std::size_t(1) << 20), core::StepCacheConfig::kDefaultBudget2D,
                       std::size_t(256) << 20);
        const core::ModelInfo info = m_model->info();
        QMetaObject::invokeMethod(
            this,
            [this, info, planned] {
                m_modelInfo = info;
                m_planned = planned;
                Q_EMIT modelReady();
                Q_EMIT runStarted();
            },
            Qt::QueuedConnection);

        auto result = std::make_shared<core::SegmentResult>(m_model->segment(
            job.image, options, [this](const core::SegmentStep& s) { postStep(s); }, cancel));

        // Everything the GUI shows of the result is computed here, off the GUI thread.
        auto output = std::make_shared<SegmentationOutput>();
        output->model = info;
        output->options = options;
        const int w = result->originalWidth;
        const int h = result->originalHeight;
        output->uncertaintyDisplay = {
            upsampleMap(result->uncertaintyStd, w, h, 2.0f),
            upsampleMap(result->uncertaintyEntropy, w, h, static_cast<float>(1.0 / std::log(2.0))),
            upsampleMap(result->uncertaintyInstability, w, h, 1.0f)};
        cancel.throwIfCancelled("segmentation");
        for (const core::Image2D& x0 : result->memberX0) {
            output->memberMasks.push_back(upsampleToMask(x0, w, h));
        }
        output->galleryImage = downscaleImage(job.image, job.galleryMaxSide);
        for (const core::Image2D& x0 : result->memberX0) {
            output->galleryMasks.push_back(
                upsampleToMask(x0, output->galleryImage.width(), output->galleryImage.height()));
        }
        output->result = std::move(result);
        QMetaObject::invokeMethod(
            this,
            [this, output] {
                m_output = output;
                m_running = false;
                Q_EMIT finished();
            },
            Qt::QueuedConnection);
    } catch (const core::Error& e) {
        fail(QString::fromStdString(e.what()), e.kind() == core::ErrorKind::Cancelled);
    } catch (const std::exception& e) {
        fail(describe(e), false);
    }
}

} // namespace diffseg::app
