#include "MainWindow.h"

#include "AboutText.h"
#include "ActionFactory.h"
#include "CheckpointKind.h"
#include "ComputeChoices.h"
#include "DemoPhoto.h"
#include "PhotoMode.h"
#include "RecentFiles.h"
#include "SegmentationRunner.h"
#include "ShortcutsDialog.h"
#include "TrainingController.h"
#include "VolumeMode.h"
#include "base/Error.h"
#include "base/SampleData.h"
#include "data/DatasetLayout.h"
#include "data/DemoData.h"
#include "image/SegmentationView2D.h"
#include "io/ImageWriter.h"
#include "panels/ModelPanel.h"
#include "runtime/ResourcePaths.h"
#include "runtime/Runtime.h"
#include "session/DocumentPaths.h"
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
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>

#include <vtkVersion.h>

#include <algorithm>

namespace diffseg::app {

namespace {

constexpr int kSampleImageSize = 512;
constexpr int kSampleVolumeSize = 96;
constexpr std::uint32_t kSampleSeed = 2024;

QString imageFilter()
{
    return QObject::tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff);;All files (*)");
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

    // The photo view owns the centre until the volume workflow first shows (VolumeMode.h).
    m_photo = new PhotoMode(this, *m_autosave, m_options.autosaveIntervalMs,
                            m_options.autosaveDebounceMs);
    setCentralWidget(m_photo->view());
    connect(m_photo, &PhotoMode::segmentationEnded, this, &MainWindow::segmentationEnded);
    createVolumeDock();
    createTrainingDock();
    createActions();
    createMenus();
    m_volumeMode = new VolumeMode(this, m_options.interactive, autosaveRoot,
                                  m_options.autosaveIntervalMs, m_options.autosaveDebounceMs);
    connect(m_photo, &PhotoMode::documentReplacing, this,
            [this] { m_volumeMode->setActive(false); });
    connect(m_volumeMode, &VolumeMode::segmentationEnded, this, &MainWindow::segmentationEnded);
    m_glLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_glLabel);

    refreshModels();
    const QStringList gone = m_recent->pruneMissing();
    rebuildRecentMenu();
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
    // The photo workflow goes first, while every widget it connected to still exists (the
    // window's layout deletes docks and tool bars before its children are deleted); children
    // deleted after this body must not reach the window's slots.
    delete m_photo;
    m_photo = nullptr;
    if (m_volumeView) {
        m_volumeView->renderWidget()->disconnect(this);
    }
}

//------------------------------------------------------------------------------------------------
// Construction

void MainWindow::createVolumeDock()
{
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
        return makeAction(this, m_actions, name, text, tip, keys);
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
    connect(make("quit", tr("&Quit"), tr("Close DiffSeg Studio"), {QKeySequence::Quit}),
            &QAction::triggered, this, &QWidget::close);

    connect(make("reset3d", tr("&Reset 3D View"), tr("Show the whole volume again")),
            &QAction::triggered, this, [this] { volumeView()->resetView(); });

    // Model
    connect(make("openModel", tr("Open &Model..."),
                 tr("Add a checkpoint (ours .dsckpt or a reference .pth) to the model chooser"),
                 {QKeySequence(Qt::CTRL | Qt::Key_M)}),
            &QAction::triggered, this, &MainWindow::openModelWithDialog);
    // A folder setting asks for the folder, starting at the one it remembers.
    const auto chooseFolder = [this](const QString& title, const QString& key,
                                     void (MainWindow::*apply)(const QString&)) {
        return [this, title, key, apply] {
            const QString dir =
                QFileDialog::getExistingDirectory(this, title, m_settings->value(key).toString());
            if (!dir.isEmpty()) {
                (this->*apply)(dir);
            }
        };
    };
    connect(make("modelsFolder", tr("Models &Folder..."),
                 tr("A folder whose checkpoints the model chooser lists")),
            &QAction::triggered, this,
            chooseFolder(tr("Models folder"), QStringLiteral("models/folder"),
                         &MainWindow::setModelsFolder));
    connect(make("runsFolder", tr("&Runs Folder..."),
                 tr("Where `diffseg train` writes its runs (runs/<name>/best.dsckpt)")),
            &QAction::triggered, this,
            chooseFolder(tr("Runs folder"), QStringLiteral("models/runsFolder"),
                         &MainWindow::setRunsFolder));
    connect(make("refreshModels", tr("Refresh Model &List"),
                 tr("Look for new checkpoints in the models and runs folders"),
                 {QKeySequence(Qt::Key_F5)}),
            &QAction::triggered, this, &MainWindow::refreshModels);
    m_compute = new ComputeChoices(*m_settings, this);

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
        if (QAction* action = m_actions.value(QLatin1String(name))) {
            return action;
        }
        return m_photo->action(QLatin1String(name));
    };
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(a("open"));
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    m_recentMenu->setToolTip(tr("Images opened lately"));
    file->addAction(a("openSample"));
    file->addAction(a("openDemo"));
    file->addAction(a("loadGroundTruth"));
    file->addSeparator();
    for (const char* name : {"saveMask", "saveMaskAs", "saveScreenshot", "exportReport"}) {
        file->addAction(a(name));
    }
    file->addSeparator();
    file->addAction(a("openModel"));
    file->addSeparator();
    file->addAction(a("quit"));

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(a("undo"));
    edit->addAction(a("redo"));
    edit->addSeparator();
    edit->addAction(a("acceptAi"));
    edit->addAction(a("clearMask"));

    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    m_photo->addToolActions(tools);
    tools->addSeparator();
    tools->addAction(a("nextRegion"));

    QMenu* model = menuBar()->addMenu(tr("&Model"));
    model->addAction(a("segment"));
    model->addAction(a("cancelSegment"));
    model->addSeparator();
    for (const char* name : {"openModel", "modelsFolder", "runsFolder", "refreshModels", "train"}) {
        model->addAction(a(name));
    }
    model->addMenu(tr("&Device"))->addActions(m_compute->deviceActions());
    model->addMenu(tr("&Precision"))->addActions(m_compute->precisionActions());

    QMenu* steps = menuBar()->addMenu(tr("&Steps"));
    for (const char* name : {"prevStep", "nextStep", "firstStep", "lastStep", "playSteps"}) {
        steps->addAction(a(name));
    }
    steps->addSeparator();
    steps->addAction(a("acceptStep"));
    steps->addAction(a("stepPreview"));

    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (const char* name : {"zoomIn", "zoomOut", "fit", "actualSize"}) {
        view->addAction(a(name));
    }
    view->addSeparator();
    for (QDockWidget* d : m_photo->docks()) {
        view->addAction(d->toggleViewAction());
    }
    view->addAction(m_volumeDock->toggleViewAction());
    view->addAction(m_trainingDock->toggleViewAction());
    view->addAction(a("reset3d"));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(a("shortcuts"));
    help->addAction(a("about"));
}

