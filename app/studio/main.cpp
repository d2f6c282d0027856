// diffseg-studio: the DiffSeg Studio desktop application.

#include "MainWindow.h"
#include "runtime/Runtime.h"
#include "views/VolumeView3D.h"
#include "vtkqt/GlSetup.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>

namespace {

/// Saves a picture of the whole window once the 3D view has rendered, then quits. Used for the
/// README screenshot and by tests: the grab includes the OpenGL views.
void scheduleScreenshot(diffseg::app::MainWindow& window, const QString& path)
{
    auto* view = window.volumeView()->renderWidget();
    auto take = [&window, path] {
        QCoreApplication::processEvents();
        const bool ok = window.grab().save(path);
        std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "screenshot saved to" : "could not save",
                     qPrintable(QDir::toNativeSeparators(QFileInfo(path).absoluteFilePath())));
        QCoreApplication::exit(ok ? 0 : 1);
    };
    QObject::connect(
        view, &diffseg::widgets::VtkRenderWidget::frameRendered, &window,
        [take] { QTimer::singleShot(300, take); }, Qt::SingleShotConnection);
    // If no frame ever comes (no GL), still take the picture so the failure is visible.
    QTimer::singleShot(20000, &window, take);
}

} // namespace

int main(int argc, char** argv)
{
    diffseg::widgets::preInitializeApplication();
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("DiffSeg Studio"));
    QApplication::setOrganizationName(QStringLiteral("DiffSeg"));
    QApplication::setApplicationVersion(QStringLiteral(DIFFSEG_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("diffseg-studio"));
    diffseg::core::setComputeThreads(0);

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("DiffSeg Studio: diffusion-model segmentation of dermoscopy images and "
                       "CT/MRI volumes."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("Image to open."),
                                 QStringLiteral("[file]"));
    QCommandLineOption sampleOption(
        QStringLiteral("sample"), QStringLiteral("Open the generated sample data (default when no "
                                                 "file is given)."));
    QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a picture of the window to <png> once it has rendered, then quit."),
        QStringLiteral("png"));
    QCommandLineOption sizeOption(QStringLiteral("size"),
                                  QStringLiteral("Window size, e.g. 1280x800."),
                                  QStringLiteral("WxH"));
    parser.addOptions({sampleOption, screenshotOption, sizeOption});
    parser.process(app);

    diffseg::app::MainWindow window;
    if (parser.isSet(sizeOption)) {
        const QStringList wh = parser.value(sizeOption).split(QLatin1Char('x'));
        if (wh.size() == 2 && wh[0].toInt() > 0 && wh[1].toInt() > 0) {
            window.resize(wh[0].toInt(), wh[1].toInt());
        }
    }
    const QStringList files = parser.positionalArguments();
    window.openSamples();
    if (!files.isEmpty() && !parser.isSet(sampleOption)) {
        window.openPath(files.first());
    }
    window.show();
    if (parser.isSet(screenshotOption)) {
        scheduleScreenshot(window, parser.value(screenshotOption));
    }
    return QApplication::exec();
}
