#pragma once

#include "base/Image2D.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace diffseg::core {

/// The training-time augmentation of DermoSegDiff: an albumentations 1.3.1 pipeline rebuilt on
/// OpenCV, configured by the `augmentation` section of the reference YAML (as JSON):
///
///     {"p": 0.5, "levels": {"pixel":   {"p": 1, "transforms": {"GaussNoise": {...}, ...}},
///                           "spacial": {"p": 1, "transforms": {"Affine": {...}, ...}}}}
///
/// i.e. Compose([Compose(pixel, p), Compose(spatial, p)], p): with probability `p` the pipeline
/// runs, then each level with its own `p`, then each transform independently with its own `p`
/// (albumentations' default 0.5 when absent; `always_apply: true` runs it regardless), in the
/// order of the configuration. Transform names, parameter names and defaults are
/// albumentations 1.3.1's; pixel transforms change the image only, spatial ones move image and
/// mask together (mask: nearest-neighbour, 0/1 fills, so it stays binary).
///
/// Ownership: copies share the parsed, immutable pipeline. Threads: apply() is const and
/// thread-safe (all random state is local to the call). Errors: fromJson() throws
/// Error(Config) naming the full key, e.g. "augmentation.levels.pixel.transforms.GaussNoise.
/// var_limit"; apply() throws Error(InvalidValue) for a wrong image/mask type or a mask holding
/// other values than 0 and 1, and Error(Mismatch) for different sizes.
class Augmentation
{
public:
    /// The identity: enabled() is false and apply() changes nothing.
    Augmentation() = default;

    /// Parses the section. An empty string, `null`, `{}`, no transforms or `p: 0` give a pipeline
    /// that never changes anything. `subject` prefixes every key in error messages.
    static Augmentation fromJson(const std::string& json,
                                 const std::string& subject = "augmentation");

    /// False when apply() can never change anything (no transform, or every path has p = 0).
    bool enabled() const;

    /// Applies the pipeline. `image`: RGB UInt8 (3 channels); `mask`: 1 channel UInt8 {0, 1} of
    /// the same size. The same seed gives the same result on every machine and standard library
    /// (portable generator, no std distributions). Outputs keep size, type and a {0, 1} mask.
    /// Transformed images get new pixel buffers: copies that shared the old pixels are untouched.
    void apply(Image2D& image, Image2D& mask, std::uint64_t seed) const;

    /// The configured transform names in application order (for logs).
    std::vector<std::string> transformNames() const;

private:
    struct Pipeline;
    std::shared_ptr<const Pipeline> m_pipeline;
};

} // namespace diffseg::core
