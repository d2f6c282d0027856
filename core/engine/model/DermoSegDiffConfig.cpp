#include "DermoSegDiffConfig.h"

#include "base/Error.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace diffseg::core::engine {

namespace {

constexpr int kMaxWidth = 1 << 16;
constexpr int kMaxLevels = 12;

std::string keyPath(const std::string& subject, const std::string& key)
{
    return subject.empty() ? key : subject + ": " + key;
}

[[noreturn]] void configError(const std::string& subject, const std::string& key,
                              const std::string& problem)
{
    throw Error(ErrorKind::Config, keyPath(subject, key), problem);
}

int readInt(const nlohmann::json& value, const std::string& subject, const std::string& key)
{
    // YAML writes `05`, which arrives as an integer; a float such as 2.0 is accepted only when
    // whole.
    if (value.is_number_integer()) {
        const auto v = value.get<std::int64_t>();
        if (v < -kMaxWidth || v > kMaxWidth) {
            configError(subject, key, "value " + std::to_string(v) + " is out of range");
        }
        return static_cast<int>(v);
    }
    if (value.is_number_float()) {
        const double v = value.get<double>();
        if (v == static_cast<double>(static_cast<int>(v)) && std::abs(v) <= kMaxWidth) {
            return static_cast<int>(v);
        }
    }
    configError(subject, key, "expected an integer, got " + value.dump());
}

std::vector<int> readIntList(const nlohmann::json& value, const std::string& subject,
                             const std::string& key)
{
    if (!value.is_array()) {
        configError(subject, key, "expected a list of integers, got " + value.dump());
    }
    std::vector<int> out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        out.push_back(readInt(value[i], subject, key + "[" + std::to_string(i) + "]"));
    }
    return out;
}

std::string joinInts(const std::vector<int>& values)
{
    std::ostringstream s;
    for (std::size_t i = 0; i < values.size(); ++i) {
        s << (i ? "," : "") << values[i];
    }
    return s.str();
}

} // namespace

DermoSegDiffConfig DermoSegDiffConfig::isic2018()
{
    return DermoSegDiffConfig{};
}

DermoSegDiffConfig DermoSegDiffConfig::ham10000()
{
    DermoSegDiffConfig c;
    c.dimXMults = {2, 2, 2, 2, 2, 2};
    return c;
}

DermoSegDiffConfig DermoSegDiffConfig::preset(const std::string& name)
{
    if (name == "isic2018" || name == "isic") {
        return isic2018();
    }
    if (name == "ph2") {
        return ph2();
    }
    if (name == "ham10000" || name == "ham") {
        return ham10000();
    }
    throw Error(ErrorKind::Config, name,
                "unknown DermoSegDiff preset (expected isic2018, ph2 or ham10000)");
}

DermoSegDiffConfig DermoSegDiffConfig::fromJson(const std::string& json, const std::string& subject)
{
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Config, subject,
                    std::string("model config is not valid JSON: ") + e.what());
    }
    if (!doc.is_object()) {
        throw Error(ErrorKind::Config, subject, "model config must be a JSON object");
    }
    // The reference constructor's defaults, not the ISIC preset, apply to absent keys.
    DermoSegDiffConfig c;
    c.resnetBlockGroups = 4;
    std::vector<int> dimMults{1, 2, 4, 8};
    bool haveX = false;
    bool haveG = false;
    bool haveDimX = false;
    bool haveDimG = false;
    for (const auto& [key, value] : doc.items()) {
        if (key == "dim_x") {
            c.dimX = readInt(value, subject, key);
            haveDimX = true;
        } else if (key == "dim_g") {
            c.dimG = readInt(value, subject, key);
            haveDimG = true;
        } else if (key == "channels_x") {
            c.channelsX = readInt(value, subject, key);
        } else if (key == "channels_g") {
            c.channelsG = readInt(value, subject, key);
        } else if (key == "init_dim") {
            c.initDim =
                value.is_null() ? std::nullopt : std::optional<int>(readInt(value, subject, key));
        } else if (key == "out_dim") {
            // The reference falls back to channels_x for a null out_dim.
            c.outDim = value.is_null() ? -1 : readInt(value, subject, key);
        } else if (key == "dim_mults") {
            dimMults = readIntList(value, subject, key);
        } else if (key == "dim_x_mults") {
            if (!value.is_null()) {
                c.dimXMults = readIntList(value, subject, key);
                haveX = true;
            }
        } else if (key == "dim_g_mults") {
            if (!value.is_null()) {
                c.dimGMults = readIntList(value, subject, key);
                haveG = true;
            }
        } else if (key == "resnet_block_groups") {
            c.resnetBlockGroups = readInt(value, subject, key);
        } else {
            configError(subject, key, "unknown DermoSegDiff model key");
        }
    }
    if (!haveDimX || !haveDimG) {
        configError(subject, haveDimX ? "dim_g" : "dim_x", "required key is missing");
    }
    if (!haveX) {
        c.dimXMults = dimMults;
    }
    if (!haveG) {
        c.dimGMults = dimMults;
    }
    if (c.outDim == -1) {
        c.outDim = c.channelsX;
    }
    c.validate(subject);
    return c;
}

