#include "SegmentationRunner.h"

#include "RunDisplay.h"
#include "base/Error.h"

#include <algorithm>
#include <chrono>

namespace diffseg::app {

SegmentationRunner::SegmentationRunner(QObject* parent)
    : BackgroundRunner(QStringLiteral("diffseg-segment"), parent)
{}

SegmentationRunner::~SegmentationRunner()
{
    stopWorker();
}

bool SegmentationRunner::start(SegmentationJob job)
{
    if (isRunning()) {
        return false;
    }
    m_latest.reset();
    m_produced = 0;
    m_planned.clear();
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_frames.clear();
        m_cache.reset();
    }
    return startWorker(
        [this, job = std::move(job)](const core::CancelToken& cancel) { runJob(job, cancel); });
}

std::vector<VolumeStepFrame> SegmentationRunner::takeStepFrames()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<VolumeStepFrame> out = std::move(m_frames);
    m_frames.clear();
    return out;
}

std::shared_ptr<core::StepCache> SegmentationRunner::stepCache() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_cache;
}

core::Segmenter& SegmentationRunner::loadedModel(const SegmentationJob& job)
{
    const QString key =
        loadedModelKey(job.checkpoint, job.referencePreset, job.device + "/" + job.precision);
    if (!m_loaded || key != m_loadedKey) {
        m_loaded.reset(); // the old model's memory goes before the new one's comes
        core::SegmenterLoadOptions load;
        load.device = job.device.toStdString();
        load.precision = job.precision.toStdString();
        load.reference = job.referencePreset.toStdString();
        m_loaded = core::openSegmenter(job.checkpoint.toStdString(), load);
        m_loadedKey = key;
    }
    return *m_loaded;
}

void SegmentationRunner::onStep(const core::SegmentationStepEvent& event)
{
    // Runs on the worker: only plain data crosses to the GUI (progress through the LatestValue,
    // frames and the cache under the mutex).
    if (event.completedStep >= 0) {
        ++m_produced;
    }
    SegmentationProgress progress = progressOf(event);
    std::optional<VolumeStepFrame> frame = stepFrameOf(event);
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (progress.cache) {
            m_cache = progress.cache;
        }
        if (frame) {
            m_frames.push_back(std::move(*frame));
        }
    }
    if (m_latest.put(std::move(progress))) {
        postToGui([this] { Q_EMIT progressAvailable(); });
    }
    if (frame) {
        postToGui([this] { Q_EMIT stepFramesAvailable(); });
    }
}

void SegmentationRunner::runJob(const SegmentationJob& job, const core::CancelToken& cancel)
{
    const auto started = std::chrono::steady_clock::now();
    core::Segmenter& model = loadedModel(job);
    cancel.throwIfCancelled("segmentation");
    const core::ModelCapabilities capabilities = model.capabilities();
    core::SegmentationRequest request = job.request;
    if (capabilities.maxSteps > 0) {
        // The panel may offer more steps than a model with a shorter schedule has.
        request.steps = std::min(request.steps, capabilities.maxSteps);
    }
    const std::vector<int> planned =
        model.plannedTimesteps(request, job.refine ? &job.prompts : nullptr);
    postToGui([this, identity = model.identity(), capabilities, planned] {
        m_model = identity;
        m_capabilities = capabilities;
        m_planned = planned;
        Q_EMIT modelReady();
        Q_EMIT runStarted();
    });

    const core::SegmentationStepCallback onStep = [this](const core::SegmentationStepEvent& e) {
        this->onStep(e);
    };
    auto output = std::make_shared<SegmentationOutput>();
    output->outcome =
        job.refine ? model.refineInput(job.input, job.current, job.prompts, request, onStep, cancel)
                   : model.segmentInput(job.input, request, onStep, cancel);
    output->model = model.identity();
    output->refined = job.refine;
    output->refineClicks = static_cast<int>(job.prompts.clicks.size());
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_cache = output->outcome.steps();
    }
    // Everything the GUI shows of the result is made here, off the GUI thread.
    addDisplay(*output, job, cancel);
    output->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    postFinished([this, output = std::shared_ptr<const SegmentationOutput>(std::move(output))] {
        m_output = output;
    });
}

} // namespace diffseg::app
