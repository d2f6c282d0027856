#include "MainWindow.h"

#include "CheckpointKind.h"
#include "MaskOps.h"
#include "ModelCatalog.h"
#include "RecentFiles.h"
#include "ReportComposer.h"
#include "SegmentationRunner.h"
#include "ShortcutsDialog.h"
#include "TrainingController.h"
#include "VolumeMode.h"
#include "base/Error.h"
#include "base/SampleData.h"
#include "data/DatasetLayout.h"
#include "data/DemoData.h"
#include "image/ImageConversion.h"
#include "image/ImageView.h"
#include "image/SegmentationView2D.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#include "metrics/ForegroundOverlap.h"
#include "panels/ModelPanel.h"
#include "panels/OverlayPanel.h"
#include "panels/ReportWriter.h"
#include "runtime/ResourcePaths.h"
#include "runtime/Runtime.h"
#include "session/DocumentPaths.h"
#include "session/PhotoSession.h"
#include "steps/EnsembleGallery.h"
#include "training/TrainingPanel.h"
#include "volume/VolumeView3D.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>

#include <vtkVersion.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

namespace diffseg::app {

namespace {

constexpr int kSampleImageSize = 512;
constexpr int kSampleVolumeSize = 96;
constexpr std::uint32_t kSampleSeed = 2024;
/// The demo photo: 512 px like the sample, at the first seed the demo model's held-out images use
/// (packaging/make-demo-models.sh trains on seeds 0..239 and scores seeds 10000..10007).
constexpr int kDemoImageSize = 512;
constexpr std::uint64_t kDemoSeed = 10000;
/// Normalised uncertainty above which a pixel belongs to an "uncertain region".
/// The session's names of the uncertainty maps, in the order of kUncertaintyNames.
const std::array<std::string, 3> kUncertaintyMaps = {"std", "entropy", "instability"};

const QStringList kUncertaintyNames = {QStringLiteral("Ensemble std"),
                                       QStringLiteral("Predictive entropy"),
                                       QStringLiteral("Step instability")};

QString imageFilter()
{
    return QObject::tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff);;All files (*)");
}

QString seconds(double s)
{
    return s < 10 ? QStringLiteral("%1 s").arg(s, 0, 'f', 2)
                  : QStringLiteral("%1 s").arg(s, 0, 'f', 1);
}

QString number(double v, int decimals = 3)
{
    return std::isnan(v) ? QStringLiteral("n/a") : QString::number(v, 'f', decimals);
}

} // namespace

MainWindow::MainWindow(const MainWindowOptions& options, QWidget* parent)
    : QMainWindow(parent)
    , m_options(options)
{
    setWindowTitle(tr("DiffSeg Studio"));
    setAcceptDrops(true);
    m_settings = m_options.settingsFile.isEmpty()
                     ? std::make_unique<QSettings>()
                     : std::make_unique<QSettings>(m_options.settingsFile, QSettings::IniFormat);
    m_recent = std::make_unique<RecentFiles>(*m_settings);
    QString autosaveRoot = m_options.autosaveFolder;
    if (autosaveRoot.isEmpty()) {
        autosaveRoot = QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation))
                           .filePath(QStringLiteral("autosave"));
    }
    m_autosave = std::make_unique<AutosaveStore>(autosaveRoot);

    m_view = new widgets::SegmentationView2D(this);
    m_view->setObjectName(QStringLiteral("segmentationView"));
    m_view->setToolTip(tr("The image with the mask. Wheel: zoom; middle drag or Space + drag: pan; "
                          "F: fit. Tools are in the tool bar."));
    setCentralWidget(m_view);
    m_runner = new SegmentationRunner(this);

    m_metricsTimer = new QTimer(this);
    m_metricsTimer->setSingleShot(true);
    m_metricsTimer->setInterval(40);
    connect(m_metricsTimer, &QTimer::timeout, this, &MainWindow::updateMetrics);
    m_autosaveDebounce = new QTimer(this);
    m_autosaveDebounce->setSingleShot(true);
    m_autosaveDebounce->setInterval(m_options.autosaveDebounceMs);
    connect(m_autosaveDebounce, &QTimer::timeout, this, &MainWindow::autosaveNow);
    m_autosavePeriodic = new QTimer(this);
    m_autosavePeriodic->setInterval(m_options.autosaveIntervalMs);
    connect(m_autosavePeriodic, &QTimer::timeout, this, [this] {
        if (m_autosaveDirty) {
            autosaveNow();
        }
    });
    m_autosavePeriodic->start();

    createDocks();
    createTrainingDock();
    createActions();
    createMenus();
    createToolBar();
    // The volume (CT/MRI) workflow: its own workspace, docks and actions (VolumeMode.h).
    m_volumeMode = new VolumeMode(this, m_options.interactive);
    connect(m_volumeMode, &VolumeMode::segmentationEnded, this, &MainWindow::segmentationEnded);

    m_pixelLabel = new QLabel(this);
    m_maskLabel = new QLabel(this);
    m_glLabel = new QLabel(this);
    m_maskLabel->setToolTip(tr("Lesion area of the mask"));
    statusBar()->addPermanentWidget(m_pixelLabel);
    statusBar()->addPermanentWidget(m_maskLabel);
    statusBar()->addPermanentWidget(m_glLabel);
    connect(m_view, &widgets::ImageView::cursorMoved, this, &MainWindow::showPixelInfo);

    // The view's edits drive the metrics, the history actions and the autosave.
    connect(m_view, &widgets::SegmentationView2D::maskEdited, this, [this] {
        if (!m_metricsTimer->isActive()) {
            m_metricsTimer->start();
        }
    });
    connect(m_view, &widgets::SegmentationView2D::historyChanged, this, [this] {
        updateHistoryActions();
        if (!m_loading) {
            markEdited();
        }
    });
    connect(m_view, &widgets::SegmentationView2D::toolChanged, this,
            [this](widgets::SegmentationView2D::Tool tool) {
                static const char* names[] = {"toolNavigate", "toolBrush", "toolEraser",
                                              "toolPolygon", "toolFill"};
                if (QAction* a = m_actions.value(QLatin1String(names[static_cast<int>(tool)]))) {
                    a->setChecked(true);
                }
            });
    connect(m_view, &widgets::SegmentationView2D::brushRadiusChanged, this, [this](double r) {
        const QSignalBlocker block(m_brushSize);
        m_brushSize->setValue(static_cast<int>(std::lround(r)));
    });

    connect(m_runner, &SegmentationRunner::runStarted, this, &MainWindow::onRunStarted);
    connect(m_runner, &SegmentationRunner::stepAvailable, this, &MainWindow::onStepAvailable);
    connect(m_runner, &SegmentationRunner::failed, this, &MainWindow::onRunFailed);
    connect(m_runner, &SegmentationRunner::finished, this, [this] {
        if (m_runSerial == m_imageSerial) {
            presentResult(m_runner->output());
        } else {
            m_modelPanel->setRunning(false);
        }
        Q_EMIT segmentationEnded(true);
    });
    connect(m_runner, &SegmentationRunner::modelReady, this, [this] {
        if (const auto& info = m_runner->modelInfo()) {
            m_modelPanel->setModelTimesteps(info->schedule.timesteps);
            m_modelPanel->setDeviceText(
                tr("%1, %2 parameters, %3x%3 input, T = %4%5; runs on %6")
                    .arg(QString::fromStdString(info->id))
                    .arg(info->parameterCount)
                    .arg(info->inputSize)
                    .arg(info->schedule.timesteps)
                    .arg(info->usesEma ? tr(", EMA weights") : QString())
                    .arg(QString::fromStdString(info->device) + ", " +
                         QString::fromStdString(info->precision) +
                         (info->device == "cpu" && !core::libraryVersions().cudaAvailable
                              ? tr(" (no CUDA GPU found)")
                              : QString())));
        }
    });

    refreshModels();
    const QStringList gone = m_recent->pruneMissing();
    rebuildRecentMenu();
    updateHistoryActions();
    updateActionsEnabled();
    resize(1440, 900);
    if (m_settings->contains(QStringLiteral("window/state"))) {
        restoreState(m_settings->value(QStringLiteral("window/state")).toByteArray());
    }
    statusBar()->showMessage(
        gone.isEmpty() ? tr("Ready. Open an image with File > Open (Ctrl+O) or drop one here.")
                       : tr("Removed %n missing file(s) from the recent list: %1", nullptr,
                            static_cast<int>(gone.size()))
                             .arg(gone.join(QStringLiteral(", "))));
}

MainWindow::~MainWindow()
{
    // The worker must not post into a half-destroyed window, and children deleted after this
    // body must not reach its slots.
    m_runner->cancel();
    m_runner->waitForIdle(60000);
    for (QObject* child :
         std::initializer_list<QObject*>{m_runner, m_view, m_modelPanel, m_overlayPanel,
                                         m_stepBrowser, m_gallery, m_brushSize}) {
        child->disconnect(this);
    }
    if (m_volumeView) {
        m_volumeView->renderWidget()->disconnect(this);
    }
}

//------------------------------------------------------------------------------------------------
// Construction

