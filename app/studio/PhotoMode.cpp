#include "PhotoMode.h"

#include "CheckpointKind.h"
#include "MainWindow.h"
#include "MaskOps.h"
#include "ModelCatalog.h"
#include "SegmentationRunner.h"
#include "SessionAutosave.h"
#include "VolumeMode.h"
#include "base/Error.h"
#include "image/ImageView.h"
#include "image/SegmentationView2D.h"
#include "io/ImageReader.h"
#include "metrics/ForegroundOverlap.h"
#include "panels/ModelPanel.h"
#include "panels/OverlayPanel.h"
#include "session/DocumentPaths.h"
#include "session/PhotoSession.h"
#include "steps/EnsembleGallery.h"

#include <QAction>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>

#include <array>
#include <cmath>

namespace diffseg::app {

namespace {

/// The correction tools' actions, in SegmentationView2D::Tool order.
constexpr std::array<const char*, 6> kToolActions = {"toolNavigate", "toolBrush", "toolEraser",
                                                     "toolPolygon",  "toolFill",  "toolPrompt"};

QString imageFilter()
{
    return QObject::tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff);;All files (*)");
}

/// Where a file made from the photo at `photo` is offered to go: beside it, its name plus
/// `suffix`; `fallback` (in the working folder) for a photo that is not a file.
QString besidePhoto(const QString& photo, const QString& suffix, const QString& fallback)
{
    if (photo.isEmpty()) {
        return fallback;
    }
    const QFileInfo info(photo);
    return info.absoluteDir().filePath(info.completeBaseName() + suffix);
}

} // namespace

PhotoMode::PhotoMode(MainWindow* window, AutosaveStore& autosave, int autosaveIntervalMs,
                     int autosaveDebounceMs)
    : QObject(window)
    , m_window(window)
{
    setObjectName(QStringLiteral("photoMode"));
    m_view = new widgets::SegmentationView2D(window);
    m_view->setObjectName(QStringLiteral("segmentationView"));
    m_view->setToolTip(tr("The image with the mask. Wheel: zoom; middle drag or Space + drag: pan; "
                          "F: fit. Tools are in the tool bar."));
    m_runner = new SegmentationRunner(this);

    m_metricsTimer = new QTimer(this);
    m_metricsTimer->setSingleShot(true);
    m_metricsTimer->setInterval(40);
    connect(m_metricsTimer, &QTimer::timeout, this, &PhotoMode::updateMetrics);
    // Only a photo read from a file with unsaved edits is autosaved (a restore reopens it).
    m_autosave = new SessionAutosave(
        autosave,
        [this]() -> const core::Session* {
            return m_image.empty() || m_currentPath.isEmpty() || !m_dirty ? nullptr
                                                                          : &m_view->session();
        },
        autosaveIntervalMs, autosaveDebounceMs, this);
    connect(m_autosave, &SessionAutosave::failed, this, [this](const QString& message) {
        showMessage(tr("Autosave failed: %1").arg(message));
    });

    createDocks();
    createActions();
    createToolBar();
    m_pixelLabel = new QLabel(window);
    m_maskLabel = new QLabel(window);
    m_maskLabel->setToolTip(tr("Lesion area of the mask"));
    window->statusBar()->addPermanentWidget(m_pixelLabel);
    window->statusBar()->addPermanentWidget(m_maskLabel);
    connectView();
    connectRunner();
    updateHistoryActions();
    updateActionsEnabled();
}

PhotoMode::~PhotoMode()
{
    // The worker must not post into a half-destroyed object, and widgets deleted after this body
    // (the window's children) must not reach its slots.
    shutDown();
    for (QObject* child :
         std::initializer_list<QObject*>{m_runner, m_view, m_modelPanel, m_overlayPanel,
                                         m_stepBrowser, m_gallery, m_brushSize}) {
        child->disconnect(this);
    }
}

void PhotoMode::shutDown()
{
    m_runner->cancel();
    m_runner->waitForIdle(60000);
}

