#include "TrainingData.h"

#include "DermoSegDiffTrainingConfig.h"
#include "base/Error.h"
#include "data/Samples.h"
#include "imaging/Resize2D.h"
#include "io/AtomicWrite.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace diffseg::core::engine {

namespace {

namespace fs = std::filesystem;

constexpr char kCacheMagic[8] = {'D', 'S', 'D', 'C', 'A', 'C', 'H', '2'};
constexpr std::uint64_t kFnvBasis = 14695981039346656037ull;

std::uint64_t fnv1a(std::uint64_t hash, const void* data, std::size_t size)
{
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
        hash ^= bytes[i];
        hash *= 1099511628211ull;
    }
    return hash;
}

std::uint64_t fnv1a(std::uint64_t hash, const std::string& text)
{
    return fnv1a(hash, text.data(), text.size() + 1); // the terminator separates fields
}

/// Identifies the cache's content: the size and every source file's path, size and mtime.
std::uint64_t sourceKey(const DatasetScan& scan, int size)
{
    std::uint64_t hash = kFnvBasis;
    hash = fnv1a(hash, &size, sizeof(size));
    for (const DatasetSample& s : scan.samples) {
        hash = fnv1a(hash, s.id);
        std::vector<std::string> files = s.images;
        files.push_back(s.mask);
        for (const std::string& f : files) {
            std::error_code ec;
            const auto bytes = static_cast<std::uint64_t>(fs::file_size(f, ec));
            const auto stamp = fs::last_write_time(f, ec).time_since_epoch().count();
            hash = fnv1a(hash, fs::path(f).filename().string());
            hash = fnv1a(hash, &bytes, sizeof(bytes));
            hash = fnv1a(hash, &stamp, sizeof(stamp));
        }
    }
    return hash;
}

std::string hex(std::uint64_t value)
{
    static const char digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = digits[value & 15u];
        value >>= 4;
    }
    return out;
}

bool writable(const fs::path& folder)
{
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) {
        return false;
    }
    const fs::path probe = folder / (".write-test-" + std::to_string(::getpid()));
    {
        std::ofstream out(probe);
        if (!out) {
            return false;
        }
    }
    fs::remove(probe, ec);
    return true;
}

fs::path cacheFolder(const DermoSegDiffTrainingConfig& config)
{
    if (!config.cacheDir.empty()) {
        // A folder the user named is made when missing (a failure only costs the cache).
        std::error_code ec;
        fs::create_directories(config.cacheDir, ec);
        return config.cacheDir;
    }
    const fs::path nextToData = fs::path(config.dataDir) / ".diffseg-cache";
    if (writable(nextToData)) {
        return nextToData;
    }
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    const fs::path base = xdg != nullptr && *xdg != 0 ? fs::path(xdg)
                          : home != nullptr           ? fs::path(home) / ".cache"
                                                      : fs::temp_directory_path();
    return base / "diffseg";
}

template <class T>
void put(std::vector<char>& out, const T& value)
{
    const auto* p = reinterpret_cast<const char*>(&value);
    out.insert(out.end(), p, p + sizeof(T));
}

void writeCache(const std::string& path, std::uint64_t key, int size,
                const std::vector<CachedSample>& samples)
{
    std::vector<char> bytes;
    const std::size_t pixels = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
    bytes.reserve(64 + samples.size() * (pixels * 4 + 32));
    bytes.insert(bytes.end(), kCacheMagic, kCacheMagic + sizeof(kCacheMagic));
    put(bytes, key);
    put(bytes, static_cast<std::uint32_t>(size));
    put(bytes, static_cast<std::uint32_t>(samples.size()));
    for (const CachedSample& s : samples) {
        put(bytes, static_cast<std::uint32_t>(s.id.size()));
        bytes.insert(bytes.end(), s.id.begin(), s.id.end());
        bytes.insert(bytes.end(), s.image.begin(), s.image.end());
        bytes.insert(bytes.end(), s.mask.begin(), s.mask.end());
    }
    put(bytes, fnv1a(kFnvBasis, bytes.data(), bytes.size()));
    writeFileAtomically(path, bytes.data(), bytes.size());
}

