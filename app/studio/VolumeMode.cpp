#include "VolumeMode.h"

#include "CheckpointKind.h"
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

/// The photo workspace's docks and tool bar (MainWindow's object names), hidden while the volume
/// workspace shows and restored after.
const char* const kPhotoDocks[] = {"modelDock", "overlayDock", "stepDock", "galleryDock",
                                   "volumeDock"};
/// The photo workspace's actions whose keys the volume workspace uses for the same purpose (or
/// that act on the hidden photo view): hidden, hence inactive, while the volume workspace shows.
const char* const kPhotoActions[] = {
    "loadGroundTruth", "saveMask",     "saveMaskAs",   "saveScreenshot",
    "exportReport",    "undo",         "redo",         "acceptAi",
    "clearMask",       "toolNavigate", "toolBrush",    "toolEraser",
    "toolPolygon",     "toolFill",     "brushSmaller", "brushLarger",
    "nextRegion",      "zoomIn",       "zoomOut",      "fit",
    "actualSize",      "reset3d",      "segment",      "cancelSegment",
    "prevStep",        "nextStep",     "firstStep",    "lastStep",
    "playSteps",       "acceptStep",   "stepPreview"};

const QStringList kHeatMaps = {
    QObject::tr("Foreground probability"), QObject::tr("Uncertainty: entropy of the result"),
    QObject::tr("Uncertainty: step entropy"), QObject::tr("Uncertainty: mirror variance (TTA)")};

QString volumeStem(const QString& path)
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

bool hasVolumeSuffix(const QString& path)
{
    const QString lower = QFileInfo(path).fileName().toLower();
    for (const char* ext : {".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm"}) {
        if (lower.endsWith(QLatin1String(ext))) {
            return true;
        }
    }
    return false;
}

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

//------------------------------------------------------------------------------------------------
// Construction

