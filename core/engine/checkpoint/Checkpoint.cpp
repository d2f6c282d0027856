#include "Checkpoint.h"

#include "TorchFileReader.h"
#include "base/Error.h"
#include "engine/diffunet/DiffUNet.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/jit/serialization/import_read.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/nn/module.h>
#include <torch/serialize.h>

#include <algorithm>
#include <caffe2/serialize/inline_container.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <unistd.h>

namespace diffseg::core::engine {

namespace {

constexpr const char* kFormatName = "diffseg-checkpoint";

std::string shapeText(at::IntArrayRef sizes)
{
    std::ostringstream s;
    s << sizes;
    return s.str();
}

std::string firstLine(const std::string& text)
{
    const auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end);
}

std::string systemError()
{
    return std::strerror(errno);
}

using ByteSink = std::function<void(const char*, std::size_t)>;

/// Streams what `produce` writes into a temporary file next to `path`, syncs it and renames it
/// over `path`. Streaming matters for large networks: a 321 M-parameter checkpoint with its EMA
/// and Adam state is 5 GB, which an in-memory copy would add to the trainer's peak.
void writeAtomically(const std::string& path, const std::function<void(const ByteSink&)>& produce)
{
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        throw Error(ErrorKind::NotFound, path, "folder " + folder.string() + " does not exist");
    }
    std::random_device entropy;
    const fs::path temp = folder / ("." + target.filename().string() + ".tmp-" +
                                    std::to_string(::getpid()) + "-" + std::to_string(entropy()));
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw Error(ErrorKind::Io, path, "cannot create a temporary file: " + systemError());
    }
    // The sink never throws: the zip writer calls it from its destructor too, where an
    // exception would terminate the process. The first failure is kept and raised afterwards.
    std::string failure;
    const auto sink = [&](const char* data, std::size_t size) {
        std::size_t written = 0;
        while (failure.empty() && written < size) {
            const ssize_t n = ::write(fd, data + written, size - written);
            if (n < 0 && errno != EINTR) {
                failure = "write failed: " + systemError();
            } else if (n == 0) {
                failure = "write failed: no progress (disk full?)";
            } else if (n > 0) {
                written += static_cast<std::size_t>(n);
            }
        }
    };
    try {
        produce(sink);
        if (!failure.empty()) {
            throw Error(ErrorKind::Io, path, failure);
        }
        if (::fsync(fd) != 0) {
            throw Error(ErrorKind::Io, path, "fsync failed: " + systemError());
        }
    } catch (...) {
        ::close(fd);
        fs::remove(temp, ec);
        throw;
    }
    if (::close(fd) != 0) {
        fs::remove(temp, ec);
        throw Error(ErrorKind::Io, path, "close failed: " + systemError());
    }
    if (std::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string problem = "rename failed: " + systemError();
        fs::remove(temp, ec);
        throw Error(ErrorKind::Io, path, problem);
    }
    // Make the rename itself durable.
    const int dirFd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirFd >= 0) {
        ::fsync(dirFd);
        ::close(dirFd);
    }
}

/// What torch::pickle_save produces (the zip container torch.save writes, byte for byte), but
/// written to `sink` record by record: each tensor goes straight from its storage to the file.
void streamPickleSave(const c10::IValue& value, const ByteSink& sink)
{
    std::vector<char> pickleData;
    torch::jit::Pickler pickler([&](const char* data, std::size_t size) {
        pickleData.insert(pickleData.end(), data, data + size);
    });
    pickler.protocol();
    pickler.pushIValue(value);
    pickler.stop();
    caffe2::serialize::PyTorchStreamWriter writer(
        [&](const void* data, std::size_t size) -> std::size_t {
            sink(static_cast<const char*>(data), size);
            return size;
        });
    std::size_t index = 0;
    for (const at::Tensor& tensor : pickler.tensorData()) {
        const torch::jit::WriteableTensorData data = torch::jit::getWriteableTensorData(tensor);
        writer.writeRecord("data/" + std::to_string(index++), data.data(), data.sizeInBytes());
    }
    writer.writeRecord("data.pkl", pickleData.data(), pickleData.size());
    writer.writeEndOfFile();
}