/// Reads a cache written by writeCache; false (never an exception) when it is absent, stale or
/// damaged (the trailing checksum covers every byte), so that the caller rebuilds it.
bool readCache(const std::string& path, std::uint64_t key, int size, const DatasetScan& scan,
               std::vector<CachedSample>& out)
{
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
        return false;
    }
    const auto length = static_cast<std::size_t>(in.tellg());
    const std::size_t pixels = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
    const std::size_t header = sizeof(kCacheMagic) + 8 + 4 + 4;
    if (length < header + 8 ||
        length > header + 8 + scan.samples.size() * (4 + 4096 + pixels * 4)) {
        return false;
    }
    std::vector<char> bytes(length);
    in.seekg(0);
    in.read(bytes.data(), static_cast<std::streamsize>(length));
    std::uint64_t checksum = 0;
    std::memcpy(&checksum, bytes.data() + length - 8, 8);
    if (!in || checksum != fnv1a(kFnvBasis, bytes.data(), length - 8)) {
        return false;
    }
    std::size_t at = 0;
    const auto take = [&](void* target, std::size_t n) {
        if (at + n > length - 8) {
            return false;
        }
        std::memcpy(target, bytes.data() + at, n);
        at += n;
        return true;
    };
    char magic[sizeof(kCacheMagic)] = {};
    std::uint64_t storedKey = 0;
    std::uint32_t storedSize = 0;
    std::uint32_t count = 0;
    if (!take(magic, sizeof(magic)) || !take(&storedKey, 8) || !take(&storedSize, 4) ||
        !take(&count, 4) || std::memcmp(magic, kCacheMagic, sizeof(magic)) != 0 ||
        storedKey != key || storedSize != static_cast<std::uint32_t>(size) ||
        count != scan.samples.size()) {
        return false;
    }
    std::vector<CachedSample> samples(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        std::uint32_t idLength = 0;
        if (!take(&idLength, 4) || idLength > 4096) {
            return false;
        }
        CachedSample& s = samples[i];
        s.id.resize(idLength);
        s.image.resize(pixels * 3);
        s.mask.resize(pixels);
        if (!take(s.id.data(), idLength) || !take(s.image.data(), pixels * 3) ||
            !take(s.mask.data(), pixels) || s.id != scan.samples[i].id) {
            return false;
        }
    }
    out = std::move(samples);
    return true;
}

CachedSample loadSample(const DatasetSample& sample, int size)
{
    if (sample.images.size() != 1) {
        throw Error(ErrorKind::Unsupported, sample.id,
                    "2D training needs one image per case (found " +
                        std::to_string(sample.images.size()) + ")");
    }
    const ImageMaskPair pair = loadImageMaskPair(sample.images.front(), sample.mask);
    const Image2D image = resizeImage(pair.image, size, size, ResizeFilter::Bilinear);
    const Image2D mask = resizeMask(pair.mask, size, size);
    CachedSample out;
    out.id = sample.id;
    const auto* pixels = image.data<std::uint8_t>();
    out.image.assign(pixels, pixels + image.pixelCount() * 3);
    const auto* labels = mask.data<std::uint8_t>();
    out.mask.assign(labels, labels + mask.pixelCount());
    return out;
}

std::vector<CachedSample> decodeAll(const DatasetScan& scan, int size, int threads,
                                    const ProgressCallback& progress, const CancelToken& cancel)
{
    const std::size_t n = scan.samples.size();
    std::vector<CachedSample> out(n);
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> done{0};
    std::mutex errorMutex;
    std::exception_ptr error;
    std::mutex progressMutex;
    const auto work = [&] {
        for (std::size_t i = next++; i < n; i = next++) {
            if (cancel.isCancelled()) {
                return;
            }
            {
                const std::lock_guard lock(errorMutex);
                if (error) {
                    return;
                }
            }
            try {
                out[i] = loadSample(scan.samples[i], size);
            } catch (...) {
                const std::lock_guard lock(errorMutex);
                if (!error) {
                    error = std::current_exception();
                }
                return;
            }
            const std::size_t finished = ++done;
            const std::lock_guard lock(progressMutex);
            reportProgress(progress, static_cast<double>(finished) / static_cast<double>(n),
                           "caching", std::to_string(finished) + "/" + std::to_string(n));
        }
    };
    const int workers = std::max(1, std::min<int>(threads, static_cast<int>(n)));
    std::vector<std::thread> pool;
    for (int w = 1; w < workers; ++w) {
        pool.emplace_back(work);
    }
    work();
    for (auto& t : pool) {
        t.join();
    }
    if (error) {
        std::rethrow_exception(error);
    }
    cancel.throwIfCancelled("dataset caching");
    return out;
}

DatasetLayout layoutFor(const DermoSegDiffTrainingConfig& config)
{
    const std::string& name = config.datasetName;
    if (name == "ham10000") {
        return DatasetLayout::ImagesMasks;
    }
    if (const auto layout = datasetLayoutFromName(name)) {
        return *layout;
    }
    if (!name.empty()) {
        throw Error(ErrorKind::Config,
                    (config.sourceName.empty() ? "" : config.sourceName + ": ") + "dataset.name",
                    "'" + name + "' is not isic2018, ph2, ham10000 or images-masks");
    }
    const auto detected = detectDatasetLayout(config.dataDir);
    if (!detected) {
        throw Error(ErrorKind::Format, config.dataDir,
                    "no known dataset layout (ISIC2018, PH2, images/ + masks/) in this folder");
    }
    return *detected;
}

