#include "MetricsReport.h"

#include "base/Error.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace diffseg::core {

namespace {

constexpr Metric kRatioMetrics[] = {Metric::Dice,        Metric::IoU,      Metric::Sensitivity,
                                    Metric::Specificity, Metric::Accuracy, Metric::Precision};

std::string number(double v)
{
    if (std::isnan(v)) {
        return "NaN";
    }
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

std::string csvField(const std::string& text)
{
    if (text.find_first_of(",\"\r\n") == std::string::npos) {
        return text;
    }
    std::string quoted = "\"";
    for (char ch : text) {
        quoted += ch;
        if (ch == '"') {
            quoted += '"';
        }
    }
    return quoted + "\"";
}

double ratioValue(const OverlapMetrics& o, Metric m)
{
    CaseMetrics c;
    c.overlap = o;
    return metricValue(c, m);
}

nlohmann::json jsonNumber(double v)
{
    return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
}

nlohmann::json countsJson(const ConfusionCounts& c)
{
    return {{"tp", c.tp}, {"fp", c.fp}, {"tn", c.tn}, {"fn", c.fn}};
}

std::string fitted(const std::string& text, std::size_t width)
{
    if (text.size() <= width) {
        return text;
    }
    return text.substr(0, width - 3) + "...";
}

void writeFile(const std::string& path, const std::string& content)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        throw Error(ErrorKind::Io, path,
                    std::string("cannot open for writing: ") + std::strerror(errno));
    }
    out << content;
    out.flush();
    if (!out) {
        throw Error(ErrorKind::Io, path, "write failed");
    }
}

} // namespace

std::string metricsToCsv(const MetricsSummary& s)
{
    std::ostringstream os;
    os << "kind,case,tp,fp,tn,fn";
    for (int m = 0; m < kMetricCount; ++m) {
        os << ',' << metricKey(static_cast<Metric>(m));
    }
    os << ",prediction_empty,reference_empty\n";
    for (const CaseMetrics& c : s.cases) {
        os << "case," << csvField(c.caseId) << ',' << c.counts.tp << ',' << c.counts.fp << ','
           << c.counts.tn << ',' << c.counts.fn;
        for (int m = 0; m < kMetricCount; ++m) {
            os << ',' << number(metricValue(c, static_cast<Metric>(m)));
        }
        os << ',' << (c.predictionEmpty ? 1 : 0) << ',' << (c.referenceEmpty ? 1 : 0) << '\n';
    }
    os << "pooled,," << s.pooledCounts.tp << ',' << s.pooledCounts.fp << ',' << s.pooledCounts.tn
       << ',' << s.pooledCounts.fn;
    for (int m = 0; m < kMetricCount; ++m) {
        const auto metric = static_cast<Metric>(m);
        os << ','
           << (isDistanceMetric(metric) ? std::string() : number(ratioValue(s.pooled, metric)));
    }
    os << ",,\n";
    for (const char* kind : {"mean", "std"}) {
        os << kind << ",,,,,";
        const bool mean = std::strcmp(kind, "mean") == 0;
        for (int m = 0; m < kMetricCount; ++m) {
            const MetricStatistics& st = s.perCase[static_cast<std::size_t>(m)];
            os << ',' << number(mean ? st.mean : st.std);
        }
        os << ",,\n";
    }
    return os.str();
}

nlohmann::json caseMetricsToJson(const CaseMetrics& c)
{
    nlohmann::json j;
    j["case"] = c.caseId;
    j["counts"] = countsJson(c.counts);
    for (int m = 0; m < kMetricCount; ++m) {
        const auto metric = static_cast<Metric>(m);
        j[metricKey(metric)] = jsonNumber(metricValue(c, metric));
    }
    j["prediction_empty"] = c.predictionEmpty;
    j["reference_empty"] = c.referenceEmpty;
    j["distances_defined"] = c.surface.defined;
    j["prediction_surface_voxels"] = c.surface.predictionSurfaceVoxels;
    j["reference_surface_voxels"] = c.surface.referenceSurfaceVoxels;
    return j;
}

