#include "Augmentation.h"

#include "AugmentationOps.h"
#include "AugmentationParse.h"
#include "PortableRandom.h"
#include "base/Error.h"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <cmath>
#include <cstring>
#include <sstream>
#include <variant>

namespace diffseg::core {

namespace aug = augmentation;
using Json = nlohmann::ordered_json;

namespace {

using aug::PipelineStep;

struct PipelineLevel
{
    double p = 1.0; // Compose's default
    std::vector<PipelineStep> steps;
};

} // namespace

struct Augmentation::Pipeline
{
    double p = 1.0;
    std::vector<PipelineLevel> levels;
};

namespace {

cv::Mat matView(const Image2D& image, int type)
{
    return cv::Mat(image.height(), image.width(), type, const_cast<void*>(image.rawData()));
}

Image2D toImage(const cv::Mat& m, const Image2D& like)
{
    Image2D out(m.cols, m.rows, m.channels(), PixelType::UInt8);
    out.setSpacing(like.spacing());
    const std::size_t rowBytes = static_cast<std::size_t>(m.cols) * m.elemSize();
    auto* dst = static_cast<std::uint8_t*>(out.rawData());
    for (int y = 0; y < m.rows; ++y) {
        std::memcpy(dst + static_cast<std::size_t>(y) * rowBytes, m.ptr(y), rowBytes);
    }
    return out;
}

} // namespace

Augmentation Augmentation::fromJson(const std::string& json, const std::string& subject)
{
    Augmentation result;
    if (json.find_first_not_of(" \t\r\n") == std::string::npos) {
        return result;
    }
    Json doc;
    try {
        doc = Json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        aug::failConfig(subject, std::string("not valid JSON: ") + e.what());
    }
    if (doc.is_null()) {
        return result;
    }
    if (!doc.is_object()) {
        aug::failConfig(subject, "expected a dict with p and levels, got " + doc.dump());
    }
    auto pipeline = std::make_shared<Pipeline>();
    for (const auto& item : doc.items()) {
        const std::string key = subject + "." + item.key();
        if (item.key() == "p") {
            pipeline->p = aug::readProbabilityValue(item.value(), key);
        } else if (item.key() != "levels") {
            aug::failConfig(key, "unknown key (expected p and levels)");
        }
    }
    const auto levelsIt = doc.find("levels");
    if (levelsIt != doc.end() && !levelsIt->is_null()) {
        const Json& levels = *levelsIt;
        const std::string levelsKey = subject + ".levels";
        if (!levels.is_object()) {
            aug::failConfig(levelsKey, "expected a dict of levels, got " + levels.dump());
        }
        if (levels.contains("spacial") && levels.contains("spatial")) {
            aug::failConfig(levelsKey, "both \"spacial\" and \"spatial\" given: keep one");
        }
        for (const auto& item : levels.items()) {
            const std::string levelKey = levelsKey + "." + item.key();
            if (item.key() != "pixel" && item.key() != "spacial" && item.key() != "spatial") {
                aug::failConfig(levelKey, "unknown level (expected pixel and spacial)");
            }
            const Json& body = item.value();
            if (!body.is_null() && !body.is_object()) {
                aug::failConfig(levelKey,
                                "expected a dict with p and transforms, got " + body.dump());
            }
            const Json levelBody = body.is_object() ? body : Json::object();
            PipelineLevel level;
            for (const auto& field : levelBody.items()) {
                const std::string key = levelKey + "." + field.key();
                if (field.key() == "p") {
                    level.p = aug::readProbabilityValue(field.value(), key);
                } else if (field.key() == "transforms") {
                    const Json& transforms = field.value();
                    if (transforms.is_null()) {
                        continue;
                    }
                    if (!transforms.is_object()) {
                        aug::failConfig(key, "expected a dict {name: parameters}, got " +
                                                 transforms.dump());
                    }
                    for (const auto& t : transforms.items()) {
                        level.steps.push_back(
                            aug::parseTransform(t.key(), t.value(), key + "." + t.key()));
                    }
                } else {
                    aug::failConfig(key, "unknown key (expected p and transforms)");
                }
            }
            pipeline->levels.push_back(std::move(level));
        }
    }
    result.m_pipeline = std::move(pipeline);
    return result;
}

bool Augmentation::enabled() const
{
    if (!m_pipeline) {
        return false;
    }
    for (const PipelineLevel& level : m_pipeline->levels) {
        for (const PipelineStep& step : level.steps) {
            if (step.alwaysApply || (m_pipeline->p > 0.0 && level.p > 0.0 && step.p > 0.0)) {
                return true;
            }
        }
    }
    return false;
}

std::vector<std::string> Augmentation::transformNames() const
{
    std::vector<std::string> names;
    if (m_pipeline) {
        for (const PipelineLevel& level : m_pipeline->levels) {
            for (const PipelineStep& step : level.steps) {
                names.push_back(step.name);
            }
        }
    }
    return names;
}

void Augmentation::apply(Image2D& image, Image2D& mask, std::uint64_t seed) const
{
    if (image.empty() || image.pixelType() != PixelType::UInt8 || image.channels() != 3) {
        throw Error(ErrorKind::InvalidValue, "augmentation",
                    "the image must be RGB uint8 (3 channels), got " + image.describe());
    }
    if (mask.empty() || mask.pixelType() != PixelType::UInt8 || mask.channels() != 1) {
        throw Error(ErrorKind::InvalidValue, "augmentation",
                    "the mask must be 1-channel uint8, got " + mask.describe());
    }
    if (mask.width() != image.width() || mask.height() != image.height()) {
        throw Error(ErrorKind::Mismatch, "augmentation",
                    "the mask is " + std::to_string(mask.width()) + "x" +
                        std::to_string(mask.height()) + " but its image is " +
                        std::to_string(image.width()) + "x" + std::to_string(image.height()));
    }
    if (!enabled()) {
        return;
    }
    if (cv::countNonZero(matView(mask, CV_8UC1) > 1) != 0) {
        throw Error(ErrorKind::InvalidValue, "augmentation", "the mask must hold only 0 and 1");
    }

    // Decide first which steps run (albumentations' Compose/transform coin flips), then draw each
    // step's parameters from its own stream, so that a step's result does not depend on how
    // many numbers earlier steps consumed.
    PortableRandom rng(seed);
    const bool runPipeline = rng.chance(m_pipeline->p);
    std::vector<std::pair<const PipelineStep*, std::uint64_t>> chosen;
    std::uint64_t index = 0;
    for (const PipelineLevel& level : m_pipeline->levels) {
        const bool runLevel = runPipeline && rng.chance(level.p);
        for (const PipelineStep& step : level.steps) {
            ++index;
            // A skipped Compose still runs its always_apply transforms, as albumentations does.
            if (step.alwaysApply || (runLevel && rng.chance(step.p))) {
                chosen.emplace_back(&step, index);
            }
        }
    }
    if (chosen.empty()) {
        return;
    }
    cv::Mat img = matView(image, CV_8UC3).clone();
    cv::Mat msk = matView(mask, CV_8UC1).clone();
    for (const auto& [step, stream] : chosen) {
        PortableRandom stepRng = PortableRandom::derived(seed, stream);
        std::visit([&](const auto& params) { aug::applyOp(params, img, msk, stepRng); },
                   step->params);
    }
    image = toImage(img, image);
    mask = toImage(msk, mask);
}

} // namespace diffseg::core
