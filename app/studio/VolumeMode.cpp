#include "VolumeMode.h"

#include "ActionFactory.h"
#include "CheckpointKind.h"
#include "ComputeChoices.h"
#include "MainWindow.h"
#include "ModelCatalog.h"
#include "RecentFiles.h"
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

constexpr std::uint64_t kPhantomSeed = 7;

/// The 1st and 99th percentiles of a strided sample of channel 0.
std::array<double, 2> percentiles(const core::Volume& volume)
{
    std::vector<float> values;
    const std::size_t n = volume.voxelCount();
    const std::size_t stride = std::max<std::size_t>(1, n / 100000);
    core::dispatchPixelType(volume.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        const T* p = static_cast<const T*>(volume.rawData());
        for (std::size_t i = 0; i < n; i += stride) {
            if (std::isfinite(static_cast<float>(p[i]))) {
                values.push_back(static_cast<float>(p[i]));
            }
        }
    });
    if (values.empty()) {
        return {0.0, 0.0};
    }
    std::sort(values.begin(), values.end());
    return {values[values.size() / 100], values[values.size() - 1 - values.size() / 100]};
}

/// CT (Hounsfield units) or not: a DICOM modality says so; otherwise air near -1000 HU and
/// tissue above 0 in the value range.
bool looksLikeCt(const core::Volume& volume, const core::VolumeSource& source)
{
    if (source.chosenSeries >= 0 &&
        source.chosenSeries < static_cast<int>(source.dicomSeries.size())) {
        const std::string& modality =
            source.dicomSeries[static_cast<std::size_t>(source.chosenSeries)].modality;
        if (!modality.empty()) {
            return modality == "CT";
        }
    }
    const auto p = percentiles(volume);
    return p[0] <= -500.0 && p[1] >= 100.0;
}

QString describe(const QString& name, const core::Volume& volume, bool isCt)
{
    const auto& g = volume.geometry();
    return QObject::tr("<b>%1</b><br>%2 x %3 x %4 voxels, %5 channel(s), %6<br>spacing %7 x %8 x "
                       "%9 mm, orientation %10; shown as %11")
        .arg(name.toHtmlEscaped())
        .arg(volume.size()[0])
        .arg(volume.size()[1])
        .arg(volume.size()[2])
        .arg(volume.channels())
        .arg(QString::fromLatin1(core::pixelTypeName(volume.pixelType())))
        .arg(g.spacing[0], 0, 'g', 4)
        .arg(g.spacing[1], 0, 'g', 4)
        .arg(g.spacing[2], 0, 'g', 4)
        .arg(QString::fromStdString(g.orientationCode()))
        .arg(isCt ? QObject::tr("CT (Hounsfield units)") : QObject::tr("MRI / other"));
}

/// "series 3 'AX T2' (MR, 20 slices)".
QString seriesText(const core::DicomSeriesInfo& s, int index)
{
    return QObject::tr("series %1 '%2' (%3, %4 slices)")
        .arg(s.seriesNumber.empty() ? QString::number(index + 1)
                                    : QString::fromStdString(s.seriesNumber))
        .arg(QString::fromStdString(s.description.empty() ? s.seriesUid : s.description))
        .arg(QString::fromStdString(s.modality.empty() ? std::string("?") : s.modality))
        .arg(s.files.size());
}

/// A step's foreground probability (Float32) as the 8-bit codes the step frames hold.
} // namespace

