#pragma once

#include "base/Image2D.h"

namespace diffseg::core {

/// Which connected component of the thresholded image is kept as the lesion.
enum class ComponentChoice
{
    /// The component with the largest area x exp(-4 |c|^2), c = its centroid's offset from the
    /// image centre in image-size units (corner: weight e^-2). Dermoscopes centre the lesion, and
    /// the dark vignette corners of many ISIC photos are otherwise larger than small lesions.
    CentreWeighted,
    /// The plain largest component.
    Largest
};

/// The grey image Otsu thresholds.
enum class OtsuChannel
{
    Blue,      ///< the blue channel (default: best lesion/skin contrast, see otsuBaseline)
    Luminance, ///< Rec. 601 luma 0.299 R + 0.587 G + 0.114 B
    MinRgb     ///< min(R, G, B) per pixel
};

struct OtsuBaselineOptions
{
    OtsuChannel channel = OtsuChannel::Blue;
    /// The image is reduced (area averaging) so that its longest side is at most this before
    /// thresholding, for speed and to suppress hair and texture; 0 keeps full resolution.
    int workingSide = 512;
    /// Gaussian blur sigma as a fraction of the working image's longest side (0 = no blur).
    double blurFraction = 0.005;
    bool fillHoles = true;
    ComponentChoice component = ComponentChoice::CentreWeighted;
};

struct OtsuBaselineResult
{
    Image2D mask;          ///< 1-channel uint8 {0, 1} at the input's size and spacing
    int threshold = -1;    ///< Otsu's threshold on the blurred channel (0..255); -1: flat
    double lesionFraction; ///< fraction of pixels in the mask
};

/// The classical baseline for 2D dermoscopy: blue channel -> reduce to <= 512 px -> light Gaussian
/// blur -> Otsu threshold (darker = lesion) -> hole filling -> one connected component
/// (8-connectivity) -> back to the input size (linear interpolation of the 0/1 mask, cut at 0.5).
///
/// Why the blue channel: melanin absorbs most in blue, so lesion/skin contrast is highest there;
/// on the 32 shared ISIC 2017 + PH2 pairs it beat luminance, L*, min(R,G,B), green, red and V
/// (see the baseline test). Input: RGB or RGBA uint8 (channel order RGB, as Image2D stores it) or a
/// 1-channel uint8 image used as is (the channel option is then ignored). A flat image (no two
/// classes) gives an empty mask. Pure, thread-safe. Throws Error(InvalidValue) naming "image" for
/// an empty or non-uint8 image or 2 channels, and Error(Config) for options out of range
/// (workingSide 1..15 or negative, blurFraction not in [0, 0.1]).
OtsuBaselineResult otsuBaseline(const Image2D& image, const OtsuBaselineOptions& options = {});

/// otsuBaseline(image, options).mask.
Image2D otsuLesionMask(const Image2D& image, const OtsuBaselineOptions& options = {});

} // namespace diffseg::core
