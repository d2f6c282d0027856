// diffseg-studio: the DiffSeg Studio desktop application.

#include "MainWindow.h"
#include "OpenMpWait.h"
#include "PhotoMode.h"
#include "panels/ModelPanel.h"
#include "panels/OverlayPanel.h"
#include "runtime/Runtime.h"
#include "volume/VolumeView3D.h"
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

/// The command line: `--help` and `--version` need no display, so they are answered before any
/// window system is touched (from a plain QCoreApplication).
struct CommandLine
{
    QCommandLineOption sampleOption{
        QStringLiteral("sample"),
        QStringLiteral("Open the generated sample data (a lesion photo and a CT phantom).")};
    QCommandLineOption demoOption{
        QStringLiteral("demo"),
        QStringLiteral("Open the demo photo with the demo model selected, ready to segment "
                       "(default when no file is given).")};
    QCommandLineOption screenshotOption{
        QStringLiteral("screenshot"),
        QStringLiteral("Save a picture of the window to <png> once it has rendered (with "
                       "--segment: once the segmentation has finished), then quit."),
        QStringLiteral("png")};
    QCommandLineOption sizeOption{QStringLiteral("size"),
                                  QStringLiteral("Window size, e.g. 1280x800."),
                                  QStringLiteral("WxH")};
    QCommandLineOption modelOption{QStringLiteral("model"),
                                   QStringLiteral("Add a checkpoint to the model chooser and "
                                                  "select it."),
                                   QStringLiteral("checkpoint")};
    QCommandLineOption referenceOption{
        QStringLiteral("reference-config"),
        QStringLiteral("Preset (isic2018, ph2, ham10000) or config file of a reference .pth."),
        QStringLiteral("name")};
    QCommandLineOption gtOption{QStringLiteral("gt"),
                                QStringLiteral("Ground-truth mask of the image."),
                                QStringLiteral("mask")};
    QCommandLineOption segmentOption{QStringLiteral("segment"),
                                     QStringLiteral("Segment the image once the window is up.")};
    QCommandLineOption stepsOption{QStringLiteral("steps"),
                                   QStringLiteral("DDIM steps (with --segment)."),
                                   QStringLiteral("n")};
    QCommandLineOption ensembleOption{QStringLiteral("ensemble"),
                                      QStringLiteral("Ensemble members (with --segment)."),
                                      QStringLiteral("k")};
    QCommandLineOption heatmapOption{
        QStringLiteral("heatmap"),
        QStringLiteral("Heat map to show: photos 0 none, 1 probability, 2 std, 3 entropy, "
                       "4 instability; volumes 0 none, 1 probability, 2 entropy, 3 step entropy, "
                       "4 mirror variance."),
        QStringLiteral("index")};
    QCommandLineOption settingsOption{
        QStringLiteral("settings"),
        QStringLiteral("Keep the settings in this INI file instead of the user's."),
        QStringLiteral("ini")};
    QCommandLineOption noRestoreOption{
        QStringLiteral("no-restore"),
        QStringLiteral("Do not offer to restore autosaved edits of a crashed session.")};

    void addTo(QCommandLineParser& parser) const
    {
        parser.setApplicationDescription(
            QStringLiteral("DiffSeg Studio: diffusion-model segmentation of dermoscopy images and "
                           "CT/MRI volumes."));
        parser.addHelpOption();
        parser.addVersionOption();
        parser.addPositionalArgument(QStringLiteral("file"),
                                     QStringLiteral("Photo or volume to open."),
                                     QStringLiteral("[file]"));
        parser.addOptions({sampleOption, demoOption, screenshotOption, sizeOption, modelOption,
                           referenceOption, gtOption, segmentOption, stepsOption, ensembleOption,
                           heatmapOption, settingsOption, noRestoreOption});
    }
};

void setApplicationNames()
{
    QCoreApplication::setApplicationName(QStringLiteral("DiffSeg Studio"));
    QCoreApplication::setOrganizationName(QStringLiteral("DiffSeg"));
    QCoreApplication::setApplicationVersion(QStringLiteral(DIFFSEG_VERSION));
}

/// True when the arguments only ask for help or the version.
bool asksOnlyForInformation(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray a(argv[i]);
        if (a == "-h" || a == "--help" || a == "--help-all" || a == "-?" || a == "-v" ||
            a == "--version") {
            return true;
        }
    }
    return false;
}

} // namespace

int main(int argc, char** argv)
{
    diffseg::app::relaunchWithPassiveOpenMpWait(argv);
    if (asksOnlyForInformation(argc, argv)) {
        // Prints and exits inside process(), with no display needed.
        QCoreApplication core(argc, argv);
        setApplicationNames();
        const CommandLine cl;
        QCommandLineParser parser;
        cl.addTo(parser);
        parser.process(core);
        return 0;
    }
    diffseg::widgets::preInitializeApplication();
    QApplication app(argc, argv);
    setApplicationNames();
    QApplication::setDesktopFileName(QStringLiteral("diffseg-studio"));
    diffseg::core::setComputeThreads(0);

    const CommandLine cl;
    QCommandLineParser parser;
    cl.addTo(parser);
    parser.process(app);

    diffseg::app::MainWindowOptions options;
    options.settingsFile = parser.value(cl.settingsOption);
    diffseg::app::MainWindow window(options);
    if (parser.isSet(cl.sizeOption)) {
        const QStringList wh = parser.value(cl.sizeOption).split(QLatin1Char('x'));
        if (wh.size() == 2 && wh[0].toInt() > 0 && wh[1].toInt() > 0) {
            window.resize(wh[0].toInt(), wh[1].toInt());
        }
    }
    const QStringList files = parser.positionalArguments();
    // With a photo to open, the window stays 2D (the 3D view opens when asked for).
    if (parser.isSet(cl.sampleOption)) {
        window.openSamples();
    } else if (files.isEmpty() || parser.isSet(cl.demoOption)) {
        if (!window.openDemo()) {
            window.openSamples();
        }
    } else if (!window.openPath(files.first())) {
        window.openSamples();
    }
    if (parser.isSet(cl.gtOption)) {
        window.photoMode()->loadGroundTruth(parser.value(cl.gtOption));
    }
    if (parser.isSet(cl.modelOption)) {
        window.addModel(parser.value(cl.modelOption), parser.value(cl.referenceOption));
    }
    diffseg::core::SegmentationRequest request = window.photoMode()->modelPanel()->options();
    if (parser.isSet(cl.stepsOption)) {
        request.steps = parser.value(cl.stepsOption).toInt();
    }
    if (parser.isSet(cl.ensembleOption)) {
        request.ensemble = parser.value(cl.ensembleOption).toInt();
    }
    window.photoMode()->modelPanel()->setOptions(request);
    window.show();
    const bool segment = parser.isSet(cl.segmentOption);
    const QString screenshot = parser.value(cl.screenshotOption);
    const int heatmap =
        parser.isSet(cl.heatmapOption) ? parser.value(cl.heatmapOption).toInt() : -1;
    if (segment) {
        QObject::connect(&window, &diffseg::app::MainWindow::segmentationEnded, &window,
                         [&window, screenshot, heatmap](bool ok) {
                             if (heatmap >= 0) {
                                 window.setHeatmapChoice(heatmap);
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
    if (!parser.isSet(cl.noRestoreOption) && screenshot.isEmpty()) {
        QTimer::singleShot(0, &window, [&window] { window.photoMode()->offerAutosaveRestore(); });
    }
    return QApplication::exec();
}
