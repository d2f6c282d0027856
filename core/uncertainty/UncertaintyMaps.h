#pragma once

#include "base/Image2D.h"
#include "base/Volume.h"

#include <vector>

namespace diffseg::core {

// Uncertainty maps from K stochastic segmentations (ensemble members) of one image or volume.
//
// Inputs are 1-channel float32 maps of one grid (Image2D: same width and height; Volume: same size
// and geometry within 1e-4), outputs 1-channel float32 maps on that grid with the first input's
// spacing / geometry. Pure functions: thread-safe, single-threaded, O(K x voxels).
// Errors: Error(InvalidValue) naming the member ("member 3") for an empty list, a wrong type or
// channel count, a non-finite value, or a probability outside [0, 1] (1e-6 slack, then clamped);
// Error(Mismatch) naming the member when its grid differs from member 0's.
//
// Formulas (p_k = member k's foreground probability at a voxel, K members, natural log):
//   mean          p̄ = (1/K) Σ_k p_k
//   std           σ = sqrt((1/K) Σ_k (p_k − p̄)²)             population std (ddof 0)
//   entropy       H = −p̄ ln p̄ − (1−p̄) ln(1−p̄), p̄ clamped to [1e-6, 1−1e-6]; in nats, [0, ln 2];
//                 EntropyScale::Normalised divides by ln 2 → [0, 1]
//   multi-class   H = −Σ_c p_c ln p_c (0 ln 0 = 0), Normalised divides by ln C
//   from x0       p = clamp((x̂0 + 1) / 2, 0, 1)  (DermoSegDiff masks live in {−1, +1})
//   instability   I = (1/K) Σ_k (1/S_k) Σ_{i=1..S_k} [ (x̂0_{k,i} > 0) ≠ (x̂0_{k,i−1} > 0) ]
//                 over the last S_k + 1 x0 estimates of member k in sampling order: the fraction
//                 of the last S steps in which the binarised estimate still flips, averaged over
//                 members; 0 = settled, 1 = flips at every step.

enum class EntropyScale
{
    Nats,      ///< natural log: binary in [0, ln 2], C classes in [0, ln C]
    Normalised ///< divided by the maximum (ln 2, ln C): [0, 1]
};

Image2D ensembleMean(const std::vector<Image2D>& members);
Volume ensembleMean(const std::vector<Volume>& members);

/// Population standard deviation of K probability maps (values in [0, 1]); 0 for K = 1.
Image2D ensembleStd(const std::vector<Image2D>& probabilities);
Volume ensembleStd(const std::vector<Volume>& probabilities);

/// Binary entropy of a (mean) foreground probability map.
Image2D binaryEntropy(const Image2D& probability, EntropyScale scale = EntropyScale::Nats);
Volume binaryEntropy(const Volume& probability, EntropyScale scale = EntropyScale::Nats);

/// Predictive entropy: binaryEntropy(ensembleMean(probabilities)).
Image2D predictiveEntropy(const std::vector<Image2D>& probabilities,
                          EntropyScale scale = EntropyScale::Nats);
Volume predictiveEntropy(const std::vector<Volume>& probabilities,
                         EntropyScale scale = EntropyScale::Nats);

/// Entropy of C-class probabilities (softmax output), C >= 2: an Image2D with C interleaved
/// channels or a Volume with C planar channels. The classes must sum to 1 within 1e-3 at every
/// voxel (Error(InvalidValue) naming the voxel otherwise).
Image2D multiClassEntropy(const Image2D& probabilities, EntropyScale scale = EntropyScale::Nats);
Volume multiClassEntropy(const Volume& probabilities, EntropyScale scale = EntropyScale::Nats);

/// Foreground probability of one x0 estimate: clamp((x0 + 1) / 2, 0, 1). Any finite x0.
Image2D probabilityFromX0(const Image2D& x0);
Volume probabilityFromX0(const Volume& x0);
/// Mean over members of probabilityFromX0 (= the probability map `segment` writes).
Image2D ensembleProbabilityFromX0(const std::vector<Image2D>& x0Members);
Volume ensembleProbabilityFromX0(const std::vector<Volume>& x0Members);

/// Step instability from the x0 estimates of the last steps: `trajectories[k]` holds member k's
/// last S_k + 1 estimates in sampling order (oldest first, the final x0 last), S_k >= 1.
Image2D stepInstability(const std::vector<std::vector<Image2D>>& trajectories);
Volume stepInstability(const std::vector<std::vector<Volume>>& trajectories);

} // namespace diffseg::core
