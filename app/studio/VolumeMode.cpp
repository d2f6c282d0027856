#include "VolumeMode.h"

#include "ActionFactory.h"
#include "CheckpointKind.h"
#include "ComputeChoices.h"
#include "MainWindow.h"
#include "ModelCatalog.h"
#include "RecentFiles.h"
#include "SessionAutosave.h"
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

VolumeMode::VolumeMode(MainWindow* window, bool interactive, const QString& autosaveRoot,
                       int autosaveIntervalMs, int autosaveDebounceMs)
    : QObject(window)
    , m_window(window)
    , m_interactive(interactive)
    , m_recent(std::make_unique<RecentFiles>(window->settings()))
    , m_session(std::make_unique<core::VolumeSession>())
    , m_autosaveStore(std::make_unique<AutosaveStore>(autosaveRoot))
{
    setObjectName(QStringLiteral("volumeMode"));
    // Only a volume read from a file can be reopened by a restore: generated ones are not saved.
    m_autosave = new SessionAutosave(
        *m_autosaveStore,
        [this]() -> const core::Session* {
            return hasVolume() && !m_session->path().empty() && m_session->isDirty()
                       ? m_session.get()
                       : nullptr;
        },
        autosaveIntervalMs, autosaveDebounceMs, this);
    connect(m_autosave, &SessionAutosave::failed, this, [this](const QString& message) {
        m_window->statusBar()->showMessage(tr("Autosave failed: %1").arg(message));
    });
    m_runner = new SegmentationRunner(this);
    connect(m_runner, &SegmentationRunner::progressAvailable, this, &VolumeMode::onProgress);
    connect(m_runner, &SegmentationRunner::stepFramesAvailable, this, &VolumeMode::onStepFrames);
    connect(m_runner, &SegmentationRunner::finished, this, &VolumeMode::onFinished);
    connect(m_runner, &SegmentationRunner::failed, this, &VolumeMode::onFailed);
    connect(m_runner, &SegmentationRunner::superseded, this, [this] {
        m_panel->setRunning(false);
        refineWithClicks(); // the newer clicks that stopped the run
    });
    connect(m_runner, &SegmentationRunner::modelReady, this, [this] {
        const auto& info = m_runner->modelInfo();
        if (!info || !m_panel) {
            return;
        }
        const core::ModelCapabilities& can = m_runner->capabilities();
        m_panel->setCapabilities(can);
        m_panel->setModelInfo(tr("%1, %2 parameters, %3 -> %4 classes, window %5^3, %6; runs on "
                                 "%7")
                                  .arg(QString::fromStdString(info->id))
                                  .arg(info->parameterCount)
                                  .arg(can.channels)
                                  .arg(static_cast<int>(can.labels.size()))
                                  .arg(info->inputSize)
                                  .arg(QString::fromStdString(info->normalization))
                                  .arg(QString::fromStdString(info->device) + ", " +
                                       QString::fromStdString(info->precision)));
        m_panel->setStatus(tr("Running the windows..."));
        // The model's class names (a Decathlon dataset's, recorded at training) label the brush.
        std::vector<std::pair<int, QString>> names;
        for (std::size_t k = 0; can.labelsNamed && k < can.labels.size(); ++k) {
            const int value = k < can.labelValues.size() ? can.labelValues[k] : static_cast<int>(k);
            names.emplace_back(value, QString::fromStdString(can.labels[k]));
        }
        m_workspace->setLabelNames(names);
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
    // The workspace (a widget of the window) may outlive this workflow and its session.
    if (m_workspace) {
        m_workspace->disconnect(this);
        m_workspace->bindSession(nullptr);
    }
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
    m_workspace->bindSession(m_session.get());
    m_stack->addWidget(m_workspace);
    m_window->setCentralWidget(m_stack);
    if (photo) {
        m_stack->setCurrentWidget(photo);
    }

    m_panel = new widgets::VolumePanel(m_window);
    m_panel->setCapabilities(core::Segmenter3D::familyCapabilities());
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

    m_steps = new widgets::StepBrowser(widgets::StepBrowser::Setup::volumes(), m_window);
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
            m_panel->applyCard(checkpointCard(p));
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
            m_workspace->setGroundTruth(on ? m_session->groundTruth() : core::LabelMap());
        }
    });

    m_steps->setFrameProvider([this](int step, int, widgets::StepView view, const QSize& size) {
        return stepThumbnail(step, view, size);
    });
    connect(m_steps, &widgets::StepBrowser::frameChanged, this,
            [this](int step, int, widgets::StepView view) { showStep(step, view); });
    connect(m_steps, &widgets::StepBrowser::previewToggled, this, [this](bool on) {
        if (QAction* a = m_actions.value(QStringLiteral("volumeStepPreview"))) {
            const QSignalBlocker block(a);
            a->setChecked(on);
        }
        if (!on && hasVolume()) {
            m_workspace->setPreviewLabels(m_resultPending && m_output ? m_output->volume()->labels
                                                                      : core::LabelMap());
            applyHeatMap();
        }
    });
    connect(m_steps, &widgets::StepBrowser::surfaceIn3dToggled, this, [this](bool on) {
        const VolumeStepFrame* frame = on && m_shownStep >= 0 ? frameFor(m_shownStep) : nullptr;
        if (hasVolume()) {
            m_workspace->setSurfaceLabels(frame ? frame->labels : core::LabelMap());
        }
    });
    connect(m_steps, &widgets::StepBrowser::acceptStepRequested, this,
            [this](int step, int) { acceptStep(step); });

    connect(m_workspace, &widgets::VolumeWorkspace::labelsChanged, this, [this] {
        if (!m_session->groundTruth().empty()) {
            m_diceTimer->start();
        }
    });
    connect(m_workspace, &widgets::VolumeWorkspace::historyChanged, this, [this] {
        updateHistoryActions();
        if (m_session->isDirty()) {
            m_autosave->markEdited();
        }
    });
    connect(m_workspace, &widgets::VolumeWorkspace::hovered, m_hoverLabel, &QLabel::setText);
    connect(m_workspace, &widgets::VolumeWorkspace::promptsChanged, this,
            [this] { refineWithClicks(); });
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

widgets::StepBrowser* VolumeMode::stepBrowser()
{
    ensureUi();
    return m_steps;
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
