// PhotoMode: guided refinement (issue 19) - the Prompt tool's clicks and box, and the user's own
// brush and eraser edits, sent to the model as prompts; each new prompt cancels the run that is
// going and refines again, and the result waits, dashed, to be accepted as one undo step.

#include "PhotoMode.h"
#include "SegmentationRunner.h"
#include "WorkflowRun.h"
#include "image/SegmentationView2D.h"
#include "inference/RefinePrompts.h"
#include "panels/ModelPanel.h"

#include <QFileInfo>

#include <algorithm>
#include <cstdint>

namespace diffseg::app {

QString PhotoMode::refineTitle() const
{
    const core::RefinePrompts prompts = m_view->prompts();
    QStringList parts;
    if (!prompts.clicks.empty()) {
        const auto n = static_cast<int>(prompts.clicks.size());
        parts << (n == 1 ? tr("1 click") : tr("%1 clicks").arg(n));
    }
    if (prompts.box) {
        parts << tr("box");
    }
    if (!m_refineStrokes.empty()) {
        parts << tr("my edits");
    }
    return tr("Refine: %1")
        .arg(parts.isEmpty() ? tr("no prompts") : parts.join(QStringLiteral(" + ")));
}

bool PhotoMode::refineWithPrompts()
{
    core::RefinePrompts prompts = m_view->prompts(core::kInteractiveClickRadius *
                                                  std::max(m_image.width(), m_image.height()));
    prompts.strokes = m_refineStrokes;
    if (prompts.empty()) {
        // Every prompt removed: the last refinement no longer stands.
        if (m_output && m_output->refined) {
            m_view->clearPreview();
            notePreviewChanged();
        }
        if (m_runner->isRunning()) {
            m_runner->cancel();
        }
        return false;
    }
    // The newest prompts win: the run that is going stops, and superseded() restarts this.
    if (WorkflowRun::supersede(*m_runner, m_modelPanel,
                               tr("New prompt: restarting the refinement..."))) {
        return true;
    }
    std::optional<SegmentationJob> job = prepareJob();
    if (!job) {
        return false;
    }
    job->refine = true;
    // The model redraws the mask being edited (not a dashed result waiting for Accept) from 0.9
    // of the schedule back, holding every prompted pixel to its value (the settings measured for
    // clicks: RefineOptions::interactive(), the seam's default for a photo).
    job->current = core::SegmentationLabels::ofPhoto(m_view->mask().clone());
    job->prompts = core::seamPrompts(prompts);
    job->request.startFromOtsu = 0.0;
    return launchJob(std::move(*job), tr("%1...").arg(refineTitle()));
}

bool PhotoMode::refineFromEdits()
{
    if (m_image.empty()) {
        return false;
    }
    // What the user changed since the last AI result (or everything painted, without one).
    const core::Image2D& mask = m_view->mask();
    const core::Image2D* base = m_output && m_output->photo() ? &m_output->photo()->mask : nullptr;
    if (base && (base->width() != mask.width() || base->height() != mask.height())) {
        base = nullptr;
    }
    core::Image2D strokes(mask.width(), mask.height(), 1, core::PixelType::UInt8);
    const std::uint8_t* m = mask.data<std::uint8_t>();
    std::uint8_t* out = strokes.data<std::uint8_t>();
    std::size_t marked = 0;
    for (std::size_t i = 0; i < strokes.pixelCount(); ++i) {
        const bool now = m[i] != 0;
        const bool before = base && base->data<std::uint8_t>()[i] != 0;
        out[i] = now == before ? core::kPromptUnknown
                               : (now ? core::kPromptLesion : core::kPromptBackground);
        marked += out[i] != core::kPromptUnknown;
    }
    if (marked == 0) {
        showMessage(tr("No edits to refine from: paint lesion (B) or erase (E) where the result "
                       "is wrong, then press R"));
        return false;
    }
    m_refineStrokes = std::move(strokes);
    return refineWithPrompts();
}

} // namespace diffseg::app