void MainWindow::rebuildRecentMenu()
{
    m_recent->fillMenu(
        m_recentMenu, [this](const QString& path) { openPath(path); },
        [this](const QString& missing, int gone) {
            reportError(tr("File not found"),
                        tr("%1 no longer exists; removed %n missing file(s) from the recent "
                           "list.",
                           nullptr, gone)
                            .arg(missing),
                        false);
        },
        [this](const QString& message) { statusBar()->showMessage(message); });
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

const QString& MainWindow::currentPath() const
{
    return m_photo->currentPath();
}

void MainWindow::openWithDialog()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open image or volume"), QFileInfo(currentPath()).absolutePath(),
        tr("Images and volumes (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.nii *.nii.gz *.nrrd "
           "*.nhdr *.mha *.mhd *.dcm);;") +
            imageFilter());
    if (!path.isEmpty()) {
        openPath(path);
    }
}

bool MainWindow::openPath(const QString& path, bool quiet)
{
    if (VolumeMode::isVolumePath(path)) {
        // CT/MRI volumes and DICOM folders open in the volume workspace.
        return m_volumeMode->openPath(path, quiet);
    }
    if (!m_photo->openPath(path, quiet)) {
        return false;
    }
    // The 3D view shows the sample phantom, unrelated to a photo: make room for the photo.
    m_volumeDock->hide();
    m_recent->add(m_photo->currentPath());
    rebuildRecentMenu();
    setWindowTitle(tr("%1 - DiffSeg Studio").arg(QFileInfo(path).fileName()));
    return true;
}

void MainWindow::openSamples()
{
    const core::SampleLesion lesion = core::makeSampleLesion(kSampleImageSize, kSampleSeed);
    if (!m_photo->openGenerated(lesion.image)) {
        return;
    }
    const core::SamplePhantom phantom =
        core::makeSamplePhantom(kSampleVolumeSize, 3.0, kSampleSeed);
    m_volumeDock->show();
    volumeView()->setVolume(phantom.volume, true);
    resizeDocks({m_volumeDock}, {380}, Qt::Horizontal);
    setWindowTitle(tr("Sample lesion (generated) - DiffSeg Studio"));
    statusBar()->showMessage(
        tr("Showing generated sample data: a %1 px lesion image and a %2^3 CT phantom")
            .arg(kSampleImageSize)
            .arg(kSampleVolumeSize));
}

