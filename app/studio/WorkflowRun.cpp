#include "WorkflowRun.h"

#include "BackgroundRunner.h"
#include "SegmentationRunner.h"

#include <QFileInfo>

#include <utility>

namespace diffseg::app {

bool WorkflowRun::start(SegmentationRunner& runner, SegmentationJob job,
                        widgets::SegmentationPanel& panel, QWidget& steps)
{
    const QString checkpoint = job.checkpoint;
    if (!runner.start(std::move(job))) {
        return false;
    }
    panel.setRunning(true);
    panel.setStatus(tr("Loading %1...").arg(QFileInfo(checkpoint).fileName()));
    steps.raise();
    return true;
}

void WorkflowRun::cancel(BackgroundRunner& runner, widgets::SegmentationPanel* panel,
                         const QString& status)
{
    if (runner.isRunning()) {
        runner.cancel();
        panel->setStatus(status);
    }
}

bool WorkflowRun::supersede(BackgroundRunner& runner, widgets::SegmentationPanel* panel,
                            const QString& status)
{
    if (!runner.supersede()) {
        return false;
    }
    panel->setStatus(status);
    return true;
}

} // namespace diffseg::app