void requireFinite(const NamedTensors& tensors, const std::string& subject)
{
    for (const auto& [name, tensor] : tensors) {
        if (at::isFloatingType(tensor.scalar_type()) && !at::isfinite(tensor).all().item<bool>()) {
            throw Error(ErrorKind::InvalidValue, subject,
                        "tensor " + name + " contains NaN or Inf");
        }
    }
}

c10::Dict<std::string, at::Tensor> toDict(const NamedTensors& tensors)
{
    c10::Dict<std::string, at::Tensor> dict;
    for (const auto& [name, tensor] : tensors) {
        dict.insert(name, tensor.detach().to(at::kCPU).contiguous());
    }
    return dict;
}

NamedTensors fromIValueDict(const c10::IValue& value, const std::string& path,
                            const std::string& key)
{
    if (!value.isGenericDict()) {
        throw Error(ErrorKind::Format, path, "entry '" + key + "' is not a dict of tensors");
    }
    NamedTensors out;
    for (const auto& item : value.toGenericDict()) {
        if (!item.key().isString() || !item.value().isTensor()) {
            throw Error(ErrorKind::Format, path,
                        "entry '" + key + "' holds something other than named tensors");
        }
        out.emplace_back(item.key().toStringRef(), item.value().toTensor());
    }
    return out;
}

nlohmann::json headerJson(const CheckpointInfo& info, bool hasEma)
{
    nlohmann::json h;
    h["format"] = kFormatName;
    h["format_version"] = info.formatVersion;
    h["network"] = info.network;
    if (info.network == "diffunet") {
        h["model"] = nlohmann::json::parse(info.diffunet.toJson());
        if (!info.labelValues.empty()) {
            h["label_values"] = info.labelValues;
        }
        if (!info.labelNames.empty()) {
            h["label_names"] = info.labelNames;
        }
        if (!info.channelNames.empty()) {
            h["channel_names"] = info.channelNames;
        }
    } else {
        h["model"] = nlohmann::json::parse(info.model.toJson());
        h["schedule"] = {{"mode", scheduleModeName(info.schedule.mode)},
                         {"timesteps", info.schedule.timesteps},
                         {"beta_start", info.schedule.betaStart},
                         {"beta_end", info.schedule.betaEnd},
                         {"prediction", predictionName(info.schedule.prediction)}};
    }
    h["preprocessing"] = nlohmann::json::parse(info.preprocessingJson);
    h["input_size"] = info.inputSize;
    h["training"] = {{"step", info.step ? nlohmann::json(*info.step) : nlohmann::json(nullptr)},
                     {"epoch", info.epoch ? nlohmann::json(*info.epoch) : nlohmann::json(nullptr)}};
    h["ema"] = {{"present", hasEma}, {"step", info.emaStep}, {"initted", info.emaInitted}};
    h["source"] = info.source;
    const nlohmann::json card = nlohmann::json::parse(info.cardJson);
    if (!card.empty()) {
        h["card"] = card;
    }
    return h;
}

void parseTrainingAndEma(const nlohmann::json& h, CheckpointInfo& info)
{
    const auto& training = h.at("training");
    if (!training.at("step").is_null()) {
        info.step = training.at("step").get<std::int64_t>();
    }
    if (!training.at("epoch").is_null()) {
        info.epoch = training.at("epoch").get<std::int64_t>();
    }
    info.emaStep = h.at("ema").at("step").get<std::int64_t>();
    info.emaInitted = h.at("ema").at("initted").get<bool>();
    info.source = h.value("source", std::string());
    if (const auto card = h.find("card"); card != h.end() && card->is_object()) {
        info.cardJson = card->dump();
    }
}

/// One distinct label value in 0..65535 (what a uint16 label map holds) per class.
void validateLabelValues(const std::vector<int>& values, int classes, const std::string& path)
{
    if (static_cast<int>(values.size()) != classes) {
        throw Error(ErrorKind::Format, path,
                    "header.label_values has " + std::to_string(values.size()) +
                        " values for a model of " + std::to_string(classes) + " classes");
    }
    std::vector<int> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    if (sorted.front() < 0 || sorted.back() > 65535 ||
        std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
        throw Error(ErrorKind::Format, path,
                    "header.label_values must be distinct values in 0..65535");
    }
}

