#include "Samples.h"

#include "io/ImageReader.h"
#include "io/VolumeReader.h"

namespace diffseg::core {

ImageMaskPair loadImageMaskPair(const std::string& imagePath, const std::string& maskPath)
{
    ImageMaskPair pair{readImage(imagePath, {ImageColor::Rgb}), readMask(maskPath)};
    if (pair.image.width() != pair.mask.width() || pair.image.height() != pair.mask.height()) {
        throw Error(ErrorKind::Mismatch, maskPath,
                    "mask is " + std::to_string(pair.mask.width()) + "x" +
                        std::to_string(pair.mask.height()) + " but its image " + imagePath +
                        " is " + std::to_string(pair.image.width()) + "x" +
                        std::to_string(pair.image.height()));
    }
    return pair;
}

VolumeCase loadVolumeCase(const DatasetSample& sample)
{
    if (sample.images.empty()) {
        throw Error(ErrorKind::InvalidValue, sample.id, "case has no image file");
    }
    VolumeCase c{readVolumeChannels(sample.images).volume, readLabelMap(sample.mask).labels};
    if (!c.labels.isAlignedWith(c.image, 1e-3)) {
        throw Error(ErrorKind::Mismatch, sample.mask,
                    "label map " + c.labels.describe() + " is not on the grid of its image " +
                        sample.images.front() + " (" + c.image.describe() + ")");
    }
    return c;
}

} // namespace diffseg::core
