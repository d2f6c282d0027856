#include "ModelCatalog.h"

#include "runtime/ResourcePaths.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>

namespace diffseg::app {

namespace {

/// "preset|path" pairs as stored in the settings, looked up by path.
QString presetFromPairs(const QStringList& pairs, const QString& path)
{
    for (const QString& pair : pairs) {
        const int bar = pair.indexOf(QLatin1Char('|'));
        if (bar > 0 && pair.mid(bar + 1) == path) {
            return pair.left(bar);
        }
    }
    return {};
}

} // namespace

bool ModelCatalog::isReferenceCheckpoint(const QString& path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    return suffix == QLatin1String("pth") || suffix == QLatin1String("pt");
}

QString ModelCatalog::guessedPreset(const QString& path)
{
    const QString name = QFileInfo(path).fileName().toLower();
    if (name.contains(QLatin1String("ph2"))) {
        return QStringLiteral("ph2");
    }
    if (name.contains(QLatin1String("ham"))) {
        return QStringLiteral("ham10000");
    }
    return QStringLiteral("isic2018");
}

QString ModelCatalog::labelFor(const QString& path, const QString& preset)
{
    const QString name = QFileInfo(path).fileName();
    return preset.isEmpty() ? name : QStringLiteral("%1 (reference, %2)").arg(name, preset);
}

std::vector<ModelEntry> ModelCatalog::scan(const QString& modelsFolder, const QString& runsFolder,
                                           const QStringList& extraFiles,
                                           const QStringList& presetPairs)
{
    std::vector<ModelEntry> out;
    QSet<QString> seen;
    auto add = [&](const QString& path, const QString& label) {
        const QString absolute = QFileInfo(path).absoluteFilePath();
        if (seen.contains(absolute) || !QFileInfo(absolute).isFile()) {
            return;
        }
        seen.insert(absolute);
        QString preset;
        if (isReferenceCheckpoint(absolute)) {
            preset = presetFromPairs(presetPairs, absolute);
            if (preset.isEmpty()) {
                preset = guessedPreset(absolute);
            }
        }
        out.push_back({absolute, label.isEmpty() ? labelFor(absolute, preset) : label, preset});
    };
    for (const QString& f : extraFiles) {
        add(f, {});
    }
    if (!runsFolder.isEmpty()) {
        const QDir runs(runsFolder);
        for (const QString& name : runs.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
            for (const char* kind : {"best", "last"}) {
                const QString file = runs.filePath(name + QLatin1Char('/') + QLatin1String(kind) +
                                                   QLatin1String(".dsckpt"));
                add(file, QStringLiteral("run %1: %2").arg(name, QLatin1String(kind)));
            }
        }
    }
    if (!modelsFolder.isEmpty()) {
        const QDir models(modelsFolder);
        for (const QFileInfo& f : models.entryInfoList(
                 {QStringLiteral("*.dsckpt"), QStringLiteral("*.pth"), QStringLiteral("*.pt")},
                 QDir::Files, QDir::Name)) {
            add(f.absoluteFilePath(), {});
        }
    }
    return out;
}

QStringList ModelCatalog::packagedModels()
{
    const QString folder = QString::fromStdString(core::resourcePath("models"));
    QStringList out;
    if (!folder.isEmpty()) {
        const QDir dir(folder);
        for (const QString& name :
             dir.entryList({QStringLiteral("*.dsckpt")}, QDir::Files, QDir::Name)) {
            out.append(dir.absoluteFilePath(name));
        }
    }
    return out;
}

} // namespace diffseg::app
