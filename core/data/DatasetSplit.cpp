#include "DatasetSplit.h"

#include "base/Error.h"
#include "io/AtomicWrite.h"
#include "io/FileUtils.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace diffseg::core {

namespace {

/// SplitMix64: tiny, well-mixed and identical on every platform.
class SplitMix64
{
public:
    explicit SplitMix64(std::uint64_t seed)
        : m_state(seed)
    {}
    std::uint64_t next()
    {
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, bound) without modulo bias (rejection sampling).
    std::uint64_t below(std::uint64_t bound)
    {
        const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % bound);
        std::uint64_t r = next();
        while (r >= limit) {
            r = next();
        }
        return r % bound;
    }

private:
    std::uint64_t m_state;
};

void sortUnique(std::vector<std::string>& ids)
{
    std::sort(ids.begin(), ids.end());
    const auto dup = std::adjacent_find(ids.begin(), ids.end());
    if (dup != ids.end()) {
        throw Error(ErrorKind::InvalidValue, "", "id '" + *dup + "' appears twice");
    }
}

void shuffle(std::vector<std::string>& ids, std::uint64_t seed)
{
    SplitMix64 rng(seed);
    for (std::size_t i = ids.size(); i > 1; --i) {
        std::swap(ids[i - 1], ids[static_cast<std::size_t>(rng.below(i))]);
    }
}

std::vector<std::string> slice(const std::vector<std::string>& ids, std::size_t begin,
                               std::size_t end)
{
    std::vector<std::string> part(ids.begin() + static_cast<long>(begin),
                                  ids.begin() + static_cast<long>(end));
    std::sort(part.begin(), part.end());
    return part;
}

std::string fractionText(double v)
{
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

} // namespace

DatasetSplit makeSplit(std::vector<std::string> ids, const SplitFractions& f, std::uint64_t seed)
{
    for (double v : {f.train, f.val, f.test}) {
        if (!(v >= 0.0 && v <= 1.0)) {
            throw Error(ErrorKind::InvalidValue, "", "split fractions must lie in [0, 1]");
        }
    }
    if (std::abs(f.train + f.val + f.test - 1.0) > 1e-6) {
        throw Error(ErrorKind::InvalidValue, "",
                    "split fractions " + fractionText(f.train) + "/" + fractionText(f.val) + "/" +
                        fractionText(f.test) + " do not sum to 1");
    }
    sortUnique(ids);
    shuffle(ids, seed);
    const std::size_t n = ids.size();
    const auto nVal = static_cast<std::size_t>(std::llround(f.val * double(n)));
    const auto nTest =
        std::min(n - nVal, static_cast<std::size_t>(std::llround(f.test * double(n))));
    const std::size_t nTrain = n - nVal - nTest;
    DatasetSplit split;
    split.train = slice(ids, 0, nTrain);
    split.val = slice(ids, nTrain, nTrain + nVal);
    split.test = slice(ids, nTrain + nVal, n);
    split.seed = seed;
    split.method = "fractions " + fractionText(f.train) + "/" + fractionText(f.val) + "/" +
                   fractionText(f.test) + ", shuffled";
    return split;
}

SplitRanges referenceSplitRanges(DatasetLayout layout)
{
    switch (layout) {
    case DatasetLayout::Isic2018:
        return {0, 1815, 1815, 2074, 2074, 2594};
    case DatasetLayout::Ph2:
        return {0, 80, 80, 100, 100, 200};
    default:
        break;
    }
    throw Error(ErrorKind::Unsupported, datasetLayoutName(layout),
                "the reference has fixed split ranges only for isic2018 and ph2; use fractions");
}

