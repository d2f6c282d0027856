#include "DiffusionLoss.h"

#include "base/Error.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstring>
#include <sstream>

namespace diffseg::core::engine {

namespace {

std::string shapeText(const at::Tensor& t)
{
    std::ostringstream s;
    s << t.sizes();
    return s.str();
}

double readNumber(const nlohmann::ordered_json& value, const std::string& key)
{
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
        throw Error(ErrorKind::Config, key, "expected a finite number, got " + value.dump());
    }
    return value.get<double>();
}

/// W for one sample (channel 0 of the batch-normalised mask), or an empty Mat for W = 1.
cv::Mat sampleWeights(const float* plane, int height, int width, double exponent)
{
    // Per-sample min-max, then uint8 truncation: only pixels at exactly 1 become foreground.
    const cv::Mat x(height, width, CV_32F, const_cast<float*>(plane));
    double lo = 0.0;
    double hi = 0.0;
    cv::minMaxLoc(x, &lo, &hi);
    if (!(hi > lo)) {
        return {};
    }
    const float sampleLo = static_cast<float>(lo);
    const float sampleRange = static_cast<float>(hi) - sampleLo;
    cv::Mat binary(height, width, CV_8U);
    for (int y = 0; y < height; ++y) {
        const float* in = x.ptr<float>(y);
        std::uint8_t* out = binary.ptr<std::uint8_t>(y);
        for (int c = 0; c < width; ++c) {
            out[c] = static_cast<std::uint8_t>((in[c] - sampleLo) / sampleRange);
        }
    }
    cv::Mat edges;
    cv::Canny(binary, edges, 0, 0);
    if (cv::countNonZero(edges) == 0) {
        return {}; // all foreground: the reference's 0/0 gives NaN here
    }
    // distanceTransform measures the distance to the nearest zero pixel: edges become zeros.
    const cv::Mat notEdge = edges == 0;
    cv::Mat distance;
    cv::distanceTransform(notEdge / 255, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
    // The reference's S*1.1415 offset (S = the last axis) cancels in the min-max below, but it is
    // applied in float32 as there so that rounding matches.
    const float offset = static_cast<float>(width * 1.1415);
    const cv::Mat inverted = offset - distance;
    cv::minMaxLoc(inverted, &lo, &hi);
    if (!(hi > lo)) {
        return {};
    }
    const float flo = static_cast<float>(lo);
    const float range = static_cast<float>(hi) - flo;
    const float p = static_cast<float>(exponent);
    cv::Mat weights(height, width, CV_32F);
    for (int y = 0; y < height; ++y) {
        const float* in = inverted.ptr<float>(y);
        float* out = weights.ptr<float>(y);
        for (int c = 0; c < width; ++c) {
            out[c] = std::pow((in[c] - flo) / range, p);
        }
    }
    return weights;
}

} // namespace

const char* lossKindName(LossKind kind) noexcept
{
    switch (kind) {
    case LossKind::L1:
        return "l1";
    case LossKind::L2:
        return "l2";
    case LossKind::Huber:
        return "huber";
    case LossKind::Boundary:
        return "boundary";
    }
    return "unknown";
}

LossConfig LossConfig::fromJson(const std::string& json, const std::string& subject)
{
    nlohmann::ordered_json doc; // keeps the terms in the config's order, as Python's dict
    try {
        doc = nlohmann::ordered_json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Config, subject, std::string("not valid JSON: ") + e.what());
    }
    if (!doc.is_object() || doc.empty()) {
        throw Error(ErrorKind::Config, subject, "expected a non-empty dict of loss terms");
    }
    LossConfig config;
    config.terms.clear();
    for (const auto& [name, body] : doc.items()) {
        const std::string key = subject + "." + name;
        LossTerm term;
        if (name == "l1") {
            term.kind = LossKind::L1;
        } else if (name == "l2") {
            term.kind = LossKind::L2;
        } else if (name == "huber") {
            term.kind = LossKind::Huber;
        } else if (name == "boundary") {
            term.kind = LossKind::Boundary;
        } else {
            throw Error(ErrorKind::Config, key,
                        "unknown loss (expected l1, l2, huber or boundary)");
        }
        if (!body.is_null() && !body.is_object()) {
            throw Error(ErrorKind::Config, key, "expected a dict, got " + body.dump());
        }
        // A named copy: iterating items() of a temporary would dangle.
        const nlohmann::ordered_json fields =
            body.is_object() ? body : nlohmann::ordered_json::object();
        for (const auto& [field, value] : fields.items()) {
            if (field == "cofficient" || field == "coefficient") {
                term.coefficient = readNumber(value, key + "." + field);
            } else if (field == "params") {
                if (!value.is_object()) {
                    throw Error(ErrorKind::Config, key + ".params", "expected a dict");
                }
                for (const auto& [param, pv] : value.items()) {
                    const std::string pkey = key + ".params." + param;
                    if (term.kind == LossKind::Boundary && param == "gamma") {
                        term.gamma = readNumber(pv, pkey);
                    } else if (term.kind == LossKind::Boundary && param == "root") {
                        const std::string root = pv.is_string() ? pv.get<std::string>() : "";
                        if (root != "l1" && root != "l2") {
                            throw Error(ErrorKind::Config, pkey,
                                        "expected \"l1\" or \"l2\", got " + pv.dump());
                        }
                        term.rootL1 = root == "l1";
                    } else {
                        throw Error(ErrorKind::Config, pkey, "unknown loss parameter");
                    }
                }
            } else {
                throw Error(ErrorKind::Config, key + "." + field, "unknown key");
            }
        }
        config.terms.push_back(term);
    }
    config.validate(subject);
    return config;
}

