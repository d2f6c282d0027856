#include "MetricsAccumulator.h"

#include <cmath>

namespace diffseg::core {

MetricsAccumulator::MetricsAccumulator(const MetricsOptions& options)
    : m_options(options)
{}

void MetricsAccumulator::add(const CaseMetrics& metrics)
{
    m_cases.push_back(metrics);
}

const CaseMetrics& MetricsAccumulator::add(const BinaryMask& prediction,
                                           const BinaryMask& reference, const std::string& caseId)
{
    m_cases.push_back(computeCaseMetrics(prediction, reference, m_options, caseId));
    return m_cases.back();
}

MetricsSummary MetricsAccumulator::summary() const
{
    return summarizeCases(m_cases, m_options.emptyConvention);
}

MetricsSummary summarizeCases(std::vector<CaseMetrics> cases, EmptyConvention convention)
{
    MetricsSummary s;
    s.emptyConvention = convention;
    s.cases = std::move(cases);
    for (const CaseMetrics& c : s.cases) {
        s.pooledCounts += c.counts;
        s.predictionEmptyCases += c.predictionEmpty ? 1 : 0;
        s.referenceEmptyCases += c.referenceEmpty ? 1 : 0;
        s.bothEmptyCases += c.bothEmpty() ? 1 : 0;
    }
    s.pooled = overlapMetrics(s.pooledCounts);
    for (int m = 0; m < kMetricCount; ++m) {
        MetricStatistics& st = s.perCase[static_cast<std::size_t>(m)];
        // Two passes (mean, then squared deviations) rather than sum of squares, which cancels
        // badly for values like Dice near 1.
        double sum = 0.0;
        for (const CaseMetrics& c : s.cases) {
            const double v = metricValue(c, static_cast<Metric>(m));
            if (std::isnan(v)) {
                ++st.undefined;
            } else {
                ++st.defined;
                sum += v;
            }
        }
        if (st.defined == 0) {
            continue;
        }
        st.mean = sum / static_cast<double>(st.defined);
        double squares = 0.0;
        for (const CaseMetrics& c : s.cases) {
            const double v = metricValue(c, static_cast<Metric>(m));
            if (!std::isnan(v)) {
                squares += (v - st.mean) * (v - st.mean);
            }
        }
        st.std = std::sqrt(squares / static_cast<double>(st.defined));
    }
    return s;
}

} // namespace diffseg::core
