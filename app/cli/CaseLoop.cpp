#include "CaseLoop.h"

#include "base/Error.h"
#include "metrics/MetricsAccumulator.h"
#include "metrics/MetricsReport.h"
#include "metrics/SegmentationMetrics.h"
#include "runtime/Runtime.h"

#include <cstdio>
#include <system_error>

namespace diffseg::app {

using core::Error;
using core::ErrorKind;
using Json = nlohmann::ordered_json;

CaseLoop::CaseLoop(int threads, const std::string& progressMode, std::string idKey,
                   std::string activity, std::string noun)
    : m_start(Clock::now())
    , m_signals(m_cancel)
    , m_progress(ProgressOutput::modeFromName(progressMode))
    , m_idKey(std::move(idKey))
    , m_activity(std::move(activity))
    , m_noun(std::move(noun))
{
    core::setComputeThreads(threads);
}

void CaseLoop::run(int index, int count, const std::string& id, const std::string& path,
                   const Json& extra, const std::function<void()>& body)
{
    Json input = {{"event", "input"}, {"index", index}, {"count", count}, {m_idKey, id}};
    input.update(extra);
    m_progress.event(input);
    try {
        m_cancel.throwIfCancelled(m_activity.c_str());
        body();
    } catch (const Error& e) {
        m_progress.clearBar();
        if (e.kind() == ErrorKind::Cancelled) {
            m_progress.event({{"event", "cancelled"}, {m_idKey, id}});
            m_progress.message("cancelled while segmenting " + path +
                               "; its partial output was removed");
            throw;
        }
        m_progress.event({{"event", "error"},
                          {m_idKey, id},
                          {"path", path},
                          {"kind", core::errorKindName(e.kind())},
                          {"message", e.what()}});
        m_progress.message("error: " + std::string(e.what()));
        m_failures.push_back(e);
    }
}

void CaseLoop::reportDone(const std::string& id, const std::filesystem::path& output,
                          double seconds, const Json& extra, const std::string& detail)
{
    Json done = {{"event", "case"},
                 {m_idKey, id},
                 {"status", "done"},
                 {"output", output.string()},
                 {"seconds", rounded(seconds)}};
    done.update(extra);
    m_progress.event(done);
    if (m_progress.mode() == ProgressOutput::Mode::Bar) {
        m_progress.message(id + ": done in " + format("%.2f", seconds) + " s" + detail + " -> " +
                           output.string());
    }
}

Json CaseLoop::finishedEvent(int total, const Json& extra) const
{
    Json finished = {{"event", "finished"},
                     {"cases", total},
                     {"succeeded", total - failureCount()},
                     {"failed", failureCount()}};
    finished.update(extra);
    finished["seconds"] = rounded(secondsSince(m_start));
    return finished;
}

void CaseLoop::finish(const Json& finished)
{
    m_progress.event(finished);
    if (m_failures.empty()) {
        return;
    }
    const Error& first = m_failures.front();
    if (m_failures.size() == 1) {
        throw first;
    }
    throw Error(first.kind(), first.subject(),
                first.problem() + " (" + std::to_string(m_failures.size()) + " " + m_noun +
                    " failed, see above)");
}

void createOutputFolder(const std::string& path)
{
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (!std::filesystem::is_directory(path, ec)) {
        throw Error(ErrorKind::Io, path, "cannot create the output folder");
    }
}

void writeSummaryFiles(const std::filesystem::path& out, const std::string& name,
                       const std::vector<core::CaseMetrics>& cases)
{
    if (cases.empty()) {
        return;
    }
    const core::MetricsSummary summary = core::summarizeCases(cases);
    core::writeMetricsCsv((out / (name + ".csv")).string(), summary);
    core::writeMetricsJson((out / (name + ".json")).string(), summary);
}

void printMetricsTable(const ProgressOutput& progress, const std::string& header,
                       const std::string& table)
{
    const std::string text = header + "\n" + table;
    std::fputs(text.c_str(), progress.mode() == ProgressOutput::Mode::Json ? stderr : stdout);
}

Json caseMetricsJson(const core::CaseMetrics& metrics)
{
    return Json::parse(core::caseMetricsToJson(metrics).dump());
}

Error withReferenceHint(const Error& error, bool referenceGiven, const std::string& hint)
{
    if (error.kind() == ErrorKind::Format && !referenceGiven) {
        return Error(error.kind(), error.subject(), error.problem() + " (" + hint + ")");
    }
    return error;
}

} // namespace diffseg::app
