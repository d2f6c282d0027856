#include "ExponentialMovingAverage.h"

#include "base/Error.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <cmath>
#include <map>

namespace diffseg::core::engine {

namespace {

bool isAveraged(const at::Tensor& t)
{
    return t.scalar_type() == at::kFloat || t.scalar_type() == at::kHalf;
}

/// The online tensors that have a shadow, by name (parameters, then buffers).
std::map<std::string, at::Tensor> averagedTensors(const torch::nn::Module& module)
{
    std::map<std::string, at::Tensor> out;
    for (const auto& item : module.named_parameters(true)) {
        if (isAveraged(item.value())) {
            out.emplace(item.key(), item.value());
        }
    }
    for (const auto& item : module.named_buffers(true)) {
        if (isAveraged(item.value())) {
            out.emplace(item.key(), item.value());
        }
    }
    return out;
}

} // namespace

ExponentialMovingAverage::ExponentialMovingAverage(const torch::nn::Module& online,
                                                   const EmaConfig& config)
    : m_config(config)
{
    config.validate();
    c10::NoGradGuard noGrad;
    for (const auto& [name, tensor] : averagedTensors(online)) {
        m_shadow.emplace_back(name, tensor.detach().clone());
    }
    // Keep the model's own order (parameters in registration order) for checkpoints.
    std::map<std::string, std::size_t> order;
    std::size_t index = 0;
    for (const auto& item : online.named_parameters(true)) {
        order.emplace(item.key(), index++);
    }
    for (const auto& item : online.named_buffers(true)) {
        order.emplace(item.key(), index++);
    }
    std::sort(m_shadow.begin(), m_shadow.end(),
              [&](const auto& a, const auto& b) { return order[a.first] < order[b.first]; });
}

double ExponentialMovingAverage::decayAt(const EmaConfig& config, std::int64_t counter)
{
    const double epoch = std::max(0.0, static_cast<double>(counter - config.updateAfterStep - 1));
    if (epoch <= 0.0) {
        return 0.0;
    }
    const double value = 1.0 - std::pow(1.0 + epoch / config.invGamma, -config.power);
    return std::clamp(value, config.minValue, config.beta);
}

void ExponentialMovingAverage::copyFrom(const torch::nn::Module& online)
{
    const auto tensors = averagedTensors(online);
    c10::NoGradGuard noGrad;
    for (auto& [name, shadow] : m_shadow) {
        const auto it = tensors.find(name);
        if (it == tensors.end()) {
            throw Error(ErrorKind::Mismatch, "EMA", "the model has no tensor named " + name);
        }
        shadow.copy_(it->second);
    }
}

void ExponentialMovingAverage::update(const torch::nn::Module& online)
{
    const std::int64_t counter = m_step;
    ++m_step;
    if (counter % m_config.updateEvery != 0) {
        return;
    }
    if (counter <= m_config.updateAfterStep) {
        copyFrom(online);
        return;
    }
    if (!m_initted) {
        copyFrom(online);
        m_initted = true;
    }
    const double weight = 1.0 - currentDecay();
    const auto tensors = averagedTensors(online);
    c10::NoGradGuard noGrad;
    for (auto& [name, shadow] : m_shadow) {
        const auto it = tensors.find(name);
        if (it == tensors.end()) {
            throw Error(ErrorKind::Mismatch, "EMA", "the model has no tensor named " + name);
        }
        shadow.lerp_(it->second, weight);
    }
}

void ExponentialMovingAverage::copyTo(torch::nn::Module& target) const
{
    auto tensors = averagedTensors(target);
    c10::NoGradGuard noGrad;
    for (const auto& [name, shadow] : m_shadow) {
        const auto it = tensors.find(name);
        if (it == tensors.end() || !it->second.sizes().equals(shadow.sizes())) {
            throw Error(ErrorKind::Mismatch, "EMA",
                        "the target model has no tensor " + name + " of the shadow's shape");
        }
        it->second.copy_(shadow);
    }
}

void ExponentialMovingAverage::restore(const NamedTensors& weights, std::int64_t step, bool initted)
{
    std::map<std::string, const at::Tensor*> byName;
    for (const auto& [name, tensor] : weights) {
        byName.emplace(name, &tensor);
    }
    for (const auto& [name, shadow] : m_shadow) {
        const auto it = byName.find(name);
        if (it == byName.end() || !it->second->sizes().equals(shadow.sizes())) {
            throw Error(ErrorKind::Mismatch, "EMA state",
                        "has no tensor " + name + " of the model's shape");
        }
    }
    if (step < 0) {
        throw Error(ErrorKind::InvalidValue, "EMA state", "negative step counter");
    }
    c10::NoGradGuard noGrad;
    for (auto& [name, shadow] : m_shadow) {
        shadow.copy_(*byName[name]);
    }
    m_step = step;
    m_initted = initted;
}

} // namespace diffseg::core::engine
