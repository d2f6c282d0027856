#include "WorkflowRun.h"

#include "BackgroundRunner.h"

namespace diffseg::app {

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
