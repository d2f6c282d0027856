#pragma once

#include "inference/ModelCard.h"

#include <QString>

#include <optional>

namespace diffseg::app {

/// Which workflow a checkpoint file belongs to.
enum class CheckpointKind
{
    Unknown, ///< not a checkpoint we recognise (or unreadable)
    Photo,   ///< DermoSegDiff (2D dermoscopy photos): ours or a reference .pth
    Volume   ///< Diff-UNet (3D CT/MRI volumes): ours or a reference state_dict
};

/// Tells a photo model from a volume model by the file's first bytes (our checkpoint's JSON
/// header names its network; a reference Diff-UNet state_dict has edge_model.* and
/// denoise_model.* keys), without loading the network: LibTorch's zip stores the header first and
/// uncompressed. Reference .pth/.pt files that are not Diff-UNet are photo models. Results are
/// cached per file (path, size, modification time). Any thread; never throws.
CheckpointKind checkpointKind(const QString& path);

/// "a DermoSegDiff (photo) model", "a Diff-UNet (volume) model", "not a checkpoint we know".
QString checkpointKindText(CheckpointKind kind);

/// Why the checkpoint chosen in a workflow cannot run there: what the message box says, and
/// whether the file is gone (then the chooser should list the models again).
struct CheckpointProblem
{
    QString title;
    QString message;
    bool missing = false;
};

/// The checks every run of the photo (`workflow` Photo) or volume (Volume) workflow makes of the
/// chosen `checkpoint`: one is chosen, it exists, and it is a model for that workflow's input (the
/// photo workflow leaves a file it does not recognise to the loader, which says what is wrong with
/// it). nullopt when it can run. GUI thread (checkpointKind() reads the file's first bytes).
std::optional<CheckpointProblem> checkpointProblem(const QString& checkpoint,
                                                   CheckpointKind workflow);

/// The model card in a checkpoint's header (core::readModelCard: no weights are loaded); empty
/// for a file without one (a reference .pth, an older checkpoint) or one that cannot be read.
/// Cached per file as checkpointKind() is. Any thread; never throws.
core::ModelCard checkpointCard(const QString& path);

/// What a volume checkpoint was trained on (core::checkpointVolumeModality), cached per file as
/// checkpointKind() is. Any thread; never throws.
core::VolumeModality checkpointModality(const QString& path);
/// The chooser's tooltip for a checkpoint: its path and its card, or a line saying that nothing
/// is recorded about its training data, licence or scores.
QString checkpointToolTip(const QString& path);

} // namespace diffseg::app