VolumeMode::VolumeMode(MainWindow* window, bool interactive)
    : QObject(window)
    , m_window(window)
    , m_interactive(interactive)
    , m_recent(std::make_unique<RecentFiles>(window->settings()))
{
    setObjectName(QStringLiteral("volumeMode"));
    m_runner = new VolumeSegmentationRunner(this);
    connect(m_runner, &VolumeSegmentationRunner::progressAvailable, this, &VolumeMode::onProgress);
    connect(m_runner, &VolumeSegmentationRunner::stepFramesAvailable, this,
            &VolumeMode::onStepFrames);
    connect(m_runner, &VolumeSegmentationRunner::finished, this, &VolumeMode::onFinished);
    connect(m_runner, &VolumeSegmentationRunner::failed, this, &VolumeMode::onFailed);
    connect(m_runner, &VolumeSegmentationRunner::modelReady, this, [this] {
        const auto& info = m_runner->modelInfo();
        if (!info || !m_panel) {
            return;
        }
        m_panel->setModelInfo(
            tr("%1, %2 parameters, %3 -> %4 classes, window %5^3, %6; runs on "
               "%7")
                .arg(QString::fromStdString(info->id))
                .arg(info->parameterCount)
                .arg(info->network.inChannels)
                .arg(info->network.numClasses)
                .arg(info->inputSize)
                .arg(QString::fromLatin1(core::normalizationName(info->preparation.normalization)))
                .arg(QString::fromStdString(info->device) + ", " +
                     QString::fromStdString(info->precision)));
        m_panel->setStatus(tr("Running the windows..."));
    });
    createActions();
    installMenus();
    updateActions();
}

VolumeMode::~VolumeMode()
{
    // The worker must not post into a half-destroyed object: stop it before the members go.
    m_runner->cancel();
    m_runner->waitForIdle(60000);
    m_runner->disconnect(this);
}