nlohmann::json metricsToJson(const MetricsSummary& s)
{
    nlohmann::json j;
    j["empty_convention"] = emptyConventionName(s.emptyConvention);
    j["definitions"] = {
        {"surface", "foreground voxels with a background face neighbour (outside = background)"},
        {"hd95_mm", "95th percentile (linear) of both directed surface distance sets pooled "
                    "(medpy hd95)"},
        {"assd_mm", "mean of both directed surface distance sets pooled"},
        {"pooled", "ratios of global TP/FP/TN/FN over all cases (torchmetrics micro)"},
        {"std", "population standard deviation (ddof 0) over cases where defined"}};
    nlohmann::json cases = nlohmann::json::array();
    for (const CaseMetrics& c : s.cases) {
        cases.push_back(caseMetricsToJson(c));
    }
    j["cases"] = std::move(cases);
    nlohmann::json pooled;
    pooled["counts"] = countsJson(s.pooledCounts);
    for (Metric m : kRatioMetrics) {
        pooled[metricKey(m)] = jsonNumber(ratioValue(s.pooled, m));
    }
    j["pooled"] = std::move(pooled);
    nlohmann::json perCase;
    for (int m = 0; m < kMetricCount; ++m) {
        const MetricStatistics& st = s.perCase[static_cast<std::size_t>(m)];
        perCase[metricKey(static_cast<Metric>(m))] = {{"mean", jsonNumber(st.mean)},
                                                      {"std", jsonNumber(st.std)},
                                                      {"defined", st.defined},
                                                      {"undefined", st.undefined}};
    }
    j["per_case"] = std::move(perCase);
    j["empty_cases"] = {{"prediction", s.predictionEmptyCases},
                        {"reference", s.referenceEmptyCases},
                        {"both", s.bothEmptyCases}};
    return j;
}

std::string metricsTable(const MetricsSummary& s)
{
    constexpr std::size_t kCaseWidth = 24;
    constexpr int kColumn = 9;
    std::ostringstream os;
    const auto cell = [&](double v, bool distance) {
        char buf[32];
        if (std::isnan(v)) {
            std::snprintf(buf, sizeof buf, "%*s", kColumn, "n/a");
        } else {
            std::snprintf(buf, sizeof buf, distance ? "%*.2f" : "%*.4f", kColumn, v);
        }
        os << buf;
    };
    const auto label = [&](const std::string& text) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(kCaseWidth),
                      fitted(text, kCaseWidth).c_str());
        os << buf;
    };
    label("case");
    for (int m = 0; m < kMetricCount; ++m) {
        const auto metric = static_cast<Metric>(m);
        std::string heading = metricHeading(metric);
        if (isDistanceMetric(metric)) {
            heading += "mm";
        }
        char buf[32];
        std::snprintf(buf, sizeof buf, "%*s", kColumn, heading.c_str());
        os << buf;
    }
    os << "  flags\n";
    const std::size_t ruleWidth = kCaseWidth + kMetricCount * kColumn + 7;
    os << std::string(ruleWidth, '-') << '\n';
    for (const CaseMetrics& c : s.cases) {
        label(c.caseId);
        for (int m = 0; m < kMetricCount; ++m) {
            const auto metric = static_cast<Metric>(m);
            cell(metricValue(c, metric), isDistanceMetric(metric));
        }
        std::string flags;
        flags += c.predictionEmpty ? 'P' : ' ';
        flags += c.referenceEmpty ? 'R' : ' ';
        os << "  " << flags << '\n';
    }
    os << std::string(ruleWidth, '-') << '\n';
    label("pooled (all pixels)");
    for (int m = 0; m < kMetricCount; ++m) {
        const auto metric = static_cast<Metric>(m);
        cell(isDistanceMetric(metric) ? SurfaceDistanceStats::kNaN : ratioValue(s.pooled, metric),
             isDistanceMetric(metric));
    }
    os << '\n';
    label("mean over cases");
    for (int m = 0; m < kMetricCount; ++m) {
        cell(s.perCase[static_cast<std::size_t>(m)].mean, isDistanceMetric(static_cast<Metric>(m)));
    }
    os << '\n';
    label("std over cases");
    for (int m = 0; m < kMetricCount; ++m) {
        cell(s.perCase[static_cast<std::size_t>(m)].std, isDistanceMetric(static_cast<Metric>(m)));
    }
    os << '\n';
    os << s.cases.size() << " cases; empty prediction " << s.predictionEmptyCases
       << ", empty reference " << s.referenceEmptyCases << ", both " << s.bothEmptyCases
       << "; empty convention " << emptyConventionName(s.emptyConvention) << '\n';
    return os.str();
}

void writeMetricsCsv(const std::string& path, const MetricsSummary& summary)
{
    writeFile(path, metricsToCsv(summary));
}

void writeMetricsJson(const std::string& path, const MetricsSummary& summary)
{
    writeFile(path, metricsToJson(summary).dump(2) + "\n");
}

} // namespace diffseg::core
