#pragma once

// How `segment` hands volumes and Diff-UNet checkpoints over to `segment3d`
// (CommandSegmentVolume.cpp), so that one command serves photos and volumes.

#include "CliCommand.h"

#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace diffseg::app {

/// True when `model` is a Diff-UNet checkpoint or `input` a volume (file or DICOM folder).
bool isVolumeSegmentation(const std::string& model, const std::string& input,
                          const std::string& referenceConfig);
/// Runs segment3d with the options `segment` parsed.
void runSegmentVolumeFrom(const CLI::App& segment, CliResult& result, const std::string& model);
/// The packaged model for `volume` inputs or photos, announced on stderr; throws Error(Config)
/// when none is installed or a reference preset needs its own file. For volumes, the first
/// packaged model for the modality of `input`'s first case (CT or MRI, core::looksLikeCt) is
/// taken, else the first packaged volume model.
std::string defaultModelFor(bool volume, const std::string& referenceConfig,
                            const std::string& input = {});

} // namespace diffseg::app
