#include "TrainingSupport.h"

#include "base/Error.h"
#include "engine/ComputeDevice.h"

#include <torch/cuda.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <numeric>

namespace diffseg::core::engine {

namespace fs = std::filesystem;

std::uint64_t mixBits(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

std::uint64_t streamSeed(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b)
{
    return mixBits(mixBits(mixBits(seed ^ mixBits(stream)) ^ a) ^ b);
}

std::vector<std::size_t> shuffledOrder(std::size_t n, bool shuffle, std::uint64_t seed)
{
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (!shuffle) {
        return order;
    }
    std::uint64_t state = seed;
    for (std::size_t i = n; i > 1; --i) {
        state = mixBits(state);
        std::swap(order[i - 1], order[static_cast<std::size_t>(state % i)]);
    }
    return order;
}

torch::Tensor drawTimesteps(std::int64_t count, int timesteps, double power,
                            at::Generator& generator)
{
    if (power == 1.0) {
        return at::randint(1, timesteps, {count}, generator, torch::kLong);
    }
    const torch::Tensor u = at::rand({count}, generator, torch::kDouble);
    return (1 + at::floor(u.pow(power) * (timesteps - 1))).clamp(1, timesteps - 1).to(torch::kLong);
}

torch::Device resolveTrainingDevice(const std::string& requested)
{
    return parseComputeDevice(requested);
}

std::string isoTimeNow()
{
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

nlohmann::json finiteOrNull(double value)
{
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

double numberOr(const nlohmann::json& object, const char* key, double fallback)
{
    const auto it = object.find(key);
    return it != object.end() && it->is_number() ? it->get<double>() : fallback;
}

NamedTensors optimizerState(torch::optim::Optimizer& optimizer)
{
    // LibTorch's own archive: portable across LibTorch versions, unlike the state map's keys.
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    // Kept as the archive's own chunks, then copied once into an exact-size tensor: one growing
    // buffer and its clone would hold the state (twice the parameters for Adam) up to three
    // times over, several GB for the paper's network.
    std::vector<std::vector<std::uint8_t>> chunks;
    std::int64_t total = 0;
    archive.save_to([&](const void* data, std::size_t size) -> std::size_t {
        const auto* p = static_cast<const std::uint8_t*>(data);
        chunks.emplace_back(p, p + size);
        total += static_cast<std::int64_t>(size);
        return size;
    });
    torch::Tensor bytes = torch::empty({total}, torch::kUInt8);
    std::uint8_t* out = bytes.data_ptr<std::uint8_t>();
    for (std::vector<std::uint8_t>& chunk : chunks) {
        std::copy(chunk.begin(), chunk.end(), out);
        out += chunk.size();
        std::vector<std::uint8_t>().swap(chunk);
    }
    NamedTensors state;
    state.emplace_back("archive", bytes);
    return state;
}

void restoreOptimizerState(torch::optim::Optimizer& optimizer, const NamedTensors& state,
                           const torch::Device& device, const std::string& source)
{
    const auto archive = std::find_if(state.begin(), state.end(),
                                      [](const auto& item) { return item.first == "archive"; });
    if (archive == state.end()) {
        throw Error(ErrorKind::Format, source, "no optimizer state to resume from");
    }
    const torch::Tensor bytes = archive->second.contiguous().to(torch::kCPU);
    try {
        torch::serialize::InputArchive in;
        in.load_from(reinterpret_cast<const char*>(bytes.data_ptr<std::uint8_t>()),
                     static_cast<std::size_t>(bytes.numel()), device);
        optimizer.load(in);
    } catch (const c10::Error& e) {
        const std::string what = e.what_without_backtrace();
        throw Error(ErrorKind::Format, source,
                    "the optimizer state cannot be restored: " + what.substr(0, what.find('\n')));
    }
}

TrainingRunFolder::TrainingRunFolder(std::string dir, bool resume, bool overwrite,
                                     TrainingEventCallback onEvent, bool writer)
    : m_dir(std::move(dir))
    , m_writer(writer)
    , m_onEvent(writer ? std::move(onEvent) : TrainingEventCallback{})
{
    std::error_code ec;
    if (!writer) {
        // Rank 0 prepares the folder (and removes an overwritten run); this rank only reads it.
        m_hasLast = fs::exists(lastPath(), ec);
        if (resume && !m_hasLast) {
            throw Error(ErrorKind::NotFound, lastPath(),
                        "nothing to resume: no checkpoint in the run");
        }
        return;
    }
    fs::create_directories(m_dir, ec);
    if (ec) {
        throw Error(ErrorKind::Io, m_dir, "cannot create the run folder: " + ec.message());
    }
    m_hasLast = fs::exists(lastPath(), ec);
    if (m_hasLast && !resume && !overwrite) {
        throw Error(ErrorKind::Config, m_dir,
                    "the run folder already holds a checkpoint (last.dsckpt): pass --resume to "
                    "continue it or --overwrite to start over");
    }
    if (resume && !m_hasLast) {
        throw Error(ErrorKind::NotFound, lastPath(), "nothing to resume: no checkpoint in the run");
    }
    if (overwrite && !resume) {
        for (const char* name : {"last.dsckpt", "best.dsckpt", "split.json", "progress.jsonl"}) {
            fs::remove(fs::path(m_dir) / name, ec);
        }
        fs::remove_all(fs::path(m_dir) / "samples", ec);
        m_hasLast = false;
    }
    m_log.open(fs::path(m_dir) / "progress.jsonl", std::ios::app);
}

std::string TrainingRunFolder::path(const char* name) const
{
    return (fs::path(m_dir) / name).string();
}

void TrainingRunFolder::emit(nlohmann::json event)
{
    event["time"] = isoTimeNow();
    if (m_log) {
        m_log << event.dump() << '\n';
        m_log.flush();
    }
    if (m_onEvent) {
        m_onEvent(event);
    }
}

void TrainingRunFolder::message(const std::string& level, const std::string& text)
{
    emit({{"event", "log"}, {"level", level}, {"message", text}});
}

TrainingSummary runReportingFailures(TrainingRunFolder& folder, TrainingSummary& summary,
                                     const std::function<TrainingSummary()>& body)
{
    using nlohmann::json;
    try {
        return body();
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::Cancelled) {
            summary.reason = "stopped";
            folder.emit({{"event", "finished"},
                         {"reason", "stopped"},
                         {"last_checkpoint", summary.lastCheckpoint}});
            return summary;
        }
        folder.emit({{"event", "failed"},
                     {"reason", e.what()},
                     {"error_kind", errorKindName(e.kind())},
                     {"last_checkpoint", summary.lastCheckpoint}});
        throw;
    } catch (const c10::Error& e) {
        const std::string what = e.what_without_backtrace();
        const std::string first = what.substr(0, what.find('\n'));
        const bool memory = what.find("out of memory") != std::string::npos ||
                            what.find("alloc") != std::string::npos;
        folder.emit({{"event", "failed"},
                     {"reason", first},
                     {"error_kind", memory ? "out of memory" : "internal"},
                     {"last_checkpoint", summary.lastCheckpoint}});
        throw Error(memory ? ErrorKind::InvalidValue : ErrorKind::Internal, "training", first);
    } catch (const std::bad_alloc&) {
        folder.emit({{"event", "failed"},
                     {"reason", "out of memory"},
                     {"error_kind", "out of memory"},
                     {"last_checkpoint", summary.lastCheckpoint}});
        throw Error(ErrorKind::InvalidValue, "training",
                    "out of memory (try a smaller batch size or patch)");
    }
}

} // namespace diffseg::core::engine
