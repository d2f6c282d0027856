#include "SegmentationMetrics.h"

#include "base/Error.h"

#include <cmath>

namespace diffseg::core {

namespace {

double ratio(std::uint64_t num, std::uint64_t den)
{
    return den == 0 ? SurfaceDistanceStats::kNaN
                    : static_cast<double>(num) / static_cast<double>(den);
}

} // namespace

const char* emptyConventionName(EmptyConvention convention) noexcept
{
    return convention == EmptyConvention::BraTS ? "brats" : "default";
}

OverlapMetrics overlapMetrics(const ConfusionCounts& c)
{
    OverlapMetrics m;
    const std::uint64_t union_ = c.tp + c.fp + c.fn;
    m.dice = union_ == 0 ? 1.0 : ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
    m.iou = union_ == 0 ? 1.0 : ratio(c.tp, union_);
    m.sensitivity = ratio(c.tp, c.tp + c.fn);
    m.specificity = ratio(c.tn, c.tn + c.fp);
    m.accuracy = ratio(c.tp + c.tn, c.total());
    m.precision = ratio(c.tp, c.tp + c.fp);
    return m;
}

ConfusionCounts confusionCounts(const BinaryMask& prediction, const BinaryMask& reference)
{
    requireSameGrid(prediction, reference);
    // Count per (pred, ref) pair with a 4-bin histogram: branch-free and vectorisable.
    std::uint64_t bins[4] = {0, 0, 0, 0};
    const std::uint8_t* p = prediction.data();
    const std::uint8_t* r = reference.data();
    const std::size_t count = prediction.voxelCount();
    for (std::size_t n = 0; n < count; ++n) {
        ++bins[(p[n] << 1) | r[n]];
    }
    ConfusionCounts c;
    c.tn = bins[0];
    c.fn = bins[1];
    c.fp = bins[2];
    c.tp = bins[3];
    return c;
}

CaseMetrics computeCaseMetrics(const BinaryMask& prediction, const BinaryMask& reference,
                               const MetricsOptions& options, const std::string& caseId)
{
    if (options.emptyConvention == EmptyConvention::BraTS &&
        !(options.bratsEmptyHd95Mm >= 0.0 && std::isfinite(options.bratsEmptyHd95Mm))) {
        throw Error(ErrorKind::Config, "bratsEmptyHd95Mm",
                    "must be a finite distance >= 0, got " +
                        std::to_string(options.bratsEmptyHd95Mm));
    }
    CaseMetrics m;
    m.caseId = caseId;
    m.counts = confusionCounts(prediction, reference);
    m.predictionEmpty = m.counts.tp + m.counts.fp == 0;
    m.referenceEmpty = m.counts.tp + m.counts.fn == 0;
    m.overlap = overlapMetrics(m.counts);
    if (options.computeDistances && !m.predictionEmpty && !m.referenceEmpty) {
        m.surface = surfaceDistanceStats(prediction, reference);
    }
    if (options.emptyConvention == EmptyConvention::BraTS &&
        (m.predictionEmpty || m.referenceEmpty)) {
        m.overlap.dice = 0.0;
        m.surface.hd95Mm = options.bratsEmptyHd95Mm;
    }
    return m;
}

CaseMetrics computeCaseMetrics(const Image2D& prediction, const Image2D& reference,
                               const MetricsOptions& options, const std::string& caseId)
{
    const std::string who = caseId.empty() ? std::string() : caseId + ": ";
    return computeCaseMetrics(BinaryMask::fromImage(prediction, who + "prediction"),
                              BinaryMask::fromImage(reference, who + "reference"), options, caseId);
}

CaseMetrics computeCaseMetrics(const Volume& prediction, const Volume& reference,
                               const LabelSelection& selection, const MetricsOptions& options,
                               const std::string& caseId)
{
    const std::string who = caseId.empty() ? std::string() : caseId + ": ";
    return computeCaseMetrics(BinaryMask::fromVolume(prediction, selection, who + "prediction"),
                              BinaryMask::fromVolume(reference, selection, who + "reference"),
                              options, caseId);
}

const char* metricKey(Metric metric) noexcept
{
    switch (metric) {
    case Metric::Dice:
        return "dice";
    case Metric::IoU:
        return "iou";
    case Metric::Sensitivity:
        return "sensitivity";
    case Metric::Specificity:
        return "specificity";
    case Metric::Accuracy:
        return "accuracy";
    case Metric::Precision:
        return "precision";
    case Metric::Hd95:
        return "hd95_mm";
    case Metric::Assd:
        return "assd_mm";
    case Metric::Hausdorff:
        return "hausdorff_mm";
    }
    return "?";
}

const char* metricHeading(Metric metric) noexcept
{
    switch (metric) {
    case Metric::Dice:
        return "Dice";
    case Metric::IoU:
        return "IoU";
    case Metric::Sensitivity:
        return "SE";
    case Metric::Specificity:
        return "SP";
    case Metric::Accuracy:
        return "ACC";
    case Metric::Precision:
        return "PREC";
    case Metric::Hd95:
        return "HD95";
    case Metric::Assd:
        return "ASSD";
    case Metric::Hausdorff:
        return "HD";
    }
    return "?";
}

bool isDistanceMetric(Metric metric) noexcept
{
    return metric == Metric::Hd95 || metric == Metric::Assd || metric == Metric::Hausdorff;
}

double metricValue(const CaseMetrics& m, Metric metric) noexcept
{
    switch (metric) {
    case Metric::Dice:
        return m.overlap.dice;
    case Metric::IoU:
        return m.overlap.iou;
    case Metric::Sensitivity:
        return m.overlap.sensitivity;
    case Metric::Specificity:
        return m.overlap.specificity;
    case Metric::Accuracy:
        return m.overlap.accuracy;
    case Metric::Precision:
        return m.overlap.precision;
    case Metric::Hd95:
        return m.surface.hd95Mm;
    case Metric::Assd:
        return m.surface.assdMm;
    case Metric::Hausdorff:
        return m.surface.hausdorffMm;
    }
    return SurfaceDistanceStats::kNaN;
}

} // namespace diffseg::core
