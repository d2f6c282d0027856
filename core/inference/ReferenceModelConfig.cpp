#include "ReferenceModelConfig.h"

#include "base/Error.h"
#include "base/Text.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace diffseg::core {

namespace {

using Json = nlohmann::json;

std::string readText(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::NotFound, path, "reference config file not found");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::Io, path, "cannot open the reference config");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// YAML scalars carry no type; the reference reads its configs with PyYAML, so plain scalars that
/// look like integers, floats or booleans become those (YAML 1.1 reads `05` as 5) and quoted ones
/// stay strings.
Json yamlToJson(const YAML::Node& node)
{
    switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
        return nullptr;
    case YAML::NodeType::Sequence: {
        Json array = Json::array();
        for (const auto& item : node) {
            array.push_back(yamlToJson(item));
        }
        return array;
    }
    case YAML::NodeType::Map: {
        Json object = Json::object();
        for (const auto& item : node) {
            object[item.first.Scalar()] = yamlToJson(item.second);
        }
        return object;
    }
    case YAML::NodeType::Scalar:
        break;
    }
    const std::string& text = node.Scalar();
    if (node.Tag() == "!") {
        return text;
    }
    const std::string low = asciiLower(text);
    if (low == "null" || low == "~") {
        return nullptr;
    }
    if (low == "true" || low == "yes" || low == "on") {
        return true;
    }
    if (low == "false" || low == "no" || low == "off") {
        return false;
    }
    std::int64_t integer = 0;
    if (YAML::convert<std::int64_t>::decode(node, integer)) {
        return integer;
    }
    double real = 0.0;
    if (YAML::convert<double>::decode(node, real)) {
        return real;
    }
    return text;
}

Json parseDocument(const std::string& path)
{
    const std::string text = readText(path);
    const std::string ext = asciiLower(std::filesystem::path(path).extension().string());
    try {
        if (ext == ".json") {
            return Json::parse(text);
        }
        return yamlToJson(YAML::Load(text));
    } catch (const Json::exception& e) {
        throw Error(ErrorKind::Config, path, std::string("not valid JSON: ") + e.what());
    } catch (const YAML::Exception& e) {
        throw Error(ErrorKind::Config, path, std::string("not valid YAML: ") + e.what());
    }
}

const Json* child(const Json& object, const char* key)
{
    if (!object.is_object()) {
        return nullptr;
    }
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

int readInt(const Json& value, const std::string& subject)
{
    if (value.is_number_integer()) {
        const auto v = value.get<std::int64_t>();
        if (v >= -(std::int64_t(1) << 30) && v <= (std::int64_t(1) << 30)) {
            return static_cast<int>(v);
        }
    } else if (value.is_number_float()) {
        const double v = value.get<double>();
        if (std::abs(v) <= double(1 << 30) && v == static_cast<double>(static_cast<int>(v))) {
            return static_cast<int>(v);
        }
    }
    throw Error(ErrorKind::Config, subject, "expected an integer, got " + value.dump());
}

double readDouble(const Json& value, const std::string& subject)
{
    if (!value.is_number()) {
        throw Error(ErrorKind::Config, subject, "expected a number, got " + value.dump());
    }
    return value.get<double>();
}

} // namespace

ReferenceModelConfig ReferenceModelConfig::preset(const std::string& name)
{
    ReferenceModelConfig config;
    config.model = engine::DermoSegDiffConfig::preset(asciiLower(name));
    config.name = asciiLower(name);
    return config;
}

std::vector<std::string> ReferenceModelConfig::presetNames()
{
    return {"isic2018", "ph2", "ham10000"};
}

ReferenceModelConfig ReferenceModelConfig::fromFile(const std::string& path)
{
    const Json doc = parseDocument(path);
    if (!doc.is_object()) {
        throw Error(ErrorKind::Config, path, "a reference config must be a mapping of sections");
    }
    ReferenceModelConfig config;
    config.name = path;
    const Json* params = nullptr;
    std::string paramsKey;
    if (doc.contains("dim_x")) {
        params = &doc;
    } else if (const Json* model = child(doc, "model")) {
        if (const Json* cls = child(*model, "class")) {
            if (!cls->is_string() || cls->get<std::string>() != "DermoSegDiff") {
                throw Error(ErrorKind::Unsupported, path + ": model.class",
                            "only DermoSegDiff models can be segmented with, not " + cls->dump());
            }
        }
        params = child(*model, "params");
        paramsKey = "model.params";
        if (params == nullptr && model->contains("dim_x")) {
            params = model;
            paramsKey = "model";
        }
    }
    if (params == nullptr) {
        throw Error(ErrorKind::Config, path + ": model.params",
                    "missing: the reference config must give the network's parameters");
    }
    config.model = engine::DermoSegDiffConfig::fromJson(
        params->dump(), paramsKey.empty() ? path : path + ": " + paramsKey);
    if (const Json* diffusion = child(doc, "diffusion")) {
        if (const Json* schedule = child(*diffusion, "schedule")) {
            const std::string base = path + ": diffusion.schedule.";
            if (const Json* v = child(*schedule, "timesteps")) {
                config.schedule.timesteps = readInt(*v, base + "timesteps");
            }
            if (const Json* v = child(*schedule, "mode")) {
                if (!v->is_string()) {
                    throw Error(ErrorKind::Config, base + "mode",
                                "expected a schedule name, got " + v->dump());
                }
                config.schedule.mode =
                    engine::parseScheduleMode(v->get<std::string>(), base + "mode");
            }
            if (const Json* v = child(*schedule, "beta_start")) {
                config.schedule.betaStart = readDouble(*v, base + "beta_start");
            }
            if (const Json* v = child(*schedule, "beta_end")) {
                config.schedule.betaEnd = readDouble(*v, base + "beta_end");
            }
        }
    }
    if (const Json* dataset = child(doc, "dataset")) {
        if (const Json* v = child(*dataset, "input_size")) {
            config.inputSize = readInt(*v, path + ": dataset.input_size");
        }
    }
    config.validate();
    return config;
}

ReferenceModelConfig ReferenceModelConfig::resolve(const std::string& presetOrPath)
{
    const std::string name = asciiLower(presetOrPath);
    for (const char* known : {"isic2018", "isic", "ph2", "ham10000", "ham"}) {
        if (name == known) {
            return preset(name);
        }
    }
    std::error_code ec;
    if (!std::filesystem::exists(presetOrPath, ec)) {
        throw Error(ErrorKind::NotFound, presetOrPath,
                    "neither a reference preset (isic2018, ph2, ham10000) nor an existing config "
                    "file");
    }
    return fromFile(presetOrPath);
}

void ReferenceModelConfig::validate() const
{
    model.validate(name + ": model.params");
    schedule.validate(name + ": diffusion.schedule");
    const int multiple = model.sizeMultiple();
    if (inputSize < multiple || inputSize > 4096 || inputSize % multiple != 0) {
        throw Error(ErrorKind::Config, name + ": dataset.input_size",
                    std::to_string(inputSize) + " is not a positive multiple of " +
                        std::to_string(multiple) + " (2^(levels-1)) up to 4096");
    }
}

} // namespace diffseg::core
