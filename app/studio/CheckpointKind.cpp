#include "CheckpointKind.h"

#include "base/Error.h"
#include "inference/Segmenter.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QHash>

#include <mutex>
#include <optional>

namespace diffseg::app {

namespace {

CheckpointKind sniff(const QString& path)
{
    try {
        const std::optional<core::InputKind> kind = core::checkpointInputKind(path.toStdString());
        if (!kind) {
            return CheckpointKind::Unknown;
        }
        return *kind == core::InputKind::Volume ? CheckpointKind::Volume : CheckpointKind::Photo;
    } catch (const core::Error&) {
        return CheckpointKind::Unknown;
    }
}

/// `compute(absolute path)` once per file version (path, size, modification time); `missing` for
/// a path that is not a file. Thread-safe.
template <class T, class Compute>
T cachedPerFile(const QString& path, T missing, Compute compute)
{
    static std::mutex mutex;
    static QHash<QString, T> cache;
    const QFileInfo info(path);
    if (!info.isFile()) {
        return missing;
    }
    const QString key = QStringLiteral("%1|%2|%3")
                            .arg(info.absoluteFilePath())
                            .arg(info.size())
                            .arg(info.lastModified().toMSecsSinceEpoch());
    {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = cache.constFind(key);
        if (it != cache.constEnd()) {
            return *it;
        }
    }
    const T value = compute(info.absoluteFilePath());
    std::lock_guard<std::mutex> lock(mutex);
    cache.insert(key, value);
    return value;
}

} // namespace

CheckpointKind checkpointKind(const QString& path)
{
    return cachedPerFile(path, CheckpointKind::Unknown, sniff);
}

core::ModelCard checkpointCard(const QString& path)
{
    return cachedPerFile(path, core::ModelCard{}, [](const QString& file) {
        try {
            return core::readModelCard(file.toStdString());
        } catch (const std::exception&) {
            // Not ours (a reference .pth) or unreadable: no card; loading it reports the problem.
            return core::ModelCard{};
        }
    });
}

core::VolumeModality checkpointModality(const QString& path)
{
    return cachedPerFile(path, core::VolumeModality::Unknown, [](const QString& file) {
        return core::checkpointVolumeModality(file.toStdString());
    });
}

QString checkpointToolTip(const QString& path)
{
    const core::ModelCard card = checkpointCard(path);
    const QString about =
        card.empty()
            ? QCoreApplication::translate("CheckpointKind",
                                          "No model card: nothing is recorded about what this "
                                          "model was trained on, its licence or its scores.")
            : QString::fromStdString(card.text()).toHtmlEscaped().replace('\n', "<br>");
    return QStringLiteral("<p>%1</p><p><small>%2</small></p>").arg(about, path.toHtmlEscaped());
}

QString checkpointKindText(CheckpointKind kind)
{
    switch (kind) {
    case CheckpointKind::Photo:
        return QCoreApplication::translate("CheckpointKind", "a DermoSegDiff (photo) model");
    case CheckpointKind::Volume:
        return QCoreApplication::translate("CheckpointKind", "a Diff-UNet (volume) model");
    case CheckpointKind::Unknown:
        break;
    }
    return QCoreApplication::translate("CheckpointKind", "not a checkpoint DiffSeg knows");
}

std::optional<CheckpointProblem> checkpointProblem(const QString& checkpoint,
                                                   CheckpointKind workflow)
{
    const auto text = [](const char* source) {
        return QCoreApplication::translate("CheckpointKind", source);
    };
    const bool volume = workflow == CheckpointKind::Volume;
    if (checkpoint.isEmpty() && volume) {
        return CheckpointProblem{text("No volume model"),
                                 text("Choose a Diff-UNet checkpoint first: File > Open Model "
                                      "(Ctrl+M), or set the runs folder of `diffseg train` (Model "
                                      "> Runs Folder).")};
    }
    if (checkpoint.isEmpty()) {
        return CheckpointProblem{text("No model"),
                                 text("Choose a checkpoint first: File > Open Model (Ctrl+M).")};
    }
    if (!QFileInfo::exists(checkpoint)) {
        return CheckpointProblem{
            text("Model not found"),
            text("%1\n\nThe checkpoint file no longer exists.").arg(checkpoint), true};
    }
    const CheckpointKind kind = checkpointKind(checkpoint);
    if (volume && kind != CheckpointKind::Volume) {
        return CheckpointProblem{text("Not a volume model"),
                                 text("%1\n\nis %2. A CT/MRI volume needs a Diff-UNet checkpoint; "
                                      "open a photo to use a DermoSegDiff model.")
                                     .arg(checkpoint, checkpointKindText(kind))};
    }
    if (!volume && kind == CheckpointKind::Volume) {
        return CheckpointProblem{text("Not a photo model"),
                                 text("%1\n\nis a Diff-UNet model for CT/MRI volumes. A photo "
                                      "needs a DermoSegDiff checkpoint; open a volume (File > "
                                      "Open) to use this one.")
                                     .arg(checkpoint)};
    }
    return std::nullopt;
}

} // namespace diffseg::app
