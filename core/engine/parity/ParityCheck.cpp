#include "ParityCheck.h"

#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/diffunet/DiffUNet.h"
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

/// Diff-UNet fixtures (shared/parity/diffunet_small.pt): the edge branch's logits and encoder
/// features, the time embedding, one denoiser evaluation with MBA, and the log-SNR schedule.
ParityReport diffUNetParity(const std::map<std::string, at::Tensor>& fixture, ParityReport report,
                            const ParityTolerances& tolerances)
{
    const std::string& path = report.fixture;
    report.network = "Diff-UNet";
    const DiffUNetConfig modelConfig =
        DiffUNetConfig::fromJson(report.configJson, path + ": meta/config");
    DiffUNet model(modelConfig);
    report.parameterCount = model->parameterCount();
    NamedTensors weights;
    for (const auto& [key, tensor] : fixture) {
        if (key.rfind("param/", 0) == 0) {
            weights.emplace_back(key.substr(6), tensor);
        }
    }
    report.weightTensors = static_cast<int>(weights.size());
    loadWeights(*model, canonicalDiffUNetWeights(weights, path + " (param/*)"),
                path + " (param/*)");
    model->eval();
    c10::NoGradGuard noGrad;

    std::vector<at::Tensor> skips;
    if (fixture.count("input/image") != 0) {
        const at::Tensor& image = fixture.at("input/image");
        const at::Tensor edge = model->edge()->forward(image, skips);
        if (const auto it = fixture.find("output/edge_logits"); it != fixture.end()) {
            addPart(report, "edge_logits", maxAbsError(edge, it->second, path, it->first),
                    tolerances.epsHat);
        }
        for (std::size_t k = 0; k < skips.size(); ++k) {
            const std::string key = "output/edge_skip" + std::to_string(k);
            if (const auto it = fixture.find(key); it != fixture.end()) {
                addPart(report, key.substr(7), maxAbsError(skips[k], it->second, path, key),
                        tolerances.epsHat);
            }
        }
    }
    if (fixture.count("input/time") != 0) {
        const at::Tensor temb = model->denoiser()->timeEmbedding(fixture.at("input/time"));
        if (const auto it = fixture.find("output/time_embedding"); it != fixture.end()) {
            addPart(report, "time_embedding", maxAbsError(temb, it->second, path, it->first),
                    tolerances.epsHat);
        }
        if (const auto it = fixture.find("output/denoise_logits");
            it != fixture.end() && !skips.empty()) {
            const at::Tensor input =
                at::cat({fixture.at("input/image"), require(fixture, "input/mask_t", path)}, 1);
            const at::Tensor logits = model->denoiser()->forward(input, temb, skips);
            addPart(report, "denoise_logits (MBA fused)",
                    maxAbsError(logits, it->second, path, it->first), tolerances.epsHat);
        }
    }
    if (const auto tau = fixture.find("schedule/tau"); tau != fixture.end()) {
        const at::Tensor t = tau->second.to(at::kDouble).contiguous();
        std::vector<double> lambda;
        std::vector<double> alpha;
        std::vector<double> sigma;
        for (std::int64_t i = 0; i < t.numel(); ++i) {
            lambda.push_back(LogSnrSchedule::logSnr(t[i].item<double>()));
            alpha.push_back(LogSnrSchedule::alpha(lambda.back()));
            sigma.push_back(LogSnrSchedule::sigma(lambda.back()));
        }
        const auto opts = at::TensorOptions(at::kDouble);
        for (const auto& [key, ours] :
             {std::pair<std::string, std::vector<double>>{"schedule/log_snr", lambda},
              {"schedule/alpha", alpha},
              {"schedule/sigma", sigma}}) {
            if (const auto it = fixture.find(key); it != fixture.end()) {
                // The reference computes in float32: compare relative to the value's size.
                const at::Tensor mine = at::tensor(ours, opts);
                const at::Tensor ref = it->second.to(at::kDouble);
                const double err =
                    ((mine - ref).abs() / ref.abs().clamp_min(1.0)).max().item<double>();
                addPart(report, key + " (relative)", err, tolerances.epsHat);
            }
        }
    }
    if (report.parts.empty()) {
        throw Error(ErrorKind::Format, path, "holds nothing to compare for Diff-UNet");
    }
    return report;
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
        return diffUNetParity(fixture, report, tolerances);
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
