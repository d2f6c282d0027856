#include "DiffUNetConfig.h"

#include "base/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace diffseg::core::engine {

namespace {

std::string keyPath(const std::string& subject, const std::string& key)
{
    return subject.empty() ? key : subject + ": " + key;
}

} // namespace

DiffUNetConfig DiffUNetConfig::reference(int inChannels, int numClasses)
{
    DiffUNetConfig c;
    c.inChannels = inChannels;
    c.numClasses = numClasses;
    return c;
}

std::vector<int> DiffUNetConfig::featuresPerStage() const
{
    std::vector<int> out;
    for (int s = 0; s < nStages; ++s) {
        const long long f = static_cast<long long>(baseFeatures) << s;
        out.push_back(static_cast<int>(std::min<long long>(f, maxFeatures)));
    }
    return out;
}

DiffUNetConfig DiffUNetConfig::fromJson(const std::string& json, const std::string& subject)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Config, subject, std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object()) {
        throw Error(ErrorKind::Config, subject, "the Diff-UNet config must be a JSON object");
    }
    DiffUNetConfig c;
    static const std::set<std::string> known{"in_channels",  "num_classes", "base_features",
                                             "max_features", "n_stages",    "convs_per_stage",
                                             "mba",          "network"};
    for (const auto& [key, value] : j.items()) {
        if (known.count(key) == 0) {
            throw Error(ErrorKind::Config, keyPath(subject, key), "unknown Diff-UNet key");
        }
        if (key == "network") {
            continue;
        }
        if (key == "mba") {
            if (!value.is_boolean()) {
                throw Error(ErrorKind::Config, keyPath(subject, key), "must be true or false");
            }
            c.mba = value.get<bool>();
            continue;
        }
        if (!value.is_number_integer()) {
            throw Error(ErrorKind::Config, keyPath(subject, key), "must be an integer");
        }
        const auto v = value.get<long long>();
        if (v < 0 || v > 100000) {
            throw Error(ErrorKind::Config, keyPath(subject, key), "is out of range");
        }
        const int i = static_cast<int>(v);
        if (key == "in_channels") {
            c.inChannels = i;
        } else if (key == "num_classes") {
            c.numClasses = i;
        } else if (key == "base_features") {
            c.baseFeatures = i;
        } else if (key == "max_features") {
            c.maxFeatures = i;
        } else if (key == "n_stages") {
            c.nStages = i;
        } else if (key == "convs_per_stage") {
            c.convsPerStage = i;
        }
    }
    c.validate(subject);
    return c;
}

std::string DiffUNetConfig::toJson() const
{
    return nlohmann::json{{"network", "diffunet"},
                          {"in_channels", inChannels},
                          {"num_classes", numClasses},
                          {"base_features", baseFeatures},
                          {"max_features", maxFeatures},
                          {"n_stages", nStages},
                          {"convs_per_stage", convsPerStage},
                          {"mba", mba}}
        .dump();
}

void DiffUNetConfig::validate(const std::string& subject) const
{
    const auto fail = [&](const char* key, const std::string& problem) {
        throw Error(ErrorKind::Config, keyPath(subject, key), problem);
    };
    if (inChannels < 1 || inChannels > 64) {
        fail("in_channels", "must lie in [1, 64]");
    }
    if (numClasses < 2 || numClasses > 255) {
        fail("num_classes", "must lie in [2, 255] (background included)");
    }
    if (baseFeatures < 1 || baseFeatures > 4096) {
        fail("base_features", "must lie in [1, 4096]");
    }
    if (maxFeatures < baseFeatures || maxFeatures > 8192) {
        fail("max_features", "must lie in [base_features, 8192]");
    }
    if (nStages < 2 || nStages > 8) {
        fail("n_stages", "must lie in [2, 8]");
    }
    if (convsPerStage < 2 || convsPerStage > 8) {
        fail("convs_per_stage", "must lie in [2, 8] (the denoiser adds time after the first)");
    }
}

bool DiffUNetConfig::operator==(const DiffUNetConfig& o) const
{
    return inChannels == o.inChannels && numClasses == o.numClasses &&
           baseFeatures == o.baseFeatures && maxFeatures == o.maxFeatures && nStages == o.nStages &&
           convsPerStage == o.convsPerStage && mba == o.mba;
}

double LogSnrSchedule::logSnr(double tau)
{
    constexpr double kPi = 3.14159265358979323846;
    const double c = std::cos((tau + 2e-4) / (1.0 + 2.5e-4) * kPi * 0.5);
    const double secSquaredMinusOne = 1.0 / (c * c) - 1.0;
    return -std::log(std::max(secSquaredMinusOne, 1e-5));
}

double LogSnrSchedule::alpha(double logSnr)
{
    return std::sqrt(1.0 / (1.0 + std::exp(-logSnr)));
}

double LogSnrSchedule::sigma(double logSnr)
{
    return std::sqrt(1.0 / (1.0 + std::exp(logSnr)));
}

std::vector<std::pair<double, double>> LogSnrSchedule::samplingTimes(int steps)
{
    std::vector<std::pair<double, double>> out;
    for (int s = 0; s < steps; ++s) {
        const double now = 1.0 - static_cast<double>(s) / steps;
        const double next = std::max(1.0 - static_cast<double>(s + 2) / steps, 0.0);
        out.emplace_back(now, next);
    }
    return out;
}

} // namespace diffseg::core::engine