core::PhotoSession& PhotoMode::session() const
{
    return m_view->session();
}

//------------------------------------------------------------------------------------------------
// Construction

void PhotoMode::createDocks()
{
    QMainWindow* w = m_window;
    m_modelPanel = new widgets::ModelPanel(w);
    // What any DermoSegDiff model takes, until a loaded one says more (its steps).
    m_modelPanel->setCapabilities(core::Segmenter2D::familyCapabilities());
    m_modelDock = new QDockWidget(tr("Model"), w);
    m_modelDock->setObjectName(QStringLiteral("modelDock"));
    // Panels scroll rather than force a tall window on small screens.
    auto scrolled = [w](QWidget* panel) {
        auto* area = new QScrollArea(w);
        area->setWidget(panel);
        area->setWidgetResizable(true);
        area->setFrameShape(QFrame::NoFrame);
        area->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        return area;
    };
    m_modelDock->setWidget(scrolled(m_modelPanel));
    w->addDockWidget(Qt::LeftDockWidgetArea, m_modelDock);

    m_overlayPanel = new widgets::OverlayPanel(m_view, w);
    m_overlayPanel->setUncertaintyMaps(
        {tr("Ensemble std"), tr("Predictive entropy"), tr("Step instability")});
    m_overlayDock = new QDockWidget(tr("Overlays"), w);
    m_overlayDock->setObjectName(QStringLiteral("overlayDock"));
    m_overlayDock->setWidget(scrolled(m_overlayPanel));
    w->addDockWidget(Qt::LeftDockWidgetArea, m_overlayDock);

    auto* stepsArea = new QWidget(w);
    m_stepView = new widgets::ImageView(stepsArea);
    m_stepView->setObjectName(QStringLiteral("stepFrameView"));
    m_stepView->setMinimumSize(120, 90);
    m_stepView->setMaximumWidth(260);
    m_stepView->setPlaceholderText(tr("Step frames appear here while the model samples"));
    m_stepView->setToolTip(tr("The chosen step as the network sees it (its input size): the x0 "
                              "estimate, the noisy sample x_t or the mask"));
    m_stepBrowser = new widgets::StepBrowser(widgets::StepBrowser::Setup::photos(), stepsArea);
    m_stepBrowser->setObjectName(QStringLiteral("stepBrowser"));
    auto* stepsLayout = new QHBoxLayout(stepsArea);
    stepsLayout->setContentsMargins(2, 2, 2, 2);
    stepsLayout->addWidget(m_stepView);
    stepsLayout->addWidget(m_stepBrowser, 1);
    m_stepDock = new QDockWidget(tr("Steps"), w);
    m_stepDock->setObjectName(QStringLiteral("stepDock"));
    m_stepDock->setWidget(stepsArea);
    w->addDockWidget(Qt::BottomDockWidgetArea, m_stepDock);

    m_gallery = new widgets::EnsembleGallery(w);
    m_gallery->setObjectName(QStringLiteral("ensembleGallery"));
    m_galleryDock = new QDockWidget(tr("Ensemble"), w);
    m_galleryDock->setObjectName(QStringLiteral("galleryDock"));
    m_galleryDock->setWidget(m_gallery);
    w->addDockWidget(Qt::BottomDockWidgetArea, m_galleryDock);
    w->tabifyDockWidget(m_stepDock, m_galleryDock);
    m_stepDock->raise();
    w->resizeDocks({m_modelDock}, {300}, Qt::Horizontal);
    w->resizeDocks({m_stepDock}, {210}, Qt::Vertical);
    w->resizeDocks({m_modelDock, m_overlayDock}, {320, 330}, Qt::Vertical);

    m_stepBrowser->setFrameProvider(
        [this](int step, int member, widgets::StepView mode, const QSize& size) {
            const QImage frame = stepImage(step, member, mode);
            if (frame.isNull() || m_image.empty()) {
                return frame;
            }
            const QSize target =
                QSize(m_image.width(), m_image.height()).scaled(size, Qt::KeepAspectRatio);
            return frame.scaled(target, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
        });
    connect(m_stepBrowser, &widgets::StepBrowser::frameChanged, this, &PhotoMode::showStepFrame);
    connect(m_stepBrowser, &widgets::StepBrowser::acceptStepRequested, this,
            &PhotoMode::acceptStep);
    connect(m_modelPanel, &widgets::ModelPanel::segmentRequested, this,
            [this] { startSegmentation(); });
    connect(m_modelPanel, &widgets::ModelPanel::cancelRequested, this,
            &PhotoMode::cancelSegmentation);
    connect(m_modelPanel, &widgets::ModelPanel::browseCheckpointRequested, m_window,
            &MainWindow::openModelWithDialog);
    connect(m_modelPanel, &widgets::ModelPanel::checkpointChanged, this, [this](const QString& p) {
        if (!p.isEmpty()) {
            m_window->settings().setValue(QStringLiteral("models/current"), p);
            m_modelPanel->applyCard(checkpointCard(p));
        }
        updateActionsEnabled();
    });
    connect(m_overlayPanel, &widgets::OverlayPanel::uncertaintyMapChosen, this,
            &PhotoMode::chooseUncertaintyMap);
    connect(m_gallery, &widgets::EnsembleGallery::tileClicked, this,
            &PhotoMode::previewEnsembleTile);
}

void PhotoMode::addToolActions(QMenu* menu) const
{
    for (const char* name : kToolActions) {
        menu->addAction(m_actions.value(QLatin1String(name)));
    }
    menu->addSeparator();
    menu->addAction(m_actions.value(QStringLiteral("brushSmaller")));
    menu->addAction(m_actions.value(QStringLiteral("brushLarger")));
    menu->addAction(m_actions.value(QStringLiteral("refineFromEdits")));
}

void PhotoMode::createToolBar()
{
    m_toolBar = m_window->addToolBar(tr("Correction tools"));
    m_toolBar->setObjectName(QStringLiteral("toolsToolBar"));
    m_toolBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    for (const char* name : kToolActions) {
        m_toolBar->addAction(m_actions.value(QLatin1String(name)));
    }
    m_brushSize = new QSpinBox(m_toolBar);
    m_brushSize->setObjectName(QStringLiteral("brushSize"));
    m_brushSize->setRange(1, 1000);
    m_brushSize->setSuffix(tr(" px"));
    m_brushSize->setValue(static_cast<int>(std::lround(m_view->brushRadius())));
    m_brushSize->setToolTip(tr("Brush radius in image pixels ([ and ] change it)"));
    connect(m_brushSize, qOverload<int>(&QSpinBox::valueChanged), this,
            [this](int v) { m_view->setBrushRadius(v); });
    auto* sizeLabel = new QLabel(tr(" Radius "), m_toolBar);
    sizeLabel->setToolTip(m_brushSize->toolTip());
    m_toolBar->addWidget(sizeLabel);
    m_toolBar->addWidget(m_brushSize);
    m_toolBar->addSeparator();
    m_toolBar->addAction(m_undoAction);
    m_toolBar->addAction(m_redoAction);
    m_toolBar->addSeparator();
    m_toolBar->addAction(m_actions.value(QStringLiteral("acceptAi")));
    m_toolBar->addAction(m_actions.value(QStringLiteral("nextRegion")));
    m_toolBar->addSeparator();
    m_toolBar->addAction(m_actions.value(QStringLiteral("segment")));
}

void PhotoMode::connectView()
{
    connect(m_view, &widgets::ImageView::cursorMoved, this, &PhotoMode::showPixelInfo);
    connect(m_view, &widgets::SegmentationView2D::promptsChanged, this,
            [this] { refineWithPrompts(); });
    // The view's edits drive the metrics, the history actions and the autosave.
    connect(m_view, &widgets::SegmentationView2D::maskEdited, this, &PhotoMode::scheduleMetrics);
    connect(m_view, &widgets::SegmentationView2D::historyChanged, this, [this] {
        updateHistoryActions();
        if (!m_loading) {
            markEdited();
        }
    });
    connect(m_view, &widgets::SegmentationView2D::toolChanged, this,
            [this](widgets::SegmentationView2D::Tool tool) {
                const auto index = static_cast<std::size_t>(tool);
                if (QAction* a = m_actions.value(QLatin1String(kToolActions.at(index)))) {
                    a->setChecked(true);
                }
            });
    connect(m_view, &widgets::SegmentationView2D::brushRadiusChanged, this, [this](double r) {
        const QSignalBlocker block(m_brushSize);
        m_brushSize->setValue(static_cast<int>(std::lround(r)));
    });
}

QList<QDockWidget*> PhotoMode::docks() const
{
    return {m_modelDock, m_overlayDock, m_stepDock, m_galleryDock};
}

void PhotoMode::setShown(bool shown)
{
    if (shown == m_shown) {
        return;
    }
    m_shown = shown;
    if (!shown) {
        m_dockShown.clear();
        for (QDockWidget* dock : docks()) {
            m_dockShown.insert(dock, !dock->isHidden());
            dock->hide();
        }
        m_toolBarShown = !m_toolBar->isHidden();
        m_toolBar->hide();
        // Hidden actions are inactive, so the other workspace's actions can use the same keys.
        m_hiddenActions.clear();
        for (QAction* a : std::as_const(m_actions)) {
            if (a->isVisible()) {
                a->setVisible(false);
                m_hiddenActions.append(a);
            }
        }
        m_pixelLabel->hide();
        m_maskLabel->hide();
        return;
    }
    for (QAction* a : std::as_const(m_hiddenActions)) {
        a->setVisible(true);
    }
    m_hiddenActions.clear();
    for (QDockWidget* dock : docks()) {
        if (m_dockShown.value(dock, true)) {
            dock->show();
        }
    }
    m_toolBar->setVisible(m_toolBarShown);
    m_pixelLabel->show();
    m_maskLabel->show();
}

//------------------------------------------------------------------------------------------------
// Files

void PhotoMode::reportError(const QString& title, const QString& message, bool quiet)
{
    m_window->reportError(title, message, quiet);
}

void PhotoMode::showMessage(const QString& message, int timeoutMs)
{
    m_window->statusBar()->showMessage(message, timeoutMs);
}

bool PhotoMode::maybeSaveChanges()
{
    if (!m_dirty || !m_window->isInteractive() || m_currentPath.isEmpty()) {
        return true;
    }
    const auto answer = QMessageBox::question(
        m_window, tr("Unsaved mask"),
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

void PhotoMode::resetResultState()
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

void PhotoMode::showImage(const core::Image2D& image, const QString& path)
{
    m_loading = true;
    ++m_imageSerial;
    resetResultState();
    m_image = image;
    m_currentPath = path;
    m_refineStrokes = {};
    m_view->setImage2D(image, path.toStdString());
    m_overlayPanel->setGroundTruthAvailable(false);
    m_view->setFocus();
    m_loading = false;
    m_dirty = false;
    m_autosave->discard();
}

bool PhotoMode::openPath(const QString& path, bool quiet)
{
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
    Q_EMIT documentReplacing();
    showImage(image, QFileInfo(path).absoluteFilePath());
    QString message = tr("Opened %1 (%2 x %3)")
                          .arg(QFileInfo(path).fileName())
                          .arg(image.width())
                          .arg(image.height());
    const QString gt =
        QString::fromStdString(core::findPhotoGroundTruth(m_currentPath.toStdString()));
    if (!gt.isEmpty() && loadGroundTruth(gt, true)) {
        message += tr("; ground truth %1").arg(QFileInfo(gt).fileName());
    }
    updateMetrics();
    updateActionsEnabled();
    showMessage(message);
    return true;
}

bool PhotoMode::openGenerated(const core::Image2D& image)
{
    if (!maybeSaveChanges()) {
        return false;
    }
    Q_EMIT documentReplacing();
    showImage(image, {});
    updateMetrics();
    updateActionsEnabled();
    return true;
}

QString PhotoMode::groundTruthPath() const
{
    return QString::fromStdString(m_view->session().groundTruthPath());
}

void PhotoMode::loadGroundTruthWithDialog()
{
    if (m_image.empty()) {
        reportError(tr("No image"), tr("Open an image before its ground truth."), false);
        return;
    }
    const QString start =
        groundTruthPath().isEmpty() ? QFileInfo(m_currentPath).absolutePath() : groundTruthPath();
    const QString path =
        QFileDialog::getOpenFileName(m_window, tr("Load ground-truth mask"), start, imageFilter());
    if (!path.isEmpty()) {
        loadGroundTruth(path);
    }
}

bool PhotoMode::loadGroundTruth(const QString& path, bool quiet)
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
    notePreviewChanged();
    m_overlayPanel->setGroundTruthAvailable(true);
    updateMetrics();
    showMessage(tr("Ground truth: %1").arg(QFileInfo(path).fileName()));
    return true;
}

bool PhotoMode::saveMaskTo(const QString& path, bool quiet)
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
    m_autosave->discard();
    showMessage(tr("Mask saved to %1").arg(QDir::toNativeSeparators(path)));
    return true;
}

void PhotoMode::saveMask()
{
    const QString saved = QString::fromStdString(m_view->session().savePath());
    if (saved.isEmpty()) {
        saveMaskAs();
    } else {
        saveMaskTo(saved);
    }
}

void PhotoMode::saveMaskAs()
{
    const QString suggestion = QString::fromStdString(m_view->session().suggestedSavePath());
    const QString path =
        QFileDialog::getSaveFileName(m_window, tr("Save mask"), suggestion, tr("PNG mask (*.png)"));
    if (!path.isEmpty()) {
        saveMaskTo(path);
    }
}

bool PhotoMode::saveViewScreenshot(const QString& path, bool quiet)
{
    const QImage shot = m_view->grab().toImage();
    if (shot.isNull() || !shot.save(path, "PNG")) {
        reportError(tr("Cannot save screenshot"), tr("%1: could not write the PNG").arg(path),
                    quiet);
        return false;
    }
    showMessage(tr("View saved to %1").arg(QDir::toNativeSeparators(path)));
    return true;
}

void PhotoMode::saveScreenshotWithDialog()
{
    const QString path = QFileDialog::getSaveFileName(
        m_window, tr("Save screenshot of the view"),
        besidePhoto(m_currentPath, QStringLiteral("_view.png"), QStringLiteral("view.png")),
        tr("PNG image (*.png)"));
    if (!path.isEmpty()) {
        saveViewScreenshot(path);
    }
}

void PhotoMode::exportReportWithDialog()
{
    QString filter;
    const QString path = QFileDialog::getSaveFileName(
        m_window, tr("Export report"),
        besidePhoto(m_currentPath, QStringLiteral("_report.pdf"), QStringLiteral("report.pdf")),
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

void PhotoMode::refreshModels()
{
    QSettings& settings = m_window->settings();
    const QString current = m_modelPanel->currentCheckpoint().isEmpty()
                                ? settings.value(QStringLiteral("models/current")).toString()
                                : m_modelPanel->currentCheckpoint();
    const std::vector<ModelEntry> entries = m_window->modelEntries();
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
}

//------------------------------------------------------------------------------------------------
// Edits, metrics, autosave

void PhotoMode::markEdited()
{
    m_dirty = true;
    m_autosave->markEdited();
}

void PhotoMode::updateHistoryActions()
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

void PhotoMode::scheduleMetrics()
{
    if (!m_metricsTimer->isActive()) {
        m_metricsTimer->start();
    }
}

void PhotoMode::notePreviewChanged()
{
    m_pendingDice.reset();
    scheduleMetrics();
}

void PhotoMode::updateMetrics()
{
    const core::PhotoSession& session = m_view->session();
    if (!session.isOpen()) {
        m_maskLabel->clear();
        return;
    }
    m_maskLabel->setText(tr("mask %1 px").arg(session.labelledCount()));
    const std::optional<core::OverlapMetrics> o = session.metrics();
    double pending = std::nan("");
    if (o && m_view->hasPreview() && m_view->hasGroundTruth()) {
        if (!m_pendingDice) {
            m_pendingDice = core::foregroundDice(m_view->preview(), m_view->groundTruth());
        }
        pending = *m_pendingDice;
    }
    m_overlayPanel->setMetrics(o ? o->dice : std::nan(""), o ? o->iou : std::nan(""), pending);
}

void PhotoMode::updateActionsEnabled()
{
    const bool image = !m_image.empty();
    const bool running = m_runner->isRunning();
    auto enable = [this](const char* name, bool on) {
        if (QAction* a = m_actions.value(QLatin1String(name))) {
            a->setEnabled(on);
        }
    };
    enable("segment", image && !running && !m_modelPanel->currentCheckpoint().isEmpty());
    enable("cancelSegment", running);
    enable("saveMask", image);
    enable("saveMaskAs", image);
    enable("saveScreenshot", image);
    enable("exportReport", image);
    enable("loadGroundTruth", image);
    enable("clearMask", image);
}

bool PhotoMode::autosaveNow()
{
    return m_autosave->saveNow();
}

std::vector<AutosaveRecord> PhotoMode::recoverableAutosaves() const
{
    return m_autosave->store().recoverable();
}

bool PhotoMode::restoreAutosave(const AutosaveRecord& record)
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
    m_dirty = false; // asked above; opening must not ask again
    if (!m_window->openPath(record.imagePath)) {
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
    showMessage(
        tr("Restored the autosaved mask of %1").arg(QFileInfo(record.imagePath).fileName()));
    return true;
}

void PhotoMode::offerAutosaveRestore()
{
    if (!m_window->isInteractive()) {
        return;
    }
    const std::vector<AutosaveRecord> records = recoverableAutosaves();
    if (records.empty()) {
        return;
    }
    const AutosaveRecord& r = records.front();
    QMessageBox box(QMessageBox::Question, tr("Restore unsaved edits?"),
                    tr("DiffSeg Studio did not close cleanly. The %1 of <b>%2</b> with %3 edit(s) "
                       "was autosaved at %4.<br><br>Restore it?")
                        .arg(r.kind == QLatin1String("volume") ? tr("label map") : tr("mask"))
                        .arg(QFileInfo(r.imagePath).fileName().toHtmlEscaped())
                        .arg(r.edits)
                        .arg(r.saved.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))),
                    QMessageBox::NoButton, m_window);
    QPushButton* restore = box.addButton(tr("Restore"), QMessageBox::AcceptRole);
    QPushButton* discard = box.addButton(tr("Discard"), QMessageBox::DestructiveRole);
    box.addButton(tr("Later"), QMessageBox::RejectRole);
    box.setDefaultButton(restore);
    box.exec();
    if (box.clickedButton() == restore) {
        if (r.kind == QLatin1String("volume")) {
            m_window->volumeMode()->restoreAutosave(r);
        } else {
            restoreAutosave(r);
        }
    } else if (box.clickedButton() == discard) {
        AutosaveStore::remove(r);
    }
}

void PhotoMode::showPixelInfo(const QPoint& pixel, bool inside)
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
        const core::SegmentResult& r = *m_output->photo();
        text += tr("   p %1").arg(r.probabilityOriginal.at<float>(pixel.x(), pixel.y()), 0, 'f', 2);
        const core::Image2D& u = m_output->uncertaintyDisplay[static_cast<std::size_t>(
            std::clamp(m_uncertaintyIndex, 0, 2))];
        text += tr("   uncertainty %1").arg(u.at<float>(pixel.x(), pixel.y()), 0, 'f', 2);
    }
    m_pixelLabel->setText(text);
}

} // namespace diffseg::app
