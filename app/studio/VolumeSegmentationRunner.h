#pragma once

#include "ModelRunner.h"
#include "base/LabelMap.h"
#include "base/Volume.h"
#include "inference/Segmenter3D.h"
#include "inference/VolumePrompts.h"

#include <QString>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace diffseg::app {

/// What one volume segmentation needs: the model (ModelJob: a Diff-UNet checkpoint of ours or a
/// reference state_dict, whose preset is "brats2023" or "aiib2023"), the volume (all its channels,
/// as the network expects them) and the options.
struct VolumeSegmentationJob : ModelJob
{
    core::Volume volume;
    core::Segment3DOptions options;
    /// A refinement (Segmenter3D::refine) instead of a segmentation: the labels it starts from
    /// (the volume's grid), the clicks, and how far back (a fraction of the steps).
    bool refine = false;
    core::LabelMap current;
    core::VolumePrompts prompts;
    double strength = core::Segmenter3D::kInteractiveStrength;
};

/// The newest progress of a run, handed from the worker to the GUI (coalesced).
struct VolumeProgress
{
    int done = 0; ///< denoiser steps finished (windows x mirror passes x steps)
    int total = 0;
    int batch = 0; ///< window batch, 0-based
    int batchCount = 0;
    int firstWindow = 0;
    int windows = 0;
    int windowCount = 0;
    int flip = 0;
    int flips = 1;
    int step = 0; ///< denoiser step within the batch, 0-based
    int steps = 0;
    double elapsedSeconds = 0.0;
    double etaSeconds = -1.0;
};

/// One denoiser step's whole-volume prediction, made on the worker for display: the label map
/// (argmax) and the foreground probability 1 - p(background) as 8-bit codes (p = code / 255), both
/// on the source grid with its geometry. 2 bytes per voxel.
struct VolumeStepFrame
{
    int step = -1;
    core::LabelMap labels;
    core::Volume foreground; ///< UInt8
};

/// What a finished run produced.
struct VolumeSegmentationOutput
{
    std::shared_ptr<const core::Segment3DResult> result;
    core::VolumeModelInfo model;
    core::Segment3DOptions options;
    /// Foreground probability 1 - p(background), Float32 in [0, 1], source grid (for two classes
    /// it shares the voxels of result->probabilities' channel 1).
    core::Volume foreground;
    double seconds = 0.0; ///< from start() until the result was ready, model load included
    bool refined = false; ///< a refinement with `refineClicks` clicks
    int refineClicks = 0;
};

/// Runs Segmenter3D on a worker thread (ModelRunner), one run at a time, and keeps the loaded
/// model between runs while the checkpoint, its preset and the device stay the same.
///
/// Threads: start() and the accessors are for the GUI thread; the signals are emitted on the GUI
/// thread. Progress is coalesced (LatestValue): the worker keeps only the newest progress and
/// posts at most one notification until the GUI takes it, so a busy GUI skips updates instead of
/// queueing them. Step frames (a few per run) are all kept until taken. The worker never touches a
/// widget or VTK. Ownership: owns the cached model; the destructor cancels a run and waits.
/// Errors: a failed load or run is reported by failed() with a message naming the file and the
/// problem (a photo model offered a volume says so); nothing throws into the GUI.
class VolumeSegmentationRunner : public ModelRunner<VolumeSegmentationJob, core::Segmenter3D,
                                                    VolumeSegmentationOutput, VolumeProgress>
{
    Q_OBJECT

public:
    explicit VolumeSegmentationRunner(QObject* parent = nullptr);
    ~VolumeSegmentationRunner() override;

    std::optional<VolumeProgress> takeProgress() { return takeLatest(); }
    /// The step frames completed since the last call, in step order.
    std::vector<VolumeStepFrame> takeStepFrames();
    /// The run's step cache (valid from the first progress on; kept after the run).
    std::shared_ptr<core::StepCache> stepCache() const;
    /// Progress notifications posted and those coalesced into a newer one.
    int progressPosted() const { return latest().notified(); }
    int progressSkipped() const { return latest().skipped(); }

Q_SIGNALS:
    /// The model is loaded (or reused): modelInfo() is valid; the windows start.
    void modelReady();
    /// A newer progress is available from takeProgress().
    void progressAvailable();
    /// New step frames are available from takeStepFrames().
    void stepFramesAvailable();

protected:
    void resetRun() override;
    void runJob(const VolumeSegmentationJob& job, const core::CancelToken& cancel) override;

private:
    void onStep(const core::Segment3DStep& step);

    mutable std::mutex m_mutex;
    std::vector<VolumeStepFrame> m_frames;    ///< guarded by m_mutex
    std::shared_ptr<core::StepCache> m_cache; ///< guarded by m_mutex
};

} // namespace diffseg::app
