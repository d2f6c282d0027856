#pragma once

#include "panels/SegmentationPanel.h"

#include <QCoreApplication>
#include <QString>
#include <QWidget>

namespace diffseg::app {

class BackgroundRunner;
class SegmentationRunner;
struct SegmentationJob;

/// What the photo and volume workflows (PhotoMode, VolumeMode) do alike with their runner and
/// model panel (a widgets::SegmentationPanel) as a run starts, is cancelled, or gives way to newer
/// prompts. Each workflow keeps its own checks, job and texts. GUI thread only.
class WorkflowRun
{
    Q_DECLARE_TR_FUNCTIONS(WorkflowRun)

public:
    /// Starts `job` on `runner`; when it starts, `panel` shows the run loading the job's
    /// checkpoint and `steps` (the step browser's dock) comes forward. False when the runner is
    /// busy.
    static bool start(SegmentationRunner& runner, SegmentationJob job,
                      widgets::SegmentationPanel& panel, QWidget& steps);

    /// Cancels the run that is going, if one is, and `panel` says `status`.
    static void cancel(BackgroundRunner& runner, widgets::SegmentationPanel* panel,
                       const QString& status);

    /// Newer prompts replace the run that is going: true when one was going (it stops, `panel`
    /// says `status`, and the runner's superseded() follows for the workflow to start the newer
    /// request); false when none was.
    static bool supersede(BackgroundRunner& runner, widgets::SegmentationPanel* panel,
                          const QString& status);
};

} // namespace diffseg::app
