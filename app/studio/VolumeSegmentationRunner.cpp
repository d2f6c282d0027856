#include "VolumeSegmentationRunner.h"

#include "CheckpointKind.h"
#include "base/Error.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace diffseg::app {

namespace {

/// 1 - p(background) of a softmax volume (Float32, one channel per class) as 8-bit codes.
core::Volume foregroundCodes(const core::Volume& probabilities)
{
    core::Volume out(probabilities.size(), 1, core::PixelType::UInt8, probabilities.geometry());
    const float* background = probabilities.channelData<float>(0);
    std::uint8_t* codes = out.data<std::uint8_t>();
    const std::size_t n = out.voxelCount();
    for (std::size_t i = 0; i < n; ++i) {
        const float p = std::clamp(1.0f - background[i], 0.0f, 1.0f);
        codes[i] = static_cast<std::uint8_t>(p * 255.0f + 0.5f);
    }
    return out;
}

} // namespace

VolumeSegmentationRunner::VolumeSegmentationRunner(QObject* parent)
    : ModelRunner(QStringLiteral("diffseg-volume"), parent)
{}

VolumeSegmentationRunner::~VolumeSegmentationRunner()
{
    stopWorker();
}

void VolumeSegmentationRunner::resetRun()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_frames.clear();
    m_cache.reset();
}

std::vector<VolumeStepFrame> VolumeSegmentationRunner::takeStepFrames()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<VolumeStepFrame> out = std::move(m_frames);
    m_frames.clear();
    return out;
}

std::shared_ptr<core::StepCache> VolumeSegmentationRunner::stepCache() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_cache;
}

void VolumeSegmentationRunner::onStep(const core::Segment3DStep& s)
{
    // Runs on the worker: only plain data crosses to the GUI, under the mutex. The progress is
    // the step's counters, in VolumeProgress's order.
    const VolumeProgress progress{
        s.done, s.total, s.batch, s.batchCount, s.firstWindow,    s.windows,   s.windowCount,
        s.flip, s.flips, s.step,  s.steps,      s.elapsedSeconds, s.etaSeconds};
    std::optional<VolumeStepFrame> frame;
    if (s.stepLabels != nullptr && s.stepProbabilities != nullptr) {
        // The volumes are valid only during this call: copy what the GUI shows, compactly.
        frame = VolumeStepFrame{s.step, core::LabelMap::fromVolume(s.stepLabels->clone()),
                                foregroundCodes(*s.stepProbabilities)};
    }
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (s.cache && m_cache != s.cache) {
            m_cache = s.cache;
        }
        if (frame) {
            m_frames.push_back(std::move(*frame));
        }
    }
    postProgress(progress, [this] { Q_EMIT progressAvailable(); });
    if (frame) {
        postToGui([this] { Q_EMIT stepFramesAvailable(); });
    }
}

void VolumeSegmentationRunner::runJob(const VolumeSegmentationJob& job,
                                      const core::CancelToken& cancel)
{
    const auto started = std::chrono::steady_clock::now();
    const CheckpointKind kind = checkpointKind(job.checkpoint);
    if (kind == CheckpointKind::Photo) {
        throw core::Error(core::ErrorKind::Mismatch, job.checkpoint.toStdString(),
                          "is a DermoSegDiff model for 2D dermoscopy photos; a CT/MRI volume "
                          "needs a Diff-UNet checkpoint (open a photo to use this one)");
    }
    core::Segmenter3D& model = loadedModel(job, [&job] {
        core::VolumeModelLoadOptions load;
        load.device = job.device.toStdString();
        load.precision = core::engine::parsePrecision(job.precision.toStdString());
        if (!job.referencePreset.isEmpty()) {
            const core::DiffUNetReferencePreset preset = core::DiffUNetReferencePreset::resolve(
                job.referencePreset.toStdString(), job.checkpoint.toStdString());
            if (!preset.preparation) {
                throw core::Error(core::ErrorKind::Config, job.checkpoint.toStdString(),
                                  "a reference " + preset.name +
                                      " state_dict needs the CT statistics of its training "
                                      "set; segment it with `diffseg segment3d "
                                      "--preprocessing`");
            }
            load.referenceNetwork = preset.network;
            load.referenceName = preset.name;
            load.referenceInputSize = preset.inputSize;
            load.preparation = preset.preparation;
        }
        return std::make_shared<core::Segmenter3D>(job.checkpoint.toStdString(), load);
    });
    cancel.throwIfCancelled("segmentation");
    const core::VolumeModelInfo info = model.info();
    if (job.volume.channels() != info.network.inChannels) {
        throw core::Error(core::ErrorKind::Mismatch, job.checkpoint.toStdString(),
                          "the model expects " + std::to_string(info.network.inChannels) +
                              " channel(s) but the volume has " +
                              std::to_string(job.volume.channels()));
    }
    postModelInfo(info, [this] { Q_EMIT modelReady(); });

    const core::Segment3DCallback step = [this](const core::Segment3DStep& s) {
        onStep(s);
    };
    auto result = std::make_shared<core::Segment3DResult>(
        job.refine ? model.refine(job.volume, job.current, job.prompts, job.options, job.strength,
                                  step, cancel)
                   : model.segment(job.volume, job.options, step, cancel));

    auto output = std::make_shared<VolumeSegmentationOutput>();
    output->model = info;
    output->options = job.options;
    output->refined = job.refine;
    output->refineClicks = static_cast<int>(job.prompts.clicks.size());
    if (result->probabilities.channels() == 2) {
        output->foreground = result->probabilities.channel(1);
    } else {
        core::Volume fg(result->probabilities.size(), 1, core::PixelType::Float32,
                        result->probabilities.geometry());
        const float* background = result->probabilities.channelData<float>(0);
        float* out = fg.data<float>();
        for (std::size_t i = 0; i < fg.voxelCount(); ++i) {
            out[i] = std::clamp(1.0f - background[i], 0.0f, 1.0f);
        }
        output->foreground = fg;
    }
    output->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_cache = result->stepCache;
    }
    output->result = std::move(result);
    postOutput(std::move(output));
}

} // namespace diffseg::app
