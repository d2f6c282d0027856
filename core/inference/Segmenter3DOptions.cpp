// The volume family's option names, reference presets and label values.

#include "Segmenter3D.h"
#include "base/EnumNames.h"
#include "base/Error.h"
#include "base/Text.h"

#include <algorithm>
#include <cctype>

namespace diffseg::core {

std::vector<std::string> applyValidatedSettings(const ModelCard& card, Segment3DOptions& options,
                                                const std::set<std::string>& keep)
{
    std::vector<std::string> set;
    const auto wanted = [&](const char* name) {
        return keep.count(name) == 0;
    };
    const auto flag = [&](const char* name, bool& value) {
        const auto text = card.validatedText(name);
        if (wanted(name) && (text == "true" || text == "false")) {
            value = *text == "true";
            set.push_back(name);
        }
    };
    if (const auto steps = card.validatedNumber("steps"); steps && wanted("steps")) {
        options.steps = static_cast<int>(*steps);
        set.push_back("steps");
    }
    if (const auto fusion = card.validatedText("fusion"); fusion && wanted("fusion")) {
        try {
            options.fusion = parseStepFusion(*fusion, "card.validated.fusion");
            set.push_back("fusion");
        } catch (const Error&) {
            // A fusion this build does not know: the caller's stays.
        }
    }
    if (const auto overlap = card.validatedNumber("overlap"); overlap && wanted("overlap")) {
        options.overlap = *overlap;
        set.push_back("overlap");
    }
    flag("mirror_tta", options.mirrorTta);
    flag("largest_component", options.largestComponent);
    return set;
}

LabelMap withLabelValues(LabelMap classIndices, const std::vector<int>& values)
{
    if (values.empty()) {
        return classIndices;
    }
    const std::size_t n = classIndices.voxelCount();
    const auto valueOf = [&](int index) {
        if (index < 0 || index >= static_cast<int>(values.size())) {
            throw Error(ErrorKind::InvalidValue, "label values",
                        "class " + std::to_string(index) + " has no label value (" +
                            std::to_string(values.size()) + " given)");
        }
        return values[static_cast<std::size_t>(index)];
    };
    const bool narrow = *std::max_element(values.begin(), values.end()) <= 255;
    LabelMap out(classIndices.size(), classIndices.geometry(),
                 narrow ? PixelType::UInt8 : PixelType::UInt16);
    for (std::size_t v = 0; v < n; ++v) {
        const int index = classIndices.pixelType() == PixelType::UInt8
                              ? classIndices.data<std::uint8_t>()[v]
                              : classIndices.data<std::uint16_t>()[v];
        const int value = valueOf(index);
        if (narrow) {
            out.data<std::uint8_t>()[v] = static_cast<std::uint8_t>(value);
        } else {
            out.data<std::uint16_t>()[v] = static_cast<std::uint16_t>(value);
        }
    }
    return out;
}

namespace {

constexpr EnumName<StepFusionMethod> kFusionNames[] = {
    {StepFusionMethod::Mean, "mean"}, {StepFusionMethod::Uncertainty, "uncertainty"}};
constexpr EnumName<VolumeUncertainty> kUncertaintyNames[] = {
    {VolumeUncertainty::FusedEntropy, "entropy"},
    {VolumeUncertainty::StepEntropy, "steps"},
    {VolumeUncertainty::MirrorVariance, "mirror"}};

/// The value `name` spells in `table` (ASCII case ignored); Error(Config) naming `subject` and
/// the choices otherwise.
template <class E, std::size_t N>
E parseNamed(const EnumName<E> (&table)[N], const std::string& name, const std::string& subject)
{
    if (const auto value = enumFromName(table, name)) {
        return *value;
    }
    throw Error(ErrorKind::Config, subject, "'" + name + "' is not " + enumChoices(table));
}

} // namespace

const char* stepFusionName(StepFusionMethod method) noexcept
{
    return enumName(kFusionNames, method, "uncertainty");
}

StepFusionMethod parseStepFusion(const std::string& name, const std::string& subject)
{
    return parseNamed(kFusionNames, name, subject);
}

const char* volumeUncertaintyName(VolumeUncertainty source) noexcept
{
    return enumName(kUncertaintyNames, source, "steps");
}

VolumeUncertainty parseVolumeUncertainty(const std::string& name, const std::string& subject)
{
    return parseNamed(kUncertaintyNames, name, subject);
}

void VolumeModelLoadOptions::useReferencePreset(const DiffUNetReferencePreset& preset)
{
    referenceNetwork = preset.network;
    referenceName = preset.name;
    referenceInputSize = preset.inputSize;
    preparation = preset.preparation;
}

DiffUNetReferencePreset DiffUNetReferencePreset::resolve(const std::string& name,
                                                         const std::string& subject)
{
    const std::string n = asciiLower(name);
    DiffUNetReferencePreset p;
    if (n == "aiib2023") {
        p.name = "aiib2023";
        p.network = engine::DiffUNetConfig::reference(1, 2);
        // §B2.2: the median spacing [0.5, 0.70410156, 0.70410156] (z, y, x).
        p.targetSpacing = {0.70410156, 0.70410156, 0.5};
        p.channels = {"ct"};
        p.labels = {"background", "airway"};
        return p;
    }
    if (n == "brats2023") {
        p.name = "brats2023";
        p.network = engine::DiffUNetConfig::reference(4, 4);
        VolumePreparationConfig prep;
        prep.normalization = VolumePreparationConfig::Normalization::ZScore;
        prep.cropToNonZero = true;
        prep.targetSpacing = std::array<double, 3>{1.0, 1.0, 1.0};
        p.preparation = prep;
        p.targetSpacing = {1.0, 1.0, 1.0};
        p.channels = {"t2w", "t2f", "t1n", "t1c"};
        p.labels = {"background", "NCR", "ED", "ET"};
        return p;
    }
    throw Error(ErrorKind::Config, subject,
                "'" + name + "' is not a Diff-UNet reference preset (aiib2023, brats2023)");
}

// --- Segmenter3D ---------------------------------------------------------------------------------

} // namespace diffseg::core
