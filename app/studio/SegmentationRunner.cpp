#include "SegmentationRunner.h"

#include "MaskOps.h"
#include "base/Error.h"

#include <algorithm>
#include <cmath>

namespace diffseg::app {

SegmentationRunner::SegmentationRunner(QObject* parent)
    : BackgroundRunner(QStringLiteral("diffseg-sampling"), parent)
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
    m_produced = 0;
    m_latest.reset();
    m_planned.clear();
    return startWorker(
        [this, job = std::move(job)](const core::CancelToken& cancel) { runJob(job, cancel); });
}

void SegmentationRunner::postStep(const core::SegmentStep& step)
{
    ++m_produced;
    if (m_latest.put(StepUpdate{step.index, step.count, step.t, step.elapsedSeconds,
                                step.samplingSeconds, step.x0, step.cache})) {
        postToGui([this] { Q_EMIT stepAvailable(); });
    }
}

void SegmentationRunner::runJob(const SegmentationJob& job, const core::CancelToken& cancel)
{
    const QString key =
        loadedModelKey(job.checkpoint, job.referencePreset, job.device + "/" + job.precision);
    if (!m_model || key != m_modelKey) {
        m_model.reset();
        core::ModelLoadOptions load;
        load.device = job.device.toStdString();
        load.precision = core::engine::parsePrecision(job.precision.toStdString());
        if (!job.referencePreset.isEmpty()) {
            load.reference = core::ReferenceModelConfig::resolve(job.referencePreset.toStdString());
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
    std::vector<int> planned = job.refine
                                   ? m_model->plannedRefineTimesteps(options, job.refineOptions)
                                   : m_model->plannedTimesteps(options);
    // Keep every step of every member (x0 and x_t) when it costs at most 256 MiB.
    const std::size_t side = static_cast<std::size_t>(m_model->info().inputSize);
    const std::size_t needed = side * side * planned.size() *
                               static_cast<std::size_t>(options.ensemble) *
                               (options.storeNoisy ? 2u : 1u);
    options.stepCacheBudget =
        std::clamp(needed + (std::size_t(1) << 20), core::StepCacheConfig::kDefaultBudget2D,
                   std::size_t(256) << 20);
    const core::ModelInfo info = m_model->info();
    postToGui([this, info, planned] {
        m_modelInfo = info;
        m_planned = planned;
        Q_EMIT modelReady();
        Q_EMIT runStarted();
    });

    const core::SegmentStepCallback onStep = [this](const core::SegmentStep& s) {
        postStep(s);
    };
    auto result = std::make_shared<core::SegmentResult>(
        job.refine ? m_model->refine(job.image, job.currentMask, job.prompts, options,
                                     job.refineOptions, onStep, cancel)
                   : m_model->segment(job.image, options, onStep, cancel));

    // Everything the GUI shows of the result is computed here, off the GUI thread.
    auto output = std::make_shared<SegmentationOutput>();
    output->model = info;
    output->options = options;
    output->refined = job.refine;
    output->refineClicks = static_cast<int>(job.prompts.clicks.size());
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
    postFinished([this, output] { m_output = output; });
}

} // namespace diffseg::app
