#include "DemoPhoto.h"

#include "base/Error.h"
#include "data/DemoData.h"
#include "io/ImageWriter.h"
#include "runtime/ResourcePaths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#include <cstdint>
#include <exception>

namespace diffseg::app {

namespace {

/// The demo photo: 512 px like the sample, at the first seed the demo model's held-out images use
/// (packaging/make-demo-models.sh trains on seeds 0..239 and scores seeds 10000..10007).
constexpr int kDemoImageSize = 512;
constexpr std::uint64_t kDemoSeed = 10000;

QString tr(const char* text)
{
    return QCoreApplication::translate("DemoPhoto", text);
}

} // namespace

QString demoModelPath()
{
    return QString::fromStdString(core::packagedDefaultModel(core::PackagedModelKind::Photo));
}

QString realDemoPhoto()
{
    const QString folder = QString::fromStdString(core::resourcePath("demo"));
    if (folder.isEmpty()) {
        return {};
    }
    const QStringList photos = QDir(folder).entryList(
        {QStringLiteral("*.jpg"), QStringLiteral("*.png")}, QDir::Files, QDir::Name);
    return photos.isEmpty() ? QString() : QDir(folder).absoluteFilePath(photos.front());
}

DemoPhoto prepareDemoPhoto(const QString& model)
{
    DemoPhoto demo;
    const bool real = !model.isEmpty() && !QFileInfo(model).fileName().contains("demo") &&
                      !realDemoPhoto().isEmpty();
    if (real) {
        demo.image = realDemoPhoto();
        const QString stem = QFileInfo(demo.image).completeBaseName();
        demo.what = tr("a dermoscopy photo of the ISIC 2018 challenge's validation set (%1; ISIC "
                       "Archive, CC BY-NC 4.0), never trained on")
                        .arg(stem);
        demo.title = tr("Demo photo %1 (ISIC 2018, CC BY-NC 4.0) - DiffSeg Studio").arg(stem);
        return demo;
    }
    // images/ and masks/ as `diffseg demo-data` writes them, so the ground truth is found next to
    // the photo like any other.
    const QString folder =
        QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/demo");
    const QString stem = QStringLiteral("demo_%1").arg(kDemoSeed);
    demo.image = folder + QStringLiteral("/images/") + stem + QStringLiteral(".png");
    const QString mask =
        folder + QStringLiteral("/masks/") + stem + QStringLiteral("_segmentation.png");
    try {
        if (!QDir().mkpath(QFileInfo(demo.image).absolutePath()) ||
            !QDir().mkpath(QFileInfo(mask).absolutePath())) {
            throw core::Error(core::ErrorKind::Io, folder.toStdString(), "cannot create it");
        }
        const core::DermoscopyDemo generated =
            core::generateDermoscopyDemo(kDemoImageSize, kDemoImageSize, kDemoSeed);
        core::writeImage(generated.image, demo.image.toStdString());
        core::writeMaskPng(generated.mask, mask.toStdString());
    } catch (const core::Error&) {
        throw;
    } catch (const std::exception& e) {
        throw core::Error(core::ErrorKind::Io, folder.toStdString(), e.what());
    }
    demo.what = tr("a generated dermoscopy photo");
    demo.title = tr("Demo photo (generated) - DiffSeg Studio");
    return demo;
}

} // namespace diffseg::app
