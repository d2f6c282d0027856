#include "SegmentationMetrics.h"

#include "base/EnumNames.h"
#include "base/Error.h"

#include <cmath>

namespace diffseg::core {

namespace {

double ratio(std::uint64_t num, std::uint64_t den)
{
    return den == 0 ? SurfaceDistanceStats::kNaN
                    : static_cast<double>(num) / static_cast<double>(den);
}

constexpr EnumName<EmptyConvention> kEmptyConventionNames[] = {
    {EmptyConvention::Default, "default"}, {EmptyConvention::BraTS, "brats"}};

constexpr EnumName<Metric> kMetricKeys[] = {{Metric::Dice, "dice"},
                                            {Metric::IoU, "iou"},
                                            {Metric::Sensitivity, "sensitivity"},
                                            {Metric::Specificity, "specificity"},
                                            {Metric::Accuracy, "accuracy"},
                                            {Metric::Precision, "precision"},
                                            {Metric::Hd95, "hd95_mm"},
                                            {Metric::Assd, "assd_mm"},
                                            {Metric::Hausdorff, "hausdorff_mm"}};
constexpr EnumName<Metric> kMetricHeadings[] = {
    {Metric::Dice, "Dice"},      {Metric::IoU, "IoU"},      {Metric::Sensitivity, "SE"},
    {Metric::Specificity, "SP"}, {Metric::Accuracy, "ACC"}, {Metric::Precision, "PREC"},
    {Metric::Hd95, "HD95"},      {Metric::Assd, "ASSD"},    {Metric::Hausdorff, "HD"}};

} // namespace

const char* emptyConventionName(EmptyConvention convention) noexcept
{
    return enumName(kEmptyConventionNames, convention, "default");
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
    return enumName(kMetricKeys, metric, "?");
}

const char* metricHeading(Metric metric) noexcept
{
    return enumName(kMetricHeadings, metric, "?");
}

bool isDistanceMetric(Metric metric) noexcept
{
    return metric == Metric::Hd95 || metric == Metric::Assd || metric == Metric::Hausdorff;
}

namespace {

/// Where CaseMetrics keeps each metric: an overlap ratio or a surface distance (the other null).
struct MetricField
{
    Metric metric;
    double OverlapMetrics::*overlap;
    double SurfaceDistanceStats::*surface;
};

constexpr MetricField kMetricFields[] = {
    {Metric::Dice, &OverlapMetrics::dice, nullptr},
    {Metric::IoU, &OverlapMetrics::iou, nullptr},
    {Metric::Sensitivity, &OverlapMetrics::sensitivity, nullptr},
    {Metric::Specificity, &OverlapMetrics::specificity, nullptr},
    {Metric::Accuracy, &OverlapMetrics::accuracy, nullptr},
    {Metric::Precision, &OverlapMetrics::precision, nullptr},
    {Metric::Hd95, nullptr, &SurfaceDistanceStats::hd95Mm},
    {Metric::Assd, nullptr, &SurfaceDistanceStats::assdMm},
    {Metric::Hausdorff, nullptr, &SurfaceDistanceStats::hausdorffMm}};

} // namespace

double metricValue(const CaseMetrics& m, Metric metric) noexcept
{
    for (const MetricField& field : kMetricFields) {
        if (field.metric == metric) {
            return field.overlap != nullptr ? m.overlap.*field.overlap : m.surface.*field.surface;
        }
    }
    return SurfaceDistanceStats::kNaN;
}

} // namespace diffseg::core
