#pragma once

#include <string>
#include <vector>

namespace diffseg::core::engine {

/// Hyper-parameters of the Diff-UNet network (seed spec §B4): two 6-stage nnU-Net-style 3D U-Nets
/// (the edge branch and the denoiser) with features min(base * 2^s, max) per stage. JSON keys are
/// those of the parity fixtures' `meta/config` (in_channels, num_classes, base_features,
/// max_features, n_stages) plus ours (convs_per_stage, mba). Plain data, no LibTorch.
struct DiffUNetConfig
{
    int inChannels = 1;    ///< image channels (1 for CT, 4 for BraTS: t2w, t2f, t1n, t1c)
    int numClasses = 2;    ///< classes including background (C of the mask embedding)
    int baseFeatures = 32; ///< features of stage 0
    int maxFeatures = 320; ///< cap of the per-stage features
    int nStages = 6;       ///< resolution stages; inputs must be multiples of 2^(nStages-1)
    int convsPerStage = 2; ///< convolutions per encoder and decoder stage
    bool mba = true;       ///< MBA fusion of the edge features (bta in the reference)

    /// The reference's DiffUNet(in, out) (63,042,720 parameters for (1, 2)).
    static DiffUNetConfig reference(int inChannels, int numClasses);

    std::vector<int> featuresPerStage() const;
    /// Input sides must be multiples of this.
    int sizeMultiple() const noexcept { return 1 << (nStages - 1); }

    /// Parses JSON with the keys above (absent keys keep the reference's defaults). Throws
    /// Error(Config) naming `subject` and the key for unknown keys, wrong types and bad values.
    static DiffUNetConfig fromJson(const std::string& json, const std::string& subject = {});
    std::string toJson() const;
    void validate(const std::string& subject = {}) const;

    bool operator==(const DiffUNetConfig& o) const;
    bool operator!=(const DiffUNetConfig& o) const { return !(*this == o); }
};

/// The continuous-time cosine log-SNR schedule of Diff-UNet (§B3):
/// λ(τ) = -log(max(sec²(π/2 (τ + 2e-4) / (1 + 2.5e-4)) - 1, 1e-5)), α = sqrt(sigmoid(λ)),
/// σ = sqrt(sigmoid(-λ)). Computed in double; the reference computes in float32.
struct LogSnrSchedule
{
    static double logSnr(double tau);
    static double alpha(double logSnr);
    static double sigma(double logSnr);
    /// The reference's (τ_now, τ_next) pairs for S steps: τ_now = 1 - s/S,
    /// τ_next = max(1 - (s + 2)/S, 0) (time_difference 1).
    static std::vector<std::pair<double, double>> samplingTimes(int steps);
};

} // namespace diffseg::core::engine
