#include "DiffusionLoss.h"

#include "base/Error.h"

#include <ATen/ATen.h>
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
