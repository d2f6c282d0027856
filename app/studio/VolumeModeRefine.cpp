// VolumeMode: guided refinement in the volume workspace (issue 19) - the Prompt tool's clicks in
// any slice refine the Diff-UNet result in 3D (spheres of a class held at every step, in every
// window); each new click cancels the run that is going and refines again.

#include "MainWindow.h"
#include "VolumeMode.h"
#include "WorkflowRun.h"
#include "panels/VolumePanel.h"
#include "volume/VolumeWorkspace.h"

#include <QStatusBar>

namespace diffseg::app {

QString VolumeMode::refineTitle() const
{
    const auto n = m_workspace ? static_cast<int>(m_workspace->promptClicks().size()) : 0;
    return n == 1 ? tr("Refine: 1 click") : tr("Refine: %1 clicks").arg(n);
}

bool VolumeMode::refineWithClicks()
{
    if (!m_workspace || m_workspace->promptClicks().empty()) {
        return false;
    }
    // The newest clicks win: the run that is going stops, and superseded() restarts this.
    if (WorkflowRun::supersede(*m_runner, m_panel, tr("New click: restarting the refinement..."))) {
        return true;
    }
    std::optional<SegmentationJob> job = prepareJob();
    if (!job) {
        return false;
    }
    job->refine = true;
    // The labels being edited, redrawn from halfway back (Segmenter3D::refine's default).
    job->current = core::SegmentationLabels::ofVolume(
        core::LabelMap::fromVolume(m_workspace->labels().clone()));
    for (const core::VolumeClick& click : m_workspace->promptClicks()) {
        job->prompts.clicks.push_back({click.index, click.label});
    }
    return launchJob(std::move(*job), tr("%1...").arg(refineTitle()));
}

} // namespace diffseg::app
