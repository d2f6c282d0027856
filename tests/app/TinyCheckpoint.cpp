#include "TinyCheckpoint.h"

#include "CheckpointTestSupport.h"
#include "engine/checkpoint/Checkpoint.h"
#include "engine/model/DermoSegDiff.h"

#include <torch/utils.h>

namespace diffseg::test {

QString writeTinyCheckpoint(const QString& path, int inputSize, int timesteps, unsigned seed)
{
    using namespace diffseg::core::engine;
    const DermoSegDiffConfig config = DermoSegDiffConfig::fromJson(
        R"({"dim_x": 8, "dim_g": 8, "dim_x_mults": [1, 2, 4], "dim_g_mults": [1, 2, 4],
            "resnet_block_groups": 4})");
    torch::manual_seed(seed);
    DermoSegDiff model(config);
    Checkpoint checkpoint;
    checkpoint.info.model = config;
    checkpoint.info.schedule = ScheduleConfig{ScheduleMode::Linear, timesteps, 0.0004, 0.08};
    checkpoint.info.inputSize = inputSize;
    checkpoint.info.source = "diffseg-studio tests";
    saveWithWeights(path.toStdString(), checkpoint, *model);
    return path;
}

} // namespace diffseg::test
