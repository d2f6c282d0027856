#pragma once

// What the segment, segment3d and train commands share: a clean stop on SIGINT/SIGTERM, progress
// for people (a bar on stderr) or programs (JSON lines on stdout), --save-steps parsing, JSON
// files written atomically and output folders that vanish unless completed.

#include "base/CancelToken.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <set>
#include <string>

namespace diffseg::app {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start);
/// Seconds rounded to 0.1 ms for JSON.
double rounded(double seconds);
/// printf-style text of one number.
std::string format(const char* pattern, double value);
/// UTC time as ISO 8601 with milliseconds, the `time` of every progress line.
std::string utcNow();

/// Turns the first SIGINT/SIGTERM into a cancellation request of `token`; SA_RESETHAND restores
/// the default action, so a second signal ends the process at once if the clean shutdown hangs.
/// One scope at a time per process; restores the previous handlers when it ends.
class StopSignalScope
{
public:
    explicit StopSignalScope(const core::CancelToken& token);
    ~StopSignalScope();
    StopSignalScope(const StopSignalScope&) = delete;
    StopSignalScope& operator=(const StopSignalScope&) = delete;

private:
    struct sigaction m_oldInt
    {};
    struct sigaction m_oldTerm
    {};
};

/// Progress for people (a bar on stderr) or for programs (one JSON object per line on stdout).
/// Human-readable messages always go to stderr, so stdout stays pure JSON lines.
class ProgressOutput
{
public:
    enum class Mode
    {
        Bar,
        Json,
        None
    };

    explicit ProgressOutput(Mode mode)
        : m_mode(mode)
    {}
    /// "bar", "json", "none", or "auto": a bar on a terminal, JSON lines otherwise.
    static Mode modeFromName(const std::string& name);

    Mode mode() const noexcept { return m_mode; }
    /// JSON mode: the object with its `time`, on stdout.
    void event(const nlohmann::ordered_json& object);
    void message(const std::string& text);
    /// Bar mode: "<prefix> [####----] <suffix>" redrawn at most every 0.1 s (always when done).
    void bar(const std::string& prefix, double fraction, const std::string& suffix, bool done);
    void clearBar();

private:
    Mode m_mode;
    bool m_drawn = false;
    Clock::time_point m_lastDraw{};
};

/// --save-steps: "all", "none", "every:N" (0, N, 2N, ... and the last step) or a comma list of
/// step indices 0..count-1. Error(Config) naming the option.
std::set<int> parseSaveSteps(const std::string& spec, int count);

/// Pretty JSON written atomically.
void writeJsonFile(const std::string& path, const nlohmann::ordered_json& json);

/// A case's output folder under construction: created empty (with `subfolders`), removed again
/// unless commit() moves it into place, so an interrupted run never leaves a half-written case.
class PartialFolder
{
public:
    PartialFolder(std::filesystem::path path, const std::set<std::string>& subfolders);
    /// Where case `id` of a run writing into `out` is built: a hidden folder beside its final
    /// place, named with this process's id so two runs into one folder never share it.
    static std::filesystem::path forCase(const std::filesystem::path& out, const std::string& id);
    ~PartialFolder();
    PartialFolder(const PartialFolder&) = delete;
    PartialFolder& operator=(const PartialFolder&) = delete;

    const std::filesystem::path& path() const noexcept { return m_path; }
    /// Replaces `target` (a previous run's output of the same case) by this folder.
    void commit(const std::filesystem::path& target);

private:
    std::filesystem::path m_path;
    bool m_committed = false;
};

} // namespace diffseg::app