/// header.label_names / header.channel_names: absent (older files) or one string per class /
/// channel.
std::vector<std::string> namesList(const nlohmann::json& header, const char* key, int count,
                                   const std::string& path)
{
    const auto it = header.find(key);
    if (it == header.end()) {
        return {};
    }
    std::vector<std::string> names = it->get<std::vector<std::string>>();
    if (static_cast<int>(names.size()) != count) {
        throw Error(ErrorKind::Format, path,
                    std::string("header.") + key + " has " + std::to_string(names.size()) +
                        " names for " + std::to_string(count));
    }
    return names;
}

/// header.input_size: the network's input side, `what` ("a multiple", "a positive multiple") of
/// `multiple` up to `largest`; 128 when absent (files written before it was recorded were all
/// made for 128-voxel inputs).
int parseInputSize(const nlohmann::json& header, int multiple, int largest, const char* what,
                   const std::string& path)
{
    const int size = header.value("input_size", 128);
    if (size < multiple || size > largest || size % multiple != 0) {
        throw Error(ErrorKind::Format, path,
                    "header.input_size " + std::to_string(size) + " is not " + what + " of " +
                        std::to_string(multiple) + " up to " + std::to_string(largest));
    }
    return size;
}

CheckpointInfo parseHeader(const std::string& text, const std::string& path)
{
    CheckpointInfo info;
    try {
        const nlohmann::json h = nlohmann::json::parse(text);
        info.formatVersion = h.at("format_version").get<int>();
        info.network = h.at("network").get<std::string>();
        if (info.network != "dermosegdiff" && info.network != "diffunet") {
            throw Error(ErrorKind::Unsupported, path,
                        "checkpoint of network '" + info.network + "', which this build lacks");
        }
        if (const auto p = h.find("preprocessing"); p != h.end()) {
            if (!p->is_object()) {
                throw Error(ErrorKind::Format, path, "header.preprocessing is not an object");
            }
            info.preprocessingJson = p->dump();
        }
        if (info.network == "diffunet") {
            info.diffunet = DiffUNetConfig::fromJson(h.at("model").dump(), path + ": header.model");
            info.inputSize =
                parseInputSize(h, info.diffunet.sizeMultiple(), 1024, "a multiple", path);
            if (const auto v = h.find("label_values"); v != h.end()) {
                info.labelValues = v->get<std::vector<int>>();
                validateLabelValues(info.labelValues, info.diffunet.numClasses, path);
            }
            info.labelNames = namesList(h, "label_names", info.diffunet.numClasses, path);
            info.channelNames = namesList(h, "channel_names", info.diffunet.inChannels, path);
            parseTrainingAndEma(h, info);
            return info;
        }
        info.model = DermoSegDiffConfig::fromJson(h.at("model").dump(), path + ": header.model");
        const auto& s = h.at("schedule");
        info.schedule.mode =
            parseScheduleMode(s.at("mode").get<std::string>(), path + ": header.schedule.mode");
        info.schedule.timesteps = s.at("timesteps").get<int>();
        info.schedule.betaStart = s.at("beta_start").get<double>();
        info.schedule.betaEnd = s.at("beta_end").get<double>();
        // Absent in checkpoints written before x0 prediction existed: they predict noise.
        info.schedule.prediction = s.contains("prediction")
                                       ? parsePrediction(s.at("prediction").get<std::string>(),
                                                         path + ": header.schedule.prediction")
                                       : Prediction::Noise;
        info.schedule.validate(path + ": header.schedule");
        info.inputSize =
            parseInputSize(h, info.model.sizeMultiple(), 4096, "a positive multiple", path);
        parseTrainingAndEma(h, info);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Format, path, std::string("bad checkpoint header: ") + e.what());
    }
    return info;
}

NamedTensors tensorsFromPickle(const PickleValue& dict, const std::string& path,
                               const std::string& key, const std::string& prefix = {})
{
    NamedTensors out;
    for (const auto& [k, v] : dict.entries) {
        if (k->kind != PickleValue::Kind::String) {
            throw Error(ErrorKind::Format, path, "'" + key + "' has a non-string key");
        }
        if (k->text.compare(0, prefix.size(), prefix) != 0) {
            continue;
        }
        if (v->kind != PickleValue::Kind::Tensor) {
            if (!prefix.empty()) {
                continue;
            }
            throw Error(ErrorKind::Format, path,
                        "'" + key + "' entry " + k->text + " is a " + v->describe() +
                            ", not a tensor");
        }
        out.emplace_back(k->text.substr(prefix.size()), v->tensor);
    }
    return out;
}

} // namespace

