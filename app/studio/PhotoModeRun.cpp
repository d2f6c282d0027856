// The photo workflow's sampling: the run on the worker thread, the steps as they arrive, the
// result, the step browser's frames, accepting a step or the result, and the uncertain regions.
#include "CheckpointKind.h"
#include "ComputeChoices.h"
#include "MainWindow.h"
#include "MaskOps.h"
#include "PhotoMode.h"
#include "ReportComposer.h"
#include "SegmentationRunner.h"
#include "WorkflowRun.h"
#include "base/Error.h"
#include "image/ImageConversion.h"
#include "image/SegmentationView2D.h"
#include "panels/ModelPanel.h"
#include "panels/OverlayPanel.h"
#include "runtime/Runtime.h"
#include "session/PhotoSession.h"
#include "steps/EnsembleGallery.h"

#include <QDockWidget>
#include <QFileInfo>
#include <QStatusBar>

#include <algorithm>
#include <array>
#include <cstddef>

namespace diffseg::app {

namespace {

/// The session's names of the uncertainty maps, in the overlay panel's order.
const std::array<std::string, 3> kUncertaintyMaps = {"std", "entropy", "instability"};

} // namespace

void PhotoMode::connectRunner()
{
    connect(m_runner, &SegmentationRunner::runStarted, this, &PhotoMode::onRunStarted);
    connect(m_runner, &SegmentationRunner::progressAvailable, this, &PhotoMode::onStepAvailable);
    connect(m_runner, &SegmentationRunner::failed, this, &PhotoMode::onRunFailed);
    connect(m_runner, &SegmentationRunner::superseded, this, [this] {
        m_modelPanel->setRunning(false);
        refineWithPrompts(); // the newer prompts that stopped the run
    });
    connect(m_runner, &SegmentationRunner::finished, this, [this] {
        if (m_runSerial == m_imageSerial) {
            presentResult(m_runner->output());
        } else {
            m_modelPanel->setRunning(false);
        }
        Q_EMIT segmentationEnded(true);
    });
    connect(m_runner, &SegmentationRunner::modelReady, this, &PhotoMode::onModelReady);
}

void PhotoMode::onModelReady()
{
    const auto& info = m_runner->modelInfo();
    if (!info) {
        return;
    }
    m_modelPanel->setCapabilities(m_runner->capabilities());
    m_modelPanel->setDeviceText(
        tr("%1, %2 parameters, %3x%3 input, T = %4%5; runs on %6")
            .arg(QString::fromStdString(info->id))
            .arg(info->parameterCount)
            .arg(info->inputSize)
            .arg(info->diffusionSteps)
            .arg(info->emaWeights ? tr(", EMA weights") : QString())
            .arg(QString::fromStdString(info->device) + ", " +
                 QString::fromStdString(info->precision) +
                 (info->device == "cpu" && !core::libraryVersions().cudaAvailable
                      ? tr(" (no CUDA GPU found)")
                      : QString())));
}

bool PhotoMode::isSegmenting() const
{
    return m_runner->isRunning();
}

std::optional<SegmentationJob> PhotoMode::prepareJob()
{
    if (m_image.empty()) {
        reportError(tr("No image"), tr("Open an image to segment first (File > Open)."), false);
        return std::nullopt;
    }
    const QString checkpoint = m_modelPanel->currentCheckpoint();
    if (const auto problem = checkpointProblem(checkpoint, CheckpointKind::Photo)) {
        reportError(problem->title, problem->message, false);
        if (problem->missing) {
            m_window->refreshModels();
        }
        return std::nullopt;
    }
    SegmentationJob job;
    job.checkpoint = checkpoint;
    job.referencePreset = m_presets.value(checkpoint);
    job.device = m_window->compute().device();
    job.precision = m_window->compute().precision();
    job.input = core::SegmentationInput::ofPhoto(m_image);
    job.request = m_modelPanel->options();
    core::SegmentationRequest& r = job.request;
    r.storeNoisy = true;
    // The view shows member 0's first estimate while the other members finish the first step,
    // and every step of every member stays browsable when that costs at most 256 MiB. Where
    // sampling starts (from noise, or from the threshold's outline) is the model card's: the
    // panel has no control for it.
    r.firstLook = true;
    r.keepEveryStepUpTo = std::size_t(256) << 20;
    return job;
}

bool PhotoMode::startSegmentation()
{
    if (m_runner->isRunning()) {
        return false;
    }
    std::optional<SegmentationJob> job = prepareJob();
    if (!job) {
        return false;
    }
    return launchJob(std::move(*job),
                     tr("Segmenting %1...").arg(QFileInfo(m_currentPath).fileName()));
}

bool PhotoMode::launchJob(SegmentationJob job, const QString& what)
{
    m_runSerial = m_imageSerial;
    resetResultState();
    m_view->clearPreview();
    notePreviewChanged();
    m_view->setHighlight({});
    m_view->setProbabilityMap({});
    m_view->setUncertaintyMap({});
    if (!WorkflowRun::start(*m_runner, std::move(job), *m_modelPanel, *m_stepDock)) {
        return false;
    }
    updateActionsEnabled();
    showMessage(what);
    return true;
}

void PhotoMode::cancelSegmentation()
{
    WorkflowRun::cancel(*m_runner, m_modelPanel, tr("Cancelling at the next step..."));
}

void PhotoMode::onRunStarted()
{
    if (m_runSerial != m_imageSerial) {
        return;
    }
    m_timesteps = m_runner->plannedTimesteps();
    m_stepBrowser->reset(static_cast<int>(m_timesteps.size()), m_modelPanel->options().ensemble);
    std::vector<QString> labels;
    for (const int t : m_timesteps) {
        labels.push_back(QStringLiteral("t = %1").arg(t));
    }
    m_stepBrowser->setStepLabels(labels);
    m_modelPanel->setProgress(0, static_cast<int>(m_timesteps.size()), -1);
    m_modelPanel->setStatus(tr("Sampling %1 steps x %2 members...")
                                .arg(m_timesteps.size())
                                .arg(m_modelPanel->options().ensemble));
}

void PhotoMode::onStepAvailable()
{
    std::optional<SegmentationProgress> update = m_runner->takeProgress();
    if (!update || m_runSerial != m_imageSerial) {
        return;
    }
    const bool newCache = m_stepCache != update->cache;
    m_stepCache = update->cache;
    m_liveStep = update->index;
    m_liveX0 = std::move(update->x0);
    if (newCache) {
        m_stepView->setPixelAspect(static_cast<double>(m_image.height()) / m_image.width());
    }
    if (update->firstLook) {
        // One member's estimate: shown (as the live step) but not browsable until the step is.
        if (m_stepBrowser->following()) {
            showStepFrame(update->index, -1, m_stepBrowser->view());
        }
        m_modelPanel->setStatus(tr("Sampling %1 steps x %2 members... (first look after %3)")
                                    .arg(update->total)
                                    .arg(m_modelPanel->options().ensemble)
                                    .arg(formatSeconds(update->elapsedSeconds)));
        return;
    }
    const double perStep = update->samplingSeconds / (update->index + 1);
    m_modelPanel->setProgress(update->index + 1, update->total,
                              perStep * (update->total - update->index - 1));
    // Steps whose notification was coalesced are in the cache: make them browsable too.
    const int before =
        m_stepBrowser->availableSteps().empty() ? -1 : m_stepBrowser->availableSteps().back();
    for (const int s : m_stepCache->storedSteps(0)) {
        if (s > before && s < update->index) {
            m_stepBrowser->appendStep(s);
        }
    }
    m_stepBrowser->appendStep(update->index);
}

void PhotoMode::onRunFailed(const QString& message, bool cancelled)
{
    m_modelPanel->setRunning(false);
    updateActionsEnabled();
    const bool current = m_runSerial == m_imageSerial;
    m_liveX0.clear();
    m_liveStep = -1;
    if (cancelled) {
        const int steps = m_stepCache ? static_cast<int>(m_stepCache->storedSteps(0).size()) : 0;
        m_modelPanel->setStatus(
            tr("Cancelled after %n step(s); they stay browsable", nullptr, steps));
        showMessage(tr("Segmentation cancelled"));
        if (current && m_stepCache) {
            m_stepBrowser->setAvailableSteps(m_stepCache->storedSteps(0));
        }
    } else {
        m_modelPanel->setStatus(tr("Failed: %1").arg(message));
        reportError(tr("Segmentation failed"), message, false);
    }
    Q_EMIT segmentationEnded(false);
}

void PhotoMode::presentResult(const std::shared_ptr<const SegmentationOutput>& output)
{
    m_modelPanel->setRunning(false);
    if (!output || !output->photo()) {
        return;
    }
    const core::SegmentResult& r = *output->photo();
    if (r.originalWidth != m_image.width() || r.originalHeight != m_image.height()) {
        reportError(tr("Segmentation result"),
                    tr("The result does not match the open image (another image was opened)."),
                    true);
        return;
    }
    m_output = output;
    m_view->session().setResult(output->outcome);
    m_stepCache = r.steps;
    m_liveX0.clear();
    m_liveStep = -1;
    m_timesteps = r.timesteps;
    m_stepView->setPixelAspect(static_cast<double>(m_image.height()) / m_image.width());
    if (m_stepBrowser->totalSteps() != static_cast<int>(r.timesteps.size())) {
        m_stepBrowser->reset(static_cast<int>(r.timesteps.size()), r.members);
        std::vector<QString> labels;
        for (const int t : r.timesteps) {
            labels.push_back(QStringLiteral("t = %1").arg(t));
        }
        m_stepBrowser->setStepLabels(labels);
    }
    m_stepBrowser->setAvailableSteps(r.steps->storedSteps(0));
    m_stepBrowser->refreshThumbnails();

    m_view->setProbabilityMap(r.probabilityOriginal);
    m_uncertaintyIndex = m_overlayPanel->uncertaintyMapIndex() >= 0
                             ? m_overlayPanel->uncertaintyMapIndex()
                             : m_uncertaintyIndex;
    m_view->setUncertaintyMap(
        output->uncertaintyDisplay[static_cast<std::size_t>(std::clamp(m_uncertaintyIndex, 0, 2))]);
    try {
        m_gallery->setEnsemble(output->galleryImage, output->galleryMasks);
    } catch (const core::Error& e) {
        showMessage(QString::fromStdString(e.what()));
    }
    recomputeRegions();

    m_modelPanel->setProgress(static_cast<int>(r.timesteps.size()),
                              static_cast<int>(r.timesteps.size()), -1);
    m_modelPanel->setStatus(tr("Done: %1 steps x %2 members in %3 (first preview after %4)")
                                .arg(r.timesteps.size())
                                .arg(r.members)
                                .arg(formatSeconds(r.timings.total))
                                .arg(formatSeconds(r.timings.firstPreview)));

    // An empty mask takes the result at once (one undo step); edits already made are not
    // overwritten: the result waits, dashed, for "Accept AI result".
    m_view->setPreview(r.mask);
    m_pendingDice.reset(); // updateMetrics() below computes it
    QString message;
    if (output->refined) {
        m_acceptNote = tr("the refined result (%1)").arg(refineTitle());
        message = tr("Refined with %1: the result is dashed; press A to accept it, or keep "
                     "clicking")
                      .arg(refineTitle().section(QStringLiteral(": "), 1));
    } else if (countNonZero(m_view->mask()) == 0) {
        m_view->acceptPreview("Accept AI result");
        m_acceptNote = tr("the AI result (final step, ensemble mean)");
        m_acceptedAtUndo = m_view->undoStack().undoCount();
        message = tr("Segmented: the result is the mask (Ctrl+Z undoes). N jumps to uncertain "
                     "regions.");
    } else {
        m_acceptNote.clear();
        message = tr("Segmented: the result is dashed; press A to replace your mask with it");
    }
    updateMetrics();
    updateActionsEnabled();
    showMessage(message);
}

core::Image2D PhotoMode::stepValues(int step, int member, bool noisy) const
{
    if (!noisy && step == m_liveStep && !m_liveX0.empty()) {
        // The newest step, unquantised, even if the cache's policy did not keep it.
        if (member >= 0 && member < static_cast<int>(m_liveX0.size())) {
            return m_liveX0[static_cast<std::size_t>(member)];
        }
        core::Image2D mean(m_liveX0[0].width(), m_liveX0[0].height(), 1, core::PixelType::Float32);
        float* out = mean.data<float>();
        const std::size_t n = mean.pixelCount();
        for (const core::Image2D& x0 : m_liveX0) {
            const float* v = x0.data<float>();
            for (std::size_t i = 0; i < n; ++i) {
                out[i] += v[i];
            }
        }
        const float k = static_cast<float>(m_liveX0.size());
        for (std::size_t i = 0; i < n; ++i) {
            out[i] /= k;
        }
        return mean;
    }
    if (!m_stepCache || step < 0 || step >= m_stepCache->config().steps) {
        return {};
    }
    const core::FrameKind kind = noisy ? core::FrameKind::Noisy : core::FrameKind::X0;
    if (noisy && !m_stepCache->config().storeNoisy) {
        return {};
    }
    const core::StepFrame frame = member >= 0 && member < m_stepCache->config().members
                                      ? m_stepCache->get(member, step, kind)
                                      : m_stepCache->meanOverMembers(step, kind);
    return frame.valid() ? frame.image() : core::Image2D();
}

QImage PhotoMode::stepImage(int step, int member, widgets::StepView mode) const
{
    const bool noisy = mode == widgets::StepView::Noisy;
    const core::Image2D values = stepValues(step, member, noisy);
    if (values.empty()) {
        return {};
    }
    const FrameStyle style = noisy                             ? FrameStyle::Noisy
                             : mode == widgets::StepView::Mask ? FrameStyle::Mask
                                                               : FrameStyle::Estimate;
    return frameToImage(values.data<float>(), values.width(), values.height(), style);
}

QString PhotoMode::stepLabel(int step) const
{
    const QString t =
        step >= 0 && step < static_cast<int>(m_timesteps.size())
            ? QStringLiteral(", t = %1").arg(m_timesteps[static_cast<std::size_t>(step)])
            : QString();
    return tr("step %1 of %2%3").arg(step + 1).arg(m_timesteps.size()).arg(t);
}

void PhotoMode::showStepFrame(int step, int member, widgets::StepView mode)
{
    const QImage frame = stepImage(step, member, mode);
    if (frame.isNull()) {
        return;
    }
    m_shownStep = step;
    if (m_stepView->image().size() != frame.size()) {
        m_stepView->setImage(frame);
    } else {
        m_stepView->replaceImage(frame);
    }
    if (m_stepPreviewAction->isChecked() && !m_image.empty()) {
        const core::Image2D x0 = stepValues(step, member, false);
        if (!x0.empty()) {
            m_view->setPreviewOutline(stepOutline(x0, m_image.width(), m_image.height()));
        }
    }
}

void PhotoMode::acceptStep(int step, int member)
{
    const core::Image2D x0 = stepValues(step, member, false);
    if (x0.empty() || m_image.empty()) {
        return;
    }
    m_view->setPreview(upsampleToMask(x0, m_image.width(), m_image.height()));
    m_pendingDice.reset();
    const QString who = member >= 0 ? tr("member %1").arg(member + 1) : tr("ensemble mean");
    m_view->acceptPreview(tr("Use step %1").arg(step + 1).toStdString());
    m_acceptNote = tr("%1 (%2)").arg(stepLabel(step), who);
    m_acceptedAtUndo = m_view->undoStack().undoCount();
    showMessage(tr("The mask is now %1 (Ctrl+Z undoes)").arg(m_acceptNote));
}

void PhotoMode::acceptAiResult()
{
    if (!m_view->hasPreview() && m_shownStep >= 0 && m_stepPreviewAction->isChecked()) {
        // The dashed outline is the browsed step's: accept that step.
        acceptStep(m_shownStep, m_stepBrowser->member());
        return;
    }
    if (!m_view->hasPreview()) {
        showMessage(tr("No AI result to accept: segment first, or pick a step or an "
                       "ensemble member"));
        return;
    }
    const bool refined = m_output && m_output->refined;
    m_view->acceptPreview(refined ? refineTitle().toStdString() : "Accept AI result");
    m_acceptedAtUndo = m_view->undoStack().undoCount();
    if (m_acceptNote.isEmpty()) {
        m_acceptNote = tr("the AI result");
    }
    if (refined) {
        // The prompts are spent: the next clicks refine the accepted mask.
        m_view->clearPrompts();
        m_refineStrokes = {};
    }
    showMessage(tr("Accepted %1 as the mask (Ctrl+Z undoes)").arg(m_acceptNote));
}

void PhotoMode::chooseUncertaintyMap(int index)
{
    m_uncertaintyIndex = std::clamp(index, 0, 2);
    if (m_output) {
        m_view->setUncertaintyMap(
            m_output->uncertaintyDisplay[static_cast<std::size_t>(m_uncertaintyIndex)]);
        recomputeRegions();
    }
}

const std::vector<core::UncertainRegion>& PhotoMode::uncertainRegions() const
{
    static const std::vector<core::UncertainRegion> none;
    return m_regionsShown ? m_view->session().regions() : none;
}

void PhotoMode::recomputeRegions()
{
    // The session finds them (at the network's size: cheap, and a region smaller than an input
    // pixel means nothing) from the chosen map, when the result has that map.
    m_view->setHighlight({});
    core::PhotoSession& session = m_view->session();
    const std::string name = kUncertaintyMaps[static_cast<std::size_t>(m_uncertaintyIndex)];
    const std::vector<std::string> maps = session.uncertaintyMaps();
    m_regionsShown = m_output && std::find(maps.begin(), maps.end(), name) != maps.end();
    if (m_regionsShown) {
        session.chooseUncertainty(name);
    }
    updateActionsEnabled();
}

bool PhotoMode::nextUncertainRegion()
{
    const std::optional<core::RegionVisit> visit =
        m_regionsShown ? m_view->session().nextUncertainRegion() : std::nullopt;
    if (!visit) {
        showMessage(m_output ? tr("No uncertain region above %1 in this map")
                                   .arg(core::Session::kRegionThreshold)
                             : tr("Segment first: regions come from the uncertainty"));
        return false;
    }
    const core::UncertainRegion& region = visit->region;
    const QRectF box(QPointF(region.box.lo[0], region.box.lo[1]),
                     QPointF(region.box.hi[0], region.box.hi[1]));
    // Zoom so that the region fills about a third of the view, never below "fit".
    const double fit = std::min(m_view->width() / static_cast<double>(m_image.width()),
                                m_view->height() / static_cast<double>(m_image.height()));
    const double want = std::min(m_view->width() / (3.0 * std::max(box.width(), 8.0)),
                                 m_view->height() / (3.0 * std::max(box.height(), 8.0)));
    const double zoom = std::clamp(want, fit, 8.0);
    m_view->zoomBy(zoom / m_view->zoom(), QPointF(m_view->width() / 2.0, m_view->height() / 2.0));
    m_view->centerOn(QPointF(region.centroid[0], region.centroid[1]));
    m_view->setHighlight(box);
    showMessage(tr("Uncertain region %1 of %2: %3 px at the network's size, mean %4%5")
                    .arg(visit->index + 1)
                    .arg(visit->count)
                    .arg(region.voxels)
                    .arg(region.meanValue, 0, 'f', 2)
                    .arg(visit->last ? tr(" - all reviewed; N starts again") : QString()));
    return true;
}

void PhotoMode::previewEnsembleTile(int which)
{
    if (!m_output || m_output->memberMasks.empty()) {
        return;
    }
    if (which == -2) {
        m_overlayPanel->setHeatmapChoice(2); // agreement ~ the members' spread: ensemble std
        return;
    }
    const core::Image2D mask = which >= 0 ? m_output->memberMasks[static_cast<std::size_t>(which)]
                                          : majorityMask(m_output->memberMasks);
    m_view->setPreview(mask);
    notePreviewChanged();
    m_acceptNote =
        which >= 0 ? tr("ensemble member %1").arg(which + 1) : tr("the ensemble's majority vote");
    showMessage(tr("Previewing %1 (dashed); press A to accept it as the mask").arg(m_acceptNote));
}

void PhotoMode::setHeatmapChoice(int index)
{
    m_overlayPanel->setHeatmapChoice(index);
}

} // namespace diffseg::app