void VolumeMode::ensureUi()
{
    if (m_stack) {
        return;
    }
    // The photo view and the volume workspace share the centre: a stack, made now so that the
    // OpenGL widget of the 3D view only exists once the volume workspace is used.
    m_stack = new QStackedWidget(m_window);
    m_stack->setObjectName(QStringLiteral("workspaceStack"));
    QWidget* photo = m_window->takeCentralWidget();
    if (photo) {
        m_stack->addWidget(photo);
    }
    m_workspace = new widgets::VolumeWorkspace(m_stack);
    m_workspace->setObjectName(QStringLiteral("volumeWorkspace"));
    m_stack->addWidget(m_workspace);
    m_window->setCentralWidget(m_stack);
    if (photo) {
        m_stack->setCurrentWidget(photo);
    }

    m_panel = new widgets::VolumePanel(m_window);
    m_panel->setObjectName(QStringLiteral("volumePanel"));
    auto* area = new QScrollArea(m_window);
    area->setWidget(m_panel);
    area->setWidgetResizable(true);
    area->setFrameShape(QFrame::NoFrame);
    area->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_panelDock = new QDockWidget(tr("Volume"), m_window);
    m_panelDock->setObjectName(QStringLiteral("volumePanelDock"));
    m_panelDock->setWidget(area);
    m_window->addDockWidget(Qt::LeftDockWidgetArea, m_panelDock);
    m_panelDock->hide();

    m_steps = new widgets::VolumeStepBrowser(m_window);
    m_steps->setObjectName(QStringLiteral("volumeStepBrowser"));
    m_stepsDock = new QDockWidget(tr("Volume steps"), m_window);
    m_stepsDock->setObjectName(QStringLiteral("volumeStepsDock"));
    m_stepsDock->setWidget(m_steps);
    m_window->addDockWidget(Qt::BottomDockWidgetArea, m_stepsDock);
    m_stepsDock->hide();
    m_window->resizeDocks({m_panelDock}, {320}, Qt::Horizontal);
    m_window->resizeDocks({m_stepsDock}, {170}, Qt::Vertical);

    m_hoverLabel = new QLabel(m_window);
    m_hoverLabel->setObjectName(QStringLiteral("volumeHoverLabel"));
    m_window->statusBar()->addPermanentWidget(m_hoverLabel);
    m_hoverLabel->hide();

    m_diceTimer = new QTimer(this);
    m_diceTimer->setSingleShot(true);
    m_diceTimer->setInterval(150);
    connect(m_diceTimer, &QTimer::timeout, this, &VolumeMode::updateDice);

    m_panel->setHeatMaps(heatMapNames());
    for (int i = 1; i <= heatMapNames().size(); ++i) {
        m_panel->setHeatMapEnabled(i, false);
    }
    m_panel->setLegend({}, {});
    connect(m_panel, &widgets::VolumePanel::segmentRequested, this,
            [this] { startSegmentation(); });
    connect(m_panel, &widgets::VolumePanel::cancelRequested, this, &VolumeMode::cancelSegmentation);
    connect(m_panel, &widgets::VolumePanel::browseCheckpointRequested, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            m_window, tr("Open volume model"),
            m_window->settings().value(QStringLiteral("models/folder")).toString(),
            tr("Checkpoints (*.dsckpt *.pt *.pth);;All files (*)"));
        if (path.isEmpty()) {
            return;
        }
        const CheckpointKind kind = checkpointKind(path);
        if (kind != CheckpointKind::Volume) {
            reportError(tr("Not a volume model"),
                        tr("%1\n\nis %2. A CT/MRI volume needs a Diff-UNet checkpoint (written by "
                           "`diffseg train` with a Diff-UNet config).")
                            .arg(path, checkpointKindText(kind)),
                        false);
            return;
        }
        m_window->addModel(path);
        refreshModels();
        m_panel->setCurrentCheckpoint(QFileInfo(path).absoluteFilePath());
    });
    connect(m_panel, &widgets::VolumePanel::checkpointChanged, this, [this](const QString& p) {
        if (!p.isEmpty()) {
            m_window->settings().setValue(QStringLiteral("models/currentVolume"), p);
        }
        updateActions();
    });
    connect(m_panel, &widgets::VolumePanel::heatMapChosen, this, [this] { applyHeatMap(); });
    connect(m_panel, &widgets::VolumePanel::colorMapChosen, this,
            [this](widgets::ColorMap::Name name) { m_workspace->setOverlayColorMap(name); });
    connect(m_panel, &widgets::VolumePanel::heatOpacityChanged, this,
            [this](double o) { m_workspace->setOverlayOpacity(o); });
    connect(m_panel, &widgets::VolumePanel::labelOpacityChanged, this,
            [this](double o) { m_workspace->setLabelOpacity(o); });
    connect(m_panel, &widgets::VolumePanel::groundTruthToggled, this, [this](bool on) {
        if (hasVolume()) {
            m_workspace->setGroundTruth(on ? m_groundTruth : core::LabelMap());
        }
    });

    m_steps->setThumbnailProvider(
        [this](int step, widgets::VolumeStepBrowser::Show show, const QSize& size) {
            return stepThumbnail(step, show, size);
        });
    connect(m_steps, &widgets::VolumeStepBrowser::frameChanged, this, &VolumeMode::showStep);
    connect(m_steps, &widgets::VolumeStepBrowser::previewToggled, this, [this](bool on) {
        if (QAction* a = m_actions.value(QStringLiteral("volumeStepPreview"))) {
            const QSignalBlocker block(a);
            a->setChecked(on);
        }
        if (!on && hasVolume()) {
            m_workspace->setPreviewLabels(m_resultPending && m_output ? m_output->result->labels
                                                                      : core::LabelMap());
            applyHeatMap();
        }
    });
    connect(m_steps, &widgets::VolumeStepBrowser::surfaceIn3dToggled, this, [this](bool on) {
        const VolumeStepFrame* frame = on && m_shownStep >= 0 ? frameFor(m_shownStep) : nullptr;
        if (hasVolume()) {
            m_workspace->setSurfaceLabels(frame ? frame->labels : core::LabelMap());
        }
    });
    connect(m_steps, &widgets::VolumeStepBrowser::acceptStepRequested, this,
            [this](int step) { acceptStep(step); });

    connect(m_workspace, &widgets::VolumeWorkspace::labelsChanged, this, [this] {
        if (!m_groundTruth.empty()) {
            m_diceTimer->start();
        }
    });
    connect(m_workspace, &widgets::VolumeWorkspace::historyChanged, this, [this] {
        updateHistoryActions();
        if (!m_loading) {
            m_dirty = true;
        }
    });
    connect(m_workspace, &widgets::VolumeWorkspace::hovered, m_hoverLabel, &QLabel::setText);
    refreshModels();
}