void saveCheckpoint(const std::string& path, const Checkpoint& checkpoint)
{
    if (checkpoint.info.network == "diffunet") {
        checkpoint.info.diffunet.validate("checkpoint model config");
    } else {
        checkpoint.info.model.validate("checkpoint model config");
        checkpoint.info.schedule.validate("checkpoint schedule");
    }
    c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
    root.insert("format", std::string(kFormatName));
    root.insert("version", static_cast<std::int64_t>(checkpoint.info.formatVersion));
    root.insert("header", headerJson(checkpoint.info, checkpoint.hasEma()).dump());
    root.insert("model", toDict(checkpoint.model));
    root.insert("ema", toDict(checkpoint.ema));
    if (!checkpoint.optimizer.empty()) {
        root.insert("optimizer", toDict(checkpoint.optimizer));
    }
    if (!checkpoint.trainingState.empty()) {
        root.insert("training_state", checkpoint.trainingState);
    }
    writeAtomically(path, [&](const ByteSink& sink) {
        try {
            streamPickleSave(root, sink);
        } catch (const c10::Error& e) {
            throw Error(ErrorKind::Internal, path,
                        "cannot serialise the checkpoint: " +
                            firstLine(e.what_without_backtrace()));
        }
    });
}

CheckpointInfo readCheckpointInfo(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::NotFound, path, "file not found");
    }
    std::string pickle;
    try {
        // data.pkl holds the dict's structure and the header string; the tensors are separate
        // records, which are not read.
        caffe2::serialize::PyTorchStreamReader reader(path);
        const auto [data, size] = reader.getRecord("data.pkl");
        pickle.assign(static_cast<const char*>(data.get()), size);
    } catch (const c10::Error& e) {
        throw Error(ErrorKind::Format, path,
                    "not a diffseg checkpoint, or corrupt/truncated: " +
                        firstLine(e.what_without_backtrace()));
    }
    // The header is the one pickled string (BINUNICODE: 'X', a 4-byte little-endian length, the
    // UTF-8 bytes) that is a JSON object with our format tag.
    const std::string tag = std::string("\"format\":\"") + kFormatName + "\"";
    for (std::size_t at = pickle.find(tag); at != std::string::npos;
         at = pickle.find(tag, at + 1)) {
        for (std::size_t start = at; start-- > 0 && at - start < (std::size_t(1) << 20);) {
            if (pickle[start] != '{' || start < 5 || pickle[start - 5] != 'X') {
                continue;
            }
            std::uint32_t length = 0;
            std::memcpy(&length, pickle.data() + start - 4, sizeof length);
            if (start + length <= pickle.size() && start + length > at) {
                return parseHeader(pickle.substr(start, length), path);
            }
        }
    }
    throw Error(ErrorKind::Format, path, "not a diffseg checkpoint (no header found)");
}