void MainWindow::createDocks()
{
    m_modelPanel = new widgets::ModelPanel(this);
    m_modelDock = new QDockWidget(tr("Model"), this);
    m_modelDock->setObjectName(QStringLiteral("modelDock"));
    // Panels scroll rather than force a tall window on small screens.
    auto scrolled = [this](QWidget* panel) {
        auto* area = new QScrollArea(this);
        area->setWidget(panel);
        area->setWidgetResizable(true);
        area->setFrameShape(QFrame::NoFrame);
        area->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        return area;
    };
    m_modelDock->setWidget(scrolled(m_modelPanel));
    addDockWidget(Qt::LeftDockWidgetArea, m_modelDock);

    m_overlayPanel = new widgets::OverlayPanel(m_view, this);
    m_overlayPanel->setUncertaintyMaps(kUncertaintyNames);
    m_overlayDock = new QDockWidget(tr("Overlays"), this);
    m_overlayDock->setObjectName(QStringLiteral("overlayDock"));
    m_overlayDock->setWidget(scrolled(m_overlayPanel));
    addDockWidget(Qt::LeftDockWidgetArea, m_overlayDock);

    auto* stepsArea = new QWidget(this);
    m_stepView = new widgets::ImageView(stepsArea);
    m_stepView->setObjectName(QStringLiteral("stepFrameView"));
    m_stepView->setMinimumSize(120, 90);
    m_stepView->setMaximumWidth(260);
    m_stepView->setPlaceholderText(tr("Step frames appear here while the model samples"));
    m_stepView->setToolTip(tr("The chosen step as the network sees it (its input size): the x0 "
                              "estimate, the noisy sample x_t or the mask"));
    m_stepBrowser = new widgets::StepBrowser(stepsArea);
    m_stepBrowser->setObjectName(QStringLiteral("stepBrowser"));
    auto* stepsLayout = new QHBoxLayout(stepsArea);
    stepsLayout->setContentsMargins(2, 2, 2, 2);
    stepsLayout->addWidget(m_stepView);
    stepsLayout->addWidget(m_stepBrowser, 1);
    m_stepDock = new QDockWidget(tr("Steps"), this);
    m_stepDock->setObjectName(QStringLiteral("stepDock"));
    m_stepDock->setWidget(stepsArea);
    addDockWidget(Qt::BottomDockWidgetArea, m_stepDock);

    m_gallery = new widgets::EnsembleGallery(this);
    m_gallery->setObjectName(QStringLiteral("ensembleGallery"));
    m_galleryDock = new QDockWidget(tr("Ensemble"), this);
    m_galleryDock->setObjectName(QStringLiteral("galleryDock"));
    m_galleryDock->setWidget(m_gallery);
    addDockWidget(Qt::BottomDockWidgetArea, m_galleryDock);
    tabifyDockWidget(m_stepDock, m_galleryDock);
    m_stepDock->raise();

    // The 3D view is made when first shown: an OpenGL widget anywhere in the window makes Qt
    // compose every repaint of the window through OpenGL, which costs tens of milliseconds per
    // frame with software OpenGL, so a 2D-only session stays without one.
    m_volumeDock = new QDockWidget(tr("3D view"), this);
    m_volumeDock->setObjectName(QStringLiteral("volumeDock"));
    m_volumeDock->setMinimumWidth(320);
    addDockWidget(Qt::RightDockWidgetArea, m_volumeDock);
    m_volumeDock->hide();
    connect(m_volumeDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible) {
            volumeView();
        }
    });
    resizeDocks({m_modelDock}, {300}, Qt::Horizontal);
    resizeDocks({m_stepDock}, {210}, Qt::Vertical);
    resizeDocks({m_modelDock, m_overlayDock}, {320, 330}, Qt::Vertical);

    m_stepBrowser->setFrameProvider(
        [this](int step, int member, widgets::StepBrowser::Mode mode, const QSize& size) {
            const QImage frame = stepImage(step, member, mode);
            if (frame.isNull() || m_image.empty()) {
                return frame;
            }
            const QSize target =
                QSize(m_image.width(), m_image.height()).scaled(size, Qt::KeepAspectRatio);
            return frame.scaled(target, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
        });
    connect(m_stepBrowser, &widgets::StepBrowser::frameChanged, this, &MainWindow::showStepFrame);
    connect(m_stepBrowser, &widgets::StepBrowser::acceptStepRequested, this,
            &MainWindow::acceptStep);

    connect(m_modelPanel, &widgets::ModelPanel::segmentRequested, this,
            [this] { startSegmentation(); });
    connect(m_modelPanel, &widgets::ModelPanel::cancelRequested, this,
            &MainWindow::cancelSegmentation);
    connect(m_modelPanel, &widgets::ModelPanel::browseCheckpointRequested, this,
            &MainWindow::openModelWithDialog);
    connect(m_modelPanel, &widgets::ModelPanel::checkpointChanged, this, [this](const QString& p) {
        if (!p.isEmpty()) {
            m_settings->setValue(QStringLiteral("models/current"), p);
            applyValidatedSettings(p);
        }
        updateActionsEnabled();
    });
    connect(m_overlayPanel, &widgets::OverlayPanel::uncertaintyMapChosen, this,
            &MainWindow::chooseUncertaintyMap);
    connect(m_gallery, &widgets::EnsembleGallery::tileClicked, this, [this](int which) {
        if (!m_output || m_output->memberMasks.empty()) {
            return;
        }
        if (which == -2) {
            m_overlayPanel->setHeatmapChoice(2); // agreement ~ the members' spread: ensemble std
            return;
        }
        const core::Image2D mask = which >= 0
                                       ? m_output->memberMasks[static_cast<std::size_t>(which)]
                                       : majorityMask(m_output->memberMasks);
        m_view->setPreview(mask);
        m_acceptNote = which >= 0 ? tr("ensemble member %1").arg(which + 1)
                                  : tr("the ensemble's majority vote");
        statusBar()->showMessage(
            tr("Previewing %1 (dashed); press A to accept it as the mask").arg(m_acceptNote));
    });
}

void MainWindow::createTrainingDock()
{
    // Training runs in a `diffseg train` child process (TrainingProcess), so a worker that
    // crashes or runs out of memory never takes the window with it. The dock stays hidden until
    // Model > Train a Model (or View > Training) asks for it.
    auto* panel = new widgets::TrainingPanel(this);
    panel->setObjectName(QStringLiteral("trainingPanel"));
    m_trainingDock = new QDockWidget(tr("Training"), this);
    m_trainingDock->setObjectName(QStringLiteral("trainingDock"));
    m_trainingDock->setWidget(panel);
    addDockWidget(Qt::RightDockWidgetArea, m_trainingDock);
    m_trainingDock->hide();
    m_training = new TrainingController(panel, *m_settings, this);
    // A finished or stopped run's checkpoint joins the model chooser: runs under the runs folder
    // are listed by refreshModels(), one elsewhere (resumed from the index) is added as a file.
    connect(m_training, &TrainingController::checkpointAvailable, this,
            [this](const QString& path) {
                const QString runs = m_training->runsFolder();
                const QString parent = QFileInfo(QFileInfo(path).absolutePath()).absolutePath();
                if (QFileInfo(parent) == QFileInfo(runs)) {
                    refreshModels();
                } else {
                    addModel(path);
                }
                statusBar()->showMessage(tr("The model chooser now offers %1").arg(path), 8000);
            });
    connect(m_training, &TrainingController::runsFolderChanged, this, [this](const QString& f) {
        m_settings->setValue(QStringLiteral("models/runsFolder"), f);
        refreshModels();
    });
    auto* train = new QAction(tr("&Train a Model..."), this);
    train->setObjectName(QStringLiteral("train"));
    train->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
    train->setToolTip(tr("Show the Training panel: train DermoSegDiff or Diff-UNet on a dataset "
                         "folder in a background process, with live curves (Ctrl+Shift+T)"));
    train->setStatusTip(train->toolTip());
    addAction(train);
    m_actions.insert(QStringLiteral("train"), train);
    connect(train, &QAction::triggered, this, [this] {
        m_trainingDock->show();
        m_trainingDock->raise();
        resizeDocks({m_trainingDock}, {std::max(760, width() / 2)}, Qt::Horizontal);
    });
}