//------------------------------------------------------------------------------------------------
// Workspace switching

bool VolumeMode::isVolumePath(const QString& path)
{
    const QFileInfo info(path);
    if (info.isDir()) {
        return true;
    }
    if (hasVolumeSuffix(path)) {
        return true;
    }
    static const QStringList photo = {"png", "jpg", "jpeg", "bmp", "tif", "tiff"};
    if (!info.isFile() || photo.contains(info.suffix().toLower())) {
        return false;
    }
    try {
        return core::detectVolumeFormat(path.toStdString()) != core::VolumeFormat::Unknown;
    } catch (const core::Error&) {
        return false;
    }
}

void VolumeMode::setActive(bool active)
{
    if (active) {
        ensureUi();
    }
    if (active == m_active || !m_stack) {
        m_actions.value(QStringLiteral("workspaceVolume"))->setChecked(m_active);
        m_actions.value(QStringLiteral("workspacePhoto"))->setChecked(!m_active);
        return;
    }
    m_active = active;
    if (active) {
        m_window->showPhotoWorkflow(false);
        for (QAction* a : std::as_const(m_volumeOnly)) {
            a->setVisible(true);
        }
        m_stack->setCurrentWidget(m_workspace);
        m_panelDock->show();
        m_stepsDock->show();
        // The left dock area keeps the photo panels' width otherwise, which squeezes the views;
        // the docks just shown are laid out on the next turn of the event loop, so resize then.
        QTimer::singleShot(0, this, [this] {
            if (m_active) {
                m_window->resizeDocks({m_panelDock}, {340}, Qt::Horizontal);
                m_window->resizeDocks({m_stepsDock}, {170}, Qt::Vertical);
            }
        });
        m_hoverLabel->show();
        refreshModels();
        m_window->setWindowTitle(m_name.isEmpty() ? tr("Volume - DiffSeg Studio")
                                                  : tr("%1 - DiffSeg Studio").arg(m_name));
        if (!hasVolume()) {
            m_window->statusBar()->showMessage(
                tr("Volume workspace: File > Open a .nii/.nii.gz/.nrrd/.mha file, Volume > Open "
                   "DICOM Folder, or drop one here"));
        }
    } else {
        for (QAction* a : std::as_const(m_volumeOnly)) {
            a->setVisible(false);
        }
        m_panelDock->hide();
        m_stepsDock->hide();
        m_hoverLabel->hide();
        m_stack->setCurrentIndex(0);
        m_window->showPhotoWorkflow(true);
    }
    m_actions.value(QStringLiteral("workspaceVolume"))->setChecked(active);
    m_actions.value(QStringLiteral("workspacePhoto"))->setChecked(!active);
    updateActions();
    updateHistoryActions();
}

widgets::VolumeWorkspace* VolumeMode::workspace()
{
    ensureUi();
    return m_workspace;
}

widgets::VolumePanel* VolumeMode::panel()
{
    ensureUi();
    return m_panel;
}

widgets::VolumeStepBrowser* VolumeMode::stepBrowser()
{
    ensureUi();
    return m_steps;
}

//------------------------------------------------------------------------------------------------
// Files

void VolumeMode::reportError(const QString& title, const QString& message, bool quiet)
{
    m_lastError = message;
    m_window->statusBar()->showMessage(QStringLiteral("%1: %2").arg(title, message));
    if (!quiet && m_interactive) {
        QMessageBox::warning(m_window, title, message);
    }
}

bool VolumeMode::maybeSaveChanges()
{
    if (!m_dirty || !m_interactive || !hasVolume()) {
        return true;
    }
    const auto answer = QMessageBox::question(
        m_window, tr("Unsaved label map"),
        tr("The labels of %1 have changes that are not saved. Save them?").arg(m_name),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Cancel) {
        return false;
    }
    if (answer == QMessageBox::Save) {
        m_actions.value(QStringLiteral("volumeSave"))->trigger();
        return !m_dirty;
    }
    return true;
}