Checkpoint loadCheckpoint(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::NotFound, path, "file not found");
    }
    if (::access(path.c_str(), R_OK) != 0) {
        throw Error(ErrorKind::Io, path, "cannot open: " + systemError());
    }
    c10::IValue value;
    try {
        // Record by record from the file, as torch::pickle_load would from a copy of it in
        // memory: each tensor is read straight into its storage, so a 5 GB training checkpoint
        // costs 5 GB to load, not 10.
        caffe2::serialize::PyTorchStreamReader reader(path);
        value = torch::jit::readArchiveAndTensors("data", "", "", c10::nullopt, c10::nullopt,
                                                  c10::nullopt, reader);
    } catch (const c10::Error& e) {
        throw Error(ErrorKind::Format, path,
                    "not a diffseg checkpoint, or corrupt/truncated (a reference DermoSegDiff "
                    ".pth must be imported instead): " +
                        firstLine(e.what_without_backtrace()));
    }
    if (!value.isGenericDict()) {
        throw Error(ErrorKind::Format, path, "not a diffseg checkpoint (no top-level dict)");
    }
    const c10::impl::GenericDict root = value.toGenericDict();
    const auto get = [&](const char* key) -> c10::IValue {
        const auto it = root.find(c10::IValue(std::string(key)));
        if (it == root.end()) {
            throw Error(ErrorKind::Format, path,
                        std::string("not a diffseg checkpoint (no '") + key +
                            "' entry; a reference .pth file needs importing instead)");
        }
        return it->value();
    };
    const c10::IValue format = get("format");
    if (!format.isString() || format.toStringRef() != kFormatName) {
        throw Error(ErrorKind::Format, path, "not a diffseg checkpoint (wrong format tag)");
    }
    const c10::IValue version = get("version");
    if (!version.isInt()) {
        throw Error(ErrorKind::Format, path, "bad format version entry");
    }
    if (version.toInt() > CheckpointInfo::kFormatVersion || version.toInt() < 1) {
        throw Error(ErrorKind::Unsupported, path,
                    "checkpoint format version " + std::to_string(version.toInt()) +
                        " is not supported by this build (it reads up to " +
                        std::to_string(CheckpointInfo::kFormatVersion) + ")");
    }
    const c10::IValue header = get("header");
    if (!header.isString()) {
        throw Error(ErrorKind::Format, path, "bad header entry");
    }
    Checkpoint checkpoint;
    checkpoint.info = parseHeader(header.toStringRef(), path);
    checkpoint.model = fromIValueDict(get("model"), path, "model");
    checkpoint.ema = fromIValueDict(get("ema"), path, "ema");
    if (const auto it = root.find(c10::IValue(std::string("optimizer"))); it != root.end()) {
        checkpoint.optimizer = fromIValueDict(it->value(), path, "optimizer");
    }
    if (const auto it = root.find(c10::IValue(std::string("training_state"))); it != root.end()) {
        if (!it->value().isString()) {
            throw Error(ErrorKind::Format, path, "bad training_state entry");
        }
        checkpoint.trainingState = it->value().toStringRef();
    }
    if (checkpoint.model.empty()) {
        throw Error(ErrorKind::Format, path, "checkpoint holds no model weights");
    }
    requireFinite(checkpoint.model, path);
    requireFinite(checkpoint.ema, path + " (EMA weights)");
    return checkpoint;
}

Checkpoint importReferenceCheckpoint(const std::string& path, const DermoSegDiffConfig& model,
                                     const ScheduleConfig& schedule)
{
    model.validate("model");
    schedule.validate();
    const PickleRef root = TorchFileReader::read(path);
    if (!root->isDict()) {
        throw Error(ErrorKind::Format, path,
                    "expected a dict (a checkpoint or a state_dict), found a " + root->describe());
    }
    Checkpoint checkpoint;
    checkpoint.info.model = model;
    checkpoint.info.schedule = schedule;
    checkpoint.info.source = path;
    if (const PickleValue* weights = root->find("model")) {
        if (!weights->isDict()) {
            throw Error(ErrorKind::Format, path,
                        "'model' is a " + weights->describe() + ", not a state_dict");
        }
        checkpoint.model = tensorsFromPickle(*weights, path, "model");
        if (const PickleValue* ema = root->find("ema"); ema != nullptr && ema->isDict()) {
            checkpoint.ema = tensorsFromPickle(*ema, path, "ema", "ema_model.");
            if (const PickleValue* step = ema->find("step");
                step != nullptr && step->kind == PickleValue::Kind::Tensor &&
                step->tensor.numel() == 1) {
                checkpoint.info.emaStep = step->tensor.to(at::kLong).item<std::int64_t>();
            }
            if (const PickleValue* initted = ema->find("initted");
                initted != nullptr && initted->kind == PickleValue::Kind::Tensor &&
                initted->tensor.numel() == 1) {
                checkpoint.info.emaInitted = initted->tensor.to(at::kDouble).item<double>() != 0.0;
            }
        }
        if (const PickleValue* epoch = root->find("epoch");
            epoch != nullptr && epoch->kind == PickleValue::Kind::Int) {
            checkpoint.info.epoch = epoch->integer;
        }
    } else {
        // torch.save(model.state_dict()) (a commented-out line of the reference's training).
        checkpoint.model = tensorsFromPickle(*root, path, "state_dict");
    }
    if (checkpoint.model.empty()) {
        throw Error(ErrorKind::Format, path, "holds no model weights");
    }
    requireFinite(checkpoint.model, path);
    requireFinite(checkpoint.ema, path + " (EMA weights)");
    return checkpoint;
}