std::size_t scaledTrainCount(const std::string& scale, std::size_t n)
{
    if (scale == "medium") {
        return std::max<std::size_t>(1, n / 2);
    }
    if (scale == "lite") {
        return std::max<std::size_t>(1, n / 5);
    }
    if (scale == "ultra-lite") {
        return std::max<std::size_t>(1, n / 10);
    }
    return n;
}

DatasetSplit chooseSplit(const DermoSegDiffTrainingConfig& config, DatasetLayout layout,
                         const std::vector<std::string>& ids, const std::string& splitPath)
{
    std::error_code ec;
    if (!splitPath.empty() && fs::exists(splitPath, ec)) {
        return readSplit(splitPath);
    }
    const std::string& mode = config.split.mode;
    if (mode == "file") {
        return readSplit(config.split.file);
    }
    const bool hasRanges = layout == DatasetLayout::Isic2018 || layout == DatasetLayout::Ph2;
    if (mode == "reference" || (mode == "auto" && hasRanges)) {
        if (!hasRanges) {
            throw Error(ErrorKind::Config, "dataset.split.mode",
                        std::string("the reference has no fixed split for the ") +
                            datasetLayoutName(layout) + " layout");
        }
        const SplitRanges ranges = referenceSplitRanges(layout);
        if (ids.size() >= ranges.testEnd) {
            return makeRangeSplit(ids, ranges);
        }
        if (mode == "reference") {
            throw Error(ErrorKind::Config, config.dataDir,
                        "the reference split needs " + std::to_string(ranges.testEnd) +
                            " cases, the folder has " + std::to_string(ids.size()));
        }
    }
    const SplitFractions fractions{config.split.fractions[0], config.split.fractions[1],
                                   config.split.fractions[2]};
    return makeSplit(ids, fractions, config.split.seed);
}

} // namespace

TrainingData prepareTrainingData(const DermoSegDiffTrainingConfig& config,
                                 const std::string& splitPath, int threads,
                                 const ProgressCallback& progress, const CancelToken& cancel)
{
    if (config.dataDir.empty()) {
        throw Error(ErrorKind::Config,
                    (config.sourceName.empty() ? "" : config.sourceName + ": ") +
                        "dataset.data_dir",
                    "is not set: give it in the config or with --data-dir");
    }
    TrainingData data;
    data.size = config.inputSize;
    data.root = config.dataDir;
    data.layout = layoutFor(config);
    const DatasetScan scan = scanDataset(config.dataDir, data.layout);
    if (scan.samples.empty()) {
        throw Error(ErrorKind::NotFound, config.dataDir,
                    std::string("no image/mask pairs found (layout ") +
                        datasetLayoutName(data.layout) + ")");
    }

    const std::uint64_t key = sourceKey(scan, data.size);
    const fs::path folder = cacheFolder(config);
    data.cachePath = (folder / (std::string(datasetLayoutName(data.layout)) + "_s" +
                                std::to_string(data.size) + "_" + hex(key) + ".bin"))
                         .string();
    data.cacheHit = readCache(data.cachePath, key, data.size, scan, data.samples);
    if (!data.cacheHit) {
        data.samples = decodeAll(scan, data.size, threads, progress, cancel);
        try {
            writeCache(data.cachePath, key, data.size, data.samples);
        } catch (const Error&) {
            // A cache that cannot be written only costs time on the next run.
            data.cachePath.clear();
        }
    }

    std::vector<std::string> ids;
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < data.samples.size(); ++i) {
        ids.push_back(data.samples[i].id);
        index[data.samples[i].id] = i;
    }
    data.split = chooseSplit(config, data.layout, ids, splitPath);
    const auto resolve = [&](const std::vector<std::string>& list, const char* part) {
        std::vector<std::size_t> out;
        for (const std::string& id : list) {
            const auto it = index.find(id);
            if (it == index.end()) {
                throw Error(ErrorKind::Mismatch, splitPath.empty() ? config.split.file : splitPath,
                            std::string("the ") + part + " split lists '" + id +
                                "', which is not in " + config.dataDir);
            }
            out.push_back(it->second);
        }
        return out;
    };
    data.train = resolve(data.split.train, "train");
    data.val = resolve(data.split.val, "validation");
    data.test = resolve(data.split.test, "test");
    data.train.resize(scaledTrainCount(config.dataScale, data.train.size()));
    if (data.train.empty()) {
        throw Error(ErrorKind::Config, config.dataDir, "the training split is empty");
    }
    if (!splitPath.empty()) {
        std::error_code ec;
        if (!fs::exists(splitPath, ec)) {
            writeSplit(data.split, splitPath);
        }
    }
    return data;
}

} // namespace diffseg::core::engine
