#include "ParityCheck.h"

#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/diffusion/NoiseSchedule.h"
#include "engine/loss/DiffusionLoss.h"
#include "engine/model/DermoSegDiff.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <torch/serialize.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

namespace diffseg::core::engine {

namespace {

std::string firstLine(const std::string& text)
{
    const auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end);
}

/// The fixture's tensors by key.
std::map<std::string, at::Tensor> readFixture(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::NotFound, path, "fixture not found");
    }
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    if (in.bad()) {
        throw Error(ErrorKind::Io, path, "read failed");
    }
    c10::IValue root;
    try {
        root = torch::pickle_load(bytes);
    } catch (const c10::Error& e) {
        throw Error(ErrorKind::Format, path,
                    "not a readable torch.save file: " + firstLine(e.what_without_backtrace()));
    }
    if (!root.isGenericDict()) {
        throw Error(ErrorKind::Format, path, "expected a dict of tensors");
    }
    std::map<std::string, at::Tensor> out;
    for (const auto& item : root.toGenericDict()) {
        if (!item.key().isString() || !item.value().isTensor()) {
            throw Error(ErrorKind::Format, path, "expected a dict of tensors keyed by strings");
        }
        out.emplace(item.key().toStringRef(), item.value().toTensor());
    }
    return out;
}

const at::Tensor& require(const std::map<std::string, at::Tensor>& fixture, const std::string& key,
                          const std::string& path)
{
    const auto it = fixture.find(key);
    if (it == fixture.end()) {
        throw Error(ErrorKind::Format, path, "fixture has no '" + key + "' entry");
    }
    return it->second;
}

std::string utf8Text(const at::Tensor& bytes, const std::string& path, const std::string& key)
{
    if (bytes.scalar_type() != at::kByte || bytes.dim() != 1) {
        throw Error(ErrorKind::Format, path, "'" + key + "' must be a 1-D uint8 tensor");
    }
    const at::Tensor c = bytes.contiguous();
    return std::string(reinterpret_cast<const char*>(c.data_ptr<std::uint8_t>()),
                       static_cast<std::size_t>(c.numel()));
}

double maxAbsError(const at::Tensor& ours, const at::Tensor& reference, const std::string& path,
                   const std::string& key)
{
    if (!ours.sizes().equals(reference.sizes())) {
        throw Error(ErrorKind::Format, path,
                    "'" + key + "' has an unexpected shape for this fixture's inputs");
    }
    const at::Tensor diff = (ours.to(at::kDouble) - reference.to(at::kDouble)).abs();
    // NaN must fail, not compare as "not greater than the tolerance".
    if (!at::isfinite(diff).all().item<bool>()) {
        return std::numeric_limits<double>::infinity();
    }
    return diff.numel() == 0 ? 0.0 : diff.max().item<double>();
}

void addPart(ParityReport& report, std::string name, double error, double tolerance)
{
    report.parts.push_back(ParityPart{std::move(name), error, tolerance, error <= tolerance});
}

ScheduleConfig fixtureSchedule(const std::map<std::string, at::Tensor>& fixture,
                               const std::string& path)
{
    ScheduleConfig schedule;
    if (const auto it = fixture.find("meta/schedule"); it != fixture.end()) {
        try {
            const auto doc = nlohmann::json::parse(utf8Text(it->second, path, "meta/schedule"));
            schedule.timesteps = doc.value("timesteps", schedule.timesteps);
            schedule.betaStart = doc.value("beta_start", schedule.betaStart);
            schedule.betaEnd = doc.value("beta_end", schedule.betaEnd);
        } catch (const nlohmann::json::exception& e) {
            throw Error(ErrorKind::Format, path, std::string("bad meta/schedule: ") + e.what());
        }
        return schedule;
    }
    for (const auto& [key, tensor] : fixture) {
        if (key.rfind("schedule/", 0) == 0) {
            schedule.timesteps = static_cast<int>(tensor.numel());
            break;
        }
    }
    return schedule;
}

} // namespace

bool ParityReport::passed() const
{
    if (parts.empty()) {
        return false;
    }
    for (const ParityPart& part : parts) {
        if (!part.passed) {
            return false;
        }
    }
    return true;
}

