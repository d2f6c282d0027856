#pragma once

#include "MetricsAccumulator.h"

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace diffseg::core {

// Output formats of an evaluation, shared by `diffseg eval`, `diffseg segment --gt` and the GUI.
// Undefined values (NaN) are written as "NaN" in CSV, null in JSON and "n/a" in the table.

/// CSV (RFC 4180, comma, '\n'): header
/// `kind,case,tp,fp,tn,fn,dice,iou,sensitivity,specificity,accuracy,precision,hd95_mm,assd_mm,
/// hausdorff_mm,prediction_empty,reference_empty`, then one `case` row per case, a `pooled` row
/// (global counts and their ratios; distance columns empty) and `mean` and `std` rows (per-case
/// statistics; count and flag columns empty). Numbers with 10 significant digits.
std::string metricsToCsv(const MetricsSummary& summary);

/// JSON object: {"empty_convention", "definitions", "cases": [{"case", "counts": {tp, fp, tn, fn},
/// <metric keys>, "prediction_empty", "reference_empty", "distances_defined"}], "pooled":
/// {"counts", <ratio keys>}, "per_case": {<metric key>: {"mean", "std", "defined", "undefined"}},
/// "empty_cases": {"prediction", "reference", "both"}}.
nlohmann::json metricsToJson(const MetricsSummary& summary);
/// The JSON of one case (the element of "cases"), for `segment`'s per-input summary.
nlohmann::json caseMetricsToJson(const CaseMetrics& metrics);

/// A fixed-width text table for terminals: one row per case, then "pooled", "mean" and "std"
/// rows; ratios with 4 decimals, distances in mm with 2; flags "P" (empty prediction) and
/// "R" (empty reference). Case names longer than 24 characters are shortened with "...".
std::string metricsTable(const MetricsSummary& summary);

/// Write the CSV / JSON (indented by 2) to `path`. Throws Error(Io) naming the path on failure.
void writeMetricsCsv(const std::string& path, const MetricsSummary& summary);
void writeMetricsJson(const std::string& path, const MetricsSummary& summary);

} // namespace diffseg::core
