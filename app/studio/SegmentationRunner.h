#pragma once

#include "BackgroundRunner.h"
#include "LatestValue.h"
#include "base/Image2D.h"
#include "base/LabelMap.h"
#include "base/Volume.h"
#include "inference/Segmenter.h"
#include "inference/Segmenter2D.h" // the families' results, which the workflows read
#include "inference/Segmenter3D.h"

#include <QString>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace diffseg::app {

/// What one run needs, for any model family: the model (our checkpoint, or a reference file with
/// its preset), the document (a photo or a volume) and the seam's options; for a refinement, the
/// labels it starts from and the prompts.
struct SegmentationJob
{
    QString checkpoint;      ///< a checkpoint of ours, or a reference .pth or state_dict
    QString referencePreset; ///< for a reference file: "isic2018", "brats2023", ... or a config
    QString device = QStringLiteral("auto");
    QString precision = QStringLiteral("auto"); ///< "auto", "fp32" or "bf16"
    core::SegmentationInput input;
    core::SegmentationRequest request;
    /// A refinement (Segmenter::refineInput) instead of a segmentation: the labels it starts from
    /// (the document's grid; an empty photo mask: from noise) and the prompts.
    bool refine = false;
    core::SegmentationLabels current;
    core::SegmentationPrompts prompts;
    int galleryMaxSide = 768; ///< photos: the ensemble gallery's masks are made at most this large
};

/// The newest progress of a run, handed from the worker to the GUI (coalesced): what every family
/// says of a step, and what the family's own views show of it.
struct SegmentationProgress
{
    int done = 0; ///< denoiser steps finished so far
    int total = 0;
    double elapsedSeconds = 0.0;
    double etaSeconds = -1.0;               ///< negative: unknown
    std::shared_ptr<core::StepCache> cache; ///< the run's step cache (null while it keeps none)
    // Photos (DermoSegDiff): the step in sampling order, its timestep, each member's estimate.
    int index = -1;
    int t = 0;
    double samplingSeconds = 0.0;
    std::vector<core::Image2D> x0; ///< per member, float32 at the model's input size
    /// Member 0's estimate of the first step before the others (x0 holds that one member; the
    /// cache does not hold the step yet): SegmentationRequest::firstLook.
    bool firstLook = false;
    // Volumes (Diff-UNet): where the sliding windows are (each 0-based, of how many).
    int batch = 0, batchCount = 0;
    int firstWindow = 0, windows = 0, windowCount = 0; ///< the batch's first window and size
    int flip = 0, flips = 1;                           ///< mirror pass
    int step = 0, steps = 0;                           ///< denoiser step within the batch
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

/// What a finished run produced, with what the screen shows of it already made on the worker.
struct SegmentationOutput
{
    core::SegmentationOutcome outcome; ///< the family's result and the settings it ran with
    core::ModelIdentity model;
    double seconds = 0.0; ///< from start() until the result was ready, model load included
    bool refined = false; ///< a refinement with `refineClicks` clicks (and a box, or none)
    int refineClicks = 0;
    // Photos: ensemble std, predictive entropy, step instability at the photo's size, scaled to
    // [0, 1] (std / 0.5, entropy / ln 2, instability as is) for the heatmap; the gallery.
    std::vector<core::Image2D> uncertaintyDisplay;
    core::Image2D galleryImage;              ///< the photo, at most galleryMaxSide
    std::vector<core::Image2D> galleryMasks; ///< each member's final mask at galleryImage's size
    std::vector<core::Image2D> memberMasks;  ///< each member's final mask at the photo's size
    // Volumes: foreground probability 1 - p(background), Float32 in [0, 1], source grid.
    core::Volume foreground;

    const std::shared_ptr<const core::SegmentResult>& photo() const { return outcome.photo; }
    const std::shared_ptr<const core::Segment3DResult>& volume() const { return outcome.volume; }
};

/// Runs any model family through the seam (core::Segmenter) on a worker thread, one run at a time,
/// for the photo and the volume workflows alike: loads the job's checkpoint with
/// core::openSegmenter() and keeps it loaded while the checkpoint, its preset, the device and the
/// precision stay the same; streams the steps; makes what the screen shows of the result.
///
/// Threads: start() and the accessors are for the GUI thread; the signals are emitted on the GUI
/// thread. Progress is coalesced (LatestValue): the worker keeps only the newest and posts at most
/// one notification until the GUI takes it (takeProgress()), so a busy GUI skips updates instead
/// of queueing them. Volume step frames (a few per run) are all kept until taken. The worker never
/// touches a widget or VTK. Ownership: owns the loaded model; the destructor cancels a run and
/// waits. Errors: a failed load or run is reported by failed() with a message naming the file and
/// the problem (a model offered the other kind of document says so); nothing throws into the GUI.
class SegmentationRunner : public BackgroundRunner
{
    Q_OBJECT

public:
    explicit SegmentationRunner(QObject* parent = nullptr);
    ~SegmentationRunner() override;

    /// Starts a run; false (and nothing happens) while another runs.
    bool start(SegmentationJob job);

    /// The output of the last successful run.
    const std::shared_ptr<const SegmentationOutput>& output() const { return m_output; }
    /// The model of the last run and what it can do (valid from modelReady() on).
    const std::optional<core::ModelIdentity>& modelInfo() const { return m_model; }
    const core::ModelCapabilities& capabilities() const { return m_capabilities; }
    /// The timesteps the running job visits, in order (valid from runStarted() on; empty for a
    /// family that numbers its steps instead).
    const std::vector<int>& plannedTimesteps() const { return m_planned; }

    /// The newest progress not yet taken (empty when there is none).
    std::optional<SegmentationProgress> takeProgress() { return m_latest.take(); }
    /// The volume step frames completed since the last call, in step order.
    std::vector<VolumeStepFrame> takeStepFrames();
    /// The run's step cache (valid from the first progress on; kept after the run).
    std::shared_ptr<core::StepCache> stepCache() const;
    /// Steps whose whole prediction the model completed, progress notifications posted, and
    /// progress coalesced into a newer one.
    int stepsProduced() const { return m_produced.load(); }
    int progressPosted() const { return m_latest.notified(); }
    int progressSkipped() const { return m_latest.skipped(); }

Q_SIGNALS:
    /// The model is loaded (or reused): modelInfo() and capabilities() are valid.
    void modelReady();
    /// The denoiser starts: plannedTimesteps() holds the steps.
    void runStarted();
    /// A newer progress is available from takeProgress().
    void progressAvailable();
    /// New volume step frames are available from takeStepFrames().
    void stepFramesAvailable();

private:
    void runJob(const SegmentationJob& job, const core::CancelToken& cancel);
    core::Segmenter& loadedModel(const SegmentationJob& job);
    void onStep(const core::SegmentationStepEvent& event);

    std::unique_ptr<core::Segmenter> m_loaded; ///< touched by the worker only while it runs
    QString m_loadedKey;
    std::atomic<int> m_produced{0};
    LatestValue<SegmentationProgress> m_latest;
    mutable std::mutex m_mutex;
    std::vector<VolumeStepFrame> m_frames;    ///< guarded by m_mutex
    std::shared_ptr<core::StepCache> m_cache; ///< guarded by m_mutex
    // GUI thread:
    std::shared_ptr<const SegmentationOutput> m_output;
    std::optional<core::ModelIdentity> m_model;
    core::ModelCapabilities m_capabilities;
    std::vector<int> m_planned;
};

} // namespace diffseg::app