void MainWindow::createActions()
{
    auto make = [this](const QString& name, const QString& text, const QString& tip,
                       const QList<QKeySequence>& keys = {}) {
        auto* a = new QAction(text, this);
        a->setObjectName(name);
        a->setToolTip(tip);
        a->setStatusTip(tip);
        a->setShortcuts(keys);
        if (!keys.isEmpty()) {
            // Tool-bar tooltips show the shortcut too.
            a->setToolTip(QStringLiteral("%1 (%2)").arg(
                tip, keys.first().toString(QKeySequence::NativeText)));
        }
        a->setShortcutContext(Qt::WindowShortcut);
        addAction(a);
        m_actions.insert(name, a);
        return a;
    };

    // File
    connect(make("open", tr("&Open..."), tr("Open a dermoscopy image (PNG, JPEG, BMP, TIFF)"),
                 {QKeySequence::Open}),
            &QAction::triggered, this, &MainWindow::openWithDialog);
    connect(
        make("openSample", tr("Open &sample data"), tr("A generated lesion image and CT phantom")),
        &QAction::triggered, this, &MainWindow::openSamples);
    connect(make("openDemo", tr("Open the &demo"),
                 tr("A generated dermoscopy photo with its ground truth and the demo model "
                    "selected: press Segment (Ctrl+R) to run it")),
            &QAction::triggered, this, [this] { openDemo(); });
    connect(make("loadGroundTruth", tr("Load &Ground Truth..."),
                 tr("Load a reference mask of the open image to see Dice and IoU live"),
                 {QKeySequence(Qt::CTRL | Qt::Key_G)}),
            &QAction::triggered, this, &MainWindow::loadGroundTruthWithDialog);
    connect(make("saveMask", tr("&Save Mask"),
                 tr("Save the mask as a PNG (0 and 255) of the image's size"),
                 {QKeySequence::Save}),
            &QAction::triggered, this, &MainWindow::saveMask);
    connect(make("saveMaskAs", tr("Save Mask &As..."), tr("Save the mask under another name"),
                 {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S)}),
            &QAction::triggered, this, &MainWindow::saveMaskAs);
    connect(make("saveScreenshot", tr("Save Screens&hot of View..."),
                 tr("Save the 2D view as you see it (image and overlays) as a PNG"),
                 {QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_S)}),
            &QAction::triggered, this, &MainWindow::saveScreenshotWithDialog);
    connect(make("exportReport", tr("Export &Report..."),
                 tr("An A4 report (PDF or PNG): image, mask, uncertainty, metrics and settings"),
                 {QKeySequence(Qt::CTRL | Qt::Key_E)}),
            &QAction::triggered, this, &MainWindow::exportReportWithDialog);
    connect(make("quit", tr("&Quit"), tr("Close DiffSeg Studio"), {QKeySequence::Quit}),
            &QAction::triggered, this, &QWidget::close);

    // Edit
    m_undoAction = make("undo", tr("&Undo"), tr("Undo the last edit"), {QKeySequence::Undo});
    m_undoAction->setProperty("shortcutName", tr("Undo the last edit"));
    // The menu names what will be undone; the tool bar keeps a short label.
    m_undoAction->setIconText(tr("Undo"));
    connect(m_undoAction, &QAction::triggered, m_view, &widgets::SegmentationView2D::undo);
    m_redoAction =
        make("redo", tr("&Redo"), tr("Redo the edit undone last"),
             {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
    m_redoAction->setProperty("shortcutName", tr("Redo the edit undone last"));
    m_redoAction->setIconText(tr("Redo"));
    connect(m_redoAction, &QAction::triggered, m_view, &widgets::SegmentationView2D::redo);
    connect(make("acceptAi", tr("&Accept AI Result"),
                 tr("Make the dashed AI result the mask (one undo step)"),
                 {QKeySequence(Qt::Key_A)}),
            &QAction::triggered, this, &MainWindow::acceptAiResult);
    m_actions.value(QStringLiteral("acceptAi"))->setIconText(tr("Accept AI"));
    connect(make("clearMask", tr("&Clear Mask"), tr("Remove every lesion pixel (one undo step)"),
                 {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Delete)}),
            &QAction::triggered, this, [this] {
                if (m_image.empty()) {
                    return;
                }
                core::Image2D empty(m_image.width(), m_image.height(), 1, core::PixelType::UInt8);
                m_view->replaceMask(empty, "Clear mask");
            });

    // Tools
    m_toolGroup = new QActionGroup(this);
    const struct
    {
        const char* name;
        QString text;
        QString tip;
        Qt::Key key;
        widgets::SegmentationView2D::Tool tool;
    } tools[] = {
        {"toolNavigate", tr("Navigate"), tr("Pan with the left button, zoom with the wheel"),
         Qt::Key_V, widgets::SegmentationView2D::Tool::Navigate},
        {"toolBrush", tr("Brush"), tr("Paint lesion (right button or Shift erases)"), Qt::Key_B,
         widgets::SegmentationView2D::Tool::Brush},
        {"toolEraser", tr("Eraser"), tr("Erase lesion pixels"), Qt::Key_E,
         widgets::SegmentationView2D::Tool::Eraser},
        {"toolPolygon", tr("Polygon"),
         tr("Click vertices and double-click to close, or drag a freehand lasso; Shift or right "
            "button erases"),
         Qt::Key_L, widgets::SegmentationView2D::Tool::Polygon},
        {"toolFill", tr("Fill"), tr("Fill the clicked region; right button clears it"), Qt::Key_G,
         widgets::SegmentationView2D::Tool::Fill},
    };
    for (const auto& t : tools) {
        QAction* a = make(QLatin1String(t.name), t.text, t.tip, {QKeySequence(t.key)});
        a->setCheckable(true);
        a->setActionGroup(m_toolGroup);
        const auto tool = t.tool;
        connect(a, &QAction::triggered, this, [this, tool] {
            m_view->setTool(tool);
            m_view->setFocus();
        });
    }
    m_actions.value(QStringLiteral("toolNavigate"))->setChecked(true);
    connect(make("brushSmaller", tr("Smaller Brush"), tr("Brush radius / 1.25"),
                 {QKeySequence(Qt::Key_BracketLeft)}),
            &QAction::triggered, this,
            [this] { m_view->setBrushRadius(m_view->brushRadius() / 1.25); });
    connect(make("brushLarger", tr("Larger Brush"), tr("Brush radius x 1.25"),
                 {QKeySequence(Qt::Key_BracketRight)}),
            &QAction::triggered, this,
            [this] { m_view->setBrushRadius(m_view->brushRadius() * 1.25); });
    connect(make("nextRegion", tr("&Next Uncertain Region"),
                 tr("Centre the view on the largest uncertain region not yet reviewed"),
                 {QKeySequence(Qt::Key_N)}),
            &QAction::triggered, this, &MainWindow::nextUncertainRegion);
    m_actions.value(QStringLiteral("nextRegion"))->setIconText(tr("Next Region"));

    // View
    connect(make("zoomIn", tr("Zoom &In"), tr("Zoom in around the centre"),
                 {QKeySequence(Qt::CTRL | Qt::Key_Equal), QKeySequence::ZoomIn}),
            &QAction::triggered, m_view, &widgets::ImageView::zoomIn);
    connect(make("zoomOut", tr("Zoom &Out"), tr("Zoom out around the centre"),
                 {QKeySequence(Qt::CTRL | Qt::Key_Minus)}),
            &QAction::triggered, m_view, &widgets::ImageView::zoomOut);
    connect(make("fit", tr("&Fit to Window"), tr("Show the whole image"),
                 {QKeySequence(Qt::CTRL | Qt::Key_0)}),
            &QAction::triggered, m_view, &widgets::ImageView::fitToWindow);
    connect(make("actualSize", tr("&Actual Size"), tr("One screen pixel per image pixel"),
                 {QKeySequence(Qt::CTRL | Qt::Key_1)}),
            &QAction::triggered, m_view, &widgets::ImageView::actualSize);
    connect(make("reset3d", tr("&Reset 3D View"), tr("Show the whole volume again")),
            &QAction::triggered, this, [this] { volumeView()->resetView(); });

    // Model
    connect(make("segment", tr("&Segment"), tr("Run the model on the open image"),
                 {QKeySequence(Qt::CTRL | Qt::Key_R)}),
            &QAction::triggered, this, [this] { startSegmentation(); });
    connect(make("cancelSegment", tr("&Cancel Segmentation"),
                 tr("Stop sampling; the steps so far stay browsable"),
                 {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R)}),
            &QAction::triggered, this, &MainWindow::cancelSegmentation);
    connect(make("openModel", tr("Open &Model..."),
                 tr("Add a checkpoint (ours .dsckpt or a reference .pth) to the model chooser"),
                 {QKeySequence(Qt::CTRL | Qt::Key_M)}),
            &QAction::triggered, this, &MainWindow::openModelWithDialog);
    connect(make("modelsFolder", tr("Models &Folder..."),
                 tr("A folder whose checkpoints the model chooser lists")),
            &QAction::triggered, this, [this] {
                const QString dir = QFileDialog::getExistingDirectory(
                    this, tr("Models folder"),
                    m_settings->value(QStringLiteral("models/folder")).toString());
                if (!dir.isEmpty()) {
                    setModelsFolder(dir);
                }
            });
    connect(make("runsFolder", tr("&Runs Folder..."),
                 tr("Where `diffseg train` writes its runs (runs/<name>/best.dsckpt)")),
            &QAction::triggered, this, [this] {
                const QString dir = QFileDialog::getExistingDirectory(
                    this, tr("Runs folder"),
                    m_settings->value(QStringLiteral("models/runsFolder")).toString());
                if (!dir.isEmpty()) {
                    setRunsFolder(dir);
                }
            });
    connect(make("refreshModels", tr("Refresh Model &List"),
                 tr("Look for new checkpoints in the models and runs folders"),
                 {QKeySequence(Qt::Key_F5)}),
            &QAction::triggered, this, &MainWindow::refreshModels);
    m_deviceGroup = new QActionGroup(this);
    const QString device = m_settings->value(QStringLiteral("models/device"), "auto").toString();
    const bool cudaAvailable = core::libraryVersions().cudaAvailable;
    for (const auto& [id, text] :
         {std::pair<QString, QString>{"auto", tr("Automatic (GPU when usable)")},
          {"cpu", tr("CPU")},
          {"cuda", tr("CUDA GPU")}}) {
        auto* a = new QAction(text, this);
        a->setObjectName(QStringLiteral("device_") + id);
        a->setCheckable(true);
        a->setData(id);
        a->setToolTip(tr("Where the model runs; a GPU is much faster"));
        a->setActionGroup(m_deviceGroup);
        a->setChecked(id == device || (id == "auto" && device == "cuda" && !cudaAvailable));
        if (id == "cuda" && !cudaAvailable) {
            // Said up front rather than as an error after pressing Segment.
            a->setEnabled(false);
            a->setText(tr("CUDA GPU (none found)"));
            a->setToolTip(tr("No CUDA GPU found (this LibTorch has no CUDA, or no GPU is "
                             "visible): models run on the CPU"));
        }
        connect(a, &QAction::triggered, this,
                [this, id = id] { m_settings->setValue(QStringLiteral("models/device"), id); });
    }
    m_precisionGroup = new QActionGroup(this);
    const QString precision =
        m_settings->value(QStringLiteral("models/precision"), "auto").toString();
    const bool nativeBf16 = core::engine::cpuHasNativeBf16();
    for (const auto& [id, text] :
         {std::pair<QString, QString>{"auto", nativeBf16 ? tr("Automatic (bf16 on this CPU)")
                                                         : tr("Automatic (fp32 on this CPU)")},
          {"fp32", tr("float32")},
          {"bf16", nativeBf16 ? tr("bfloat16") : tr("bfloat16 (emulated: slower here)")}}) {
        auto* a = new QAction(text, this);
        a->setObjectName(QStringLiteral("precision_") + id);
        a->setCheckable(true);
        a->setData(id);
        a->setToolTip(tr("The arithmetic the model runs in: bfloat16 is about twice as fast where "
                         "the processor has it (AVX512-BF16, AMX, or a recent GPU), with the same "
                         "masks up to rounding"));
        a->setActionGroup(m_precisionGroup);
        a->setChecked(id == precision);
        connect(a, &QAction::triggered, this,
                [this, id = id] { m_settings->setValue(QStringLiteral("models/precision"), id); });
    }

    // Steps
    connect(make("prevStep", tr("&Previous Step"), tr("Show the previous reverse-diffusion step"),
                 {QKeySequence(Qt::Key_Comma)}),
            &QAction::triggered, this, [this] {
                m_stepBrowser->setFollowing(false);
                m_stepBrowser->previousStep();
            });
    connect(make("nextStep", tr("N&ext Step"), tr("Show the next reverse-diffusion step"),
                 {QKeySequence(Qt::Key_Period)}),
            &QAction::triggered, this, [this] {
                m_stepBrowser->setFollowing(false);
                m_stepBrowser->nextStep();
            });
    connect(make("firstStep", tr("&First Step"), tr("Show the first (noisiest) step"),
                 {QKeySequence(Qt::CTRL | Qt::Key_Comma)}),
            &QAction::triggered, this, [this] {
                m_stepBrowser->setFollowing(false);
                m_stepBrowser->firstStep();
            });
    connect(make("lastStep", tr("&Last Step"), tr("Show the last step (the result)"),
                 {QKeySequence(Qt::CTRL | Qt::Key_Period)}),
            &QAction::triggered, this, [this] { m_stepBrowser->lastStep(); });
    connect(make("playSteps", tr("Play / &Pause"), tr("Play the steps like a film"),
                 {QKeySequence(Qt::Key_K)}),
            &QAction::triggered, this,
            [this] { m_stepBrowser->setPlaying(!m_stepBrowser->isPlaying()); });
    connect(make("acceptStep", tr("&Use This Step"),
                 tr("Make the shown step's mask the mask (one undo step)"),
                 {QKeySequence(Qt::SHIFT | Qt::Key_A)}),
            &QAction::triggered, this, [this] {
                if (m_shownStep >= 0) {
                    acceptStep(m_shownStep, m_stepBrowser->member());
                }
            });
    m_stepPreviewAction = make("stepPreview", tr("Show Step &Preview in View"),
                               tr("Outline the shown step's mask (dashed) in the image view"),
                               {QKeySequence(Qt::Key_P)});
    m_stepPreviewAction->setCheckable(true);
    m_stepPreviewAction->setChecked(true);
    connect(m_stepPreviewAction, &QAction::toggled, this, [this](bool on) {
        if (!on) {
            m_view->clearPreview();
        } else if (m_shownStep >= 0) {
            showStepFrame(m_shownStep, m_stepBrowser->member(), m_stepBrowser->mode());
        }
    });

    // Help
    connect(make("shortcuts", tr("&Keyboard Shortcuts"), tr("Every shortcut of the window"),
                 {QKeySequence(Qt::Key_F1)}),
            &QAction::triggered, this, &MainWindow::showShortcuts);
    connect(make("about", tr("&About DiffSeg Studio"), tr("Versions of the libraries in use")),
            &QAction::triggered, this, &MainWindow::showAbout);
}

