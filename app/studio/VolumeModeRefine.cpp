// VolumeMode: guided refinement in the volume workspace (issue 19) - the Prompt tool's clicks in
// any slice refine the Diff-UNet result in 3D (spheres of a class held at every step, in every
// window); each new click cancels the run that is going and refines again.

#include "MainWindow.h"
#include "VolumeMode.h"
#include "panels/VolumePanel.h"
#include "volume/VolumeWorkspace.h"

#include <QStatusBar>
#include <QTimer>

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
    if (m_runner->isRunning()) {
        // The newest clicks win: stop the run that is going; the refinement follows it.
        m_refinePending = true;
        m_runner->cancel();
        m_panel->setStatus(tr("New click: restarting the refinement..."));
        return true;
    }
    m_refinePending = false;
    std::optional<VolumeSegmentationJob> job = prepareJob();
    if (!job) {
        return false;
    }
    job->refine = true;
    // The labels being edited, redrawn from halfway back (Segmenter3D::refine's default).
    job->current = core::LabelMap::fromVolume(m_workspace->labels().clone());
    job->prompts.clicks = m_workspace->promptClicks();
    return launchJob(std::move(*job), tr("%1...").arg(refineTitle()));
}

void VolumeMode::startPendingRefinement()
{
    m_refinePending = false;
    QTimer::singleShot(0, this, [this] { refineWithClicks(); });
}

} // namespace diffseg::app
