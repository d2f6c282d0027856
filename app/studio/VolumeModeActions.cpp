// The volume workflow's actions and where they sit: the Volume menu, the volume entries of the
// window's menus (shown only in the volume workspace), and the workspace tool bar.
#include "ActionFactory.h"
#include "CheckpointKind.h"
#include "ComputeChoices.h"
#include "MainWindow.h"
#include "ModelCatalog.h"
#include "RecentFiles.h"
#include "VolumeMode.h"
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

//------------------------------------------------------------------------------------------------
// Construction

void VolumeMode::createActions()
{
    auto make = [this](const QString& name, const QString& text, const QString& tip,
                       const QList<QKeySequence>& keys = {}, bool volumeOnly = true) {
        QAction* a = makeAction(m_window, m_actions, name, text, tip, keys);
        if (volumeOnly) {
            a->setVisible(false);
            m_volumeOnly.append(a);
        }
        return a;
    };
    auto dialogStart = [this] {
        return currentPath().isEmpty() ? QDir::currentPath()
                                       : QFileInfo(currentPath()).absolutePath();
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
    // Loading a label map asks for the file, titled by the role it will have.
    const auto loadLabelsWithDialog = [this, dialogStart](const QString& title, LabelRole role) {
        return [this, dialogStart, title, role] {
            const QString path = QFileDialog::getOpenFileName(
                m_window, title, dialogStart(),
                tr("Label maps (*.nii *.nii.gz *.nrrd *.seg.nrrd *.mha *.mhd);;All files (*)"));
            if (!path.isEmpty()) {
                loadLabelMap(path, role);
            }
        };
    };
    connect(make("volumeLoadLabels", tr("Load &Label Map..."),
                 tr("Load a label map on the volume's grid as the segmentation to edit (one undo "
                    "step)"),
                 {QKeySequence(Qt::CTRL | Qt::Key_L)}),
            &QAction::triggered, this,
            loadLabelsWithDialog(tr("Load label map"), LabelRole::Segmentation));
    connect(make("volumeLoadGroundTruth", tr("Load &Ground Truth..."),
                 tr("Load a reference label map: a yellow outline and the live Dice"),
                 {QKeySequence(Qt::CTRL | Qt::Key_G)}),
            &QAction::triggered, this,
            loadLabelsWithDialog(tr("Load ground truth"), LabelRole::GroundTruth));
    connect(make("volumeSave", tr("&Save Label Map"),
                 tr("Save the labels in the volume's geometry (NIfTI or NRRD)"),
                 {QKeySequence::Save}),
            &QAction::triggered, this, [this] {
                if (m_session->savePath().empty()) {
                    m_actions.value(QStringLiteral("volumeSaveAs"))->trigger();
                } else {
                    saveLabelMap(QString::fromStdString(m_session->savePath()));
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
                const QString path = QFileDialog::getSaveFileName(
                    m_window, tr("Save screenshot"),
                    QFileInfo(suggestedSavePath())
                        .absoluteDir()
                        .filePath(volumeStem(currentPath()) + "_views.png"),
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
        {"volumeToolPrompt", tr("Prompt"),
         tr("Guide the model: left click = the paint label is here, right click = background; "
            "each click refines the result in 3D at once"),
         Qt::Key_C, widgets::SliceView::Tool::Prompt},
    };
    auto* toolGroup = new QActionGroup(this);
    for (const auto& t : tools) {
        QList<QKeySequence> keys{QKeySequence(t.key)};
        if (t.tool == widgets::SliceView::Tool::Prompt) {
            keys << QKeySequence(Qt::Key_2); // as the photo workspace's Prompt tool
        }
        QAction* a = make(QLatin1String(t.name), t.text, t.tip, keys);
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
                          const QKeySequence& key, void (widgets::StepBrowser::*slot)()) {
        connect(make(QLatin1String(name), text, tip, {key}), &QAction::triggered, this,
                [this, slot] {
                    if (m_steps) {
                        m_steps->setFollowing(false);
                        (m_steps->*slot)();
                    }
                });
    };
    stepAction("volumePrevStep", tr("&Previous Step"), tr("Show the previous denoiser step"),
               QKeySequence(Qt::Key_Comma), &widgets::StepBrowser::previousStep);
    stepAction("volumeNextStep", tr("N&ext Step"), tr("Show the next denoiser step"),
               QKeySequence(Qt::Key_Period), &widgets::StepBrowser::nextStep);
    stepAction("volumeFirstStep", tr("&First Step"), tr("Show the first denoiser step"),
               QKeySequence(Qt::CTRL | Qt::Key_Comma), &widgets::StepBrowser::firstStep);
    stepAction("volumeLastStep", tr("&Last Step"), tr("Show the last denoiser step"),
               QKeySequence(Qt::CTRL | Qt::Key_Period), &widgets::StepBrowser::lastStep);
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

} // namespace diffseg::app