ParityReport runParityCheck(const std::string& fixturePath, const ParityTolerances& tolerances)
{
    const std::map<std::string, at::Tensor> fixture = readFixture(fixturePath);
    ParityReport report;
    report.fixture = fixturePath;
    report.configJson =
        utf8Text(require(fixture, "meta/config", fixturePath), fixturePath, "meta/config");
    nlohmann::json config;
    try {
        config = nlohmann::json::parse(report.configJson);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Format, fixturePath + ": meta/config",
                    std::string("not valid JSON: ") + e.what());
    }
    if (config.is_object() && (config.contains("base_features") || config.contains("n_stages"))) {
        throw Error(ErrorKind::Unsupported, fixturePath,
                    "this is a Diff-UNet fixture; the Diff-UNet network is not implemented in this "
                    "build yet (only DermoSegDiff parity can be checked)");
    }
    if (!config.is_object() || !config.contains("dim_x")) {
        throw Error(ErrorKind::Format, fixturePath + ": meta/config",
                    "names no network this build knows (expected DermoSegDiff keys such as dim_x)");
    }
    report.network = "DermoSegDiff";
    const DermoSegDiffConfig modelConfig =
        DermoSegDiffConfig::fromJson(report.configJson, fixturePath + ": meta/config");

    DermoSegDiff model(modelConfig, WeightInit::None);
    report.parameterCount = model->parameterCount();
    NamedTensors weights;
    for (const auto& [key, tensor] : fixture) {
        if (key.rfind("param/", 0) == 0) {
            weights.emplace_back(key.substr(6), tensor);
        }
    }
    report.weightTensors = static_cast<int>(weights.size());
    loadWeights(*model, weights, fixturePath + " (param/*)");

    if (fixture.count("output/eps_hat") != 0) {
        const at::Tensor& x = require(fixture, "input/x_t", fixturePath);
        const at::Tensor& g = require(fixture, "input/g", fixturePath);
        const at::Tensor& t = require(fixture, "input/t", fixturePath);
        const at::Tensor& expected = fixture.at("output/eps_hat");
        c10::NoGradGuard noGrad;
        model->eval();
        at::Tensor eps = model->forward(x, g, t);
        // A second call runs on the cached standardised weights.
        eps = model->forward(x, g, t);
        addPart(report, "eps_hat (eval, cached standardised weights)",
                maxAbsError(eps, expected, fixturePath, "output/eps_hat"), tolerances.epsHat);
        model->train(true);
        eps = model->forward(x, g, t);
        addPart(report, "eps_hat (train mode, fresh standardisation)",
                maxAbsError(eps, expected, fixturePath, "output/eps_hat"), tolerances.epsHat);
        model->eval();
    }

    ScheduleConfig schedule = fixtureSchedule(fixture, fixturePath);
    for (ScheduleMode mode : {ScheduleMode::Linear, ScheduleMode::Quadratic, ScheduleMode::Cosine,
                              ScheduleMode::Sigmoid}) {
        const std::string key = std::string("schedule/") + scheduleModeName(mode) + "/betas";
        const auto it = fixture.find(key);
        if (it == fixture.end()) {
            continue;
        }
        schedule.mode = mode;
        const NoiseSchedule ours(schedule);
        const at::Tensor betas = at::tensor(ours.betas(), at::TensorOptions(at::kDouble));
        addPart(report, key, maxAbsError(betas, it->second, fixturePath, key), tolerances.betas);
    }

    if (const auto mask = fixture.find("boundary/mask"); mask != fixture.end()) {
        const std::string prefix = "boundary/gamma";
        for (const auto& [key, expected] : fixture) {
            if (key.rfind(prefix, 0) != 0) {
                continue;
            }
            // boundary/gamma<g>/t<t>
            const auto slash = key.find("/t", prefix.size());
            double gamma = 0.0;
            long step = 0;
            try {
                gamma = std::stod(key.substr(prefix.size(), slash - prefix.size()));
                step = std::stol(key.substr(slash + 2));
            } catch (const std::exception&) {
                throw Error(ErrorKind::Format, fixturePath,
                            "cannot read gamma and t from key '" + key + "'");
            }
            const at::Tensor t = at::full({mask->second.size(0)}, step, at::kLong);
            const at::Tensor ours = boundaryWeights(mask->second, t, schedule.timesteps, gamma);
            addPart(report, key, maxAbsError(ours, expected, fixturePath, key),
                    tolerances.boundary);
        }
    }
    if (report.parts.empty()) {
        throw Error(ErrorKind::Format, fixturePath,
                    "holds nothing to compare (no output/eps_hat, schedule/ or boundary/ entries)");
    }
    return report;
}

} // namespace diffseg::core::engine
