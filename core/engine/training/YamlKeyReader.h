#pragma once

// Reading YAML configuration files key by key, so that every error names the file and the dotted
// key, unknown keys are refused, and overrides (`--set a.b=c`) go through the same checks.
// Engine-internal header (yaml-cpp types).

#include "base/Error.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace diffseg::core::engine {

/// A YAML node with the dotted path it was reached by, so every error names its key.
struct YamlKey
{
    const YAML::Node node;
    std::string path;
};

class YamlKeyReader
{
public:
    explicit YamlKeyReader(std::string source)
        : m_source(std::move(source))
    {}

    [[noreturn]] void fail(const std::string& path, const std::string& problem) const
    {
        throw Error(ErrorKind::Config, m_source.empty() ? path : m_source + ": " + path, problem);
    }

    /// Checks that `key` is a map whose keys are all in `allowed`.
    void requireMap(const YamlKey& key, const std::set<std::string>& allowed) const
    {
        if (!key.node || key.node.IsNull()) {
            return;
        }
        if (!key.node.IsMap()) {
            fail(key.path, "must be a mapping of keys");
        }
        for (const auto& item : key.node) {
            const std::string name = item.first.Scalar();
            if (allowed.count(name) == 0) {
                std::string list;
                for (const auto& a : allowed) {
                    list += (list.empty() ? "" : ", ") + a;
                }
                fail(join(key.path, name), "unknown key (expected one of: " + list + ")");
            }
        }
    }

    static std::string join(const std::string& path, const std::string& name)
    {
        return path.empty() ? name : path + "." + name;
    }

    YamlKey child(const YamlKey& key, const std::string& name) const
    {
        if (!key.node || key.node.IsNull() || !key.node.IsMap()) {
            return YamlKey{YAML::Node(), join(key.path, name)};
        }
        return YamlKey{key.node[name], join(key.path, name)};
    }

    static bool present(const YamlKey& key) { return key.node && !key.node.IsNull(); }