void LossConfig::validate(const std::string& subject) const
{
    if (terms.empty()) {
        throw Error(ErrorKind::Config, subject, "needs at least one loss term");
    }
    for (const LossTerm& term : terms) {
        const std::string key = subject + "." + lossKindName(term.kind);
        if (!std::isfinite(term.coefficient)) {
            throw Error(ErrorKind::Config, key + ".cofficient", "must be finite");
        }
        if (term.kind == LossKind::Boundary && !(term.gamma > 0.0 && std::isfinite(term.gamma))) {
            throw Error(ErrorKind::Config, key + ".params.gamma",
                        "must be a positive number, got " + std::to_string(term.gamma));
        }
    }
}

at::Tensor boundaryWeights(const at::Tensor& x0, const at::Tensor& t, int timesteps, double gamma)
{
    if (!x0.defined() || x0.dim() != 4 || x0.size(0) < 1 || x0.size(2) < 1 || x0.size(3) < 1) {
        throw Error(ErrorKind::Mismatch, "boundary loss x0",
                    "expected a (B, C, H, W) mask, got " +
                        (x0.defined() ? shapeText(x0) : std::string("nothing")));
    }
    const std::int64_t batch = x0.size(0);
    if (!t.defined() || t.dim() != 1 || t.size(0) != batch) {
        throw Error(ErrorKind::Mismatch, "boundary loss t",
                    "expected one timestep per batch row (" + std::to_string(batch) + ")");
    }
    const at::Tensor masks = x0.detach().select(1, 0).to(at::kCPU, at::kFloat).contiguous();
    if (!at::isfinite(masks).all().item<bool>()) {
        throw Error(ErrorKind::InvalidValue, "boundary loss x0", "contains NaN or infinite values");
    }
    const at::Tensor steps = t.detach().to(at::kCPU, at::kDouble).contiguous();
    const double* stepData = steps.data_ptr<double>();
    for (std::int64_t b = 0; b < batch; ++b) {
        if (!(stepData[b] >= 0.0 && stepData[b] <= timesteps)) {
            throw Error(ErrorKind::InvalidValue, "boundary loss t",
                        std::to_string(stepData[b]) + " is outside [0, " +
                            std::to_string(timesteps) + "]");
        }
    }
    const int height = static_cast<int>(x0.size(2));
    const int width = static_cast<int>(x0.size(3));
    at::Tensor weights = at::ones({batch, 1, height, width}, at::TensorOptions(at::kFloat));
    const float lo = masks.min().item<float>();
    const float hi = masks.max().item<float>();
    if (hi > lo) {
        // The batch-global normalisation, in float32 like the reference's numpy code.
        const at::Tensor normalized = (masks - lo) / (hi - lo);
        const double planeSize = static_cast<double>(height) * width;
        for (std::int64_t b = 0; b < batch; ++b) {
            const at::Tensor plane = normalized[b];
            if (!(plane.sum(at::kDouble).item<double>() > planeSize / 100.0)) {
                continue;
            }
            const double exponent = std::pow(gamma * (timesteps - stepData[b]) / timesteps, gamma);
            const cv::Mat w = sampleWeights(plane.data_ptr<float>(), height, width, exponent);
            if (!w.empty()) {
                std::memcpy(weights[b][0].data_ptr<float>(), w.ptr<float>(),
                            sizeof(float) * static_cast<std::size_t>(height) * width);
            }
        }
    }
    return weights.to(x0.device());
}

LossValue computeDiffusionLoss(const LossConfig& config, const at::Tensor& epsHat,
                               const at::Tensor& eps, const at::Tensor& x0, const at::Tensor& t,
                               int timesteps)
{
    config.validate();
    if (!epsHat.defined() || !eps.defined() || !epsHat.sizes().equals(eps.sizes())) {
        throw Error(ErrorKind::Mismatch, "loss",
                    "eps_hat " + (epsHat.defined() ? shapeText(epsHat) : std::string("(none)")) +
                        " and eps " + (eps.defined() ? shapeText(eps) : std::string("(none)")) +
                        " must have the same shape");
    }
    LossValue value;
    at::Tensor total;
    for (const LossTerm& term : config.terms) {
        at::Tensor loss;
        switch (term.kind) {
        case LossKind::L1:
            loss = at::l1_loss(epsHat, eps);
            break;
        case LossKind::L2:
            loss = at::mse_loss(epsHat, eps);
            break;
        case LossKind::Huber:
            loss = at::smooth_l1_loss(epsHat, eps, at::Reduction::Mean, 1.0);
            break;
        case LossKind::Boundary: {
            if (!x0.defined() || x0.dim() != 4 || x0.size(0) != epsHat.size(0) ||
                x0.size(2) != epsHat.size(2) || x0.size(3) != epsHat.size(3)) {
                throw Error(ErrorKind::Mismatch, "boundary loss x0",
                            "shape " + (x0.defined() ? shapeText(x0) : std::string("(none)")) +
                                " does not match eps_hat " + shapeText(epsHat));
            }
            const at::Tensor w = boundaryWeights(x0, t, timesteps, term.gamma).to(epsHat.dtype());
            const at::Tensor diff = epsHat - eps;
            loss = (w * (term.rootL1 ? diff.abs() : diff * diff)).mean();
            break;
        }
        }
        value.terms.emplace_back(lossKindName(term.kind), loss.detach());
        const at::Tensor weighted = config.terms.size() == 1 ? loss : loss * term.coefficient;
        total = total.defined() ? total + weighted : weighted;
    }
    value.total = total;
    return value;
}

} // namespace diffseg::core::engine
