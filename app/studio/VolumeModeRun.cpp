// The volume workflow's models and runs: the model chooser, the Diff-UNet run on the worker
// thread, its progress and step frames, the result, heat maps, accepting steps, and the Dice.
#include "ActionFactory.h"
#include "CheckpointKind.h"
#include "ComputeChoices.h"
#include "MainWindow.h"
#include "ModelCatalog.h"
#include "RecentFiles.h"
#include "VolumeMode.h"
#include "WorkflowRun.h"
#include "base/Error.h"
#include "base/SliceGeometry.h"
#include "data/DemoData.h"
#include "image/ColorMap.h"
#include "io/VolumeWriter.h"
#include "metrics/ForegroundOverlap.h"
#include "panels/VolumePanel.h"
#include "volume/SliceView.h"
#include "volume/VolumeView3D.h"
#include "volume/VolumeWorkspace.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

namespace diffseg::app {

namespace {

core::Volume toCodes(const core::Volume& probability)
{
    core::Volume out(probability.size(), 1, core::PixelType::UInt8, probability.geometry());
    const float* p = probability.data<float>();
    std::uint8_t* c = out.data<std::uint8_t>();
    for (std::size_t i = 0; i < out.voxelCount(); ++i) {
        c[i] = static_cast<std::uint8_t>(std::clamp(p[i], 0.0f, 1.0f) * 255.0f + 0.5f);
    }
    return out;
}

int labelAt(const core::LabelMap& labels, std::size_t n)
{
    return labels.pixelType() == core::PixelType::UInt16 ? labels.data<std::uint16_t>()[n]
                                                         : labels.data<std::uint8_t>()[n];
}

} // namespace

//------------------------------------------------------------------------------------------------
// Models and segmentation

void VolumeMode::refreshModels()
{
    if (!m_panel) {
        return;
    }
    QSettings& settings = m_window->settings();
    const std::vector<ModelEntry> entries = m_window->modelEntries();
    const QString previous = m_panel->currentCheckpoint();
    m_panel->clearCheckpoints();
    m_presets.clear();
    int count = 0;
    std::vector<ModelEntry> volumeEntries;
    for (const ModelEntry& e : entries) {
        if (checkpointKind(e.path) == CheckpointKind::Volume) {
            volumeEntries.push_back(e);
        }
    }
    if (hasVolume()) {
        // Models for the open volume's modality (CT or MRI) come first.
        const core::VolumeModality wanted =
            m_workspace->isCt() ? core::VolumeModality::Ct : core::VolumeModality::Mr;
        std::stable_partition(volumeEntries.begin(), volumeEntries.end(), [&](const ModelEntry& e) {
            return checkpointModality(e.path) == wanted;
        });
    }
    for (const ModelEntry& e : volumeEntries) {
        QString label = e.label;
        if (ModelCatalog::isReferenceCheckpoint(e.path)) {
            const QString preset = QFileInfo(e.path).fileName().toLower().contains("brats")
                                       ? QStringLiteral("brats2023")
                                       : QStringLiteral("aiib2023");
            m_presets.insert(e.path, preset);
            label = tr("%1 (reference Diff-UNet, %2)").arg(QFileInfo(e.path).fileName(), preset);
        }
        m_panel->addCheckpoint(e.path, label, checkpointToolTip(e.path));
        ++count;
    }
    // The photo chooser rewrites models/current whenever it refreshes, so the volume chooser keeps
    // its own choice; the first model listed is chosen when none of them is there (the combo box
    // has a placeholder, so Qt leaves it at no selection otherwise).
    const QString current = settings.value(QStringLiteral("models/current")).toString();
    const QString currentVolume = settings.value(QStringLiteral("models/currentVolume")).toString();
    bool chosen = false;
    for (const QString& candidate : {currentVolume, previous, current}) {
        if (!chosen && !candidate.isEmpty()) {
            m_panel->setCurrentCheckpoint(candidate);
            chosen = m_panel->currentCheckpoint() == candidate;
        }
    }
    if (!chosen && !entries.empty()) {
        for (const ModelEntry& e : entries) {
            if (checkpointKind(e.path) == CheckpointKind::Volume) {
                m_panel->setCurrentCheckpoint(e.path);
                break;
            }
        }
    }
    m_panel->setNoModelText(tr("No volume model yet: File > Open Model (Ctrl+M)"));
    m_panel->setStatus(count == 0 ? tr("No Diff-UNet checkpoint: File > Open Model (Ctrl+M), or "
                                       "Model > Runs Folder for the runs of `diffseg train`")
                                  : tr("%n volume model(s) available", nullptr, count));
    updateActions();
}

void VolumeMode::preferPackagedModelFor(bool isCt)
{
    refreshModels();
    const QString current = m_panel->currentCheckpoint();
    const QStringList packaged = ModelCatalog::packagedModels();
    const core::VolumeModality wanted = isCt ? core::VolumeModality::Ct : core::VolumeModality::Mr;
    // The user's own checkpoints are left alone; a packaged model for the other modality is not.
    if (!current.isEmpty() &&
        (!packaged.contains(current) || checkpointModality(current) == wanted)) {
        return;
    }
    for (const QString& path : packaged) {
        if (checkpointKind(path) == CheckpointKind::Volume && checkpointModality(path) == wanted) {
            m_panel->setCurrentCheckpoint(path);
            return;
        }
    }
}

bool VolumeMode::isSegmenting() const
{
    return m_runner->isRunning();
}

std::optional<SegmentationJob> VolumeMode::prepareJob()
{
    if (!hasVolume()) {
        reportError(tr("No volume"), tr("Open a CT or MRI volume to segment first (File > Open)."),
                    false);
        return std::nullopt;
    }
    const QString checkpoint = m_panel->currentCheckpoint();
    if (const auto problem = checkpointProblem(checkpoint, CheckpointKind::Volume)) {
        reportError(problem->title, problem->message, false);
        if (problem->missing) {
            refreshModels();
        }
        return std::nullopt;
    }
    SegmentationJob job;
    job.checkpoint = checkpoint;
    job.referencePreset = m_presets.value(checkpoint);
    // The Model menu's choice, as the photo workflow reads it ("auto" where a remembered CUDA has
    // no GPU here).
    job.device = m_window->compute().device();
    job.precision = m_window->compute().precision();
    job.input = core::SegmentationInput::ofVolume(volume());
    // The panel's settings; the rest is what the model was validated with (its card).
    job.request = m_panel->options();
    return job;
}

bool VolumeMode::startSegmentation()
{
    if (m_runner->isRunning()) {
        return false;
    }
    std::optional<SegmentationJob> job = prepareJob();
    if (!job) {
        return false;
    }
    return launchJob(std::move(*job), tr("Segmenting %1...").arg(m_name));
}

bool VolumeMode::launchJob(SegmentationJob job, const QString& what)
{
    const int steps = job.request.steps;
    m_runSerial = m_volumeSerial;
    resetResult();
    m_frames.assign(static_cast<std::size_t>(steps), VolumeStepFrame{});
    m_steps->reset(steps);
    if (!WorkflowRun::start(*m_runner, std::move(job), *m_panel, *m_stepsDock)) {
        return false;
    }
    updateActions();
    m_window->statusBar()->showMessage(what);
    return true;
}

void VolumeMode::cancelSegmentation()
{
    WorkflowRun::cancel(*m_runner, m_panel, tr("Cancelling before the next window or step..."));
}

void VolumeMode::resetResult()
{
    if (m_runner->isRunning()) {
        m_runner->cancel();
    }
    m_output.reset();
    m_cache.reset();
    m_frames.clear();
    m_resultPending = false;
    m_shownStep = -1;
    if (!m_workspace) {
        return;
    }
    if (hasVolume()) {
        m_workspace->setPreviewLabels({});
        m_workspace->setSurfaceLabels({});
        m_workspace->setOverlay({}, 1.0);
    }
    m_steps->reset(0);
    m_panel->setProgress(0, 1, -1.0);
    m_panel->setLegend({}, {});
    for (int i = 1; i <= heatMapNames().size(); ++i) {
        m_panel->setHeatMapEnabled(i, false);
    }
    updateActions();
}

void VolumeMode::onProgress()
{
    const std::optional<SegmentationProgress> p = m_runner->takeProgress();
    if (!p || m_runSerial != m_volumeSerial || !m_panel) {
        return;
    }
    m_panel->setProgress(p->done, p->total, p->etaSeconds);
    QString text = tr("Windows %1-%2 of %3, step %4 of %5")
                       .arg(p->firstWindow + 1)
                       .arg(p->firstWindow + p->windows)
                       .arg(p->windowCount)
                       .arg(p->step + 1)
                       .arg(p->steps);
    if (p->flips > 1) {
        text += tr(", mirror pass %1 of %2").arg(p->flip + 1).arg(p->flips);
    }
    if (p->etaSeconds >= 0.0 && p->done < p->total) {
        text += tr("; about %1 s left").arg(p->etaSeconds, 0, 'f', p->etaSeconds < 10 ? 1 : 0);
    }
    m_panel->setStatus(text);
}

void VolumeMode::onStepFrames()
{
    std::vector<VolumeStepFrame> frames = m_runner->takeStepFrames();
    if (m_runSerial != m_volumeSerial || !m_steps) {
        return;
    }
    for (VolumeStepFrame& f : frames) {
        if (f.step < 0) {
            continue;
        }
        if (f.step >= static_cast<int>(m_frames.size())) {
            m_frames.resize(static_cast<std::size_t>(f.step) + 1);
        }
        const int step = f.step;
        m_frames[static_cast<std::size_t>(step)] = std::move(f);
        m_steps->appendStep(step);
    }
}

void VolumeMode::onFinished()
{
    m_panel->setRunning(false);
    const auto output = m_runner->output();
    if (m_runSerial != m_volumeSerial || !output || !output->volume() ||
        output->volume()->labels.size() != volume().size()) {
        updateActions();
        Q_EMIT segmentationEnded(true);
        return;
    }
    onStepFrames();
    m_output = output;
    m_cache = output->volume()->stepCache;
    const core::Segment3DResult& r = *output->volume();
    std::vector<int> available;
    for (std::size_t s = 0; s < m_frames.size(); ++s) {
        if (!m_frames[s].labels.empty() || (m_cache && m_cache->isKept(static_cast<int>(s)))) {
            available.push_back(static_cast<int>(s));
        }
    }
    m_steps->setAvailableSteps(available);
    m_steps->refreshThumbnails();
    m_panel->setHeatMapEnabled(1, !output->foreground.empty());
    m_panel->setHeatMapEnabled(2, !r.entropy.empty());
    m_panel->setHeatMapEnabled(3, !r.stepEntropy.empty());
    m_panel->setHeatMapEnabled(4, !r.mirrorVariance.empty());
    m_panel->setProgress(1, 1, -1.0);
    m_panel->setStatus(tr("Done: %1 window(s) x %2 step(s)%3 in %4 s (windows %5 s)")
                           .arg(r.windowCount)
                           .arg(r.steps)
                           .arg(r.flips > 1 ? tr(" x %1 mirror passes").arg(r.flips) : QString())
                           .arg(output->seconds, 0, 'f', 1)
                           .arg(r.timings.windows, 0, 'f', 1));

    // Empty labels take the result at once (one undo step); edits already made are not
    // overwritten: the result waits, outlined, for "Accept AI result".
    QString message;
    if (m_workspace->labels().maxLabel() == 0) {
        m_workspace->replaceLabels(r.labels, output->refined ? refineTitle().toStdString()
                                                             : "Accept AI result");
        m_workspace->setPreviewLabels({});
        message = tr("Segmented: the result is the label map (Ctrl+Z undoes); browse the steps "
                     "below, choose a heat map on the left");
    } else {
        m_resultPending = true;
        m_workspace->setPreviewLabels(r.labels);
        message = output->refined
                      ? tr("%1: the result is outlined in magenta; press A to accept it, or keep "
                           "clicking")
                            .arg(refineTitle())
                      : tr("Segmented: the result is outlined in magenta; press A to replace "
                           "your labels with it");
    }
    applyHeatMap();
    updateActions();
    m_window->statusBar()->showMessage(message);
    Q_EMIT segmentationEnded(true);
}

void VolumeMode::onFailed(const QString& message, bool cancelled)
{
    m_panel->setRunning(false);
    updateActions();

    if (cancelled) {
        onStepFrames();
        int finished = 0;
        for (const VolumeStepFrame& f : m_frames) {
            finished += f.labels.empty() ? 0 : 1;
        }
        m_panel->setStatus(tr("Cancelled; %n finished step(s) stay browsable", nullptr, finished));
        m_window->statusBar()->showMessage(tr("Volume segmentation cancelled"));
    } else {
        m_panel->setStatus(tr("Failed: %1").arg(message));
        reportError(tr("Segmentation failed"), message, false);
    }
    Q_EMIT segmentationEnded(false);
}

//------------------------------------------------------------------------------------------------
// Steps, heat maps, edits

const VolumeStepFrame* VolumeMode::frameFor(int step)
{
    if (step < 0) {
        return nullptr;
    }
    if (step < static_cast<int>(m_frames.size()) &&
        !m_frames[static_cast<std::size_t>(step)].labels.empty()) {
        return &m_frames[static_cast<std::size_t>(step)];
    }
    // Not received as a frame: read it back from the run's 8-bit step cache.
    if (!m_cache || m_cache->storedSteps(0).empty() || step >= m_cache->config().steps) {
        return nullptr;
    }
    try {
        VolumeStepFrame frame;
        frame.step = step;
        frame.labels = core::Segmenter3D::stepLabelsFromCache(*m_cache, step);
        frame.foreground = toCodes(core::Segmenter3D::stepForegroundFromCache(*m_cache, step));
        if (step >= static_cast<int>(m_frames.size())) {
            m_frames.resize(static_cast<std::size_t>(step) + 1);
        }
        m_frames[static_cast<std::size_t>(step)] = std::move(frame);
        return &m_frames[static_cast<std::size_t>(step)];
    } catch (const core::Error& e) {
        m_window->statusBar()->showMessage(QString::fromStdString(e.what()));
        return nullptr;
    }
}

void VolumeMode::showStep(int step, widgets::StepView show)
{
    const VolumeStepFrame* frame = frameFor(step);
    if (!frame || !hasVolume()) {
        return;
    }
    m_shownStep = step;
    m_shownShow = show;
    if (m_steps->previewInViews()) {
        m_workspace->setPreviewLabels(show == widgets::StepView::Labels ? frame->labels
                                                                        : core::LabelMap());
    }
    if (m_steps->surfaceIn3d()) {
        m_workspace->setSurfaceLabels(frame->labels);
    }
    applyHeatMap();
    updateActions();
}

void VolumeMode::setHeatMap(int index)
{
    ensureUi();
    m_panel->setHeatMap(index);
}

void VolumeMode::applyHeatMap()
{
    if (!m_workspace || !hasVolume()) {
        return;
    }
    // A step shown as its probability takes the heat map while the step preview is on.
    if (m_shownStep >= 0 && m_steps->previewInViews() &&
        m_shownShow == widgets::StepView::Probability) {
        if (const VolumeStepFrame* frame = frameFor(m_shownStep)) {
            m_workspace->setOverlay(frame->foreground, 1.0 / 255.0);
            m_panel->setLegend(QStringLiteral("0"),
                               tr("1: step %1's foreground probability").arg(m_shownStep + 1));
            return;
        }
    }
    const int index = m_panel->heatMap();
    if (!m_output || index <= 0) {
        m_workspace->setOverlay({}, 1.0);
        m_panel->setLegend({}, {});
        return;
    }
    const core::Segment3DResult& r = *m_output->volume();
    const double lnC = std::log(std::max(2, r.classes));
    const QString nats = tr("ln %1 = %2 nats").arg(r.classes).arg(lnC, 0, 'f', 2);
    core::Volume map;
    double scale = 1.0;
    QString high;
    switch (index) {
    case 1:
        map = m_output->foreground;
        high = tr("1 (foreground)");
        break;
    case 2:
        map = r.entropy;
        scale = 1.0 / lnC;
        high = nats;
        break;
    case 3:
        map = r.stepEntropy;
        scale = 1.0 / lnC;
        high = nats;
        break;
    default:
        map = r.mirrorVariance;
        scale = 4.0;
        high = QStringLiteral("0.25");
        break;
    }
    if (map.empty()) {
        m_workspace->setOverlay({}, 1.0);
        m_panel->setLegend({}, {});
        m_window->statusBar()->showMessage(
            tr("This map needs another run (mirror variance: tick Mirror TTA)"));
        return;
    }
    m_workspace->setOverlay(map, scale);
    m_panel->setLegend(QStringLiteral("0"), high);
}

bool VolumeMode::acceptStep(int step)
{
    const VolumeStepFrame* frame = frameFor(step);
    if (!frame || !hasVolume()) {
        return false;
    }
    m_workspace->replaceLabels(frame->labels,
                               QStringLiteral("Use step %1").arg(step + 1).toStdString());
    m_resultPending = false;
    m_workspace->setPreviewLabels({});
    m_window->statusBar()->showMessage(
        tr("The labels are now step %1's (Ctrl+Z undoes)").arg(step + 1));
    return true;
}

bool VolumeMode::acceptAiResult()
{
    if (m_resultPending && m_output) {
        const bool refined = m_output->refined;
        m_workspace->replaceLabels(m_output->volume()->labels,
                                   refined ? refineTitle().toStdString() : "Accept AI result");
        if (refined) {
            m_workspace->clearPrompts(); // spent: the next clicks refine the accepted labels
        }
        m_resultPending = false;
        m_workspace->setPreviewLabels({});
        m_window->statusBar()->showMessage(tr("Accepted the AI result (Ctrl+Z undoes)"));
        updateActions();
        return true;
    }
    if (m_shownStep >= 0 && m_steps->previewInViews()) {
        return acceptStep(m_shownStep);
    }
    m_window->statusBar()->showMessage(tr("No AI result to accept: segment first, or pick a step"));
    return false;
}

void VolumeMode::updateDice()
{
    if (!m_panel) {
        return;
    }
    if (m_session->groundTruth().empty() || !hasVolume()) {
        m_panel->setDice(std::nan(""));
        return;
    }
    m_panel->setDice(core::foregroundDice(m_workspace->labels(), m_session->groundTruth()));
}

QImage VolumeMode::stepThumbnail(int step, widgets::StepView show, const QSize& size)
{
    const VolumeStepFrame* frame = frameFor(step);
    if (!frame || !hasVolume()) {
        return {};
    }
    const widgets::SliceView* axial = m_workspace->sliceView(core::SliceOrientation::Axial);
    const core::Volume& volume = m_workspace->volume();
    const core::SliceGeometry g(volume.geometry(), volume.size(), core::SliceOrientation::Axial);
    const int slice = axial->slice();
    const widgets::ColorMap colors(m_panel->colorMap());
    // The axial slice as the view shows it (window/level), with the step blended over it.
    QImage image = widgets::SliceView::greySlice(volume, g, slice, axial->window(), axial->level());
    for (int y = 0; y < image.height(); ++y) {
        auto* row = reinterpret_cast<QRgb*>(image.scanLine(y));
        for (int x = 0; x < image.width(); ++x) {
            const auto v = g.voxelAt(x, y, slice);
            const std::size_t n = volume.linearIndex(v[0], v[1], v[2]);
            QColor c = QColor::fromRgb(row[x]);
            double alpha = 0.0;
            QColor over;
            if (show == widgets::StepView::Labels) {
                const int label = labelAt(frame->labels, n);
                if (label > 0) {
                    over = widgets::SliceView::labelColor(label);
                    alpha = 0.55;
                }
            } else {
                const double p = frame->foreground.data<std::uint8_t>()[n] / 255.0;
                over = QColor::fromRgb(colors.color(p));
                alpha = 0.75 * std::clamp(p / 0.5, 0.0, 1.0);
            }
            if (alpha > 0.0) {
                c = QColor::fromRgbF(
                    static_cast<float>(c.redF() * (1 - alpha) + over.redF() * alpha),
                    static_cast<float>(c.greenF() * (1 - alpha) + over.greenF() * alpha),
                    static_cast<float>(c.blueF() * (1 - alpha) + over.blueF() * alpha));
            }
            row[x] = c.rgb();
        }
    }
    const auto spacing = g.pixelSpacing();
    const QSize physical(static_cast<int>(std::lround(image.width() * spacing[0])),
                         static_cast<int>(std::lround(image.height() * spacing[1])));
    return image.scaled(physical.scaled(size, Qt::KeepAspectRatio), Qt::IgnoreAspectRatio,
                        Qt::SmoothTransformation);
}

std::size_t VolumeMode::stepFrameBytes() const
{
    std::size_t bytes = 0;
    for (const VolumeStepFrame& f : m_frames) {
        bytes += f.labels.byteSize() + f.foreground.byteSize();
    }
    return bytes;
}

std::size_t VolumeMode::stepCacheBytes() const
{
    return m_cache ? m_cache->bytesUsed() : 0;
}

void VolumeMode::updateActions()
{
    const bool volume = hasVolume();
    const bool running = m_runner->isRunning();
    auto enable = [this](const char* name, bool on) {
        if (QAction* a = m_actions.value(QLatin1String(name))) {
            a->setEnabled(on);
        }
    };
    enable("volumeSegment",
           volume && !running && m_panel && !m_panel->currentCheckpoint().isEmpty());
    enable("volumeCancel", running);
    for (const char* name : {"volumeSave", "volumeSaveAs", "volumeScreenshot", "volumeLoadLabels",
                             "volumeLoadGroundTruth", "volumeClear"}) {
        enable(name, volume);
    }
    enable("volumeAcceptAi", volume && (m_resultPending || m_shownStep >= 0));
    enable("volumeAcceptStep", volume && m_shownStep >= 0);
}

void VolumeMode::updateHistoryActions()
{
    QAction* undo = m_actions.value(QStringLiteral("volumeUndo"));
    QAction* redo = m_actions.value(QStringLiteral("volumeRedo"));
    if (!m_workspace) {
        undo->setEnabled(false);
        redo->setEnabled(false);
        return;
    }
    core::UndoStack& stack = m_workspace->undoStack();
    undo->setEnabled(stack.canUndo());
    redo->setEnabled(stack.canRedo());
    undo->setText(stack.canUndo() ? tr("&Undo %1").arg(QString::fromStdString(stack.undoTitle()))
                                  : tr("&Undo"));
    redo->setText(stack.canRedo() ? tr("&Redo %1").arg(QString::fromStdString(stack.redoTitle()))
                                  : tr("&Redo"));
}

} // namespace diffseg::app
