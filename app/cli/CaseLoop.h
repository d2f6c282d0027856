#pragma once

#include "CliSupport.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace diffseg::core {
class Error;
struct CaseMetrics;
} // namespace diffseg::core

namespace diffseg::app {

/// One run of `segment` (photos) or `segment3d` (volumes): the compute threads, a clean stop on
/// SIGINT/SIGTERM, the progress output and the loop over cases, shared so both report the same
/// way. Each case is announced with an `input` event, a case that fails becomes an `error` event
/// and the run goes on with the next one, a cancellation ends the run at once (the case's partial
/// output is already gone: PartialFolder), and finish() sends `finished` and rethrows the first
/// failure so the exit code says that something failed.
/// Not thread-safe; lives on the command's thread for one run (one per process: it owns the
/// signal handlers).
class CaseLoop
{
public:
    /// `threads` as --threads (0: the default), `progressMode` as --progress. `idKey` names a case
    /// in events ("stem" for photos, "case" for volumes); `activity` is what a cancellation
    /// interrupts ("segmentation"); `noun` counts failures ("inputs", "cases").
    CaseLoop(int threads, const std::string& progressMode, std::string idKey, std::string activity,
             std::string noun);

    ProgressOutput& progress() noexcept { return m_progress; }
    const core::CancelToken& cancel() const noexcept { return m_cancel; }

    /// Announces case `index` of `count` (`extra` adds fields to the `input` event after the id),
    /// then runs `body`. An Error from `body` is reported and remembered; Cancelled is rethrown.
    void run(int index, int count, const std::string& id, const std::string& path,
             const nlohmann::ordered_json& extra, const std::function<void()>& body);

    int failureCount() const noexcept { return static_cast<int>(m_failures.size()); }

    /// A case's `case` event with status done (`extra` after the common fields) and, with a
    /// progress bar, "<id>: done in S s<detail> -> <output>".
    void reportDone(const std::string& id, const std::filesystem::path& output, double seconds,
                    const nlohmann::ordered_json& extra, const std::string& detail);

    /// The `finished` event's common fields: cases, succeeded, failed, then `extra`, then the
    /// seconds since the run began.
    nlohmann::ordered_json finishedEvent(int total, const nlohmann::ordered_json& extra) const;
    /// Sends `finished`, then throws the first failure (naming how many failed when several did).
    void finish(const nlohmann::ordered_json& finished);

private:
    Clock::time_point m_start;
    core::CancelToken m_cancel;
    StopSignalScope m_signals;
    ProgressOutput m_progress;
    std::string m_idKey;
    std::string m_activity;
    std::string m_noun;
    std::vector<core::Error> m_failures;
};

/// Creates `path` (and its parents); Error(Io) naming it when that fails.
void createOutputFolder(const std::string& path);

/// `<name>.csv` and `<name>.json` in `out` with per-case rows and the pooled summary; nothing when
/// `cases` is empty.
void writeSummaryFiles(const std::filesystem::path& out, const std::string& name,
                       const std::vector<core::CaseMetrics>& cases);

/// The metrics table under `header`: on stdout, or on stderr when stdout carries JSON lines.
void printMetricsTable(const ProgressOutput& progress, const std::string& header,
                       const std::string& table);

/// One case's metrics as JSON (the per-case summary's "metrics").
nlohmann::ordered_json caseMetricsJson(const core::CaseMetrics& metrics);

/// A model file that failed to load as one of ours with a Format error, when no reference preset
/// was given, gets `hint` appended (how to load the reference code's file); other errors as they
/// are.
core::Error withReferenceHint(const core::Error& error, bool referenceGiven,
                              const std::string& hint);

} // namespace diffseg::app