void MainWindow::createMenus()
{
    auto a = [this](const char* name) {
        return m_actions.value(QLatin1String(name));
    };
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(a("open"));
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    m_recentMenu->setToolTip(tr("Images opened lately"));
    file->addAction(a("openSample"));
    file->addAction(a("openDemo"));
    file->addAction(a("loadGroundTruth"));
    file->addSeparator();
    file->addAction(a("saveMask"));
    file->addAction(a("saveMaskAs"));
    file->addAction(a("saveScreenshot"));
    file->addAction(a("exportReport"));
    file->addSeparator();
    file->addAction(a("openModel"));
    file->addSeparator();
    file->addAction(a("quit"));

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_undoAction);
    edit->addAction(m_redoAction);
    edit->addSeparator();
    edit->addAction(a("acceptAi"));
    edit->addAction(a("clearMask"));

    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    for (const char* name :
         {"toolNavigate", "toolBrush", "toolEraser", "toolPolygon", "toolFill"}) {
        tools->addAction(a(name));
    }
    tools->addSeparator();
    tools->addAction(a("brushSmaller"));
    tools->addAction(a("brushLarger"));
    tools->addSeparator();
    tools->addAction(a("nextRegion"));

    QMenu* model = menuBar()->addMenu(tr("&Model"));
    model->addAction(a("segment"));
    model->addAction(a("cancelSegment"));
    model->addSeparator();
    model->addAction(a("openModel"));
    model->addAction(a("modelsFolder"));
    model->addAction(a("runsFolder"));
    model->addAction(a("refreshModels"));
    model->addAction(a("train"));
    QMenu* device = model->addMenu(tr("&Device"));
    device->addActions(m_deviceGroup->actions());
    QMenu* precisionMenu = model->addMenu(tr("&Precision"));
    precisionMenu->addActions(m_precisionGroup->actions());

    QMenu* steps = menuBar()->addMenu(tr("&Steps"));
    for (const char* name : {"prevStep", "nextStep", "firstStep", "lastStep", "playSteps"}) {
        steps->addAction(a(name));
    }
    steps->addSeparator();
    steps->addAction(a("acceptStep"));
    steps->addAction(m_stepPreviewAction);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (const char* name : {"zoomIn", "zoomOut", "fit", "actualSize"}) {
        view->addAction(a(name));
    }
    view->addSeparator();
    for (QDockWidget* d : {m_modelDock, m_overlayDock, m_stepDock, m_galleryDock, m_volumeDock}) {
        view->addAction(d->toggleViewAction());
    }
    view->addAction(m_trainingDock->toggleViewAction());
    view->addAction(a("reset3d"));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(a("shortcuts"));
    help->addAction(a("about"));
}

void MainWindow::createToolBar()
{
    QToolBar* bar = addToolBar(tr("Correction tools"));
    bar->setObjectName(QStringLiteral("toolsToolBar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    for (const char* name :
         {"toolNavigate", "toolBrush", "toolEraser", "toolPolygon", "toolFill"}) {
        bar->addAction(m_actions.value(QLatin1String(name)));
    }
    m_brushSize = new QSpinBox(bar);
    m_brushSize->setObjectName(QStringLiteral("brushSize"));
    m_brushSize->setRange(1, 1000);
    m_brushSize->setSuffix(tr(" px"));
    m_brushSize->setValue(static_cast<int>(std::lround(m_view->brushRadius())));
    m_brushSize->setToolTip(tr("Brush radius in image pixels ([ and ] change it)"));
    connect(m_brushSize, qOverload<int>(&QSpinBox::valueChanged), this,
            [this](int v) { m_view->setBrushRadius(v); });
    auto* sizeLabel = new QLabel(tr(" Radius "), bar);
    sizeLabel->setToolTip(m_brushSize->toolTip());
    bar->addWidget(sizeLabel);
    bar->addWidget(m_brushSize);
    bar->addSeparator();
    bar->addAction(m_undoAction);
    bar->addAction(m_redoAction);
    bar->addSeparator();
    bar->addAction(m_actions.value(QStringLiteral("acceptAi")));
    bar->addAction(m_actions.value(QStringLiteral("nextRegion")));
    bar->addSeparator();
    bar->addAction(m_actions.value(QStringLiteral("segment")));
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList files = m_recent->files();
    for (int i = 0; i < files.size(); ++i) {
        const QString path = files[i];
        QAction* a = m_recentMenu->addAction(
            QStringLiteral("&%1 %2").arg(i + 1).arg(QFileInfo(path).fileName()));
        a->setToolTip(path);
        a->setStatusTip(path);
        a->setData(path);
        connect(a, &QAction::triggered, this, [this, path] {
            if (!QFileInfo::exists(path)) {
                const QStringList gone = m_recent->pruneMissing();
                rebuildRecentMenu();
                reportError(tr("File not found"),
                            tr("%1 no longer exists; removed %n missing file(s) from the recent "
                               "list.",
                               nullptr, static_cast<int>(gone.size()))
                                .arg(path),
                            false);
                return;
            }
            openPath(path);
        });
    }
    m_recentMenu->addSeparator();
    QAction* prune = m_recentMenu->addAction(tr("Remove Missing Files"));
    prune->setToolTip(tr("Forget the files that no longer exist"));
    connect(prune, &QAction::triggered, this, [this] {
        const QStringList gone = m_recent->pruneMissing();
        rebuildRecentMenu();
        statusBar()->showMessage(gone.isEmpty() ? tr("Every recent file still exists")
                                                : tr("Removed from the recent list (missing): %1")
                                                      .arg(gone.join(QStringLiteral(", "))));
    });
    QAction* clear = m_recentMenu->addAction(tr("Clear List"));
    clear->setToolTip(tr("Forget every recent file"));
    connect(clear, &QAction::triggered, this, [this] {
        m_recent->clear();
        rebuildRecentMenu();
    });
    m_recentMenu->setEnabled(true);
}

//------------------------------------------------------------------------------------------------
// Files

void MainWindow::reportError(const QString& title, const QString& message, bool quiet)
{
    m_lastError = message;
    statusBar()->showMessage(QStringLiteral("%1: %2").arg(title, message));
    if (!quiet && m_options.interactive) {
        QMessageBox::warning(this, title, message);
    }
}

bool MainWindow::maybeSaveChanges()
{
    if (!m_dirty || !m_options.interactive || m_currentPath.isEmpty()) {
        return true;
    }
    const auto answer = QMessageBox::question(
        this, tr("Unsaved mask"),
        tr("The mask of %1 has changes that are not saved. Save them?")
            .arg(QFileInfo(m_currentPath).fileName()),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Cancel) {
        return false;
    }
    if (answer == QMessageBox::Save) {
        saveMask();
        return !m_dirty;
    }
    return true;
}

void MainWindow::openWithDialog()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open image or volume"), QFileInfo(m_currentPath).absolutePath(),
        tr("Images and volumes (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.nii *.nii.gz *.nrrd "
           "*.nhdr *.mha *.mhd *.dcm);;") +
            imageFilter());
    if (!path.isEmpty()) {
        openPath(path);
    }
}

void MainWindow::resetResultState()
{
    if (m_runner->isRunning()) {
        m_runner->cancel();
    }
    m_output.reset();
    m_stepCache.reset();
    m_liveStep = -1;
    m_liveX0.clear();
    m_timesteps.clear();
    m_shownStep = -1;
    m_acceptNote.clear();
    m_acceptedAtUndo = 0;
    m_view->session().setResult({});
    m_regionsShown = false;
    m_stepBrowser->reset(0, 1);
    m_stepView->setImage(QImage());
    m_gallery->clear();
    m_modelPanel->setProgress(0, 1, -1);
}

bool MainWindow::openPath(const QString& path, bool quiet)
{
    if (VolumeMode::isVolumePath(path)) {
        // CT/MRI volumes and DICOM folders open in the volume workspace.
        return m_volumeMode->openPath(path, quiet);
    }
    core::Image2D image;
    try {
        core::ImageReadOptions options;
        options.color = core::ImageColor::Rgb;
        image = core::readImage(path.toStdString(), options);
    } catch (const core::Error& e) {
        reportError(tr("Cannot open image"),
                    tr("%1\n\n%2").arg(path, QString::fromStdString(e.problem())), quiet);
        return false;
    }
    if (!maybeSaveChanges()) {
        return false;
    }
    m_loading = true;
    ++m_imageSerial;
    resetResultState();
    m_volumeMode->setActive(false);
    m_image = image;
    m_currentPath = QFileInfo(path).absoluteFilePath();
    m_view->setImage2D(image, m_currentPath.toStdString());
    m_overlayPanel->setGroundTruthAvailable(false);
    m_view->setFocus();
    m_loading = false;
    m_dirty = false;
    m_autosaveDirty = false;
    m_autosave->discard();
    // The 3D view shows the sample phantom, unrelated to a photo: make room for the photo.
    m_volumeDock->hide();
    m_recent->add(m_currentPath);
    rebuildRecentMenu();
    setWindowTitle(tr("%1 - DiffSeg Studio").arg(QFileInfo(path).fileName()));
    QString message = tr("Opened %1 (%2 x %3)")
                          .arg(QFileInfo(path).fileName())
                          .arg(image.width())
                          .arg(image.height());
    const QString gt = findGroundTruthFor(m_currentPath);
    if (!gt.isEmpty() && loadGroundTruth(gt, true)) {
        message += tr("; ground truth %1").arg(QFileInfo(gt).fileName());
    }
    updateMetrics();
    updateActionsEnabled();
    statusBar()->showMessage(message);
    return true;
}

