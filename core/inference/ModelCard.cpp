#include "ModelCard.h"

#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace diffseg::core {

namespace {

using Json = nlohmann::ordered_json;

std::string stringAt(const Json& j, const char* key, const std::string& subject)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return {};
    }
    if (!it->is_string()) {
        throw Error(ErrorKind::Format, subject, std::string("card.") + key + " must be text");
    }
    return it->get<std::string>();
}

std::vector<std::pair<std::string, std::string>> pairsAt(const Json& j, const char* key,
                                                         const std::string& subject)
{
    std::vector<std::pair<std::string, std::string>> out;
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return out;
    }
    if (!it->is_object()) {
        throw Error(ErrorKind::Format, subject, std::string("card.") + key + " must be an object");
    }
    for (const auto& [name, value] : it->items()) {
        out.emplace_back(name, value.dump());
    }
    return out;
}

/// JSON text shown without quotes for strings.
std::string plain(const std::string& jsonText)
{
    const Json value = Json::parse(jsonText);
    return value.is_string() ? value.get<std::string>() : jsonText;
}

} // namespace

bool ModelCard::empty() const noexcept
{
    return name.empty() && inputKind.empty() && trainingData.empty() && licence.empty() &&
           notes.empty() && validated.empty() && scores.empty();
}

std::optional<std::string> ModelCard::validatedText(const std::string& key) const
{
    for (const auto& [name, value] : validated) {
        if (name == key) {
            return plain(value);
        }
    }
    return std::nullopt;
}

std::optional<double> ModelCard::validatedNumber(const std::string& key) const
{
    for (const auto& [name, value] : validated) {
        if (name == key) {
            const Json j = Json::parse(value);
            if (j.is_number()) {
                return j.get<double>();
            }
        }
    }
    return std::nullopt;
}

ModelCard ModelCard::fromJson(const std::string& json, const std::string& subject)
{
    Json j;
    try {
        j = Json::parse(json);
    } catch (const Json::exception& e) {
        throw Error(ErrorKind::Format, subject,
                    std::string("the model card is not JSON: ") + e.what());
    }
    if (!j.is_object()) {
        throw Error(ErrorKind::Format, subject, "the model card must be a JSON object");
    }
    ModelCard card;
    card.name = stringAt(j, "name", subject);
    card.inputKind = stringAt(j, "input_kind", subject);
    card.trainingData = stringAt(j, "training_data", subject);
    card.licence = stringAt(j, "licence", subject);
    card.notes = stringAt(j, "notes", subject);
    card.validated = pairsAt(j, "validated", subject);
    card.scores = pairsAt(j, "scores", subject);
    return card;
}

std::string ModelCard::toJson() const
{
    Json j = Json::object();
    for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"name", &name},
                                     {"input_kind", &inputKind},
                                     {"training_data", &trainingData},
                                     {"licence", &licence},
                                     {"notes", &notes}}) {
        if (!value->empty()) {
            j[key] = *value;
        }
    }
    for (const auto& [key, list] :
         {std::pair<const char*, const std::vector<std::pair<std::string, std::string>>*>{
              "validated", &validated},
          {"scores", &scores}}) {
        if (!list->empty()) {
            Json object = Json::object();
            for (const auto& [name, value] : *list) {
                object[name] = Json::parse(value);
            }
            j[key] = object;
        }
    }
    return j.dump();
}

std::string ModelCard::text() const
{
    if (empty()) {
        return {};
    }
    std::ostringstream out;
    const auto line = [&](const char* label, const std::string& value) {
        if (!value.empty()) {
            out << label << value << "\n";
        }
    };
    line("", name);
    line("Input: ", inputKind);
    line("Trained on: ", trainingData);
    line("Licence: ", licence);
    const auto joined = [](const std::vector<std::pair<std::string, std::string>>& list) {
        std::string text;
        for (const auto& [key, value] : list) {
            text += (text.empty() ? "" : ", ") + key + " " + plain(value);
        }
        return text;
    };
    line("Validated with: ", joined(validated));
    line("Scores: ", joined(scores));
    line("", notes);
    std::string s = out.str();
    if (!s.empty() && s.back() == '\n') {
        s.pop_back();
    }
    return s;
}

ModelCard readModelCard(const std::string& checkpointPath)
{
    const engine::CheckpointInfo info = engine::readCheckpointInfo(checkpointPath);
    return ModelCard::fromJson(info.cardJson, checkpointPath);
}

VolumeModality checkpointVolumeModality(const std::string& checkpointPath)
{
    try {
        const engine::CheckpointInfo info = engine::readCheckpointInfo(checkpointPath);
        if (info.network != "diffunet") {
            return VolumeModality::Unknown;
        }
        for (const std::string& channel : info.channelNames) {
            if (channel == "CT") {
                return VolumeModality::Ct;
            }
        }
        const nlohmann::json prep = nlohmann::json::parse(info.preprocessingJson);
        return prep.value("normalization", std::string()) == "ct" ? VolumeModality::Ct
                                                                  : VolumeModality::Mr;
    } catch (const std::exception&) {
        return VolumeModality::Unknown;
    }
}

} // namespace diffseg::core