std::string DermoSegDiffConfig::toJson() const
{
    nlohmann::json doc;
    doc["dim_x"] = dimX;
    doc["dim_g"] = dimG;
    doc["channels_x"] = channelsX;
    doc["channels_g"] = channelsG;
    doc["init_dim"] = initDim ? nlohmann::json(*initDim) : nlohmann::json(nullptr);
    doc["out_dim"] = outDim;
    doc["dim_x_mults"] = dimXMults;
    doc["dim_g_mults"] = dimGMults;
    doc["resnet_block_groups"] = resnetBlockGroups;
    return doc.dump();
}

void DermoSegDiffConfig::validate(const std::string& subject) const
{
    auto requireRange = [&](const char* key, int value, int lo) {
        if (value < lo || value > kMaxWidth) {
            configError(subject, key,
                        "value " + std::to_string(value) + " must be in [" + std::to_string(lo) +
                            ", " + std::to_string(kMaxWidth) + "]");
        }
    };
    requireRange("channels_x", channelsX, 1);
    requireRange("channels_g", channelsG, 1);
    requireRange("out_dim", outDim, 1);
    requireRange("resnet_block_groups", resnetBlockGroups, 1);
    if (initDim) {
        requireRange("init_dim", *initDim, 1);
        // The reference sizes its final block for 2*dim_x + dim_g input channels, although it
        // receives 3*init_dim: any other init_dim fails in the reference's forward too.
        if (3 * *initDim != 2 * dimX + dimG) {
            configError(subject, "init_dim",
                        "must be absent or equal (2*dim_x + dim_g)/3 = " +
                            std::to_string((2 * dimX + dimG) / 3.0) +
                            " (the final block's input width)");
        }
    }
    // The sinusoidal embedding divides by (dim/2 - 1) and its output must be `dim` wide.
    for (auto [key, value] : {std::pair<const char*, int>{"dim_x", dimX}, {"dim_g", dimG}}) {
        requireRange(key, value, 4);
        if (value % 2 != 0) {
            configError(subject, key, "must be even (it is also the time-embedding width)");
        }
    }
    if (dimXMults.empty() || dimXMults.size() > static_cast<std::size_t>(kMaxLevels)) {
        configError(subject, "dim_x_mults",
                    "needs 1 to " + std::to_string(kMaxLevels) + " levels, got " +
                        std::to_string(dimXMults.size()));
    }
    if (dimGMults.size() != dimXMults.size()) {
        configError(subject, "dim_g_mults",
                    "has " + std::to_string(dimGMults.size()) + " levels but dim_x_mults has " +
                        std::to_string(dimXMults.size()));
    }
    for (const auto& [key, mults, base] :
         {std::tuple<const char*, const std::vector<int>&, int>{"dim_x_mults", dimXMults, dimX},
          {"dim_g_mults", dimGMults, dimG}}) {
        for (int m : mults) {
            if (m < 1 || static_cast<std::int64_t>(m) * base > kMaxWidth) {
                configError(subject, key,
                            "multiplier " + std::to_string(m) + " is out of range (" +
                                joinInts(mults) + ")");
            }
        }
    }
    // GroupNorm(groups, C) needs C % groups == 0 for every ResNet block's output: encoder blocks
    // at every input width of both branches, decoder blocks at every x width; the bottleneck uses
    // the reference's fixed 4 groups and the final block 1 group.
    const std::vector<int> dx = dimsX();
    const std::vector<int> dg = dimsG();
    const int groups = resnetBlockGroups;
    for (std::size_t i = 0; i < dx.size(); ++i) {
        if (dx[i] % groups != 0) {
            configError(subject, "resnet_block_groups",
                        std::to_string(groups) + " groups do not divide the x-branch width " +
                            std::to_string(dx[i]) + " (widths " + joinInts(dx) + ")");
        }
    }
    for (std::size_t i = 0; i + 1 < dg.size(); ++i) {
        if (dg[i] % groups != 0) {
            configError(subject, "resnet_block_groups",
                        std::to_string(groups) + " groups do not divide the g-branch width " +
                            std::to_string(dg[i]) + " (widths " + joinInts(dg) + ")");
        }
    }
    if (dx.back() % 4 != 0) {
        configError(subject, "dim_x_mults",
                    "the bottleneck's GroupNorm uses 4 groups, which do not divide its width " +
                        std::to_string(dx.back()));
    }
}

std::vector<int> DermoSegDiffConfig::dimsX() const
{
    std::vector<int> dims{initDim.value_or(dimX)};
    for (int m : dimXMults) {
        dims.push_back(dimX * m);
    }
    return dims;
}

std::vector<int> DermoSegDiffConfig::dimsG() const
{
    std::vector<int> dims{initDim.value_or(dimG)};
    for (int m : dimGMults) {
        dims.push_back(dimG * m);
    }
    return dims;
}

bool DermoSegDiffConfig::operator==(const DermoSegDiffConfig& o) const
{
    return dimX == o.dimX && dimG == o.dimG && channelsX == o.channelsX &&
           channelsG == o.channelsG && initDim == o.initDim && outDim == o.outDim &&
           dimXMults == o.dimXMults && dimGMults == o.dimGMults &&
           resnetBlockGroups == o.resnetBlockGroups;
}

} // namespace diffseg::core::engine