bool VolumeMode::looksLikeLabelFile(const QString& path)
{
    const QString name = QFileInfo(path).fileName().toLower();
    if (name.endsWith(QLatin1String(".seg.nrrd"))) {
        return true;
    }
    for (const char* word : {"seg", "label", "mask", "_gt", "-gt", "truth"}) {
        if (name.contains(QLatin1String(word))) {
            return true;
        }
    }
    return false;
}

bool VolumeMode::openPath(const QString& path, bool quiet)
{
    const QFileInfo info(path);
    if (!info.exists()) {
        reportError(tr("Cannot open volume"),
                    tr("%1\n\nThe file or folder does not exist.").arg(path), quiet);
        return false;
    }
    // A label map dropped onto (or opened over) its volume: load it rather than replace the
    // volume.
    if (hasVolume() && info.isFile() && looksLikeLabelFile(path)) {
        try {
            const core::VolumeHeader header = core::readVolumeHeader(path.toStdString());
            if (header.size == m_volume.size() && header.channels == 1 &&
                header.geometry.isClose(m_volume.geometry(), 1e-3)) {
                LabelRole role = LabelRole::Segmentation;
                if (m_interactive) {
                    QMessageBox box(QMessageBox::Question, tr("Label map"),
                                    tr("%1 is a label map on the grid of %2. Load it as:")
                                        .arg(info.fileName(), m_name),
                                    QMessageBox::NoButton, m_window);
                    QPushButton* seg =
                        box.addButton(tr("Segmentation to edit"), QMessageBox::AcceptRole);
                    QPushButton* gt = box.addButton(tr("Ground truth"), QMessageBox::AcceptRole);
                    box.addButton(QMessageBox::Cancel);
                    box.setDefaultButton(seg);
                    box.exec();
                    if (box.clickedButton() == gt) {
                        role = LabelRole::GroundTruth;
                    } else if (box.clickedButton() != seg) {
                        return false;
                    }
                }
                setActive(true);
                return loadLabelMap(path, role, quiet);
            }
        } catch (const core::Error&) {
            // Not readable as a header: the full read below reports the problem.
        }
    }
    core::LoadedVolume loaded;
    QApplication::setOverrideCursor(Qt::WaitCursor);
    try {
        loaded = core::readVolume(path.toStdString());
    } catch (const core::Error& e) {
        QApplication::restoreOverrideCursor();
        reportError(tr("Cannot open volume"),
                    tr("%1\n\n%2").arg(path, QString::fromStdString(e.problem())), quiet);
        return false;
    }
    QApplication::restoreOverrideCursor();
    if (!maybeSaveChanges()) {
        return false;
    }
    const bool isCt = looksLikeCt(loaded.volume, loaded.source);
    const QString name = info.isDir() ? info.fileName() + QLatin1Char('/') : info.fileName();
    m_source = loaded.source;
    showVolume(loaded.volume, name, isCt);
    m_path = info.absoluteFilePath();
    m_recent->add(m_path);

    QString description = describe(name, loaded.volume, isCt);
    QString status = tr("Opened %1 (%2 x %3 x %4)")
                         .arg(name)
                         .arg(loaded.volume.size()[0])
                         .arg(loaded.volume.size()[1])
                         .arg(loaded.volume.size()[2]);
    const auto& series = m_source.dicomSeries;
    if (series.size() > 1 && m_source.chosenSeries >= 0) {
        const int chosen = m_source.chosenSeries;
        QStringList others;
        for (int i = 0; i < static_cast<int>(series.size()); ++i) {
            if (i != chosen) {
                others << seriesText(series[static_cast<std::size_t>(i)], i);
            }
        }
        const QString taken = seriesText(series[static_cast<std::size_t>(chosen)], chosen);
        status = tr("The folder holds %1 DICOM series; opened %2, the one with most slices "
                    "(others: %3)")
                     .arg(series.size())
                     .arg(taken, others.join(QStringLiteral("; ")));
        description +=
            tr("<br><b>%1 DICOM series in the folder; opened %2.</b> Others: %3")
                .arg(series.size())
                .arg(taken.toHtmlEscaped(), others.join(QStringLiteral("; ")).toHtmlEscaped());
    }
    for (const std::string& note : m_source.notes) {
        description += QStringLiteral("<br>") + QString::fromStdString(note).toHtmlEscaped();
    }
    m_panel->setVolumeDescription(description);

    // A ground truth named after the volume (t2.nii.gz -> t2_seg-manual.nii.gz) is loaded too.
    if (info.isFile()) {
        const QString stem = volumeStem(path);
        const QDir dir = info.absoluteDir();
        for (const QFileInfo& f :
             dir.entryInfoList({stem + QStringLiteral("_*")}, QDir::Files, QDir::Name)) {
            if (f.absoluteFilePath() != info.absoluteFilePath() && hasVolumeSuffix(f.fileName()) &&
                looksLikeLabelFile(f.fileName()) &&
                loadLabelMap(f.absoluteFilePath(), LabelRole::GroundTruth, true)) {
                status += tr("; ground truth %1").arg(f.fileName());
                break;
            }
        }
    }
    m_window->statusBar()->showMessage(status);
    return true;
}