bool MainWindow::openDemo()
{
    const QString model = demoModelPath();
    DemoPhoto demo;
    try {
        demo = prepareDemoPhoto(model);
    } catch (const core::Error& e) {
        reportError(tr("Demo"),
                    tr("Could not write the demo photo:\n%1").arg(QString::fromStdString(e.what())),
                    false);
        return false;
    }
    const QString image = demo.image;
    const QString what = demo.what;
    if (!openPath(image)) {
        return false;
    }
    setWindowTitle(demo.title);
    if (model.isEmpty()) {
        statusBar()->showMessage(tr("Demo: %1 with its ground truth. The photo models are not "
                                    "installed: open a DermoSegDiff "
                                    "checkpoint with File > Open Model (Ctrl+M)")
                                     .arg(what));
        return true;
    }
    refreshModels(); // lists the packaged models
    m_photo->modelPanel()->setCurrentCheckpoint(QFileInfo(model).absoluteFilePath());
    // The demo's run ends with the steps playing like a film (only for this photo).
    connect(
        this, &MainWindow::segmentationEnded, this,
        [this, image](bool ok) {
            if (ok && currentPath() == QFileInfo(image).absoluteFilePath() &&
                m_photo->stepBrowser()->totalSteps() > 0) {
                m_photo->stepBrowser()->setPlaying(true);
            }
        },
        Qt::SingleShotConnection);
    statusBar()->showMessage(
        tr("Demo: %1 with its ground truth, and the model %2 selected. Press Segment (Ctrl+R) "
           "to run it.")
            .arg(what, QFileInfo(model).fileName()));
    return true;
}

QString MainWindow::findGroundTruthFor(const QString& imagePath)
{
    return QString::fromStdString(core::findPhotoGroundTruth(imagePath.toStdString()));
}

//------------------------------------------------------------------------------------------------
// Models

std::vector<ModelEntry> MainWindow::modelEntries() const
{
    QString runs = m_settings->value(QStringLiteral("models/runsFolder")).toString();
    if (runs.isEmpty()) {
        runs = QDir::current().filePath(QStringLiteral("runs"));
    }
    return ModelCatalog::scan(m_settings->value(QStringLiteral("models/folder")).toString(), runs,
                              m_settings->value(QStringLiteral("models/files")).toStringList() +
                                  ModelCatalog::packagedModels(),
                              m_settings->value(QStringLiteral("models/presets")).toStringList());
}

void MainWindow::refreshModels()
{
    if (!m_photo) {
        return; // closing
    }
    m_photo->refreshModels();
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
    m_photo->modelPanel()->setCurrentCheckpoint(absolute);
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
// Workflows

bool MainWindow::startSegmentation()
{
    return m_volumeMode->isActive() ? m_volumeMode->startSegmentation()
                                    : m_photo->startSegmentation();
}

void MainWindow::cancelSegmentation()
{
    if (m_volumeMode->isActive()) {
        m_volumeMode->cancelSegmentation();
    } else {
        m_photo->cancelSegmentation();
    }
}

bool MainWindow::isSegmenting() const
{
    return m_volumeMode->isActive() ? m_volumeMode->isSegmenting() : m_photo->isSegmenting();
}

void MainWindow::setHeatmapChoice(int index)
{
    if (m_volumeMode->isActive()) {
        m_volumeMode->setHeatMap(index);
    } else {
        m_photo->setHeatmapChoice(index);
    }
}

void MainWindow::showPhotoWorkflow(bool shown)
{
    m_photo->setShown(shown);
    QAction* reset3d = m_actions.value(QStringLiteral("reset3d"));
    if (!shown) {
        m_volumeDockShown = !m_volumeDock->isHidden();
        m_volumeDock->hide();
        reset3d->setVisible(false);
        return;
    }
    reset3d->setVisible(true);
    if (m_volumeDockShown) {
        m_volumeDock->show();
    }
    const QString photo = currentPath();
    setWindowTitle(photo.isEmpty() ? tr("DiffSeg Studio")
                                   : tr("%1 - DiffSeg Studio").arg(QFileInfo(photo).fileName()));
}

//------------------------------------------------------------------------------------------------
// Window

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
        {tr("Escape"), tr("Cancel the polygon or stroke; Prompt tool: forget the prompts")},
        {tr("Left / right click (Prompt)"), tr("Lesion / background marker: drag moves it, "
                                               "double-click removes it; Shift + drag: a box")},
        {tr("Backspace (Prompt)"), tr("Remove the newest prompt")},
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
    if (!currentPath().isEmpty() && stem != QFileInfo(path).completeBaseName() &&
        stem == QFileInfo(currentPath()).completeBaseName()) {
        m_photo->loadGroundTruth(path);
        return;
    }
    openPath(path);
}

void MainWindow::closeEvent(QCloseEvent* e)
{
    if (!m_photo->maybeSaveChanges() || !m_volumeMode->maybeSaveChanges()) {
        e->ignore();
        return;
    }
    m_photo->shutDown();
    m_settings->setValue(QStringLiteral("window/state"), saveState());
    m_settings->sync();
    m_autosave->discard(); // a clean close: nothing to restore next time
    m_volumeMode->discardAutosave();
    e->accept();
}

} // namespace diffseg::app