void VolumeMode::createActions()
{
    auto make = [this](const QString& name, const QString& text, const QString& tip,
                       const QList<QKeySequence>& keys = {}, bool volumeOnly = true) {
        auto* a = new QAction(text, m_window);
        a->setObjectName(name);
        a->setStatusTip(tip);
        a->setShortcuts(keys);
        a->setToolTip(keys.isEmpty() ? tip
                                     : QStringLiteral("%1 (%2)").arg(
                                           tip, keys.first().toString(QKeySequence::NativeText)));
        a->setShortcutContext(Qt::WindowShortcut);
        m_window->addAction(a);
        m_actions.insert(name, a);
        if (volumeOnly) {
            a->setVisible(false);
            m_volumeOnly.append(a);
        }
        return a;
    };
    auto dialogStart = [this] {
        return m_path.isEmpty() ? QDir::currentPath() : QFileInfo(m_path).absolutePath();
    };

    // Always available: reach the volume workflow from the photo workspace too.
    connect(make("volumeOpen", tr("Open &Volume..."),
                 tr("Open a CT/MRI volume (NIfTI, NRRD, MetaImage)"), {}, false),
            &QAction::triggered, this, [this, dialogStart] {
                const QString path = QFileDialog::getOpenFileName(
                    m_window, tr("Open volume"), dialogStart(),
                    tr("Volumes (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.dcm);;All files (*)"));
                if (!path.isEmpty()) {
                    openPath(path);
                }
            });
    connect(make("volumeOpenDicom", tr("Open &DICOM Folder..."),
                 tr("Open the DICOM series of a folder (the one with most slices when there are "
                    "several; the status bar says which)"),
                 {}, false),
            &QAction::triggered, this, [this, dialogStart] {
                const QString dir = QFileDialog::getExistingDirectory(
                    m_window, tr("Open DICOM folder"), dialogStart());
                if (!dir.isEmpty()) {
                    openPath(dir);
                }
            });
    connect(make("volumeOpenSample", tr("Open Sample CT &Phantom"),
                 tr("A generated abdominal CT phantom with its liver and lesion labels as the "
                    "ground truth"),
                 {}, false),
            &QAction::triggered, this, &VolumeMode::openSamplePhantom);
    auto* workspaces = new QActionGroup(this);
    QAction* photo =
        make("workspacePhoto", tr("&Photo Workspace"), tr("The 2D dermoscopy workflow"),
             {QKeySequence(Qt::CTRL | Qt::Key_2)}, false);
    QAction* volume = make("workspaceVolume", tr("&Volume Workspace"),
                           tr("The CT/MRI workflow: slices, 3D view, Diff-UNet"),
                           {QKeySequence(Qt::CTRL | Qt::Key_3)}, false);
    for (QAction* a : {photo, volume}) {
        a->setCheckable(true);
        a->setActionGroup(workspaces);
    }
    photo->setChecked(true);
    photo->setIconText(tr("Photo"));
    volume->setIconText(tr("Volume"));
    connect(photo, &QAction::triggered, this, [this] { setActive(false); });
    connect(volume, &QAction::triggered, this, [this] { setActive(true); });

    // The volume workspace's own actions, with the keys the photo workspace uses for the same.
    connect(make("volumeLoadLabels", tr("Load &Label Map..."),
                 tr("Load a label map on the volume's grid as the segmentation to edit (one undo "
                    "step)"),
                 {QKeySequence(Qt::CTRL | Qt::Key_L)}),
            &QAction::triggered, this, [this, dialogStart] {
                const QString path = QFileDialog::getOpenFileName(
                    m_window, tr("Load label map"), dialogStart(),
                    tr("Label maps (*.nii *.nii.gz *.nrrd *.seg.nrrd *.mha *.mhd);;All files (*)"));
                if (!path.isEmpty()) {
                    loadLabelMap(path, LabelRole::Segmentation);
                }
            });
    connect(make("volumeLoadGroundTruth", tr("Load &Ground Truth..."),
                 tr("Load a reference label map: a yellow outline and the live Dice"),
                 {QKeySequence(Qt::CTRL | Qt::Key_G)}),
            &QAction::triggered, this, [this, dialogStart] {
                const QString path = QFileDialog::getOpenFileName(
                    m_window, tr("Load ground truth"), dialogStart(),
                    tr("Label maps (*.nii *.nii.gz *.nrrd *.seg.nrrd *.mha *.mhd);;All files (*)"));
                if (!path.isEmpty()) {
                    loadLabelMap(path, LabelRole::GroundTruth);
                }
            });
    connect(make("volumeSave", tr("&Save Label Map"),
                 tr("Save the labels in the volume's geometry (NIfTI or NRRD)"),
                 {QKeySequence::Save}),
            &QAction::triggered, this, [this] {
                if (m_savePath.isEmpty()) {
                    m_actions.value(QStringLiteral("volumeSaveAs"))->trigger();
                } else {
                    saveLabelMap(m_savePath);
                }
            });
    connect(make("volumeSaveAs", tr("Save Label Map &As..."),
                 tr("Save the labels under another name or format"),
                 {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S)}),
            &QAction::triggered, this, [this] {
                QString filter;
                QString path = QFileDialog::getSaveFileName(
                    m_window, tr("Save label map"), suggestedSavePath(),
                    tr("NIfTI (*.nii.gz *.nii);;NRRD (*.nrrd *.seg.nrrd);;MetaImage (*.mha)"),
                    &filter);
                if (path.isEmpty()) {
                    return;
                }
                if (!hasVolumeSuffix(path)) {
                    path += filter.startsWith(QLatin1String("NRRD")) ? QStringLiteral(".nrrd")
                            : filter.startsWith(QLatin1String("MetaImage"))
                                ? QStringLiteral(".mha")
                                : QStringLiteral(".nii.gz");
                }
                saveLabelMap(path);
            });
    connect(make("volumeScreenshot", tr("Save Screens&hot of Views..."),
                 tr("Save the slice views and the 3D view as shown, as a PNG"),
                 {QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_S)}),
            &QAction::triggered, this, [this] {
                const QString path =
                    QFileDialog::getSaveFileName(m_window, tr("Save screenshot"),
                                                 QFileInfo(suggestedSavePath())
                                                     .absoluteDir()
                                                     .filePath(volumeStem(m_path) + "_views.png"),
                                                 tr("PNG image (*.png)"));
                if (!path.isEmpty()) {
                    saveScreenshot(path);
                }
            });
    QAction* undo =
        make("volumeUndo", tr("&Undo"), tr("Undo the last label edit"), {QKeySequence::Undo});
    undo->setIconText(tr("Undo"));
    connect(undo, &QAction::triggered, this, [this] {
        if (m_workspace) {
            m_workspace->undo();
        }
    });
    QAction* redo =
        make("volumeRedo", tr("&Redo"), tr("Redo the label edit undone last"),
             {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
    redo->setIconText(tr("Redo"));
    connect(redo, &QAction::triggered, this, [this] {
        if (m_workspace) {
            m_workspace->redo();
        }
    });
    connect(make("volumeAcceptAi", tr("&Accept AI Result"),
                 tr("Make the outlined AI result (or the shown step) the segmentation (one undo "
                    "step)"),
                 {QKeySequence(Qt::Key_A)}),
            &QAction::triggered, this, &VolumeMode::acceptAiResult);
    connect(make("volumeClear", tr("&Clear Labels"), tr("Remove every label (one undo step)"),
                 {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Delete)}),
            &QAction::triggered, this, [this] {
                if (hasVolume()) {
                    m_workspace->replaceLabels(core::LabelMap::like(m_workspace->volume()),
                                               "Clear labels");
                }
            });
    const struct
    {
        const char* name;
        QString text;
        QString tip;
        Qt::Key key;
        widgets::SliceView::Tool tool;
    } tools[] = {
        {"volumeToolCrosshair", tr("Crosshair"), tr("Click in a slice to move the crosshair"),
         Qt::Key_V, widgets::SliceView::Tool::Navigate},
        {"volumeToolBrush", tr("Brush"), tr("Paint the chosen label in a slice"), Qt::Key_B,
         widgets::SliceView::Tool::Brush},
        {"volumeToolEraser", tr("Eraser"), tr("Erase labels in a slice"), Qt::Key_E,
         widgets::SliceView::Tool::Eraser},
    };
    auto* toolGroup = new QActionGroup(this);
    for (const auto& t : tools) {
        QAction* a = make(QLatin1String(t.name), t.text, t.tip, {QKeySequence(t.key)});
        a->setCheckable(true);
        a->setActionGroup(toolGroup);
        const auto tool = t.tool;
        connect(a, &QAction::triggered, this, [this, tool] {
            if (m_workspace) {
                m_workspace->setTool(tool);
            }
        });
    }
    m_actions.value(QStringLiteral("volumeToolCrosshair"))->setChecked(true);
    connect(make("volumeBrushSmaller", tr("Smaller Brush"), tr("Brush radius / 1.25"),
                 {QKeySequence(Qt::Key_BracketLeft)}),
            &QAction::triggered, this, [this] {
                if (m_workspace) {
                    m_workspace->setBrushRadiusMm(m_workspace->brushRadiusMm() / 1.25);
                }
            });
    connect(make("volumeBrushLarger", tr("Larger Brush"), tr("Brush radius x 1.25"),
                 {QKeySequence(Qt::Key_BracketRight)}),
            &QAction::triggered, this, [this] {
                if (m_workspace) {
                    m_workspace->setBrushRadiusMm(m_workspace->brushRadiusMm() * 1.25);
                }
            });
    connect(make("volumeSegment", tr("&Segment Volume"),
                 tr("Run the Diff-UNet model on the volume"), {QKeySequence(Qt::CTRL | Qt::Key_R)}),
            &QAction::triggered, this, [this] { startSegmentation(); });
    connect(make("volumeCancel", tr("&Cancel Segmentation"),
                 tr("Stop before the next window or step"),
                 {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R)}),
            &QAction::triggered, this, &VolumeMode::cancelSegmentation);
    auto stepAction = [&](const char* name, const QString& text, const QString& tip,
                          const QKeySequence& key, void (widgets::VolumeStepBrowser::*slot)()) {
        connect(make(QLatin1String(name), text, tip, {key}), &QAction::triggered, this,
                [this, slot] {
                    if (m_steps) {
                        m_steps->setFollowing(false);
                        (m_steps->*slot)();
                    }
                });
    };
    stepAction("volumePrevStep", tr("&Previous Step"), tr("Show the previous denoiser step"),
               QKeySequence(Qt::Key_Comma), &widgets::VolumeStepBrowser::previousStep);
    stepAction("volumeNextStep", tr("N&ext Step"), tr("Show the next denoiser step"),
               QKeySequence(Qt::Key_Period), &widgets::VolumeStepBrowser::nextStep);
    stepAction("volumeFirstStep", tr("&First Step"), tr("Show the first denoiser step"),
               QKeySequence(Qt::CTRL | Qt::Key_Comma), &widgets::VolumeStepBrowser::firstStep);
    stepAction("volumeLastStep", tr("&Last Step"), tr("Show the last denoiser step"),
               QKeySequence(Qt::CTRL | Qt::Key_Period), &widgets::VolumeStepBrowser::lastStep);
    connect(make("volumePlay", tr("Play / &Pause"), tr("Play the steps like a film"),
                 {QKeySequence(Qt::Key_K)}),
            &QAction::triggered, this, [this] {
                if (m_steps) {
                    m_steps->setPlaying(!m_steps->isPlaying());
                }
            });
    connect(make("volumeAcceptStep", tr("&Use This Step"),
                 tr("Make the shown step's label map the segmentation (one undo step)"),
                 {QKeySequence(Qt::SHIFT | Qt::Key_A)}),
            &QAction::triggered, this, [this] {
                if (m_shownStep >= 0) {
                    acceptStep(m_shownStep);
                }
            });
    QAction* preview =
        make("volumeStepPreview", tr("Show Step &Preview in Slices"),
             tr("Outline the shown step in the slice views"), {QKeySequence(Qt::Key_P)});
    preview->setCheckable(true);
    preview->setChecked(true);
    connect(preview, &QAction::toggled, this, [this](bool on) {
        if (m_steps) {
            m_steps->setPreviewInViews(on);
        }
    });
    connect(make("volumeReset3d", tr("&Reset 3D View"), tr("Show the whole volume again")),
            &QAction::triggered, this, [this] {
                if (m_workspace) {
                    m_workspace->view3D()->resetView();
                }
            });
}