    template <class T>
    void scalar(const YamlKey& key, T& out) const
    {
        if (!present(key)) {
            return;
        }
        if (!key.node.IsScalar()) {
            fail(key.path, "must be a single value");
        }
        const std::string& text = key.node.Scalar();
        if constexpr (std::is_same_v<T, bool>) {
            static const std::set<std::string> yes{"true", "True", "TRUE", "yes", "Yes", "on"};
            static const std::set<std::string> no{"false", "False", "FALSE", "no", "No", "off"};
            if (yes.count(text) != 0) {
                out = true;
            } else if (no.count(text) != 0) {
                out = false;
            } else {
                fail(key.path, "'" + text + "' is not true or false");
            }
        } else if constexpr (std::is_same_v<T, std::string>) {
            out = text;
        } else if constexpr (std::is_floating_point_v<T>) {
            std::size_t used = 0;
            double value = 0.0;
            try {
                value = std::stod(text, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != text.size() || text.empty() || !std::isfinite(value)) {
                fail(key.path, "'" + text + "' is not a finite number");
            }
            out = static_cast<T>(value);
        } else {
            // Integers; the reference's YAML has "05" and "06" in a list, which are 5 and 6.
            std::size_t used = 0;
            long long value = 0;
            try {
                value = std::stoll(text, &used, 10);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != text.size() || text.empty()) {
                fail(key.path, "'" + text + "' is not an integer");
            }
            if (value < static_cast<long long>(std::numeric_limits<T>::min()) ||
                static_cast<unsigned long long>(std::max(value, 0LL)) >
                    static_cast<unsigned long long>(std::numeric_limits<T>::max())) {
                fail(key.path, "'" + text + "' is out of range");
            }
            out = static_cast<T>(value);
        }
    }

    template <class T>
    void list(const YamlKey& key, std::vector<T>& out) const
    {
        if (!present(key)) {
            return;
        }
        if (!key.node.IsSequence()) {
            fail(key.path, "must be a list, e.g. [1, 2, 4]");
        }
        std::vector<T> values;
        for (std::size_t i = 0; i < key.node.size(); ++i) {
            T value{};
            scalar(YamlKey{key.node[i], key.path + "[" + std::to_string(i) + "]"}, value);
            values.push_back(value);
        }
        out = std::move(values);
    }

    /// Any YAML subtree as JSON with its key order kept (plain scalars typed as YAML 1.2 core
    /// would type them, quoted scalars kept as strings).
    static nlohmann::ordered_json toJson(const YAML::Node& node)
    {
        if (!node || node.IsNull()) {
            return nullptr;
        }
        if (node.IsSequence()) {
            nlohmann::ordered_json out = nlohmann::ordered_json::array();
            for (const auto& item : node) {
                out.push_back(toJson(item));
            }
            return out;
        }
        if (node.IsMap()) {
            nlohmann::ordered_json out = nlohmann::ordered_json::object();
            for (const auto& item : node) {
                out[item.first.Scalar()] = toJson(item.second);
            }
            return out;
        }
        const std::string& text = node.Scalar();
        if (node.Tag() == "!") {
            return text;
        }
        if (text == "true" || text == "True") {
            return true;
        }
        if (text == "false" || text == "False") {
            return false;
        }
        if (text == "null" || text == "~") {
            return nullptr;
        }
        std::size_t used = 0;
        try {
            const long long value = std::stoll(text, &used, 10);
            if (used == text.size()) {
                return value;
            }
            const double real = std::stod(text, &used);
            if (used == text.size()) {
                return real;
            }
        } catch (const std::exception&) {
        }
        return text;
    }

private:
    std::string m_source;
};

inline void applyOverride(YAML::Node& root, const std::string& path, const std::string& value,
                          const std::string& source)
{
    std::vector<std::string> parts;
    std::stringstream stream(path);
    for (std::string part; std::getline(stream, part, '.');) {
        if (part.empty()) {
            throw Error(ErrorKind::Config, path, "empty key in override path");
        }
        parts.push_back(part);
    }
    if (parts.empty()) {
        throw Error(ErrorKind::Config, path, "empty override path");
    }
    YAML::Node parsed;
    try {
        parsed = YAML::Load(value);
    } catch (const YAML::Exception& e) {
        throw Error(ErrorKind::Config, source + ": " + path,
                    "override value '" + value + "' is not valid YAML: " + e.msg);
    }
    // yaml-cpp nodes are handles: walk with fresh handles so that assigning a child never rebinds
    // a parent variable.
    std::vector<YAML::Node> chain{root};
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        YAML::Node next = chain.back()[parts[i]];
        if (!next || next.IsNull()) {
            chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
            next = chain.back()[parts[i]];
        }
        if (!next.IsMap()) {
            throw Error(ErrorKind::Config, source + ": " + path,
                        "'" + parts[i] + "' is not a section, so it cannot take '" + parts[i + 1] +
                            "'");
        }
        chain.push_back(next);
    }
    chain.back()[parts.back()] = parsed;
}

/// The shortest text that reads back as the same double, so that 0.0004 stays 0.0004.
inline std::string shortest(double value)
{
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    std::string text(buffer, result.ptr);
    if (text.find_first_of(".eE") == std::string::npos) {
        text += ".0"; // keep it a float in YAML
    }
    return text;
}

inline std::string resolveAgainst(const std::string& path, const std::string& configFile)
{
    if (path.empty() || configFile.empty() || std::filesystem::path(path).is_absolute()) {
        return path;
    }
    const std::filesystem::path base = std::filesystem::path(configFile).parent_path();
    return (base / path).lexically_normal().string();
}

/// Parses a configuration's text into its root mapping and applies the overrides (dotted key,
/// YAML value) before any key is read. Error(Config) naming `sourceName` for invalid YAML.
inline YAML::Node loadConfigRoot(const std::string& text, const std::string& sourceName,
                                 const std::vector<std::pair<std::string, std::string>>& overrides)
{
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw Error(ErrorKind::Config, sourceName,
                    "not valid YAML (line " + std::to_string(e.mark.line + 1) + "): " + e.msg);
    }
    if (!root || root.IsNull()) {
        root = YAML::Node(YAML::NodeType::Map);
    }
    if (!root.IsMap()) {
        throw Error(ErrorKind::Config, sourceName, "the top level must be a mapping of sections");
    }
    for (const auto& [path, value] : overrides) {
        applyOverride(root, path, value, sourceName);
    }
    return root;
}

/// A configuration file's text: Error(NotFound/Io) naming it, Error(Config) above 4 MiB.
inline std::string readConfigText(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::NotFound, path, "no such configuration file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::Io, path, "cannot be read");
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > (4u << 20)) {
        throw Error(ErrorKind::Config, path, "is larger than 4 MiB: not a configuration file");
    }
    return text.str();
}

} // namespace diffseg::core::engine