void VolumeMode::openGenerated(const core::Volume& volume, const QString& name, bool isCt,
                               const core::LabelMap& groundTruth)
{
    if (!maybeSaveChanges()) {
        return;
    }
    m_source = {};
    showVolume(volume, name, isCt);
    m_path.clear();
    m_panel->setVolumeDescription(describe(name, volume, isCt));
    if (!groundTruth.empty()) {
        m_groundTruth = groundTruth;
        m_groundTruthName = tr("generated labels");
        m_workspace->setGroundTruth(m_panel->showGroundTruth() ? groundTruth : core::LabelMap());
        m_panel->setGroundTruthAvailable(true, m_groundTruthName);
        updateDice();
    }
    m_window->statusBar()->showMessage(tr("Showing %1").arg(name));
}

void VolumeMode::openSamplePhantom()
{
    const core::CtPhantomDemo phantom = core::generateCtPhantomDemo({160, 160, 64}, kPhantomSeed);
    openGenerated(phantom.volume, tr("CT phantom (generated)"), true, phantom.labels);
}

void VolumeMode::showVolume(const core::Volume& volume, const QString& name, bool isCt)
{
    ensureUi();
    ++m_volumeSerial;
    resetResult();
    m_loading = true;
    m_volume = volume;
    m_name = name;
    m_groundTruth = {};
    m_groundTruthName.clear();
    m_workspace->setVolume(volume, isCt, 0);
    m_panel->setGroundTruthAvailable(false);
    m_loading = false;
    m_dirty = false;
    m_savePath.clear();
    if (m_active) {
        m_window->setWindowTitle(tr("%1 - DiffSeg Studio").arg(m_name));
    } else {
        setActive(true);
    }
    Q_EMIT volumeOpened();
}

