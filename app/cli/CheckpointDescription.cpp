#include "CheckpointDescription.h"

#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "inference/ModelCard.h"

#include <cstdio>
#include <cstring>
#include <fstream>

namespace diffseg::app {

using Json = nlohmann::ordered_json;

bool looksLikeTorchFile(const std::string& path)
{
    char head[4] = {};
    std::ifstream(path, std::ios::binary).read(head, sizeof head);
    return std::memcmp(head, "PK\x03\x04", 4) == 0;
}

Json describeCheckpoint(const std::string& path)
{
    namespace engine = core::engine;
    engine::CheckpointInfo info;
    try {
        info = engine::readCheckpointInfo(path);
    } catch (const core::Error& e) {
        if (e.kind() != core::ErrorKind::Format) {
            throw;
        }
        return {{"path", path},
                {"kind", "torch file"},
                {"note",
                 "a PyTorch file that is not a diffseg checkpoint; a reference "
                 "DermoSegDiff .pth segments with --reference-config isic2018|ph2|ham10000, "
                 "a reference Diff-UNet state_dict with segment3d --reference-config"}};
    }
    Json j{{"path", path}, {"kind", "checkpoint"}, {"network", info.network}};
    if (info.network == "diffunet") {
        j["input"] = "volume (CT/MRI)";
        j["model"] = Json::parse(info.diffunet.toJson());
        if (!info.labelValues.empty()) {
            j["label_values"] = info.labelValues;
        }
        for (const auto& [key, names] : {std::pair{"label_names", &info.labelNames},
                                         std::pair{"channel_names", &info.channelNames}}) {
            if (!names->empty()) {
                j[key] = *names;
            }
        }
    } else {
        j["input"] = "photo (RGB dermoscopy)";
        j["model"] = Json::parse(info.model.toJson());
        j["schedule"] = {{"mode", engine::scheduleModeName(info.schedule.mode)},
                         {"timesteps", info.schedule.timesteps},
                         {"prediction", engine::predictionName(info.schedule.prediction)}};
    }
    j["input_size"] = info.inputSize;
    j["step"] = info.step ? Json(*info.step) : Json(nullptr);
    j["epoch"] = info.epoch ? Json(*info.epoch) : Json(nullptr);
    j["source"] = info.source;
    const core::ModelCard card = core::ModelCard::fromJson(info.cardJson, path);
    j["card"] = card.empty() ? Json(nullptr) : Json::parse(card.toJson());
    j["card_text"] = card.text();
    return j;
}

void printCheckpoint(const Json& j)
{
    const auto line = [](const char* label, const std::string& value) {
        std::printf("%-18s%s\n", label, value.c_str());
    };
    line("file:", j["path"].get<std::string>());
    if (j["kind"] != "checkpoint") {
        line("format:", j["kind"].get<std::string>());
        line("note:", j["note"].get<std::string>());
        return;
    }
    line("format:", "diffseg checkpoint, " + j["network"].get<std::string>());
    line("input:", j["input"].get<std::string>() + ", " +
                       std::to_string(j["input_size"].get<int>()) + " px network input");
    line("network:", j["model"].dump());
    if (j.contains("schedule")) {
        line("schedule:", j["schedule"].dump());
    }
    for (const auto& [key, label] :
         {std::pair{"label_names", "labels:"}, std::pair{"channel_names", "channels:"}}) {
        if (j.contains(key)) {
            std::string names;
            for (std::size_t i = 0; i < j[key].size(); ++i) {
                const std::string value =
                    key == std::string("label_names") && j.contains("label_values")
                        ? j["label_values"][i].dump() + " "
                        : std::string();
                names += (i ? ", " : "") + value + j[key][i].get<std::string>();
            }
            line(label, names);
        }
    }
    line("trained:", (j["step"].is_null() ? std::string("?") : j["step"].dump()) + " steps, " +
                         (j["epoch"].is_null() ? std::string("?") : j["epoch"].dump()) + " epochs");
    line("source:", j["source"].get<std::string>());
    const std::string card = j["card_text"].get<std::string>();
    if (card.empty()) {
        line("card:", "none (nothing is recorded about its training data, licence or scores)");
        return;
    }
    bool first = true;
    std::size_t start = 0;
    while (start <= card.size()) {
        const std::size_t end = card.find('\n', start);
        line(first ? "card:" : "", card.substr(start, end - start));
        first = false;
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
}

} // namespace diffseg::app
