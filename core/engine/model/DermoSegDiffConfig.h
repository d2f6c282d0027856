#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace diffseg::core::engine {

/// Hyper-parameters of the DermoSegDiff denoiser (seed spec §A4, the reference's `model.params`).
/// Field names follow the reference's keys in snake_case so that `meta/config` JSON and YAML
/// `model.params` map one to one. Plain data: copy freely, no LibTorch.
struct DermoSegDiffConfig
{
    int dimX = 128;             ///< dim_x: base width of the mask (x) branch
    int dimG = 64;              ///< dim_g: base width of the image (g) branch
    int channelsX = 1;          ///< channels_x: mask channels
    int channelsG = 3;          ///< channels_g: image channels
    std::optional<int> initDim; ///< init_dim: width after the 1x1 input convs (default dim_x/g)
    int outDim = 1;             ///< out_dim: predicted noise channels
    std::vector<int> dimXMults{1, 2, 3, 4, 5, 6};   ///< dim_x_mults (dim_mults when absent)
    std::vector<int> dimGMults{1, 2, 4, 8, 16, 32}; ///< dim_g_mults (dim_mults when absent)
    int resnetBlockGroups = 8; ///< resnet_block_groups (the reference class default is 4)

    /// The ISIC2018 config (DermoSegDiff-A, 321,181,377 parameters); PH2 uses the same network.
    static DermoSegDiffConfig isic2018();
    static DermoSegDiffConfig ph2() { return isic2018(); }
    /// The HAM10000 config (dim_x_mults 2,2,2,2,2,2; 157,749,441 parameters).
    static DermoSegDiffConfig ham10000();
    /// Looks up "isic2018", "ph2" or "ham10000"; throws Error(Config) naming the unknown preset.
    static DermoSegDiffConfig preset(const std::string& name);

    /// Parses the reference's keys (dim_x, dim_g, channels_x, channels_g, init_dim, out_dim,
    /// dim_mults, dim_x_mults, dim_g_mults, resnet_block_groups) with the reference's defaults for
    /// absent keys. Throws Error(Config) naming the key for unknown keys, wrong types and values
    /// that fail validate(); `subject` (a file or key path) prefixes the message.
    static DermoSegDiffConfig fromJson(const std::string& json, const std::string& subject = {});
    /// Compact JSON with the reference's keys; fromJson(toJson()) == *this.
    std::string toJson() const;

    /// Throws Error(Config) when the network cannot be built: widths not divisible by the
    /// GroupNorm groups, odd or too small time-embedding widths, mult lists of different lengths.
    void validate(const std::string& subject = {}) const;

    int levels() const noexcept { return static_cast<int>(dimXMults.size()); }
    /// Input sides must be multiples of this (2^(levels-1)).
    int sizeMultiple() const noexcept { return 1 << (levels() - 1); }
    /// Widths per stage as in the reference: [init, dim*m for m in mults].
    std::vector<int> dimsX() const;
    std::vector<int> dimsG() const;

    bool operator==(const DermoSegDiffConfig& other) const;
    bool operator!=(const DermoSegDiffConfig& other) const { return !(*this == other); }
};

} // namespace diffseg::core::engine
