#include "AboutText.h"

#include "CheckpointKind.h"
#include "ModelCatalog.h"
#include "runtime/Runtime.h"

#include <QCoreApplication>
#include <QFileInfo>

#include <vtkVersion.h>

namespace diffseg::app {

namespace {

QString tr(const char* text)
{
    return QCoreApplication::translate("MainWindow", text);
}

} // namespace

QString aboutText()
{
    const core::LibraryVersions v = core::libraryVersions();
    const QString cuda =
        v.cudaAvailable
            ? tr("available (%1 device(s))").arg(v.cudaDeviceCount)
            : tr("not available: models run on the CPU (%1 threads)").arg(v.computeThreads);
    return tr("<h3>DiffSeg Studio %1</h3>"
              "<p>Diffusion-model segmentation of dermoscopy images and CT/MRI volumes, with "
              "reverse-diffusion step browsing and uncertainty overlays.</p>"
              "<table>"
              "<tr><td>Qt</td><td>%2</td></tr>"
              "<tr><td>VTK</td><td>%3</td></tr>"
              "<tr><td>ITK</td><td>%4</td></tr>"
              "<tr><td>LibTorch</td><td>%5</td></tr>"
              "<tr><td>OpenCV</td><td>%6</td></tr>"
              "<tr><td>CUDA</td><td>%7</td></tr>"
              "</table>")
               .arg(QString::fromStdString(v.diffseg), QString::fromLatin1(qVersion()),
                    QString::fromLatin1(vtkVersion::GetVTKVersion()), QString::fromStdString(v.itk),
                    QString::fromStdString(v.torch), QString::fromStdString(v.opencv), cuda) +
           packagedModelsText();
}

QString packagedModelsText()
{
    // Each packaged model with what its card says it was trained on and may be used for: a model
    // trained on ISIC data is for research and non-commercial use only.
    QString rows;
    for (const QString& path : ModelCatalog::packagedModels()) {
        const core::ModelCard card = checkpointCard(path);
        const QString name =
            card.name.empty() ? QFileInfo(path).fileName() : QString::fromStdString(card.name);
        const QString about =
            card.empty() ? tr("no model card")
                         : tr("Trained on: %1<br>Licence: %2")
                               .arg(QString::fromStdString(card.trainingData).toHtmlEscaped(),
                                    QString::fromStdString(card.licence.empty() ? "not stated"
                                                                                : card.licence)
                                        .toHtmlEscaped());
        rows += QStringLiteral("<li><b>%1</b><br>%2</li>").arg(name.toHtmlEscaped(), about);
    }
    if (rows.isEmpty()) {
        return {};
    }
    return tr("<p><b>Packaged models</b></p><ul>%1</ul><p>This is a research tool, not a medical "
              "device.</p>")
        .arg(rows);
}

} // namespace diffseg::app
