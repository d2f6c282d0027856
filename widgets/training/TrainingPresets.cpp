#include "TrainingPresets.h"

#include "base/Error.h"
#include "data/DatasetLayout.h"
#include "data/DatasetSplit.h"
#include "engine/training/DermoSegDiffTrainingConfig.h"
#include "engine/training/DiffUNetTrainingConfig.h"
#include "runtime/ResourcePaths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <exception>

namespace diffseg::widgets {

namespace {

QString tr(const char* text)
{
    return QCoreApplication::translate("diffseg::widgets::TrainingPresets", text);
}

bool isVolumeFile(const std::string& path)
{
    QString name = QFileInfo(QString::fromStdString(path)).fileName().toLower();
    for (const char* suffix : {".nii", ".nii.gz", ".nrrd", ".mha", ".mhd"}) {
        if (name.endsWith(QLatin1String(suffix))) {
            return true;
        }
    }
    return false;
}

} // namespace

bool readTrainingPreset(const QString& path, TrainingPreset& preset, QString* error)
{
    try {
        // The readers of `diffseg train`, so the panel starts from the values the trainer will
        // use (its defaults for keys the file leaves out).
        QFile file(path);
        const std::string text =
            file.open(QIODevice::ReadOnly) ? file.readAll().toStdString() : std::string();
        preset.volumetric = core::engine::DiffUNetTrainingConfig::isDiffUNetYaml(text);
        // A file whose keys the readers refuse (a misspelt key, a bad value: the error names
        // "<file>: <key>") is still offered, with the trainer's defaults: the panel has always
        // left such problems to `diffseg train`, which names the key where the user watches the
        // run, and the value may be one the panel overrides (epochs, batch size, rate). A file
        // that is no YAML mapping at all is refused here.
        const std::string keyPrefix = path.toStdString() + ": ";
        const auto keyRefused = [&keyPrefix](const core::Error& e) {
            return e.kind() == core::ErrorKind::Config && e.subject().rfind(keyPrefix, 0) == 0;
        };
        if (preset.volumetric) {
            core::engine::DiffUNetTrainingConfig c;
            try {
                c = core::engine::DiffUNetTrainingConfig::fromFile(path.toStdString());
            } catch (const core::Error& e) {
                if (!keyRefused(e)) {
                    throw;
                }
            }
            preset.epochs = c.epochs;
            preset.batchSize = c.batchSize;
            preset.learningRate = c.learningRate;
            preset.modelName = QString::fromStdString(c.name);
            preset.splitMode = QStringLiteral("fractions");
            preset.splitFractions = c.splitFractions;
            preset.splitSeed = c.splitSeed;
        } else {
            core::engine::DermoSegDiffTrainingConfig c;
            try {
                c = core::engine::DermoSegDiffTrainingConfig::fromFile(path.toStdString());
            } catch (const core::Error& e) {
                if (!keyRefused(e)) {
                    throw;
                }
            }
            preset.epochs = c.epochs;
            preset.batchSize = c.train.batchSize;
            preset.learningRate = c.learningRate;
            preset.modelName = QString::fromStdString(c.name);
            preset.splitMode = QString::fromStdString(c.split.mode);
            preset.splitFractions = c.split.fractions;
            preset.splitSeed = c.split.seed;
        }
        preset.configPath = QFileInfo(path).absoluteFilePath();
        if (preset.name.isEmpty()) {
            preset.name = QFileInfo(path).fileName();
        }
        return true;
    } catch (const core::Error& e) {
        // The reader's message already names the file.
        if (error) {
            *error = QString::fromStdString(e.what());
        }
        return false;
    } catch (const std::exception& e) {
        if (error) {
            *error = QStringLiteral("%1: %2").arg(path, QString::fromStdString(e.what()));
        }
        return false;
    }
}

std::vector<TrainingPreset> shippedTrainingPresets()
{
    struct Known
    {
        const char* file;
        const char* name;
        const char* description;
    };
    static const Known known[] = {
        {"dermosegdiff/isic2018.yaml", "DermoSegDiff-A (ISIC 2018)",
         "The published DermoSegDiff-A setup (isic2018.yaml): 128x128 inputs, the reference's "
         "ISIC 2018 split; needs a GPU for real training"},
        {"dermosegdiff/ph2.yaml", "DermoSegDiff-B (PH2)",
         "The published DermoSegDiff-B setup (ph2.yaml): boundary-aware loss, the reference's "
         "PH2 split, 3000 epochs; needs a GPU for real training"},
        {"dermosegdiff/small-cpu.yaml", "Small CPU (DermoSegDiff, 64x64)",
         "A 5.3 M-parameter DermoSegDiff at 64x64 (small-cpu.yaml) that trains on a CPU; "
         "any images/ + masks/ folder"},
        {"diffunet/nifti-small-cpu.yaml", "Diff-UNet: small CPU (NIfTI volumes)",
         "A small Diff-UNet on 32^3 patches (nifti-small-cpu.yaml) for any images/ + masks/ "
         "folder of volumes; trains on a CPU"},
        {"diffunet/hippocampus-cpu.yaml", "Diff-UNet: Decathlon hippocampus MRI (CPU)",
         "The packaged hippocampus model's recipe (hippocampus-cpu.yaml): the Medical "
         "Segmentation Decathlon's Task04 folder as it is (dataset.json, imagesTr/, labelsTr/), "
         "32^3 patches, 16..64 features, 5000 steps: about 45 minutes on 2 CPU cores"},
        {"diffunet/brats2023.yaml", "Diff-UNet: BraTS 2023 (MRI)",
         "Diff-UNet for BraTS 2023 (brats2023.yaml): 4 MRI channels, 4 classes; needs a GPU"},
        {"diffunet/aiib2023.yaml", "Diff-UNet: AIIB 2023 (airway CT)",
         "Diff-UNet for AIIB 2023 airway CT (aiib2023.yaml): CT normalisation, resampling; "
         "needs a GPU"},
    };
    std::vector<TrainingPreset> out;
    const QString root = QString::fromStdString(core::resourceDir());
    if (root.isEmpty()) {
        return out;
    }
    for (const Known& k : known) {
        const QString path = QDir(root).filePath(QStringLiteral("configs/") + k.file);
        TrainingPreset preset;
        preset.name = tr(k.name);
        preset.description = tr(k.description);
        if (QFileInfo(path).isFile() && readTrainingPreset(path, preset)) {
            out.push_back(preset);
        }
    }
    return out;
}

namespace {

QString describedText(const core::DatasetScan& scan)
{
    QStringList parts;
    if (!scan.name.empty() || !scan.channelNames.empty()) {
        QStringList channels;
        for (const std::string& c : scan.channelNames) {
            channels << QString::fromStdString(c);
        }
        parts << (channels.isEmpty() ? QString::fromStdString(scan.name)
                                     : QStringLiteral("%1 (%2)").arg(
                                           QString::fromStdString(scan.name), channels.join(", ")))
                     .trimmed();
    }
    QStringList labels;
    for (const auto& [value, name] : scan.labelNames) {
        if (value != 0) {
            labels << QStringLiteral("%1 %2").arg(value).arg(QString::fromStdString(name));
        }
    }
    if (!labels.isEmpty()) {
        parts << tr("labels %1").arg(labels.join(", "));
    }
    if (!scan.licence.empty()) {
        parts << QString::fromStdString(scan.licence);
    }
    return parts.join("; ");
}

} // namespace

QString DatasetSummary::text() const
{
    if (!ok) {
        return error;
    }
    QString out = tr("%1: %2 %3")
                      .arg(layout)
                      .arg(cases)
                      .arg(volumes ? tr("volume case(s)") : tr("pair(s) of 2D images and masks"));
    if (!described.isEmpty()) {
        out += QLatin1Char('\n') + described;
    }
    if (train >= 0) {
        out += tr("; a new run splits them %1 train / %2 validation / %3 test")
                   .arg(train)
                   .arg(val)
                   .arg(test);
    }
    for (const QString& note : notes) {
        out += QLatin1Char('\n') + note;
    }
    return out;
}

DatasetSummary summarizeDataset(const QString& folder, const TrainingPreset* preset)
{
    DatasetSummary s;
    if (folder.isEmpty()) {
        s.error = tr("No dataset folder chosen");
        return s;
    }
    try {
        const std::string root = folder.toStdString();
        const std::optional<core::DatasetLayout> layout = core::detectDatasetLayout(root);
        if (!layout) {
            s.error = tr("%1: no dataset layout found (expected images/ + masks/, the ISIC2018 or "
                         "PH2 folders, BraTS 2023 case folders, AIIB 2023 img/ + gt/ or a "
                         "Decathlon dataset.json + imagesTr/)")
                          .arg(folder);
            return s;
        }
        const core::DatasetScan scan = core::scanDataset(root, *layout);
        s.layout = QString::fromUtf8(core::datasetLayoutName(*layout));
        s.cases = static_cast<int>(scan.samples.size());
        s.unpairedImages = static_cast<int>(scan.unpairedImages.size());
        s.unpairedMasks = static_cast<int>(scan.unpairedMasks.size());
        s.problems = static_cast<int>(scan.problems.size());
        s.volumes = *layout == core::DatasetLayout::Brats2023 ||
                    *layout == core::DatasetLayout::Aiib2023 ||
                    *layout == core::DatasetLayout::Decathlon ||
                    (!scan.samples.empty() && !scan.samples.front().images.empty() &&
                     isVolumeFile(scan.samples.front().images.front()));
        s.described = describedText(scan);
        if (s.cases == 0) {
            s.error = tr("%1: the %2 layout, but no image with its mask").arg(folder, s.layout);
            return s;
        }
        s.ok = true;
        if (s.unpairedImages + s.unpairedMasks > 0) {
            s.notes << tr("%1 image(s) without a mask and %2 mask(s) without an image are left out")
                           .arg(s.unpairedImages)
                           .arg(s.unpairedMasks);
        }
        if (s.problems > 0) {
            s.notes << tr("%1 file(s) do not follow the layout, e.g. %2")
                           .arg(s.problems)
                           .arg(QString::fromStdString(scan.problems.front()));
        }
        if (!preset) {
            return s;
        }
        if (preset->volumetric != s.volumes) {
            s.notes << (preset->volumetric
                            ? tr("%1 trains on 3D volumes; this folder holds 2D images")
                            : tr("%1 trains on 2D images; this folder holds 3D volumes"))
                           .arg(preset->name);
        }
        std::vector<std::string> ids;
        ids.reserve(scan.samples.size());
        for (const core::DatasetSample& sample : scan.samples) {
            ids.push_back(sample.id);
        }
        const bool hasRanges =
            *layout == core::DatasetLayout::Isic2018 || *layout == core::DatasetLayout::Ph2;
        core::DatasetSplit split;
        if (preset->splitMode == QLatin1String("file")) {
            s.notes << tr("The split comes from the preset's split file");
            return s;
        }
        if (!preset->volumetric && (preset->splitMode == QLatin1String("reference") ||
                                    (preset->splitMode == QLatin1String("auto") && hasRanges))) {
            if (!hasRanges) {
                s.notes << tr("%1 asks for the reference split, which only ISIC2018 and PH2 "
                              "folders have: the run will stop")
                               .arg(preset->name);
                return s;
            }
            const core::SplitRanges ranges = core::referenceSplitRanges(*layout);
            if (ids.size() >= ranges.testEnd) {
                split = core::makeRangeSplit(ids, ranges);
            } else if (preset->splitMode == QLatin1String("reference")) {
                s.notes << tr("The reference split needs %1 cases: the run will stop")
                               .arg(ranges.testEnd);
                return s;
            }
        }
        if (split.train.empty()) {
            split = core::makeSplit(
                ids,
                {preset->splitFractions[0], preset->splitFractions[1], preset->splitFractions[2]},
                preset->splitSeed);
        }
        s.train = static_cast<int>(split.train.size());
        s.val = static_cast<int>(split.val.size());
        s.test = static_cast<int>(split.test.size());
        if (s.val == 0) {
            s.notes << tr("No validation cases: no validation curve or sampled predictions");
        }
    } catch (const std::exception& e) {
        s.ok = false;
        s.error = QString::fromStdString(e.what());
    }
    return s;
}

} // namespace diffseg::widgets