void MainWindow::openSamples()
{
    if (!maybeSaveChanges()) {
        return;
    }
    m_loading = true;
    ++m_imageSerial;
    resetResultState();
    m_volumeMode->setActive(false);
    const core::SampleLesion lesion = core::makeSampleLesion(kSampleImageSize, kSampleSeed);
    m_image = lesion.image;
    m_view->setImage2D(lesion.image);
    m_overlayPanel->setGroundTruthAvailable(false);
    m_loading = false;
    const core::SamplePhantom phantom =
        core::makeSamplePhantom(kSampleVolumeSize, 3.0, kSampleSeed);
    m_volumeDock->show();
    volumeView()->setVolume(phantom.volume, true);
    resizeDocks({m_volumeDock}, {380}, Qt::Horizontal);
    m_currentPath.clear();
    m_dirty = false;
    m_autosave->discard();
    setWindowTitle(tr("Sample lesion (generated) - DiffSeg Studio"));
    updateMetrics();
    updateActionsEnabled();
    statusBar()->showMessage(
        tr("Showing generated sample data: a %1 px lesion image and a %2^3 CT phantom")
            .arg(kSampleImageSize)
            .arg(kSampleVolumeSize));
}

QString MainWindow::demoModelPath()
{
    // The studio's default photo model: the real one when it is installed.
    return QString::fromStdString(core::packagedDefaultModel(core::PackagedModelKind::Photo));
}

/// A real demo photo shipped in resources/demo/ (with its mask in masks/ and its credit in
/// CREDITS.md) for the real photo model; empty when none is installed.
QString MainWindow::realDemoPhoto()
{
    const QString folder = QString::fromStdString(core::resourcePath("demo"));
    if (folder.isEmpty()) {
        return {};
    }
    const QStringList photos = QDir(folder).entryList(
        {QStringLiteral("*.jpg"), QStringLiteral("*.png")}, QDir::Files, QDir::Name);
    return photos.isEmpty() ? QString() : QDir(folder).absoluteFilePath(photos.front());
}

bool MainWindow::openDemo()
{
    const QString model = demoModelPath();
    // The real model gets a real photo (one it never trained on, credited); the demo model the
    // generated photo it was made for.
    const bool real = !model.isEmpty() && !QFileInfo(model).fileName().contains("demo") &&
                      !realDemoPhoto().isEmpty();
    QString image = realDemoPhoto();
    QString what;
    if (real) {
        what = tr("a dermoscopy photo of the ISIC 2018 challenge's validation set (%1; ISIC "
                  "Archive, CC BY-NC 4.0), never trained on")
                   .arg(QFileInfo(image).completeBaseName());
    } else {
        // Written afresh each time (a few milliseconds), so the photo always matches this
        // version's generator; images/ and masks/ as `diffseg demo-data` writes them, so the
        // ground truth is found next to the photo like any other.
        const QString folder = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) +
                               QStringLiteral("/demo");
        const QString stem = QStringLiteral("demo_%1").arg(kDemoSeed);
        image = folder + QStringLiteral("/images/") + stem + QStringLiteral(".png");
        const QString mask =
            folder + QStringLiteral("/masks/") + stem + QStringLiteral("_segmentation.png");
        try {
            if (!QDir().mkpath(QFileInfo(image).absolutePath()) ||
                !QDir().mkpath(QFileInfo(mask).absolutePath())) {
                throw core::Error(core::ErrorKind::Io, folder.toStdString(), "cannot create it");
            }
            const core::DermoscopyDemo demo =
                core::generateDermoscopyDemo(kDemoImageSize, kDemoImageSize, kDemoSeed);
            core::writeImage(demo.image, image.toStdString());
            core::writeMaskPng(demo.mask, mask.toStdString());
        } catch (const std::exception& e) {
            reportError(tr("Demo"),
                        tr("Could not write the demo photo under %1:\n%2")
                            .arg(folder, QString::fromLocal8Bit(e.what())),
                        false);
            return false;
        }
        what = tr("a generated dermoscopy photo");
    }
    if (!openPath(image)) {
        return false;
    }
    setWindowTitle(real ? tr("Demo photo %1 (ISIC 2018, CC BY-NC 4.0) - DiffSeg Studio")
                              .arg(QFileInfo(image).completeBaseName())
                        : tr("Demo photo (generated) - DiffSeg Studio"));
    if (model.isEmpty()) {
        statusBar()->showMessage(tr("Demo: %1 with its ground truth. The photo models are not "
                                    "installed: open a DermoSegDiff "
                                    "checkpoint with File > Open Model (Ctrl+M)")
                                     .arg(what));
        return true;
    }
    refreshModels(); // lists the packaged models
    m_modelPanel->setCurrentCheckpoint(QFileInfo(model).absoluteFilePath());
    // The demo's run ends with the steps playing like a film (only for this photo).
    connect(
        this, &MainWindow::segmentationEnded, this,
        [this, image](bool ok) {
            if (ok && m_currentPath == QFileInfo(image).absoluteFilePath() && m_output) {
                m_stepBrowser->setPlaying(true);
            }
        },
        Qt::SingleShotConnection);
    statusBar()->showMessage(
        tr("Demo: %1 with its ground truth, and the model %2 selected. Press Segment (Ctrl+R) "
           "to run it.")
            .arg(what, QFileInfo(model).fileName()));
    return true;
}

QString MainWindow::groundTruthPath() const
{
    return QString::fromStdString(m_view->session().groundTruthPath());
}

QString MainWindow::findGroundTruthFor(const QString& imagePath)
{
    return QString::fromStdString(core::findPhotoGroundTruth(imagePath.toStdString()));
}

void MainWindow::loadGroundTruthWithDialog()
{
    if (m_image.empty()) {
        reportError(tr("No image"), tr("Open an image before its ground truth."), false);
        return;
    }
    const QString start =
        groundTruthPath().isEmpty() ? QFileInfo(m_currentPath).absolutePath() : groundTruthPath();
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Load ground-truth mask"), start, imageFilter());
    if (!path.isEmpty()) {
        loadGroundTruth(path);
    }
}

bool MainWindow::loadGroundTruth(const QString& path, bool quiet)
{
    if (m_image.empty()) {
        reportError(tr("No image"), tr("Open an image before its ground truth."), quiet);
        return false;
    }
    core::PhotoSession& session = m_view->session();
    try {
        session.loadGroundTruth(path.toStdString());
    } catch (const core::Error& e) {
        reportError(tr("Cannot use ground truth"),
                    tr("%1\n\n%2").arg(path, QString::fromStdString(e.problem())), quiet);
        return false;
    }
    m_view->setGroundTruth(session.groundTruth());
    m_overlayPanel->setGroundTruthAvailable(true);
    updateMetrics();
    statusBar()->showMessage(tr("Ground truth: %1").arg(QFileInfo(path).fileName()));
    return true;
}

bool MainWindow::saveMaskTo(const QString& path, bool quiet)
{
    if (m_image.empty()) {
        reportError(tr("Nothing to save"), tr("Open an image and segment it first."), quiet);
        return false;
    }
    try {
        m_view->session().save(path.toStdString());
    } catch (const core::Error& e) {
        reportError(tr("Cannot save mask"), QString::fromStdString(e.what()), quiet);
        return false;
    }
    m_dirty = false;
    m_autosaveDirty = false;
    m_autosave->discard();
    statusBar()->showMessage(tr("Mask saved to %1").arg(QDir::toNativeSeparators(path)));
    return true;
}

void MainWindow::saveMask()
{
    const QString saved = QString::fromStdString(m_view->session().savePath());
    if (saved.isEmpty()) {
        saveMaskAs();
    } else {
        saveMaskTo(saved);
    }
}

void MainWindow::saveMaskAs()
{
    const QString suggestion = QString::fromStdString(m_view->session().suggestedSavePath());
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save mask"), suggestion, tr("PNG mask (*.png)"));
    if (!path.isEmpty()) {
        saveMaskTo(path);
    }
}

bool MainWindow::saveViewScreenshot(const QString& path, bool quiet)
{
    const QImage shot = m_view->grab().toImage();
    if (shot.isNull() || !shot.save(path, "PNG")) {
        reportError(tr("Cannot save screenshot"), tr("%1: could not write the PNG").arg(path),
                    quiet);
        return false;
    }
    statusBar()->showMessage(tr("View saved to %1").arg(QDir::toNativeSeparators(path)));
    return true;
}

void MainWindow::saveScreenshotWithDialog()
{
    const QFileInfo image(m_currentPath);
    const QString suggestion =
        m_currentPath.isEmpty()
            ? QStringLiteral("view.png")
            : image.absoluteDir().filePath(image.completeBaseName() + "_view.png");
    const QString path = QFileDialog::getSaveFileName(this, tr("Save screenshot of the view"),
                                                      suggestion, tr("PNG image (*.png)"));
    if (!path.isEmpty()) {
        saveViewScreenshot(path);
    }
}