Checkpoint importReferenceDiffUNet(const std::string& path, const DiffUNetConfig& config)
{
    config.validate("model");
    const PickleRef root = TorchFileReader::read(path);
    if (!root->isDict()) {
        throw Error(ErrorKind::Format, path,
                    "expected a Diff-UNet state_dict (a dict), found a " + root->describe());
    }
    // Some trainers wrap the state_dict ({"model": ...} or {"state_dict": ...}).
    const PickleValue* dict = root.get();
    for (const char* key : {"model", "state_dict"}) {
        if (const PickleValue* inner = root->find(key); inner != nullptr && inner->isDict()) {
            dict = inner;
        }
    }
    Checkpoint checkpoint;
    checkpoint.info.network = "diffunet";
    checkpoint.info.diffunet = config;
    checkpoint.info.source = path;
    NamedTensors weights = tensorsFromPickle(*dict, path, "state_dict");
    // DataParallel prefixes every key with "module.".
    for (auto& [name, tensor] : weights) {
        if (name.rfind("module.", 0) == 0) {
            name = name.substr(7);
        }
    }
    checkpoint.model = canonicalDiffUNetWeights(weights, path);
    if (checkpoint.model.empty()) {
        throw Error(ErrorKind::Format, path, "holds no model weights");
    }
    requireFinite(checkpoint.model, path);
    return checkpoint;
}

NamedTensors namedWeights(const torch::nn::Module& module)
{
    NamedTensors out;
    for (const auto& item : module.named_parameters(true)) {
        out.emplace_back(item.key(), item.value().detach());
    }
    for (const auto& item : module.named_buffers(true)) {
        out.emplace_back(item.key(), item.value().detach());
    }
    return out;
}

void loadWeights(torch::nn::Module& module, const NamedTensors& weights, const std::string& source)
{
    std::map<std::string, at::Tensor> target;
    std::vector<std::string> order;
    for (const auto& item : module.named_parameters(true)) {
        target.emplace(item.key(), item.value());
        order.push_back(item.key());
    }
    for (const auto& item : module.named_buffers(true)) {
        target.emplace(item.key(), item.value());
        order.push_back(item.key());
    }
    std::map<std::string, const at::Tensor*> provided;
    std::vector<std::string> unexpected;
    for (const auto& [name, tensor] : weights) {
        if (!provided.emplace(name, &tensor).second) {
            throw Error(ErrorKind::Format, source, "tensor " + name + " appears twice");
        }
        if (target.count(name) == 0) {
            unexpected.push_back(name);
        }
    }
    std::vector<std::string> missing;
    std::vector<std::string> shapes;
    for (const std::string& name : order) {
        const auto it = provided.find(name);
        if (it == provided.end()) {
            missing.push_back(name);
        } else if (!it->second->sizes().equals(target[name].sizes())) {
            shapes.push_back(name + ": file " + shapeText(it->second->sizes()) + " vs model " +
                             shapeText(target[name].sizes()));
        }
    }
    if (!missing.empty() || !unexpected.empty() || !shapes.empty()) {
        const auto list = [](const std::vector<std::string>& names) {
            constexpr std::size_t kShown = 12;
            std::string text;
            for (std::size_t i = 0; i < names.size() && i < kShown; ++i) {
                text += (i ? ", " : "") + names[i];
            }
            if (names.size() > kShown) {
                text += ", ... (" + std::to_string(names.size() - kShown) + " more)";
            }
            return text;
        };
        std::string problem = "weights do not fit the model:";
        if (!missing.empty()) {
            problem +=
                " " + std::to_string(missing.size()) + " missing key(s): " + list(missing) + ";";
        }
        if (!unexpected.empty()) {
            problem += " " + std::to_string(unexpected.size()) +
                       " unexpected key(s): " + list(unexpected) + ";";
        }
        if (!shapes.empty()) {
            problem +=
                " " + std::to_string(shapes.size()) + " shape mismatch(es): " + list(shapes) + ";";
        }
        problem.pop_back();
        throw Error(ErrorKind::Mismatch, source, problem);
    }
    requireFinite(weights, source);
    c10::NoGradGuard noGrad;
    for (const auto& [name, tensor] : weights) {
        target[name].copy_(*provided[name]);
    }
}

} // namespace diffseg::core::engine
