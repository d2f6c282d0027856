#include "TinyVolumeCheckpoint.h"

// By path: this library does not link diffseg_test_support, which puts tests/support on the
// include path.
#include "../support/CheckpointTestSupport.h"
#include "imaging/VolumePreparation.h"

namespace diffseg::test {

QString writeTinyDiffUNetCheckpoint(const QString& path, double spacingMm, unsigned seed)
{
    core::VolumePreparationConfig preparation;
    preparation.normalization = core::VolumePreparationConfig::Normalization::CtClipZScore;
    preparation.cropToNonZero = false;
    preparation.targetSpacing = std::array<double, 3>{spacingMm, spacingMm, spacingMm};
    preparation.clipLow = -1000.0;
    preparation.clipHigh = 1000.0;
    preparation.mean = 0.0;
    preparation.stddev = 300.0;
    saveFreshDiffUNet(path.toStdString(), tinyDiffUNetConfig(1, 2), 16, preparation.toJson(), seed,
                      "diffseg-studio tests");
    return path;
}

} // namespace diffseg::test