void VolumeMode::installMenus()
{
    QMenuBar* bar = m_window->menuBar();
    QHash<QString, QMenu*> menus;
    QAction* helpMenu = nullptr;
    for (QAction* a : bar->actions()) {
        if (QMenu* m = a->menu()) {
            menus.insert(m->title(), m);
            if (m->title() == tr("&Help")) {
                helpMenu = a;
            }
        }
    }
    auto* volumeMenu = new QMenu(tr("Vol&ume"), m_window);
    volumeMenu->setObjectName(QStringLiteral("volumeMenu"));
    volumeMenu->setToolTipsVisible(true);
    auto a = [this](const char* name) {
        return m_actions.value(QLatin1String(name));
    };
    for (const char* name : {"volumeOpen", "volumeOpenDicom", "volumeOpenSample"}) {
        volumeMenu->addAction(a(name));
    }
    volumeMenu->addSeparator();
    for (const char* name : {"volumeLoadLabels", "volumeLoadGroundTruth", "volumeSave",
                             "volumeSaveAs", "volumeScreenshot"}) {
        volumeMenu->addAction(a(name));
    }
    volumeMenu->addSeparator();
    for (const char* name : {"volumeSegment", "volumeCancel", "volumeAcceptAi"}) {
        volumeMenu->addAction(a(name));
    }
    volumeMenu->addSeparator();
    volumeMenu->addAction(a("workspacePhoto"));
    volumeMenu->addAction(a("workspaceVolume"));
    if (helpMenu) {
        bar->insertMenu(helpMenu, volumeMenu);
    } else {
        bar->addMenu(volumeMenu);
    }

    // The window's menus get the volume actions next to their photo counterparts; each shows only
    // in its own workspace. A menu the window does not have falls back to the Volume menu.
    auto place = [&](const QString& title, std::initializer_list<const char*> names) {
        QMenu* menu = menus.value(title, volumeMenu);
        QAction* before = nullptr;
        for (QAction* existing : menu->actions()) {
            if (existing->objectName() == QLatin1String("quit")) {
                before = existing;
            }
        }
        QAction* separator = new QAction(menu);
        separator->setSeparator(true);
        separator->setVisible(false);
        m_volumeOnly.append(separator);
        menu->insertAction(before, separator);
        for (const char* name : names) {
            menu->insertAction(before, a(name));
        }
    };
    place(tr("&File"), {"volumeLoadLabels", "volumeLoadGroundTruth", "volumeSave", "volumeSaveAs",
                        "volumeScreenshot"});
    place(tr("&Edit"), {"volumeUndo", "volumeRedo", "volumeAcceptAi", "volumeClear"});
    place(tr("&Tools"), {"volumeToolCrosshair", "volumeToolBrush", "volumeToolEraser",
                         "volumeBrushSmaller", "volumeBrushLarger"});
    place(tr("&Model"), {"volumeSegment", "volumeCancel"});
    place(tr("&Steps"), {"volumePrevStep", "volumeNextStep", "volumeFirstStep", "volumeLastStep",
                         "volumePlay", "volumeAcceptStep", "volumeStepPreview"});
    place(tr("&View"), {"volumeReset3d"});
    if (QMenu* view = menus.value(tr("&View"))) {
        view->addSeparator();
        view->addAction(a("workspacePhoto"));
        view->addAction(a("workspaceVolume"));
    }

    m_workspaceBar = m_window->addToolBar(tr("Workspace"));
    m_workspaceBar->setObjectName(QStringLiteral("workspaceToolBar"));
    m_workspaceBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_workspaceBar->addAction(a("workspacePhoto"));
    m_workspaceBar->addAction(a("workspaceVolume"));
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

    m_panel->setHeatMaps(kHeatMaps);
    for (int i = 1; i <= kHeatMaps.size(); ++i) {
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
    QToolBar* photoTools = m_window->findChild<QToolBar*>(QStringLiteral("toolsToolBar"));
    if (active) {
        m_photoDocks.clear();
        for (const char* name : kPhotoDocks) {
            if (auto* dock = m_window->findChild<QDockWidget*>(QLatin1String(name))) {
                m_photoDocks.insert(QLatin1String(name), !dock->isHidden());
                dock->hide();
            }
        }
        if (photoTools) {
            m_photoDocks.insert(QStringLiteral("toolsToolBar"), !photoTools->isHidden());
            photoTools->hide();
        }
        m_hiddenPhoto.clear();
        for (const char* name : kPhotoActions) {
            QAction* a = m_window->findChild<QAction*>(QLatin1String(name));
            if (a && a->isVisible()) {
                a->setVisible(false);
                m_hiddenPhoto.append(a);
            }
        }
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
        for (QAction* a : std::as_const(m_hiddenPhoto)) {
            a->setVisible(true);
        }
        m_hiddenPhoto.clear();
        m_panelDock->hide();
        m_stepsDock->hide();
        m_hoverLabel->hide();
        m_stack->setCurrentIndex(0);
        for (const char* name : kPhotoDocks) {
            auto* dock = m_window->findChild<QDockWidget*>(QLatin1String(name));
            if (dock && m_photoDocks.value(QLatin1String(name), false)) {
                dock->show();
            }
        }
        if (photoTools && m_photoDocks.value(QStringLiteral("toolsToolBar"), true)) {
            photoTools->show();
        }
        const QString photoPath = m_window->currentPath();
        m_window->setWindowTitle(
            photoPath.isEmpty() ? tr("DiffSeg Studio")
                                : tr("%1 - DiffSeg Studio").arg(QFileInfo(photoPath).fileName()));
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

//------------------------------------------------------------------------------------------------
// Models and segmentation

void VolumeMode::refreshModels()
{
    if (!m_panel) {
        return;
    }
    QSettings& settings = m_window->settings();
    QString runs = settings.value(QStringLiteral("models/runsFolder")).toString();
    if (runs.isEmpty()) {
        runs = QDir::current().filePath(QStringLiteral("runs"));
    }
    const std::vector<ModelEntry> entries =
        ModelCatalog::scan(settings.value(QStringLiteral("models/folder")).toString(), runs,
                           settings.value(QStringLiteral("models/files")).toStringList() +
                               ModelCatalog::packagedModels());
    const QString previous = m_panel->currentCheckpoint();
    m_panel->clearCheckpoints();
    m_presets.clear();
    int count = 0;
    for (const ModelEntry& e : entries) {
        if (checkpointKind(e.path) != CheckpointKind::Volume) {
            continue;
        }
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

bool VolumeMode::isSegmenting() const
{
    return m_runner->isRunning();
}

bool VolumeMode::startSegmentation()
{
    if (m_runner->isRunning()) {
        return false;
    }
    if (!hasVolume()) {
        reportError(tr("No volume"), tr("Open a CT or MRI volume to segment first (File > Open)."),
                    false);
        return false;
    }
    const widgets::VolumeSegmentationRequest request = m_panel->request();
    if (request.checkpoint.isEmpty()) {
        reportError(
            tr("No volume model"),
            tr("Choose a Diff-UNet checkpoint first: File > Open Model (Ctrl+M), or set the "
               "runs folder of `diffseg train` (Model > Runs Folder)."),
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
    const CheckpointKind kind = checkpointKind(request.checkpoint);
    if (kind != CheckpointKind::Volume) {
        reportError(tr("Not a volume model"),
                    tr("%1\n\nis %2. A CT/MRI volume needs a Diff-UNet checkpoint; open a photo "
                       "to use a DermoSegDiff model.")
                        .arg(request.checkpoint, checkpointKindText(kind)),
                    false);
        return false;
    }
    VolumeSegmentationJob job;
    job.checkpoint = request.checkpoint;
    job.referencePreset = m_presets.value(request.checkpoint);
    job.device = m_window->settings().value(QStringLiteral("models/device"), "auto").toString();
    job.precision =
        m_window->settings().value(QStringLiteral("models/precision"), "auto").toString();
    job.volume = m_volume;
    job.options.steps = request.steps;
    job.options.overlap = request.overlap;
    job.options.mirrorTta = request.mirrorTta;
    job.options.fusion =
        request.weightedFusion ? core::StepFusionMethod::Uncertainty : core::StepFusionMethod::Mean;
    job.options.seed = static_cast<std::uint64_t>(request.seed);
    job.options.uncertainty = core::VolumeUncertainty::StepEntropy;
    m_runSerial = m_volumeSerial;
    resetResult();
    m_frames.assign(static_cast<std::size_t>(request.steps), VolumeStepFrame{});
    m_steps->reset(request.steps);
    if (!m_runner->start(std::move(job))) {
        return false;
    }
    m_panel->setRunning(true);
    m_panel->setStatus(tr("Loading %1...").arg(QFileInfo(request.checkpoint).fileName()));
    m_stepsDock->raise();
    updateActions();
    m_window->statusBar()->showMessage(tr("Segmenting %1...").arg(m_name));
    return true;
}

void VolumeMode::cancelSegmentation()
{
    if (m_runner->isRunning()) {
        m_runner->cancel();
        m_panel->setStatus(tr("Cancelling before the next window or step..."));
    }
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
    for (int i = 1; i <= kHeatMaps.size(); ++i) {
        m_panel->setHeatMapEnabled(i, false);
    }
    updateActions();
}

void VolumeMode::onProgress()
{
    const std::optional<VolumeProgress> p = m_runner->takeProgress();
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
    if (m_runSerial != m_volumeSerial || !output || !output->result ||
        output->result->labels.size() != m_volume.size()) {
        updateActions();
        Q_EMIT segmentationEnded(true);
        return;
    }
    onStepFrames();
    m_output = output;
    m_cache = output->result->stepCache;
    const core::Segment3DResult& r = *output->result;
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
        m_workspace->replaceLabels(r.labels, "Accept AI result");
        m_workspace->setPreviewLabels({});
        message = tr("Segmented: the result is the label map (Ctrl+Z undoes); browse the steps "
                     "below, choose a heat map on the left");
    } else {
        m_resultPending = true;
        m_workspace->setPreviewLabels(r.labels);
        message = tr("Segmented: the result is outlined in magenta; press A to replace your labels "
                     "with it");
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

void VolumeMode::showStep(int step, widgets::VolumeStepBrowser::Show show)
{
    const VolumeStepFrame* frame = frameFor(step);
    if (!frame || !hasVolume()) {
        return;
    }
    m_shownStep = step;
    m_shownShow = show;
    if (m_steps->previewInViews()) {
        m_workspace->setPreviewLabels(
            show == widgets::VolumeStepBrowser::Show::Labels ? frame->labels : core::LabelMap());
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
        m_shownShow == widgets::VolumeStepBrowser::Show::Probability) {
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
    const core::Segment3DResult& r = *m_output->result;
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
        m_workspace->replaceLabels(m_output->result->labels, "Accept AI result");
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
    if (m_groundTruth.empty() || !hasVolume()) {
        m_panel->setDice(std::nan(""));
        return;
    }
    m_panel->setDice(core::foregroundDice(m_workspace->labels(), m_groundTruth));
}

QImage VolumeMode::stepThumbnail(int step, widgets::VolumeStepBrowser::Show show, const QSize& size)
{
    const VolumeStepFrame* frame = frameFor(step);
    if (!frame || !hasVolume()) {
        return {};
    }
    const widgets::SliceView* axial = m_workspace->sliceView(core::SliceOrientation::Axial);
    const core::Volume& volume = m_workspace->volume();
    const core::SliceGeometry g(volume.geometry(), volume.size(), core::SliceOrientation::Axial);
    const auto sliceSize = g.sliceSize();
    const int slice = axial->slice();
    const double lo = axial->level() - axial->window() / 2.0;
    const double k = 255.0 / axial->window();
    const widgets::ColorMap colors(m_panel->colorMap());
    QImage image(static_cast<int>(sliceSize[0]), static_cast<int>(sliceSize[1]),
                 QImage::Format_RGB32);
    core::dispatchPixelType(volume.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        const T* data = static_cast<const T*>(volume.rawData());
        for (int y = 0; y < image.height(); ++y) {
            auto* row = reinterpret_cast<QRgb*>(image.scanLine(y));
            for (int x = 0; x < image.width(); ++x) {
                const auto v = g.voxelAt(x, y, slice);
                const std::size_t n = volume.linearIndex(v[0], v[1], v[2]);
                const double value = static_cast<double>(data[n]);
                const int grey = std::isfinite(value)
                                     ? static_cast<int>(std::clamp((value - lo) * k, 0.0, 255.0))
                                     : 0;
                QColor c(grey, grey, grey);
                double alpha = 0.0;
                QColor over;
                if (show == widgets::VolumeStepBrowser::Show::Labels) {
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
    });
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