bool VolumeMode::loadLabelMap(const QString& path, LabelRole role, bool quiet)
{
    if (!hasVolume()) {
        reportError(tr("No volume"), tr("Open a volume before its label map."), quiet);
        return false;
    }
    core::LabelMap labels;
    try {
        labels = core::readLabelMap(path.toStdString()).labels;
        if (labels.size() != m_volume.size() ||
            !labels.geometry().isClose(m_volume.geometry(), 1e-3)) {
            const auto& a = labels.size();
            const auto& b = m_volume.size();
            throw core::Error(core::ErrorKind::Mismatch, path.toStdString(),
                              "the label map (" + std::to_string(a[0]) + " x " +
                                  std::to_string(a[1]) + " x " + std::to_string(a[2]) + ", " +
                                  labels.geometry().orientationCode() +
                                  ") is not on the grid of the volume (" + std::to_string(b[0]) +
                                  " x " + std::to_string(b[1]) + " x " + std::to_string(b[2]) +
                                  ", " + m_volume.geometry().orientationCode() +
                                  "): size, spacing, origin or direction differ");
        }
        // Within the tolerance: the label map takes the volume's geometry exactly.
        labels.setGeometry(m_volume.geometry());
        if (role == LabelRole::Segmentation) {
            if (labels.pixelType() == core::PixelType::UInt16 && labels.maxLabel() > 255) {
                m_workspace->setLabels(labels);
            } else {
                m_workspace->replaceLabels(labels,
                                           "Load " + QFileInfo(path).fileName().toStdString());
            }
        }
    } catch (const core::Error& e) {
        reportError(role == LabelRole::GroundTruth ? tr("Cannot use ground truth")
                                                   : tr("Cannot load label map"),
                    tr("%1\n\n%2").arg(path, QString::fromStdString(e.problem())), quiet);
        return false;
    }
    if (role == LabelRole::GroundTruth) {
        m_groundTruth = labels;
        m_groundTruthName = QFileInfo(path).fileName();
        m_workspace->setGroundTruth(m_panel->showGroundTruth() ? labels : core::LabelMap());
        m_panel->setGroundTruthAvailable(true, m_groundTruthName);
        updateDice();
        m_window->statusBar()->showMessage(tr("Ground truth: %1").arg(m_groundTruthName));
    } else {
        m_resultPending = false;
        m_window->statusBar()->showMessage(
            tr("Label map %1 loaded for editing (Ctrl+Z undoes)").arg(QFileInfo(path).fileName()));
    }
    return true;
}

QString VolumeMode::suggestedSavePath() const
{
    if (!m_savePath.isEmpty()) {
        return m_savePath;
    }
    if (m_path.isEmpty()) {
        return QDir::current().filePath(QStringLiteral("labels.nii.gz"));
    }
    const QFileInfo info(m_path);
    const QString stem = info.isDir() ? info.fileName() : volumeStem(m_path);
    return info.absoluteDir().filePath(stem + QStringLiteral("_labels.nii.gz"));
}

bool VolumeMode::saveLabelMap(const QString& path, bool quiet)
{
    if (!hasVolume()) {
        reportError(tr("Nothing to save"), tr("Open a volume and segment it first."), quiet);
        return false;
    }
    try {
        core::writeLabelMap(m_workspace->labels(), path.toStdString());
    } catch (const core::Error& e) {
        reportError(tr("Cannot save label map"), QString::fromStdString(e.what()), quiet);
        return false;
    }
    m_savePath = QFileInfo(path).absoluteFilePath();
    m_dirty = false;
    m_window->statusBar()->showMessage(
        tr("Label map saved to %1 (the volume's geometry)").arg(QDir::toNativeSeparators(path)));
    return true;
}

bool VolumeMode::saveScreenshot(const QString& path, bool quiet)
{
    if (!m_workspace) {
        reportError(tr("Cannot save screenshot"), tr("The volume workspace is not open."), quiet);
        return false;
    }
    const QImage shot = m_workspace->grab().toImage();
    if (shot.isNull() || !shot.save(path, "PNG")) {
        reportError(tr("Cannot save screenshot"), tr("%1: could not write the PNG").arg(path),
                    quiet);
        return false;
    }
    m_window->statusBar()->showMessage(tr("Views saved to %1").arg(QDir::toNativeSeparators(path)));
    return true;
}

QStringList VolumeMode::heatMapNames()
{
    return {tr("Foreground probability"), tr("Uncertainty: entropy of the result"),
            tr("Uncertainty: step entropy"), tr("Uncertainty: mirror variance (TTA)")};
}

QString VolumeMode::volumeStem(const QString& path)
{
    QString name = QFileInfo(path).fileName();
    for (const char* ext : {".seg.nrrd", ".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"}) {
        if (name.toLower().endsWith(QLatin1String(ext))) {
            name.chop(static_cast<int>(std::strlen(ext)));
            break;
        }
    }
    return name;
}

bool VolumeMode::hasVolumeSuffix(const QString& path)
{
    const QString lower = QFileInfo(path).fileName().toLower();
    for (const char* ext : {".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm"}) {
        if (lower.endsWith(QLatin1String(ext))) {
            return true;
        }
    }
    return false;
}

} // namespace diffseg::app
