#pragma once

#include <QString>
#include <QStringList>

#include <vector>

namespace diffseg::app {

/// One checkpoint the model chooser offers.
struct ModelEntry
{
    QString path;
    QString label;           ///< what users read, e.g. "run small_cpu: best"
    QString referencePreset; ///< non-empty for a reference .pth ("isic2018", "ph2", "ham10000")
};

/// Finds the checkpoints the model chooser lists: the files in a models folder (ours *.dsckpt and
/// reference *.pth), the runs of `diffseg train` under a runs folder (runs/<name>/best.dsckpt and
/// last.dsckpt), and files the user opened one by one. Plain file-system scanning; any thread.
class ModelCatalog
{
public:
    /// Checkpoints in `modelsFolder`, `runsFolder` and `extraFiles`, without duplicates and
    /// without files that no longer exist; `presets` maps a .pth path to its reference preset
    /// (otherwise guessedPreset()). Missing folders are skipped.
    static std::vector<ModelEntry> scan(const QString& modelsFolder, const QString& runsFolder,
                                        const QStringList& extraFiles,
                                        const QStringList& presetPairs = {});
    /// Whether a file is a reference .pth (needs a preset), by its extension.
    static bool isReferenceCheckpoint(const QString& path);
    /// The preset a reference file name suggests: "ph2" or "ham10000" when named so, else
    /// "isic2018".
    static QString guessedPreset(const QString& path);
    /// A label for a single checkpoint file.
    static QString labelFor(const QString& path, const QString& preset);
    /// The checkpoints installed with the application (the demo models in resourceDir()/models),
    /// which both choosers always offer.
    static QStringList packagedModels();
};

} // namespace diffseg::app
