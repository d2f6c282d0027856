#include "CliSupport.h"

#include "base/Error.h"
#include "io/AtomicWrite.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <unistd.h>

namespace diffseg::app {

namespace {

const core::CancelToken* g_stopToken = nullptr;

void onStopSignal(int)
{
    // CancelToken::cancel() is one relaxed atomic store: async-signal-safe.
    if (g_stopToken != nullptr) {
        g_stopToken->cancel();
    }
}

} // namespace

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double rounded(double seconds)
{
    return std::round(seconds * 1e4) / 1e4;
}

std::string format(const char* pattern, double value)
{
    char text[64];
    std::snprintf(text, sizeof text, pattern, value);
    return text;
}

std::string utcNow()
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", text, static_cast<int>(millis));
    return out;
}

StopSignalScope::StopSignalScope(const core::CancelToken& token)
{
    g_stopToken = &token;
    struct sigaction action
    {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, &m_oldInt);
    sigaction(SIGTERM, &action, &m_oldTerm);
}

StopSignalScope::~StopSignalScope()
{
    sigaction(SIGINT, &m_oldInt, nullptr);
    sigaction(SIGTERM, &m_oldTerm, nullptr);
    g_stopToken = nullptr;
}

ProgressOutput::Mode ProgressOutput::modeFromName(const std::string& name)
{
    if (name == "bar") {
        return Mode::Bar;
    }
    if (name == "json") {
        return Mode::Json;
    }
    if (name == "none") {
        return Mode::None;
    }
    return ::isatty(STDERR_FILENO) != 0 ? Mode::Bar : Mode::Json;
}

void ProgressOutput::event(const nlohmann::ordered_json& object)
{
    if (m_mode == Mode::Json) {
        nlohmann::ordered_json line = object;
        line["time"] = utcNow();
        std::fputs((line.dump() + "\n").c_str(), stdout);
        std::fflush(stdout);
    }
}

void ProgressOutput::message(const std::string& text)
{
    clearBar();
    std::fprintf(stderr, "%s\n", text.c_str());
}

void ProgressOutput::bar(const std::string& prefix, double fraction, const std::string& suffix,
                         bool done)
{
    if (m_mode != Mode::Bar) {
        return;
    }
    const auto now = Clock::now();
    if (!done && m_drawn && std::chrono::duration<double>(now - m_lastDraw).count() < 0.1) {
        return;
    }
    m_lastDraw = now;
    constexpr int kWidth = 26;
    const int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * kWidth);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '-');
    std::fprintf(stderr, "\r%s [%s] %s   ", prefix.c_str(), bar.c_str(), suffix.c_str());
    std::fflush(stderr);
    m_drawn = true;
}

void ProgressOutput::clearBar()
{
    if (m_drawn) {
        std::fputs("\r\033[K", stderr);
        m_drawn = false;
    }
}

std::set<int> parseSaveSteps(const std::string& spec, int count)
{
    std::set<int> steps;
    const auto fail = [&](const std::string& problem) {
        throw core::Error(core::ErrorKind::Config, "--save-steps", "'" + spec + "': " + problem);
    };
    const auto parseInt = [&](const std::string& text) {
        if (text.empty() || text.size() > 9 ||
            !std::all_of(text.begin(), text.end(),
                         [](unsigned char c) { return std::isdigit(c); })) {
            fail("'" + text + "' is not a step index");
        }
        return std::stoi(text);
    };
    if (spec == "all") {
        for (int i = 0; i < count; ++i) {
            steps.insert(i);
        }
    } else if (spec == "none") {
    } else if (spec.rfind("every:", 0) == 0) {
        const int every = parseInt(spec.substr(6));
        if (every < 1) {
            fail("the stride must be at least 1");
        }
        for (int i = 0; i < count; i += every) {
            steps.insert(i);
        }
        steps.insert(count - 1);
    } else {
        std::size_t start = 0;
        while (start <= spec.size()) {
            const std::size_t comma = spec.find(',', start);
            const std::string item =
                spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            const int step = parseInt(item);
            if (step >= count) {
                fail("step " + item + " is outside 0.." + std::to_string(count - 1) +
                     " (this run has " + std::to_string(count) + " steps)");
            }
            steps.insert(step);
            if (comma == std::string::npos) {
                break;
            }
            start = comma + 1;
        }
    }
    return steps;
}

void writeJsonFile(const std::string& path, const nlohmann::ordered_json& json)
{
    const std::string text = json.dump(2) + "\n";
    core::writeFileAtomically(path, text.data(), text.size());
}

std::filesystem::path PartialFolder::forCase(const std::filesystem::path& out,
                                             const std::string& id)
{
    return out / ("." + id + ".partial-" + std::to_string(::getpid()));
}

PartialFolder::PartialFolder(std::filesystem::path path, const std::set<std::string>& subfolders)
    : m_path(std::move(path))
{
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
    std::filesystem::create_directories(m_path, ec);
    for (const std::string& sub : subfolders) {
        std::filesystem::create_directories(m_path / sub, ec);
    }
    if (ec || !std::filesystem::is_directory(m_path)) {
        throw core::Error(core::ErrorKind::Io, m_path.string(),
                          "cannot create the output folder: " + ec.message());
    }
}

PartialFolder::~PartialFolder()
{
    if (!m_committed) {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
}

void PartialFolder::commit(const std::filesystem::path& target)
{
    std::error_code ec;
    std::filesystem::remove_all(target, ec);
    std::filesystem::rename(m_path, target, ec);
    if (ec) {
        throw core::Error(core::ErrorKind::Io, target.string(),
                          "cannot move the finished output into place: " + ec.message());
    }
    m_committed = true;
}

} // namespace diffseg::app
