#include "SegmentationRunner.h"

#include "MaskOps.h"
#include "base/Error.h"

#include <algorithm>
#include <cmath>

namespace diffseg::app {

SegmentationRunner::SegmentationRunner(QObject* parent)
    : ModelRunner(QStringLiteral("diffseg-sampling"), parent)
{}

SegmentationRunner::~SegmentationRunner()
{
    stopWorker();
}

void SegmentationRunner::resetRun()
{
    m_produced = 0;
    m_planned.clear();
}

void SegmentationRunner::runJob(const SegmentationJob& job, const core::CancelToken& cancel)
{
    core::Segmenter2D& model = loadedModel(job, [&job] {
        core::ModelLoadOptions load;
        load.device = job.device.toStdString();
        load.precision = core::engine::parsePrecision(job.precision.toStdString());
        if (!job.referencePreset.isEmpty()) {
            load.reference = core::ReferenceModelConfig::resolve(job.referencePreset.toStdString());
        }
        return std::make_shared<core::Segmenter2D>(job.checkpoint.toStdString(), load);
    });
    cancel.throwIfCancelled("segmentation");
    core::SegmentOptions options = job.options;
    const int timesteps = model.info().schedule.timesteps;
    if (options.sampler == core::SamplerMethod::Ddim) {
        options.steps = std::min(options.steps, timesteps);
    } else {
        options.steps = 0;
    }
    std::vector<int> planned = job.refine ? model.plannedRefineTimesteps(options, job.refineOptions)
                                          : model.plannedTimesteps(options);
    // Keep every step of every member (x0 and x_t) when it costs at most 256 MiB.
    const std::size_t side = static_cast<std::size_t>(model.info().inputSize);
    const std::size_t needed = side * side * planned.size() *
                               static_cast<std::size_t>(options.ensemble) *
                               (options.storeNoisy ? 2u : 1u);
    options.stepCacheBudget =
        std::clamp(needed + (std::size_t(1) << 20), core::StepCacheConfig::kDefaultBudget2D,
                   std::size_t(256) << 20);
    // The view shows member 0's first estimate while the other members finish the first step.
    options.firstLook = true;
    const core::ModelInfo info = model.info();
    postModelInfo(info, [this, planned] {
        m_planned = planned;
        Q_EMIT modelReady();
        Q_EMIT runStarted();
    });

    const core::SegmentStepCallback onStep = [this](const core::SegmentStep& step) {
        if (!step.firstLook) {
            ++m_produced;
        }
        postProgress(StepUpdate{step.index, step.count, step.t, step.elapsedSeconds,
                                step.samplingSeconds, step.x0, step.cache, step.firstLook},
                     [this] { Q_EMIT stepAvailable(); });
    };
    auto result = std::make_shared<core::SegmentResult>(
        job.refine ? model.refine(job.image, job.currentMask, job.prompts, options,
                                  job.refineOptions, onStep, cancel)
                   : model.segment(job.image, options, onStep, cancel));

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
    postOutput(std::move(output));
}

} // namespace diffseg::app
