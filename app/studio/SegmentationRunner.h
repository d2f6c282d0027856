#pragma once

#include "ModelRunner.h"
#include "base/Image2D.h"
#include "inference/Segmenter2D.h"

#include <QString>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

namespace diffseg::app {

/// What one segmentation run needs: the model (ModelJob: our checkpoint or a reference .pth, whose
/// preset is "isic2018", "ph2", "ham10000" or a config file), the image and the options.
struct SegmentationJob : ModelJob
{
    core::Image2D image; ///< RGB uint8 as readImage(..., Rgb) gives
    core::SegmentOptions options;
    int galleryMaxSide = 768; ///< the ensemble gallery's masks are made at most this large
    /// A refinement (Segmenter2D::refine) instead of a segmentation: the mask it starts from
    /// (uint8 {0, 1} of the image's size; empty: from noise), the prompts and how far back.
    bool refine = false;
    core::Image2D currentMask;
    core::RefinePrompts prompts;
    core::RefineOptions refineOptions;
};

/// The newest sampling step, handed from the sampling thread to the GUI.
struct StepUpdate
{
    int index = -1;
    int count = 0;
    int t = 0;
    double elapsedSeconds = 0.0;
    double samplingSeconds = 0.0;
    std::vector<core::Image2D> x0; ///< per member, float32 at the model's input size
    std::shared_ptr<core::StepCache> cache;
    /// Member 0's estimate of the first step before the others (x0 holds that one member; the
    /// cache does not hold the step yet): core::SegmentOptions::firstLook.
    bool firstLook = false;
};

/// What a finished run produced, with the maps the GUI shows already computed on the worker.
struct SegmentationOutput
{
    std::shared_ptr<const core::SegmentResult> result;
    core::ModelInfo model;
    core::SegmentOptions options;
    /// Ensemble std, predictive entropy, step instability at the image's size, scaled to [0, 1]
    /// (std / 0.5, entropy / ln 2, instability as is) for the heatmap.
    std::vector<core::Image2D> uncertaintyDisplay;
    core::Image2D galleryImage;              ///< the image, at most galleryMaxSide
    std::vector<core::Image2D> galleryMasks; ///< each member's final mask at galleryImage's size
    std::vector<core::Image2D> memberMasks;  ///< each member's final mask at the image's size
    /// The run was a refinement with this many clicks (and a box, or none): 0 for a segmentation.
    int refineClicks = 0;
    bool refined = false;
};

/// Runs Segmenter2D on a worker thread (ModelRunner), one run at a time, and keeps the loaded
/// model between runs while the checkpoint, its reference preset and the device stay the same.
///
/// Threads: start() and the accessors are for the GUI thread; the signals are emitted on the GUI
/// thread. Step previews are coalesced (LatestValue): the worker keeps only the newest step and
/// posts at most one notification until the GUI takes it (takeLatestStep()), so a slow GUI skips
/// frames instead of queueing them. Ownership: owns the cached model; the destructor cancels a run
/// and waits. Errors: a failed load or run is reported by failed() with a message naming the file
/// and the problem; nothing throws into the GUI.
class SegmentationRunner
    : public ModelRunner<SegmentationJob, core::Segmenter2D, SegmentationOutput, StepUpdate>
{
    Q_OBJECT

public:
    explicit SegmentationRunner(QObject* parent = nullptr);
    ~SegmentationRunner() override;

    /// The newest step not yet taken (empty when there is none).
    std::optional<StepUpdate> takeLatestStep() { return takeLatest(); }
    /// The timesteps the running job visits, in order (valid after runStarted()).
    const std::vector<int>& plannedTimesteps() const { return m_planned; }
    /// Steps the sampler produced and steps whose notification was coalesced with a newer one.
    int stepsProduced() const { return m_produced.load(); }
    int stepsSkipped() const { return latest().skipped(); }

Q_SIGNALS:
    /// The model is loaded (or reused) and sampling is about to start.
    void modelReady();
    /// Sampling starts: plannedTimesteps() holds the steps.
    void runStarted();
    /// A newer step is available from takeLatestStep().
    void stepAvailable();

protected:
    void resetRun() override;
    void runJob(const SegmentationJob& job, const core::CancelToken& cancel) override;

private:
    std::atomic<int> m_produced{0};
    std::vector<int> m_planned;
};

} // namespace diffseg::app