DatasetSplit makeRangeSplit(std::vector<std::string> ids, const SplitRanges& r,
                            std::optional<std::uint64_t> seed)
{
    sortUnique(ids);
    const std::size_t needed = std::max({r.trainEnd, r.valEnd, r.testEnd});
    if (needed > ids.size() || r.trainBegin > r.trainEnd || r.valBegin > r.valEnd ||
        r.testBegin > r.testEnd) {
        throw Error(ErrorKind::InvalidValue, "",
                    "the split ranges need " + std::to_string(needed) +
                        " ids but the dataset has " + std::to_string(ids.size()) +
                        "; use fractions for a smaller dataset");
    }
    if (seed) {
        shuffle(ids, *seed);
    }
    DatasetSplit split;
    split.train = slice(ids, r.trainBegin, r.trainEnd);
    split.val = slice(ids, r.valBegin, r.valEnd);
    split.test = slice(ids, r.testBegin, r.testEnd);
    split.seed = seed.value_or(0);
    split.method = "index ranges [" + std::to_string(r.trainBegin) + "," +
                   std::to_string(r.trainEnd) + ") [" + std::to_string(r.valBegin) + "," +
                   std::to_string(r.valEnd) + ") [" + std::to_string(r.testBegin) + "," +
                   std::to_string(r.testEnd) + ") over " + (seed ? "shuffled" : "sorted") + " ids";
    return split;
}

std::string splitToJson(const DatasetSplit& split)
{
    nlohmann::ordered_json j;
    j["format"] = "diffseg-split";
    j["version"] = 1;
    j["seed"] = split.seed;
    j["method"] = split.method;
    j["train"] = split.train;
    j["val"] = split.val;
    j["test"] = split.test;
    return j.dump(2) + "\n";
}

DatasetSplit parseSplitJson(const std::string& text, const std::string& name)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Format, name, std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object()) {
        throw Error(ErrorKind::Format, name, "a split file must hold a JSON object");
    }
    auto field = [&](const char* key) -> const nlohmann::json& {
        const auto it = j.find(key);
        if (it == j.end()) {
            throw Error(ErrorKind::Format, name, std::string("missing key '") + key + "'");
        }
        return *it;
    };
    if (!field("format").is_string() || field("format").get<std::string>() != "diffseg-split") {
        throw Error(ErrorKind::Format, name, "key 'format' must be \"diffseg-split\"");
    }
    if (!field("version").is_number_integer() || field("version").get<std::int64_t>() != 1) {
        throw Error(ErrorKind::Format, name, "unsupported split file version (expected 1)");
    }
    DatasetSplit split;
    if (!field("seed").is_number_unsigned()) {
        throw Error(ErrorKind::Format, name, "key 'seed' must be a non-negative integer");
    }
    split.seed = field("seed").get<std::uint64_t>();
    if (j.contains("method")) {
        if (!j["method"].is_string()) {
            throw Error(ErrorKind::Format, name, "key 'method' must be a string");
        }
        split.method = j["method"].get<std::string>();
    }
    std::set<std::string> seen;
    for (const auto& [key, list] :
         {std::pair<const char*, std::vector<std::string>*>{"train", &split.train},
          {"val", &split.val},
          {"test", &split.test}}) {
        const nlohmann::json& array = field(key);
        if (!array.is_array()) {
            throw Error(ErrorKind::Format, name,
                        std::string("key '") + key + "' must be an array of ids");
        }
        for (const nlohmann::json& id : array) {
            if (!id.is_string() || id.get_ref<const std::string&>().empty()) {
                throw Error(ErrorKind::Format, name,
                            std::string("key '") + key +
                                "' holds an entry that is not a non-empty string");
            }
            const std::string& s = id.get_ref<const std::string&>();
            if (!seen.insert(s).second) {
                throw Error(ErrorKind::Format, name, "id '" + s + "' is listed twice");
            }
            list->push_back(s);
        }
    }
    return split;
}

void writeSplit(const DatasetSplit& split, const std::string& path)
{
    const std::string text = splitToJson(split);
    writeFileAtomically(path, text.data(), text.size());
}

DatasetSplit readSplit(const std::string& path)
{
    const std::vector<unsigned char> bytes = readFileBytes(path, std::uint64_t(1) << 28);
    return parseSplitJson(std::string(bytes.begin(), bytes.end()), path);
}

} // namespace diffseg::core
