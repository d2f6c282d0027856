#pragma once

#include <QString>
#include <QStringList>

#include <array>
#include <vector>

namespace diffseg::widgets {

/// A training configuration the Training panel offers, with the defaults its YAML file sets
/// (the panel's epochs, batch size and learning rate start from them).
struct TrainingPreset
{
    QString name;            ///< what users read, e.g. "DermoSegDiff-A (ISIC 2018)"
    QString configPath;      ///< absolute path of the YAML file
    QString description;     ///< the tooltip
    bool volumetric = false; ///< Diff-UNet (3D volumes) rather than DermoSegDiff (2D photos)
    int epochs = 0;
    int batchSize = 0;
    double learningRate = 0.0;
    QString modelName; ///< model.name, the base of the default run name
    /// dataset.split: "auto", "reference", "fractions" or "file" (Diff-UNet: always fractions).
    QString splitMode = QStringLiteral("auto");
    std::array<double, 3> splitFractions{0.8, 0.1, 0.1};
    quint64 splitSeed = 0;
};

/// Reads a preset's defaults from a training YAML file (DermoSegDiff or Diff-UNet layout; keys
/// absent from the file take the trainers' defaults) with the readers of `diffseg train`
/// (core::engine::DermoSegDiffTrainingConfig, DiffUNetTrainingConfig). A file whose keys they
/// refuse is still offered, with the trainers' defaults: `diffseg train` names the key when the run
/// starts. Returns false, with `error` naming the file and the problem, when the file cannot be
/// read or is not a YAML mapping. Any thread.
bool readTrainingPreset(const QString& path, TrainingPreset& preset, QString* error = nullptr);

/// The presets shipped in `resources/configs` (found through core::resourceDir(): installed next
/// to the executable, or the source tree's): DermoSegDiff-A (isic2018.yaml), DermoSegDiff-B
/// (ph2.yaml), the small CPU DermoSegDiff (small-cpu.yaml) and the Diff-UNet configurations.
/// Files that are missing are left out. Any thread.
std::vector<TrainingPreset> shippedTrainingPresets();

/// What a dataset folder holds, as the Training panel shows it before a run.
struct DatasetSummary
{
    bool ok = false;
    QString error;  ///< why the folder cannot be used (when !ok)
    QString layout; ///< "isic2018", "ph2", "images-masks", "brats2023", "aiib2023", "decathlon"
    /// What the dataset says about itself (a Decathlon dataset.json), e.g. "Hippocampus (MRI);
    /// labels 1 Anterior, 2 Posterior; CC-BY-SA 4.0"; empty when it says nothing.
    QString described;
    int cases = 0; ///< complete image/mask pairs (or volume cases)
    int unpairedImages = 0;
    int unpairedMasks = 0;
    int problems = 0;
    bool volumes = false; ///< 3D volumes (NIfTI, NRRD, MHA, BraTS, AIIB) rather than 2D images
    int train = -1;       ///< the split a new run with the preset would make; -1 when unknown
    int val = -1;
    int test = -1;
    QStringList notes; ///< warnings: unpaired files, a preset for the other kind of data, ...

    /// One or two lines for people, e.g. "images-masks: 12 pairs of 2D images; split 9 / 3 / 0".
    QString text() const;
};

/// Detects the folder's layout, lists its cases (core::scanDataset) and, with a preset, works out
/// the train / validation / test split a new run would make (the trainers' rules: the reference's
/// index ranges for ISIC2018 and PH2 when the preset asks for them and there are enough cases,
/// else the seeded fractions). Never throws: problems end up in `error` and `notes`. Reads the
/// file system only (folder listings), so it is quick enough for the GUI thread. Any thread.
DatasetSummary summarizeDataset(const QString& folder, const TrainingPreset* preset = nullptr);

} // namespace diffseg::widgets
