#include "MainWindow.h"
#include "RecentFiles.h"
#include "SessionAutosave.h"
#include "VolumeMode.h"
#include "base/Error.h"
#include "data/DemoData.h"
#include "imaging/Intensity.h"
#include "panels/VolumePanel.h"
#include "volume/VolumeWorkspace.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QMessageBox>
#include <QPushButton>
#include <QStatusBar>

#include <algorithm>
#include <cmath>

// The volume workflow's files: open (volumes, DICOM folders, label maps dropped on their
// volume), generated phantoms, save, screenshots, and the autosave of unsaved label edits.

namespace diffseg::app {

namespace {

constexpr std::uint64_t kPhantomSeed = 7;

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
    if (!hasUnsavedEdits() || !m_interactive || !hasVolume()) {
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
        return !hasUnsavedEdits();
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
            if (header.size == volume().size() && header.channels == 1 &&
                header.geometry.isClose(volume().geometry(), 1e-3)) {
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
    const bool isCt = core::looksLikeCt(loaded.volume, loaded.source.modality());
    const QString name = info.isDir() ? info.fileName() + QLatin1Char('/') : info.fileName();
    showVolume(loaded.volume, name, isCt, info.absoluteFilePath(), loaded.source);
    m_recent->add(info.absoluteFilePath());

    QString description = describe(name, loaded.volume, isCt);
    QString status = tr("Opened %1 (%2 x %3 x %4)")
                         .arg(name)
                         .arg(loaded.volume.size()[0])
                         .arg(loaded.volume.size()[1])
                         .arg(loaded.volume.size()[2]);
    const auto& series = source().dicomSeries;
    if (series.size() > 1 && source().chosenSeries >= 0) {
        const int chosen = source().chosenSeries;
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
    for (const std::string& note : source().notes) {
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
    showVolume(volume, name, isCt);
    m_panel->setVolumeDescription(describe(name, volume, isCt));
    if (!groundTruth.empty()) {
        m_session->setGroundTruth(groundTruth);
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

void VolumeMode::showVolume(const core::Volume& volume, const QString& name, bool isCt,
                            const QString& path, core::VolumeSource source)
{
    ensureUi();
    ++m_volumeSerial;
    resetResult();
    m_autosave->discard(); // the edits of the volume before were saved or let go
    m_name = name;
    m_groundTruthName.clear();
    m_workspace->setDisplayHints(isCt, 0);
    // The Opened event makes the workspace show it, with fresh labels and history.
    m_session->openVolume(volume, path.toStdString(), std::move(source));
    m_panel->setGroundTruthAvailable(false);
    if (m_active) {
        m_window->setWindowTitle(tr("%1 - DiffSeg Studio").arg(m_name));
    } else {
        setActive(true);
    }
    preferPackagedModelFor(isCt);
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
        if (role == LabelRole::GroundTruth) {
            m_session->loadGroundTruth(path.toStdString());
        } else {
            labels = m_session->readAligned(path.toStdString());
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
        m_groundTruthName = QFileInfo(path).fileName();
        m_workspace->setGroundTruth(m_panel->showGroundTruth() ? m_session->groundTruth()
                                                               : core::LabelMap());
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
    // Relative ("labels.nii.gz" for a generated volume): in the current folder.
    return QDir::current().absoluteFilePath(QString::fromStdString(m_session->suggestedSavePath()));
}

bool VolumeMode::saveLabelMap(const QString& path, bool quiet)
{
    if (!hasVolume()) {
        reportError(tr("Nothing to save"), tr("Open a volume and segment it first."), quiet);
        return false;
    }
    try {
        m_session->save(path.toStdString());
    } catch (const core::Error& e) {
        reportError(tr("Cannot save label map"), QString::fromStdString(e.what()), quiet);
        return false;
    }
    m_autosave->discard();
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
// Autosave

bool VolumeMode::autosaveNow()
{
    return m_autosave->saveNow();
}

void VolumeMode::discardAutosave()
{
    m_autosave->discard();
}

bool VolumeMode::restoreAutosave(const AutosaveRecord& record)
{
    const QString title = tr("Cannot restore autosave");
    if (!QFileInfo::exists(record.imagePath)) {
        reportError(
            title,
            tr("%1\n\nThe volume of the autosaved labels no longer exists.").arg(record.imagePath),
            !m_interactive);
        return false;
    }
    // The volume first: the labels are checked against its grid. A failure below keeps the
    // autosave, so nothing is lost.
    if (!openPath(record.imagePath, !m_interactive)) {
        return false;
    }
    if (!record.groundTruthPath.isEmpty() &&
        record.groundTruthPath != QString::fromStdString(m_session->groundTruthPath())) {
        loadLabelMap(record.groundTruthPath, LabelRole::GroundTruth, true);
    }
    try {
        m_workspace->replaceLabels(m_session->readAligned(record.maskPath.toStdString()),
                                   "Restore autosaved edits");
    } catch (const core::Error& e) {
        reportError(title, QString::fromStdString(e.what()), !m_interactive);
        return false;
    }
    m_resultPending = false;
    AutosaveStore::remove(record);
    autosaveNow();
    m_window->statusBar()->showMessage(
        tr("Restored the autosaved labels of %1").arg(QFileInfo(record.imagePath).fileName()));
    return true;
}

} // namespace diffseg::app