bool MainWindow::exportReport(const QString& path, bool quiet)
{
    if (m_image.empty()) {
        reportError(tr("Nothing to report"), tr("Open an image and segment it first."), quiet);
        return false;
    }
    ReportInputs in;
    in.source = m_currentPath.isEmpty() ? tr("generated sample image") : m_currentPath;
    in.image = m_image;
    in.mask = m_view->mask();
    in.groundTruth = m_view->groundTruth();
    in.colorMap = m_view->colorMap().name();
    const std::size_t area = countNonZero(in.mask);
    in.metrics.append(
        {tr("Lesion area"), tr("%1 px (%2 % of the image)")
                                .arg(area)
                                .arg(100.0 * area / in.mask.pixelCount(), 0, 'f', 1)});
    if (!in.groundTruth.empty()) {
        const core::OverlapMetrics o =
            core::overlapMetrics(core::foregroundCounts(in.mask, in.groundTruth, "ground truth"));
        in.metrics.append({tr("Dice (vs ground truth)"), number(o.dice)});
        in.metrics.append({tr("IoU"), number(o.iou)});
        in.metrics.append({tr("Sensitivity"), number(o.sensitivity)});
        in.metrics.append({tr("Precision"), number(o.precision)});
        in.metrics.append({tr("Ground truth"), QFileInfo(groundTruthPath()).fileName()});
    }
    in.metrics.append(
        {tr("Steps in the undo history"), QString::number(m_view->undoStack().undoCount())});
    if (m_output) {
        const core::SegmentResult& r = *m_output->result;
        const int index = std::clamp(m_uncertaintyIndex, 0, 2);
        in.uncertainty = m_output->uncertaintyDisplay[static_cast<std::size_t>(index)];
        in.uncertaintyName = kUncertaintyNames[index];
        in.metrics.append(
            {tr("Ensemble mean pairwise Dice"), number(m_gallery->meanPairwiseDice())});
        auto mean = [](const core::Image2D& map) {
            const float* v = map.data<float>();
            double s = 0.0;
            for (std::size_t i = 0; i < map.pixelCount(); ++i) {
                s += v[i];
            }
            return map.pixelCount() ? s / map.pixelCount() : 0.0;
        };
        in.metrics.append({tr("Mean ensemble std"), number(mean(r.uncertaintyStd))});
        in.metrics.append({tr("Mean entropy (nats)"), number(mean(r.uncertaintyEntropy))});
        in.metrics.append({tr("Uncertain regions"), QString::number(uncertainRegions().size())});
        const core::ModelInfo& m = m_output->model;
        const core::SegmentOptions& o = m_output->options;
        in.settings.append({tr("Model"), QFileInfo(QString::fromStdString(m.path)).fileName()});
        in.settings.append({tr("Model id"), QString::fromStdString(m.id)});
        in.settings.append({tr("Weights"), m.usesEma ? tr("EMA") : tr("online")});
        in.settings.append(
            {tr("Sampler"),
             QStringLiteral("%1, %2 steps")
                 .arg(QString::fromLatin1(core::samplerMethodName(o.sampler)).toUpper())
                 .arg(r.timesteps.size())});
        in.settings.append({tr("Ensemble"), QString::number(o.ensemble)});
        in.settings.append({tr("Eta / seed"), QStringLiteral("%1 / %2").arg(o.eta).arg(o.seed)});
        in.settings.append({tr("Input size"), QStringLiteral("%1 x %1").arg(m.inputSize)});
        in.settings.append({tr("Device"), QString::fromStdString(m.device)});
        in.settings.append({tr("Precision"), QString::fromStdString(m.precision)});
        in.settings.append({tr("Sampling time"), seconds(r.timings.sampling)});
    } else {
        in.settings.append({tr("Model"), tr("none (manual mask)")});
    }
    const std::size_t undoCount = m_view->undoStack().undoCount();
    in.notes = m_acceptNote.isEmpty() || undoCount < m_acceptedAtUndo
                   ? tr("The mask was drawn by hand.")
                   : tr("The mask started from %1 and has %n manual edit(s) since.", nullptr,
                        static_cast<int>(undoCount - m_acceptedAtUndo))
                         .arg(m_acceptNote);
    QString error;
    try {
        const widgets::ReportContent content = composeReport(in);
        const QString suffix = QFileInfo(path).suffix().toLower();
        if (suffix == QLatin1String("pdf")) {
            error = widgets::ReportWriter::writePdf(content, path);
        } else if (suffix == QLatin1String("png")) {
            error = widgets::ReportWriter::writePng(content, path);
        } else {
            error = tr("%1: a report is written as .pdf or .png").arg(path);
        }
    } catch (const core::Error& e) {
        error = QString::fromStdString(e.what());
    }
    if (!error.isEmpty()) {
        reportError(tr("Cannot export report"), error, quiet);
        return false;
    }
    statusBar()->showMessage(tr("Report written to %1").arg(QDir::toNativeSeparators(path)));
    return true;
}

void MainWindow::exportReportWithDialog()
{
    const QFileInfo image(m_currentPath);
    const QString suggestion =
        m_currentPath.isEmpty()
            ? QStringLiteral("report.pdf")
            : image.absoluteDir().filePath(image.completeBaseName() + "_report.pdf");
    QString filter;
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export report"), suggestion,
                                     tr("PDF document (*.pdf);;PNG image (*.png)"), &filter);
    if (path.isEmpty()) {
        return;
    }
    QString target = path;
    if (QFileInfo(target).suffix().isEmpty()) {
        target +=
            filter.contains(QLatin1String("png")) ? QStringLiteral(".png") : QStringLiteral(".pdf");
    }
    exportReport(target);
}

//------------------------------------------------------------------------------------------------
// Models

void MainWindow::refreshModels()
{
    const QString current = m_modelPanel->request().checkpoint.isEmpty()
                                ? m_settings->value(QStringLiteral("models/current")).toString()
                                : m_modelPanel->request().checkpoint;
    QString runs = m_settings->value(QStringLiteral("models/runsFolder")).toString();
    if (runs.isEmpty()) {
        runs = QDir::current().filePath(QStringLiteral("runs"));
    }
    const std::vector<ModelEntry> entries =
        ModelCatalog::scan(m_settings->value(QStringLiteral("models/folder")).toString(), runs,
                           m_settings->value(QStringLiteral("models/files")).toStringList() +
                               ModelCatalog::packagedModels(),
                           m_settings->value(QStringLiteral("models/presets")).toStringList());
    m_modelPanel->clearCheckpoints();
    m_presets.clear();
    for (const ModelEntry& e : entries) {
        if (checkpointKind(e.path) == CheckpointKind::Volume) {
            continue; // listed by the volume workspace
        }
        m_modelPanel->addCheckpoint(e.path, e.label, checkpointToolTip(e.path));
        m_presets.insert(e.path, e.referencePreset);
    }
    m_modelPanel->setCurrentCheckpoint(current);
    if (entries.empty()) {
        m_modelPanel->setStatus(tr("No model yet: File > Open Model (Ctrl+M), or set the runs "
                                   "folder of `diffseg train` in the Model menu"));
    } else {
        m_modelPanel->setStatus(tr("%n model(s) available", nullptr, int(entries.size())));
    }
    updateActionsEnabled();
    if (m_volumeMode) {
        m_volumeMode->refreshModels();
    }
}

void MainWindow::addModel(const QString& path, const QString& referencePreset)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList files = m_settings->value(QStringLiteral("models/files")).toStringList();
    files.removeAll(absolute);
    files.prepend(absolute);
    m_settings->setValue(QStringLiteral("models/files"), files);
    if (ModelCatalog::isReferenceCheckpoint(absolute)) {
        const QString preset =
            referencePreset.isEmpty() ? ModelCatalog::guessedPreset(absolute) : referencePreset;
        QStringList pairs = m_settings->value(QStringLiteral("models/presets")).toStringList();
        pairs.erase(std::remove_if(pairs.begin(), pairs.end(),
                                   [&](const QString& p) { return p.endsWith("|" + absolute); }),
                    pairs.end());
        pairs.append(preset + "|" + absolute);
        m_settings->setValue(QStringLiteral("models/presets"), pairs);
    }
    m_settings->setValue(QStringLiteral("models/current"), absolute);
    if (checkpointKind(absolute) == CheckpointKind::Volume) {
        // The volume chooser selects what was added last, as the photo chooser does.
        m_settings->setValue(QStringLiteral("models/currentVolume"), absolute);
    }
    refreshModels();
    m_modelPanel->setCurrentCheckpoint(absolute);
    if (checkpointKind(absolute) == CheckpointKind::Volume) {
        statusBar()->showMessage(tr("%1 is a Diff-UNet (volume) model: the Volume workspace's "
                                    "model chooser lists it")
                                     .arg(QFileInfo(absolute).fileName()));
    }
}

void MainWindow::openModelWithDialog()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open model"), m_settings->value(QStringLiteral("models/folder")).toString(),
        tr("Checkpoints (*.dsckpt *.pth *.pt);;All files (*)"));
    if (path.isEmpty()) {
        return;
    }
    QString preset;
    if (ModelCatalog::isReferenceCheckpoint(path)) {
        // A reference .pth does not say how its network was configured.
        QStringList presets;
        for (const std::string& p : core::ReferenceModelConfig::presetNames()) {
            presets << QString::fromStdString(p);
        }
        const QString guess = ModelCatalog::guessedPreset(path);
        bool ok = false;
        preset = QInputDialog::getItem(
            this, tr("Reference checkpoint"),
            tr("%1 is a checkpoint of the reference code. Which configuration trained it?")
                .arg(QFileInfo(path).fileName()),
            presets, std::max(0, static_cast<int>(presets.indexOf(guess))), false, &ok);
        if (!ok) {
            return;
        }
    }
    addModel(path, preset);
}

void MainWindow::setModelsFolder(const QString& folder)
{
    m_settings->setValue(QStringLiteral("models/folder"), QFileInfo(folder).absoluteFilePath());
    refreshModels();
}

void MainWindow::setRunsFolder(const QString& folder)
{
    m_settings->setValue(QStringLiteral("models/runsFolder"), QFileInfo(folder).absoluteFilePath());
    refreshModels();
    if (m_training) {
        m_training->setRunsFolder(folder); // one runs folder for the chooser and the Training panel
    }
}

//------------------------------------------------------------------------------------------------
// Sampling

bool MainWindow::isSegmenting() const
{
    return m_runner->isRunning();
}

void MainWindow::applyValidatedSettings(const QString& checkpoint)
{
    const core::ModelCard card = checkpointCard(checkpoint);
    widgets::SamplingRequest request = m_modelPanel->request();
    bool changed = false;
    if (const auto sampler = card.validatedText("sampler")) {
        request.ddim = *sampler == "ddim";
        changed = true;
    }
    if (const auto steps = card.validatedNumber("steps")) {
        request.steps = static_cast<int>(*steps);
        changed = true;
    }
    if (const auto ensemble = card.validatedNumber("ensemble")) {
        request.ensemble = static_cast<int>(*ensemble);
        changed = true;
    }
    if (const auto eta = card.validatedNumber("eta")) {
        request.eta = *eta;
        changed = true;
    }
    if (changed) {
        m_modelPanel->setRequest(request);
    }
}

void MainWindow::setHeatmapChoice(int index)
{
    if (m_volumeMode->isActive()) {
        m_volumeMode->setHeatMap(index);
    } else {
        m_overlayPanel->setHeatmapChoice(index);
    }
}

