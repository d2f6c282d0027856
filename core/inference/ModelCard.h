#pragma once

// A model card: what a checkpoint says about itself (what it was trained on, its licence, the
// settings it was validated with and its scores), stored in the checkpoint header as "card".
// LibTorch-free header, for the CLI, the studio's choosers and the inference layer.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace diffseg::core {

/// The card's keys, all optional:
///   {"name": "...", "input_kind": "photo" | "volume", "training_data": "...", "licence": "...",
///    "notes": "...", "validated": {"sampler": "ddim", "steps": 10, "ensemble": 5, "eta": 0,
///    ...}, "scores": {"<what>": <number or text>, ...}}
/// Plain data; copyable.
struct ModelCard
{
    std::string name;
    std::string inputKind; ///< "photo", "volume" or empty
    std::string trainingData;
    std::string licence;
    std::string notes;
    /// The settings the scores were measured with, key -> value as JSON text (`"ddim"`, `10`).
    std::vector<std::pair<std::string, std::string>> validated;
    /// Scores, key -> value as JSON text, in the card's order.
    std::vector<std::pair<std::string, std::string>> scores;

    bool empty() const noexcept;
    /// A validated setting as text without JSON quotes, or nothing.
    std::optional<std::string> validatedText(const std::string& key) const;
    std::optional<double> validatedNumber(const std::string& key) const;

    /// Parses the card's JSON object; throws Error(Format) naming `subject` for text that is not
    /// a JSON object or a key of the wrong type.
    static ModelCard fromJson(const std::string& json, const std::string& subject);
    std::string toJson() const;
    /// A few lines for a tooltip or `diffseg info`: name, input, training data, licence,
    /// validated settings, scores. Empty for an empty card.
    std::string text() const;
};

/// The card in a checkpoint's header (ours; a reference .pth has none: an empty card), read
/// without loading the weights. Throws Error as engine::readCheckpointInfo() does.
ModelCard readModelCard(const std::string& checkpointPath);

/// The images a volume model was trained on, as its header says.
enum class VolumeModality
{
    Unknown, ///< not a volume model, or a reference state_dict (no header)
    Ct,      ///< CT normalisation (Hounsfield windows) or a channel named CT
    Mr       ///< any other volume model (z-score normalised MRI)
};

/// Reads the header only; Unknown for any file it cannot read as our volume checkpoint (never
/// throws), so that a chooser can rank models by the open volume's modality.
VolumeModality checkpointVolumeModality(const std::string& checkpointPath);

} // namespace diffseg::core
