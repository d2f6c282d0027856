#pragma once

#include "Crop.h"
#include "base/LabelMap.h"
#include "base/Volume.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace diffseg::core {

/// How a CT/MRI volume is prepared for Diff-UNet (seed spec §B2.2, nnU-Net's order: crop,
/// normalise, resample) and how predictions are put back. Stored in checkpoints as JSON so that
/// inference prepares volumes exactly as training did.
struct VolumePreparationConfig
{
    enum class Normalization
    {
        CtClipZScore, ///< clip to dataset foreground percentiles, then (x - mean) / std (AIIB)
        ZScore,       ///< per-channel z-score over the cropped box, zeros included (BraTS)
        None
    };
    Normalization normalization = Normalization::ZScore;
    bool cropToNonZero = true;
    /// Target spacing (x, y, z) in mm; none keeps the source grid.
    std::optional<std::array<double, 3>> targetSpacing;
    /// CtClipZScore only: dataset statistics (from ctStatistics()).
    double clipLow = -1024.0;
    double clipHigh = 3071.0;
    double mean = 0.0;
    double stddev = 1.0;

    /// Throws Error(Config) naming `subject` and the key.
    static VolumePreparationConfig fromJson(const std::string& json,
                                            const std::string& subject = "preprocessing");
    std::string toJson() const;
    void validate(const std::string& subject = "preprocessing") const;
};

const char* normalizationName(VolumePreparationConfig::Normalization n) noexcept;

/// A volume ready for the network plus what is needed to undo the preparation.
struct PreparedVolume
{
    Volume image;    ///< Float32, normalised, cropped and resampled
    BoundingBox box; ///< crop box on the source grid
    std::array<std::int64_t, 3> sourceSize{0, 0, 0};
    Geometry sourceGeometry;
    std::array<std::int64_t, 3> croppedSize{0, 0, 0};
    Geometry croppedGeometry;
};

/// Crops (union over channels of the non-zero voxels, the whole volume when all zero),
/// normalises and resamples (trilinear). Throws Error naming `name` for non-finite input.
PreparedVolume prepareVolume(const Volume& image, const VolumePreparationConfig& config,
                             const std::string& name = "volume");

/// The same crop and resampling for a label map on the source grid (label-aware).
LabelMap prepareLabels(const LabelMap& labels, const PreparedVolume& prepared);

/// Puts per-class scores (any channels, Float32 on the prepared grid) back on the source grid:
/// trilinear resampling to the cropped grid, then `fill` outside the crop box (e.g. a large
/// background logit). The result has the source size and geometry exactly.
Volume restoreScores(const Volume& scores, const PreparedVolume& prepared,
                     const std::vector<double>& fill);

/// A label map on the prepared grid back on the source grid (label-aware, 0 outside the box).
LabelMap restoreLabels(const LabelMap& labels, const PreparedVolume& prepared);

/// nnU-Net's CT statistics over the foreground (labels != 0) of several cases: the 0.5 and 99.5
/// percentiles, mean and standard deviation of channel 0, from up to `samplesPerCase` evenly
/// spread foreground voxels per case. Throws Error(InvalidValue) when no foreground exists.
VolumePreparationConfig ctStatistics(const std::vector<const Volume*>& images,
                                     const std::vector<const LabelMap*>& labels,
                                     std::size_t samplesPerCase = 10000);

} // namespace diffseg::core
