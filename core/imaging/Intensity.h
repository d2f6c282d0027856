#pragma once

#include "base/Image2D.h"
#include "base/LabelMap.h"
#include "base/Volume.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace diffseg::core {

/// A display/normalisation window in the volume's units (HU for CT): values in
/// [center - width/2, center + width/2] map linearly onto the output range.
struct WindowLevel
{
    double center = 40.0;
    double width = 400.0;
};

/// Common CT windows (radiology conventions; W/L in HU).
enum class CtWindowPreset
{
    Lung,        ///< W 1500, L -600
    Mediastinum, ///< W 350, L 50
    SoftTissue,  ///< W 400, L 40 (abdomen)
    Bone,        ///< W 1800, L 400
    Brain        ///< W 80, L 40
};

WindowLevel ctWindow(CtWindowPreset preset) noexcept;
const char* ctWindowName(CtWindowPreset preset) noexcept;
/// "lung", "mediastinum", "soft-tissue" (or "soft_tissue", "abdomen"), "bone", "brain".
std::optional<CtWindowPreset> ctWindowFromName(const std::string& name);

/// Maps every channel through `window` onto [outMin, outMax], clamping outside the window.
/// Returns a new Float32 volume on the same grid. Throws Error(InvalidValue) for width <= 0.
Volume applyWindow(const Volume& volume, const WindowLevel& window, double outMin = 0.0,
                   double outMax = 1.0);

/// Summary statistics of one channel, optionally only where `mask` is non-zero.
struct IntensityStats
{
    double min = 0.0;
    double max = 0.0;
    double mean = 0.0;
    double stddev = 0.0; ///< population standard deviation
    std::size_t count = 0;
};

/// Throws Error(Mismatch) when `mask` is not on the volume's grid and Error(InvalidValue) when it
/// selects no voxel.
IntensityStats intensityStats(const Volume& volume, int channel = 0,
                              const LabelMap* mask = nullptr);

/// Percentiles (each in [0, 100], linear interpolation between order statistics, as numpy's
/// default) of one channel, optionally inside `mask`.
std::vector<double> percentiles(const Volume& volume, const std::vector<double>& percents,
                                int channel = 0, const LabelMap* mask = nullptr);

/// The finite values of every stride-th voxel of `channel`, in voxel order, the stride chosen so
/// that about `samples` voxels are read (every voxel of a smaller volume): what display windows,
/// colour ranges and modality guesses start from, cheaply. Any thread.
std::vector<float> sampleVoxels(const Volume& volume, int channel, std::size_t samples);

/// The 1st and 99th percentiles (order statistics n/100 and n-1-n/100) of
/// sampleVoxels(volume, channel, samples); nullopt when no voxel is finite.
std::optional<std::array<double, 2>> sampledPercentiles(const Volume& volume, int channel,
                                                        std::size_t samples);

/// CT (Hounsfield units) or not: a DICOM modality says so when given ("CT", "MR", ...);
/// otherwise air near -1000 HU and tissue above 0 in the value range (the 1st percentile at most
/// -500 and the 99th at least 100, sampledPercentiles of about 100,000 voxels of channel 0).
bool looksLikeCt(const Volume& volume, const std::string& dicomModality = {});

/// Clamps every value into [low, high]; keeps the pixel type (bounds are rounded for Int16).
Volume clipIntensity(const Volume& volume, double low, double high);

/// Clips each channel to its own [lowPercent, highPercent] percentiles (computed inside `mask`
/// when given, as nnU-Net does for CT foreground: 0.5 and 99.5). Keeps the pixel type.
Volume percentileClip(const Volume& volume, double lowPercent, double highPercent,
                      const LabelMap* mask = nullptr);

struct ZScoreOptions
{
    /// Statistics from voxels where the mask is non-zero only (e.g. the brain); all voxels if null.
    const LabelMap* mask = nullptr;
    /// Set voxels outside the mask to 0 after normalising (nnU-Net's use_mask_for_norm).
    bool zeroOutsideMask = false;
};

/// Per-channel (x - mean) / max(std, 1e-8). Returns a new Float32 volume on the same grid.
Volume zScore(const Volume& volume, const ZScoreOptions& options = {});

/// DermoSegDiff's image normalisation: one min and max over all channels and pixels, mapped to
/// [0, 1] (a constant image becomes 0). Returns a Float32 image.
Image2D minMaxNormalize(const Image2D& image);

} // namespace diffseg::core
