#pragma once

#include "BinaryMask.h"
#include "SurfaceDistance.h"

#include <cstdint>
#include <string>

namespace diffseg::core {

/// Voxel counts of a binary prediction against a reference (positive = foreground).
struct ConfusionCounts
{
    std::uint64_t tp = 0;
    std::uint64_t fp = 0;
    std::uint64_t tn = 0;
    std::uint64_t fn = 0;

    std::uint64_t total() const noexcept { return tp + fp + tn + fn; }
    ConfusionCounts& operator+=(const ConfusionCounts& other) noexcept
    {
        tp += other.tp;
        fp += other.fp;
        tn += other.tn;
        fn += other.fn;
        return *this;
    }
    bool operator==(const ConfusionCounts& o) const noexcept
    {
        return tp == o.tp && fp == o.fp && tn == o.tn && fn == o.fn;
    }
};

/// How metrics treat empty masks.
enum class EmptyConvention
{
    /// Ours: Dice = IoU = 1 when both masks are empty (flagged); every other 0/0 ratio is NaN;
    /// surface distances are NaN whenever either mask is empty (flagged, never a crash).
    Default,
    /// Diff-UNet's BraTS script: when either mask is empty (both included), Dice = 0 and
    /// HD95 = 50 (MetricsOptions::bratsEmptyHd95Mm); the other values follow Default.
    BraTS
};

const char* emptyConventionName(EmptyConvention convention) noexcept;

struct MetricsOptions
{
    bool computeDistances = true; ///< false skips HD95/ASSD (the EDT is the costly part)
    EmptyConvention emptyConvention = EmptyConvention::Default;
    double bratsEmptyHd95Mm = 50.0;
};

/// Ratio metrics from confusion counts (seed-spec A8 formulas):
/// Dice = 2TP/(2TP+FP+FN), IoU = TP/(TP+FP+FN), sensitivity = TP/(TP+FN),
/// specificity = TN/(TN+FP), accuracy = (TP+TN)/N, precision = TP/(TP+FP).
/// A 0/0 ratio is NaN, except Dice and IoU of two empty masks, which are 1 (our convention;
/// nnU-Net's dice() gives NaN there, the BraTS script 0).
struct OverlapMetrics
{
    double dice = SurfaceDistanceStats::kNaN;
    double iou = SurfaceDistanceStats::kNaN;
    double sensitivity = SurfaceDistanceStats::kNaN;
    double specificity = SurfaceDistanceStats::kNaN;
    double accuracy = SurfaceDistanceStats::kNaN;
    double precision = SurfaceDistanceStats::kNaN;
};

OverlapMetrics overlapMetrics(const ConfusionCounts& counts);

/// Everything measured for one case (one prediction against its reference).
struct CaseMetrics
{
    std::string caseId;
    ConfusionCounts counts;
    OverlapMetrics overlap;
    /// Surface distances in mm. Under EmptyConvention::BraTS an empty mask puts the substitute
    /// value in hd95Mm while `surface.defined` stays false.
    SurfaceDistanceStats surface;
    bool predictionEmpty = false;
    bool referenceEmpty = false;

    bool bothEmpty() const noexcept { return predictionEmpty && referenceEmpty; }
};

/// Counts TP/FP/TN/FN. Throws Error(Mismatch) naming both inputs when the grids differ.
ConfusionCounts confusionCounts(const BinaryMask& prediction, const BinaryMask& reference);

/// All metrics of one case. Throws Error(Mismatch) when the grids differ (size, dimensions or
/// spacing) and Error(InvalidValue) for empty grids. Pure function, thread-safe.
CaseMetrics computeCaseMetrics(const BinaryMask& prediction, const BinaryMask& reference,
                               const MetricsOptions& options = {}, const std::string& caseId = {});
/// 2D masks: 1-channel uint8 {0, 1} images; spacing from Image2D::spacing().
CaseMetrics computeCaseMetrics(const Image2D& prediction, const Image2D& reference,
                               const MetricsOptions& options = {}, const std::string& caseId = {});
/// 3D label maps (LabelMap or 1-channel integer Volume); spacing from the geometry.
CaseMetrics computeCaseMetrics(const Volume& prediction, const Volume& reference,
                               const LabelSelection& selection, const MetricsOptions& options = {},
                               const std::string& caseId = {});

/// The metrics reported per case, in report column order.
enum class Metric
{
    Dice,
    IoU,
    Sensitivity,
    Specificity,
    Accuracy,
    Precision,
    Hd95,
    Assd,
    Hausdorff
};
constexpr int kMetricCount = 9;
/// Column / JSON key name: "dice", "iou", ..., "hd95_mm", "assd_mm", "hausdorff_mm".
const char* metricKey(Metric metric) noexcept;
/// Short table heading: "Dice", "IoU", "SE", "SP", "ACC", "PREC", "HD95", "ASSD", "HD".
const char* metricHeading(Metric metric) noexcept;
/// True for the distance metrics (mm), false for ratios.
bool isDistanceMetric(Metric metric) noexcept;
double metricValue(const CaseMetrics& metrics, Metric metric) noexcept;

} // namespace diffseg::core
