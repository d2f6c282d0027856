#pragma once

#include "SegmentationMetrics.h"

#include <array>
#include <cstddef>
#include <vector>

namespace diffseg::core {

/// Mean and population standard deviation (numpy's default ddof = 0, as the BraTS/AIIB scripts
/// report) of one metric over the cases where it is defined; NaN values are left out and counted.
struct MetricStatistics
{
    double mean = SurfaceDistanceStats::kNaN;
    double std = SurfaceDistanceStats::kNaN;
    std::size_t defined = 0;   ///< cases that entered mean and std
    std::size_t undefined = 0; ///< cases whose value was NaN
};

/// A whole evaluation: the cases, the pixel-pooled metrics and the per-case statistics.
struct MetricsSummary
{
    std::vector<CaseMetrics> cases;
    EmptyConvention emptyConvention = EmptyConvention::Default;
    /// Global TP/FP/TN/FN over every pixel/voxel of every case, and the ratios computed from them:
    /// the reference's torchmetrics micro averaging (seed-spec A8). There are no pooled distances.
    ConfusionCounts pooledCounts;
    OverlapMetrics pooled;
    /// Indexed by static_cast<int>(Metric).
    std::array<MetricStatistics, kMetricCount> perCase;
    std::size_t predictionEmptyCases = 0;
    std::size_t referenceEmptyCases = 0;
    std::size_t bothEmptyCases = 0;

    const MetricStatistics& statistics(Metric metric) const
    {
        return perCase[static_cast<std::size_t>(metric)];
    }
};

/// Collects per-case metrics as an evaluation runs and summarises them. Not synchronised: use one
/// accumulator per thread, or add from one thread.
class MetricsAccumulator
{
public:
    explicit MetricsAccumulator(const MetricsOptions& options = {});

    const MetricsOptions& options() const noexcept { return m_options; }
    /// Adds a case computed elsewhere (e.g. inside `segment`).
    void add(const CaseMetrics& metrics);
    /// Computes and adds one case; returns its metrics. Throws like computeCaseMetrics.
    const CaseMetrics& add(const BinaryMask& prediction, const BinaryMask& reference,
                           const std::string& caseId);
    std::size_t size() const noexcept { return m_cases.size(); }
    void clear() noexcept { m_cases.clear(); }
    MetricsSummary summary() const;

private:
    MetricsOptions m_options;
    std::vector<CaseMetrics> m_cases;
};

/// Summarises finished cases (what MetricsAccumulator::summary() does).
MetricsSummary summarizeCases(std::vector<CaseMetrics> cases,
                              EmptyConvention convention = EmptyConvention::Default);

} // namespace diffseg::core
