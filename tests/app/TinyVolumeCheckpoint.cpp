#include "TinyVolumeCheckpoint.h"

#include "engine/checkpoint/Checkpoint.h"
#include "engine/diffunet/DiffUNet.h"
#include "imaging/VolumePreparation.h"

#include <torch/utils.h>

namespace diffseg::test {

QString writeTinyDiffUNetCheckpoint(const QString& path, double spacingMm, unsigned seed)
{
    using namespace diffseg::core::engine;
    DiffUNetConfig config;
    config.inChannels = 1;
    config.numClasses = 2;
    config.baseFeatures = 4;
    config.maxFeatures = 8;
    config.nStages = 3;
    core::VolumePreparationConfig preparation;
    preparation.normalization = core::VolumePreparationConfig::Normalization::CtClipZScore;
    preparation.cropToNonZero = false;
    preparation.targetSpacing = std::array<double, 3>{spacingMm, spacingMm, spacingMm};
    preparation.clipLow = -1000.0;
    preparation.clipHigh = 1000.0;
    preparation.mean = 0.0;
    preparation.stddev = 300.0;
    torch::manual_seed(seed);
    DiffUNet model(config);
    Checkpoint checkpoint;
    checkpoint.info.network = "diffunet";
    checkpoint.info.diffunet = config;
    checkpoint.info.inputSize = 16;
    checkpoint.info.preprocessingJson = preparation.toJson();
    checkpoint.info.source = "diffseg-studio tests";
    for (const auto& [key, tensor] : namedWeights(*model)) {
        checkpoint.model.emplace_back(key, tensor.clone());
    }
    saveCheckpoint(path.toStdString(), checkpoint);
    return path;
}

} // namespace diffseg::test