bool MainWindow::startSegmentation()
{
    if (m_volumeMode->isActive()) {
        return m_volumeMode->startSegmentation();
    }
    if (m_runner->isRunning()) {
        return false;
    }
    if (m_image.empty()) {
        reportError(tr("No image"), tr("Open an image to segment first (File > Open)."), false);
        return false;
    }
    const widgets::SamplingRequest request = m_modelPanel->request();
    if (request.checkpoint.isEmpty()) {
        reportError(tr("No model"), tr("Choose a checkpoint first: File > Open Model (Ctrl+M)."),
                    false);
        return false;
    }
    if (!QFileInfo::exists(request.checkpoint)) {
        reportError(tr("Model not found"),
                    tr("%1\n\nThe checkpoint file no longer exists.").arg(request.checkpoint),
                    false);
        refreshModels();
        return false;
    }
    if (checkpointKind(request.checkpoint) == CheckpointKind::Volume) {
        reportError(tr("Not a photo model"),
                    tr("%1\n\nis a Diff-UNet model for CT/MRI volumes. A photo needs a "
                       "DermoSegDiff checkpoint; open a volume (File > Open) to use this one.")
                        .arg(request.checkpoint),
                    false);
        return false;
    }
    SegmentationJob job;
    job.checkpoint = request.checkpoint;
    job.referencePreset = m_presets.value(request.checkpoint);
    job.device = m_deviceGroup->checkedAction() ? m_deviceGroup->checkedAction()->data().toString()
                                                : QStringLiteral("auto");
    job.precision = m_precisionGroup->checkedAction()
                        ? m_precisionGroup->checkedAction()->data().toString()
                        : QStringLiteral("auto");
    job.image = m_image;
    job.options.sampler = request.ddim ? core::SamplerMethod::Ddim : core::SamplerMethod::Ddpm;
    job.options.steps = request.ddim ? request.steps : 0;
    job.options.eta = request.eta;
    job.options.ensemble = request.ensemble;
    job.options.seed = static_cast<std::uint64_t>(request.seed);
    job.options.storeNoisy = true;
    m_runSerial = m_imageSerial;
    resetResultState();
    m_view->clearPreview();
    m_view->setHighlight({});
    m_view->setProbabilityMap({});
    m_view->setUncertaintyMap({});
    if (!m_runner->start(std::move(job))) {
        return false;
    }
    m_modelPanel->setRunning(true);
    m_modelPanel->setStatus(tr("Loading %1...").arg(QFileInfo(request.checkpoint).fileName()));
    m_stepDock->raise();
    updateActionsEnabled();
    statusBar()->showMessage(tr("Segmenting %1...").arg(QFileInfo(m_currentPath).fileName()));
    return true;
}

void MainWindow::cancelSegmentation()
{
    if (m_runner->isRunning()) {
        m_runner->cancel();
        m_modelPanel->setStatus(tr("Cancelling at the next step..."));
    }
}

void MainWindow::onRunStarted()
{
    if (m_runSerial != m_imageSerial) {
        return;
    }
    m_timesteps = m_runner->plannedTimesteps();
    m_stepBrowser->reset(static_cast<int>(m_timesteps.size()), m_modelPanel->request().ensemble);
    std::vector<QString> labels;
    for (const int t : m_timesteps) {
        labels.push_back(QStringLiteral("t = %1").arg(t));
    }
    m_stepBrowser->setStepLabels(labels);
    m_modelPanel->setProgress(0, static_cast<int>(m_timesteps.size()), -1);
    m_modelPanel->setStatus(tr("Sampling %1 steps x %2 members...")
                                .arg(m_timesteps.size())
                                .arg(m_modelPanel->request().ensemble));
}

void MainWindow::onStepAvailable()
{
    std::optional<StepUpdate> update = m_runner->takeLatestStep();
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
    const double perStep = update->samplingSeconds / (update->index + 1);
    m_modelPanel->setProgress(update->index + 1, update->count,
                              perStep * (update->count - update->index - 1));
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

void MainWindow::onRunFailed(const QString& message, bool cancelled)
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
        statusBar()->showMessage(tr("Segmentation cancelled"));
        if (current && m_stepCache) {
            m_stepBrowser->setAvailableSteps(m_stepCache->storedSteps(0));
        }
    } else {
        m_modelPanel->setStatus(tr("Failed: %1").arg(message));
        reportError(tr("Segmentation failed"), message, false);
    }
    Q_EMIT segmentationEnded(false);
}

void MainWindow::presentResult(const std::shared_ptr<const SegmentationOutput>& output)
{
    m_modelPanel->setRunning(false);
    if (!output || !output->result) {
        return;
    }
    const core::SegmentResult& r = *output->result;
    if (r.originalWidth != m_image.width() || r.originalHeight != m_image.height()) {
        reportError(tr("Segmentation result"),
                    tr("The result does not match the open image (another image was opened)."),
                    true);
        return;
    }
    m_output = output;
    core::SegmentationOutcome outcome;
    outcome.kind = core::InputKind::Photo;
    outcome.photo = output->result;
    m_view->session().setResult(outcome);
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
        statusBar()->showMessage(QString::fromStdString(e.what()));
    }
    recomputeRegions();

    m_modelPanel->setProgress(static_cast<int>(r.timesteps.size()),
                              static_cast<int>(r.timesteps.size()), -1);
    m_modelPanel->setStatus(tr("Done: %1 steps x %2 members in %3 (first preview after %4)")
                                .arg(r.timesteps.size())
                                .arg(r.members)
                                .arg(seconds(r.timings.total))
                                .arg(seconds(r.timings.firstPreview)));

    // An empty mask takes the result at once (one undo step); edits already made are not
    // overwritten: the result waits, dashed, for "Accept AI result".
    m_view->setPreview(r.mask);
    QString message;
    if (countNonZero(m_view->mask()) == 0) {
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
    statusBar()->showMessage(message);
}

core::Image2D MainWindow::stepValues(int step, int member, bool noisy) const
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

QImage MainWindow::stepImage(int step, int member, widgets::StepBrowser::Mode mode) const
{
    const bool noisy = mode == widgets::StepBrowser::Mode::Noisy;
    const core::Image2D values = stepValues(step, member, noisy);
    if (values.empty()) {
        return {};
    }
    const FrameStyle style = noisy                                      ? FrameStyle::Noisy
                             : mode == widgets::StepBrowser::Mode::Mask ? FrameStyle::Mask
                                                                        : FrameStyle::Estimate;
    return frameToImage(values.data<float>(), values.width(), values.height(), style);
}

QString MainWindow::stepLabel(int step) const
{
    const QString t =
        step >= 0 && step < static_cast<int>(m_timesteps.size())
            ? QStringLiteral(", t = %1").arg(m_timesteps[static_cast<std::size_t>(step)])
            : QString();
    return tr("step %1 of %2%3").arg(step + 1).arg(m_timesteps.size()).arg(t);
}

void MainWindow::showStepFrame(int step, int member, widgets::StepBrowser::Mode mode)
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

void MainWindow::acceptStep(int step, int member)
{
    const core::Image2D x0 = stepValues(step, member, false);
    if (x0.empty() || m_image.empty()) {
        return;
    }
    m_view->setPreview(upsampleToMask(x0, m_image.width(), m_image.height()));
    const QString who = member >= 0 ? tr("member %1").arg(member + 1) : tr("ensemble mean");
    m_view->acceptPreview(tr("Use step %1").arg(step + 1).toStdString());
    m_acceptNote = tr("%1 (%2)").arg(stepLabel(step), who);
    m_acceptedAtUndo = m_view->undoStack().undoCount();
    statusBar()->showMessage(tr("The mask is now %1 (Ctrl+Z undoes)").arg(m_acceptNote));
}

void MainWindow::acceptAiResult()
{
    if (!m_view->hasPreview() && m_shownStep >= 0 && m_stepPreviewAction->isChecked()) {
        // The dashed outline is the browsed step's: accept that step.
        acceptStep(m_shownStep, m_stepBrowser->member());
        return;
    }
    if (!m_view->hasPreview()) {
        statusBar()->showMessage(tr("No AI result to accept: segment first, or pick a step or an "
                                    "ensemble member"));
        return;
    }
    m_view->acceptPreview("Accept AI result");
    m_acceptedAtUndo = m_view->undoStack().undoCount();
    if (m_acceptNote.isEmpty()) {
        m_acceptNote = tr("the AI result");
    }
    statusBar()->showMessage(tr("Accepted %1 as the mask (Ctrl+Z undoes)").arg(m_acceptNote));
}

void MainWindow::chooseUncertaintyMap(int index)
{
    m_uncertaintyIndex = std::clamp(index, 0, 2);
    if (m_output) {
        m_view->setUncertaintyMap(
            m_output->uncertaintyDisplay[static_cast<std::size_t>(m_uncertaintyIndex)]);
        recomputeRegions();
    }
}

const std::vector<core::UncertainRegion>& MainWindow::uncertainRegions() const
{
    static const std::vector<core::UncertainRegion> none;
    return m_regionsShown ? m_view->session().regions() : none;
}

void MainWindow::recomputeRegions()
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

