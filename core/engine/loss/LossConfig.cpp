#include "LossConfig.h"

#include "base/EnumNames.h"
#include "base/Error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace diffseg::core::engine {

namespace {

constexpr EnumName<LossKind> kLossKindNames[] = {{LossKind::L1, "l1"},
                                                 {LossKind::L2, "l2"},
                                                 {LossKind::Huber, "huber"},
                                                 {LossKind::Boundary, "boundary"}};

double readNumber(const nlohmann::ordered_json& value, const std::string& key)
{
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
        throw Error(ErrorKind::Config, key, "expected a finite number, got " + value.dump());
    }
    return value.get<double>();
}

} // namespace

const char* lossKindName(LossKind kind) noexcept
{
    return enumName(kLossKindNames, kind, "unknown");
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
        // Exact spelling: the term names are the reference config's dict keys.
        if (const auto kind = enumFromExactName(kLossKindNames, name)) {
            term.kind = *kind;
        } else {
            throw Error(ErrorKind::Config, key,
                        "unknown loss (expected " + enumChoices(kLossKindNames) + ")");
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

} // namespace diffseg::core::engine
