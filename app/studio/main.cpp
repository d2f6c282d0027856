// diffseg-studio: the DiffSeg Studio desktop application.

#include "MainWindow.h"
#include "runtime/Runtime.h"
#include "views/ModelPanel.h"
#include "views/OverlayPanel.h"
#include "views/VolumeView3D.h"
#include "vtkqt/GlSetup.h"
#include "vtkqt/VtkRenderWidget.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>

namespace {

/// Saves a picture of the whole window and quits (status 1 when `ok` is false or it fails).
void saveScreenshot(diffseg::app::MainWindow& window, const QString& path, bool ok)
{
    QCoreApplication::processEvents();
    const bool saved = window.grab().save(path);
    std::fprintf(saved ? stdout : stderr, "%s %s\n",
                 saved ? "screenshot saved to" : "could not save",
                 qPrintable(QDir::toNativeSeparators(QFileInfo(path).absoluteFilePath())));
    QCoreApplication::exit(saved && ok ? 0 : 1);
}

/// Saves a picture of the whole window once the views have rendered, then quits. Used for the
/// README screenshot and by tests: the grab includes the OpenGL views.
void scheduleScreenshot(diffseg::app::MainWindow& window, const QString& path)
{
    auto take = [&window, path] {
        saveScreenshot(window, path, true);
    };
    if (!window.volumeDock()->isVisible()) {
        // No OpenGL view to wait for.
        QTimer::singleShot(800, &window, take);
        return;
    }
    auto* view = window.volumeView()->renderWidget();
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
        QStringLiteral("sample"),
        QStringLiteral("Open the generated sample data (a lesion photo and a CT phantom)."));
    QCommandLineOption demoOption(
        QStringLiteral("demo"),
        QStringLiteral("Open the demo photo with the demo model selected, ready to segment "
                       "(default when no file is given)."));
    QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a picture of the window to <png> once it has rendered (with "
                       "--segment: once the segmentation has finished), then quit."),
        QStringLiteral("png"));
    QCommandLineOption sizeOption(QStringLiteral("size"),
                                  QStringLiteral("Window size, e.g. 1280x800."),
                                  QStringLiteral("WxH"));
    QCommandLineOption modelOption(QStringLiteral("model"),
                                   QStringLiteral("Add a checkpoint to the model chooser and "
                                                  "select it."),
                                   QStringLiteral("checkpoint"));
    QCommandLineOption referenceOption(
        QStringLiteral("reference-config"),
        QStringLiteral("Preset (isic2018, ph2, ham10000) or config file of a reference .pth."),
        QStringLiteral("name"));
    QCommandLineOption gtOption(QStringLiteral("gt"),
                                QStringLiteral("Ground-truth mask of the image."),
                                QStringLiteral("mask"));
    QCommandLineOption segmentOption(QStringLiteral("segment"),
                                     QStringLiteral("Segment the image once the window is up."));
    QCommandLineOption stepsOption(QStringLiteral("steps"),
                                   QStringLiteral("DDIM steps (with --segment)."),
                                   QStringLiteral("n"));
    QCommandLineOption ensembleOption(QStringLiteral("ensemble"),
                                      QStringLiteral("Ensemble members (with --segment)."),
                                      QStringLiteral("k"));
    QCommandLineOption heatmapOption(
        QStringLiteral("heatmap"),
        QStringLiteral("Heatmap to show: 0 none, 1 probability, 2 std, 3 entropy, 4 instability."),
        QStringLiteral("index"));
    QCommandLineOption settingsOption(
        QStringLiteral("settings"),
        QStringLiteral("Keep the settings in this INI file instead of the user's."),
        QStringLiteral("ini"));
    QCommandLineOption noRestoreOption(
        QStringLiteral("no-restore"),
        QStringLiteral("Do not offer to restore autosaved edits of a crashed session."));
    parser.addOptions({sampleOption, demoOption, screenshotOption, sizeOption, modelOption,
                       referenceOption, gtOption, segmentOption, stepsOption, ensembleOption,
                       heatmapOption, settingsOption, noRestoreOption});
    parser.process(app);

    diffseg::app::MainWindowOptions options;
    options.settingsFile = parser.value(settingsOption);
    diffseg::app::MainWindow window(options);
    if (parser.isSet(sizeOption)) {
        const QStringList wh = parser.value(sizeOption).split(QLatin1Char('x'));
        if (wh.size() == 2 && wh[0].toInt() > 0 && wh[1].toInt() > 0) {
            window.resize(wh[0].toInt(), wh[1].toInt());
        }
    }
    const QStringList files = parser.positionalArguments();
    // With a photo to open, the window stays 2D (the 3D view opens when asked for).
    if (parser.isSet(sampleOption)) {
        window.openSamples();
    } else if (files.isEmpty() || parser.isSet(demoOption)) {
        if (!window.openDemo()) {
            window.openSamples();
        }
    } else if (!window.openPath(files.first())) {
        window.openSamples();
    }
    if (parser.isSet(gtOption)) {
        window.loadGroundTruth(parser.value(gtOption));
    }
    if (parser.isSet(modelOption)) {
        window.addModel(parser.value(modelOption), parser.value(referenceOption));
    }
    diffseg::widgets::SamplingRequest request = window.modelPanel()->request();
    if (parser.isSet(stepsOption)) {
        request.steps = parser.value(stepsOption).toInt();
    }
    if (parser.isSet(ensembleOption)) {
        request.ensemble = parser.value(ensembleOption).toInt();
    }
    window.modelPanel()->setRequest(request);
    window.show();
    const bool segment = parser.isSet(segmentOption);
    const QString screenshot = parser.value(screenshotOption);
    const int heatmap = parser.isSet(heatmapOption) ? parser.value(heatmapOption).toInt() : -1;
    if (segment) {
        QObject::connect(&window, &diffseg::app::MainWindow::segmentationEnded, &window,
                         [&window, screenshot, heatmap](bool ok) {
                             if (heatmap >= 0) {
                                 window.overlayPanel()->setHeatmapChoice(heatmap);
                             }
                             if (!screenshot.isEmpty()) {
                                 QTimer::singleShot(500, &window, [&window, screenshot, ok] {
                                     saveScreenshot(window, screenshot, ok);
                                 });
                             }
                         });
        QTimer::singleShot(0, &window, [&window, screenshot] {
            if (!window.startSegmentation() && !screenshot.isEmpty()) {
                saveScreenshot(window, screenshot, false);
            }
        });
    } else if (!screenshot.isEmpty()) {
        scheduleScreenshot(window, screenshot);
    }
    if (!parser.isSet(noRestoreOption) && screenshot.isEmpty()) {
        QTimer::singleShot(0, &window, [&window] { window.offerAutosaveRestore(); });
    }
    return QApplication::exec();
}