bool MainWindow::nextUncertainRegion()
{
    const std::optional<core::RegionVisit> visit =
        m_regionsShown ? m_view->session().nextUncertainRegion() : std::nullopt;
    if (!visit) {
        statusBar()->showMessage(m_output ? tr("No uncertain region above %1 in this map")
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
    statusBar()->showMessage(
        tr("Uncertain region %1 of %2: %3 px at the network's size, mean %4%5")
            .arg(visit->index + 1)
            .arg(visit->count)
            .arg(region.voxels)
            .arg(region.meanValue, 0, 'f', 2)
            .arg(visit->last ? tr(" - all reviewed; N starts again") : QString()));
    return true;
}

//------------------------------------------------------------------------------------------------
// Edits, metrics, autosave

void MainWindow::markEdited()
{
    m_dirty = true;
    m_autosaveDirty = true;
    m_autosaveDebounce->start();
}

void MainWindow::updateHistoryActions()
{
    core::UndoStack& undo = m_view->undoStack();
    m_undoAction->setEnabled(undo.canUndo());
    m_redoAction->setEnabled(undo.canRedo());
    m_undoAction->setText(undo.canUndo()
                              ? tr("&Undo %1").arg(QString::fromStdString(undo.undoTitle()))
                              : tr("&Undo"));
    m_redoAction->setText(undo.canRedo()
                              ? tr("&Redo %1").arg(QString::fromStdString(undo.redoTitle()))
                              : tr("&Redo"));
    m_undoAction->setIconText(tr("Undo"));
    m_redoAction->setIconText(tr("Redo"));
    m_undoAction->setToolTip(
        undo.canUndo() ? tr("Undo %1 (Ctrl+Z)").arg(QString::fromStdString(undo.undoTitle()))
                       : tr("Nothing to undo"));
    m_redoAction->setToolTip(
        undo.canRedo() ? tr("Redo %1 (Ctrl+Shift+Z)").arg(QString::fromStdString(undo.redoTitle()))
                       : tr("Nothing to redo"));
}

void MainWindow::updateMetrics()
{
    const core::PhotoSession& session = m_view->session();
    if (!session.isOpen()) {
        m_maskLabel->clear();
        return;
    }
    m_maskLabel->setText(tr("mask %1 px").arg(session.labelledCount()));
    const std::optional<core::OverlapMetrics> o = session.metrics();
    m_overlayPanel->setMetrics(o ? o->dice : std::nan(""), o ? o->iou : std::nan(""));
}

void MainWindow::updateActionsEnabled()
{
    const bool image = !m_image.empty();
    const bool running = m_runner->isRunning();
    auto enable = [this](const char* name, bool on) {
        if (QAction* a = m_actions.value(QLatin1String(name))) {
            a->setEnabled(on);
        }
    };
    enable("segment", image && !running && !m_modelPanel->request().checkpoint.isEmpty());
    enable("cancelSegment", running);
    enable("saveMask", image);
    enable("saveMaskAs", image);
    enable("saveScreenshot", image);
    enable("exportReport", image);
    enable("loadGroundTruth", image);
    enable("clearMask", image);
}

bool MainWindow::autosaveNow()
{
    if (m_image.empty() || m_currentPath.isEmpty() || !m_dirty) {
        return false;
    }
    try {
        m_autosave->save(m_view->session());
    } catch (const core::Error& e) {
        statusBar()->showMessage(tr("Autosave failed: %1").arg(QString::fromStdString(e.what())));
        return false;
    }
    m_autosaveDirty = false;
    return true;
}

std::vector<AutosaveRecord> MainWindow::recoverableAutosaves() const
{
    return m_autosave->recoverable();
}

bool MainWindow::restoreAutosave(const AutosaveRecord& record)
{
    if (!QFileInfo::exists(record.imagePath)) {
        reportError(
            tr("Cannot restore autosave"),
            tr("%1\n\nThe image of the autosaved mask no longer exists.").arg(record.imagePath),
            false);
        return false;
    }
    core::Image2D mask;
    try {
        mask = core::readMask(record.maskPath.toStdString());
    } catch (const core::Error& e) {
        reportError(tr("Cannot restore autosave"), QString::fromStdString(e.what()), false);
        return false;
    }
    if (!maybeSaveChanges()) {
        return false;
    }
    m_dirty = false; // asked above; openPath() must not ask again
    if (!openPath(record.imagePath)) {
        return false;
    }
    if (mask.width() != m_image.width() || mask.height() != m_image.height()) {
        reportError(tr("Cannot restore autosave"),
                    tr("%1\n\nThe autosaved mask is %2 x %3 but the image is now %4 x %5.")
                        .arg(record.maskPath)
                        .arg(mask.width())
                        .arg(mask.height())
                        .arg(m_image.width())
                        .arg(m_image.height()),
                    false);
        return false;
    }
    if (!record.groundTruthPath.isEmpty() && record.groundTruthPath != groundTruthPath()) {
        loadGroundTruth(record.groundTruthPath, true);
    }
    m_view->replaceMask(mask, "Restore autosaved edits");
    m_acceptedAtUndo = m_view->undoStack().undoCount();
    m_acceptNote = tr("edits restored from an autosave of %1")
                       .arg(record.saved.toLocalTime().toString(Qt::ISODate));
    AutosaveStore::remove(record);
    autosaveNow();
    statusBar()->showMessage(
        tr("Restored the autosaved mask of %1").arg(QFileInfo(record.imagePath).fileName()));
    return true;
}

void MainWindow::offerAutosaveRestore()
{
    if (!m_options.interactive) {
        return;
    }
    const std::vector<AutosaveRecord> records = recoverableAutosaves();
    if (records.empty()) {
        return;
    }
    const AutosaveRecord& r = records.front();
    QMessageBox box(QMessageBox::Question, tr("Restore unsaved edits?"),
                    tr("DiffSeg Studio did not close cleanly. A mask of <b>%1</b> with %2 edit(s) "
                       "was autosaved at %3.<br><br>Restore it?")
                        .arg(QFileInfo(r.imagePath).fileName().toHtmlEscaped())
                        .arg(r.edits)
                        .arg(r.saved.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))),
                    QMessageBox::NoButton, this);
    QPushButton* restore = box.addButton(tr("Restore"), QMessageBox::AcceptRole);
    QPushButton* discard = box.addButton(tr("Discard"), QMessageBox::DestructiveRole);
    box.addButton(tr("Later"), QMessageBox::RejectRole);
    box.setDefaultButton(restore);
    box.exec();
    if (box.clickedButton() == restore) {
        restoreAutosave(r);
    } else if (box.clickedButton() == discard) {
        AutosaveStore::remove(r);
    }
}

//------------------------------------------------------------------------------------------------
// Window

widgets::ImageView* MainWindow::imageView() const
{
    return m_view;
}

widgets::VolumeView3D* MainWindow::volumeView()
{
    if (!m_volumeView) {
        m_volumeView = new widgets::VolumeView3D(m_volumeDock);
        m_volumeDock->setWidget(m_volumeView);
        connect(m_volumeView->renderWidget(), &widgets::VtkRenderWidget::glInitialized, this,
                [this] {
                    const QString info = m_volumeView->renderWidget()->glInfo();
                    m_glLabel->setText(info.section(QLatin1Char('|'), 1, 1).trimmed());
                    m_glLabel->setToolTip(tr("OpenGL: %1").arg(info));
                });
    }
    return m_volumeView;
}

void MainWindow::showPixelInfo(const QPoint& pixel, bool inside)
{
    if (!inside || m_image.empty()) {
        m_pixelLabel->clear();
        return;
    }
    const QColor c = m_view->image().pixelColor(pixel);
    QString text = tr("x %1  y %2   RGB %3 %4 %5")
                       .arg(pixel.x())
                       .arg(pixel.y())
                       .arg(c.red())
                       .arg(c.green())
                       .arg(c.blue());
    if (m_output) {
        const core::SegmentResult& r = *m_output->result;
        text += tr("   p %1").arg(r.probabilityOriginal.at<float>(pixel.x(), pixel.y()), 0, 'f', 2);
        const core::Image2D& u = m_output->uncertaintyDisplay[static_cast<std::size_t>(
            std::clamp(m_uncertaintyIndex, 0, 2))];
        text += tr("   uncertainty %1").arg(u.at<float>(pixel.x(), pixel.y()), 0, 'f', 2);
    }
    m_pixelLabel->setText(text);
}

QString MainWindow::aboutText()
{
    const core::LibraryVersions v = core::libraryVersions();
    const QString cuda =
        v.cudaAvailable
            ? tr("available (%1 device(s))").arg(v.cudaDeviceCount)
            : tr("not available: models run on the CPU (%1 threads)").arg(v.computeThreads);
    return tr("<h3>DiffSeg Studio %1</h3>"
              "<p>Diffusion-model segmentation of dermoscopy images and CT/MRI volumes, with "
              "reverse-diffusion step browsing and uncertainty overlays.</p>"
              "<table>"
              "<tr><td>Qt</td><td>%2</td></tr>"
              "<tr><td>VTK</td><td>%3</td></tr>"
              "<tr><td>ITK</td><td>%4</td></tr>"
              "<tr><td>LibTorch</td><td>%5</td></tr>"
              "<tr><td>OpenCV</td><td>%6</td></tr>"
              "<tr><td>CUDA</td><td>%7</td></tr>"
              "</table>")
               .arg(QString::fromStdString(v.diffseg), QString::fromLatin1(qVersion()),
                    QString::fromLatin1(vtkVersion::GetVTKVersion()), QString::fromStdString(v.itk),
                    QString::fromStdString(v.torch), QString::fromStdString(v.opencv), cuda) +
           packagedModelsText();
}

QString MainWindow::packagedModelsText()
{
    // Each packaged model with what its card says it was trained on and may be used for: a model
    // trained on ISIC data is for research and non-commercial use only.
    QString rows;
    for (const QString& path : ModelCatalog::packagedModels()) {
        const core::ModelCard card = checkpointCard(path);
        const QString name =
            card.name.empty() ? QFileInfo(path).fileName() : QString::fromStdString(card.name);
        const QString about =
            card.empty() ? tr("no model card")
                         : tr("Trained on: %1<br>Licence: %2")
                               .arg(QString::fromStdString(card.trainingData).toHtmlEscaped(),
                                    QString::fromStdString(card.licence.empty() ? "not stated"
                                                                                : card.licence)
                                        .toHtmlEscaped());
        rows += QStringLiteral("<li><b>%1</b><br>%2</li>").arg(name.toHtmlEscaped(), about);
    }
    if (rows.isEmpty()) {
        return {};
    }
    return tr("<p><b>Packaged models</b></p><ul>%1</ul><p>This is a research tool, not a medical "
              "device.</p>")
        .arg(rows);
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About DiffSeg Studio"), aboutText());
}

void MainWindow::showShortcuts()
{
    const ShortcutsDialog::KeyList viewKeys = {
        {tr("Wheel"), tr("Zoom around the cursor (image view)")},
        {tr("+ / -"), tr("Zoom in / out (image view)")},
        {tr("F or 0"), tr("Fit the image to the view (image view)")},
        {tr("1"), tr("Actual size (image view)")},
        {tr("Middle drag, Space + drag"), tr("Pan (image view)")},
        {tr("Arrow keys"), tr("Pan (image view); previous / next step (step browser)")},
        {tr("Left / right button"), tr("Brush paints / erases; Fill fills / clears")},
        {tr("Shift + click"), tr("Erase with the brush, polygon or fill")},
        {tr("Double-click, Enter"), tr("Close the polygon")},
        {tr("Escape"), tr("Cancel the polygon or stroke")},
        {tr("Home / End, PgUp / PgDn"), tr("First / last step, jump 10 % (step browser)")},
        {tr("Space"), tr("Play / pause (step browser)")},
    };
    auto* dialog = new ShortcutsDialog(actions(), viewKeys, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e)
{
    if (e->mimeData()->hasUrls()) {
        e->acceptProposedAction();
    }
}

void MainWindow::dropEvent(QDropEvent* e)
{
    const QList<QUrl> urls = e->mimeData()->urls();
    if (urls.isEmpty() || !urls.first().isLocalFile()) {
        return;
    }
    const QString path = urls.first().toLocalFile();
    e->acceptProposedAction();
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("dsckpt") || suffix == QLatin1String("pth")) {
        addModel(path);
        return;
    }
    // A mask named after the open image (ISIC_1_segmentation.png onto ISIC_1.jpg) is its ground
    // truth; anything else is a new image.
    const QString stem = QString::fromStdString(core::pairingStem(path.toStdString()));
    if (!m_currentPath.isEmpty() && stem != QFileInfo(path).completeBaseName() &&
        stem == QFileInfo(m_currentPath).completeBaseName()) {
        loadGroundTruth(path);
        return;
    }
    openPath(path);
}

void MainWindow::closeEvent(QCloseEvent* e)
{
    if (!maybeSaveChanges() || !m_volumeMode->maybeSaveChanges()) {
        e->ignore();
        return;
    }
    m_runner->cancel();
    m_runner->waitForIdle(30000);
    m_settings->setValue(QStringLiteral("window/state"), saveState());
    m_settings->sync();
    // A clean close: nothing to restore next time.
    m_autosave->discard();
    e->accept();
}

} // namespace diffseg::app
