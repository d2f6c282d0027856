// The photo workflow's report: image, mask, uncertainty, metrics and the settings of the run, as
// an A4 PDF or a PNG.
#include "MaskOps.h"
#include "PhotoMode.h"
#include "ReportComposer.h"
#include "SegmentationRunner.h"
#include "base/Error.h"
#include "image/SegmentationView2D.h"
#include "metrics/ForegroundOverlap.h"
#include "panels/ReportWriter.h"
#include "steps/EnsembleGallery.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>
#include <array>
#include <cmath>

namespace diffseg::app {

namespace {

const std::array<const char*, 3> kUncertaintyNames = {"Ensemble std", "Predictive entropy",
                                                      "Step instability"};

QString number(double v, int decimals = 3)
{
    return std::isnan(v) ? QStringLiteral("n/a") : QString::number(v, 'f', decimals);
}

} // namespace

bool PhotoMode::exportReport(const QString& path, bool quiet)
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
        const core::SegmentResult& r = *m_output->photo();
        const int index = std::clamp(m_uncertaintyIndex, 0, 2);
        in.uncertainty = m_output->uncertaintyDisplay[static_cast<std::size_t>(index)];
        in.uncertaintyName = PhotoMode::tr(kUncertaintyNames[static_cast<std::size_t>(index)]);
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
        const core::ModelIdentity& m = m_output->model;
        const core::SegmentationRequest& o = m_output->outcome.settings;
        in.settings.append({tr("Model"), QFileInfo(QString::fromStdString(m.path)).fileName()});
        in.settings.append({tr("Model id"), QString::fromStdString(m.id)});
        in.settings.append({tr("Weights"), m.emaWeights ? tr("EMA") : tr("online")});
        in.settings.append({tr("Sampler"), QStringLiteral("%1, %2 steps")
                                               .arg(QString::fromStdString(o.sampler).toUpper())
                                               .arg(r.timesteps.size())});
        in.settings.append({tr("Ensemble"), QString::number(o.ensemble)});
        in.settings.append({tr("Eta / seed"), QStringLiteral("%1 / %2").arg(o.eta).arg(o.seed)});
        in.settings.append({tr("Start"), o.startFromOtsu > 0.0
                                             ? tr("Otsu outline noised to %1 % of the schedule")
                                                   .arg(std::lround(100.0 * o.startFromOtsu))
                                             : tr("pure noise")});
        in.settings.append({tr("Input size"), QStringLiteral("%1 x %1").arg(m.inputSize)});
        in.settings.append({tr("Device"), QString::fromStdString(m.device)});
        in.settings.append({tr("Precision"), QString::fromStdString(m.precision)});
        in.settings.append({tr("Sampling time"), formatSeconds(r.timings.sampling)});
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
    showMessage(tr("Report written to %1").arg(QDir::toNativeSeparators(path)));
    return true;
}

} // namespace diffseg::app
