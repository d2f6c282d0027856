// How long a click takes in the studio, as the user sees it (issue 19: "a click answers, result
// shown, in at most 2 s"): the real main window opens each photo, segments it with the model's
// validated settings and accepts the result; then the simulated user of `diffseg
// eval-interactive` (core::nextSimulatedClick against the outline on screen) clicks with the
// Prompt tool, left for lesion and right for background, through real mouse events. Each click is
// timed from the mouse event until the refined outline is on screen: the run has ended, the views
// show it (PhotoMode::segmentationEnded) and the view has repainted. Prints a line per photo and
// the means; --json writes them. Needs a display (Xvfb is fine): the views are OpenGL.
//
// bench_studio_clicks --model CKPT --input DIR --gt DIR [--clicks 5] [--limit 0] [--threads 2]
//                     [--json FILE] [--screenshots DIR]

#include "MainWindow.h"
#include "OpenMpWait.h"
#include "PhotoMode.h"
#include "image/SegmentationView2D.h"
#include "interactive/SimulatedUser.h"
#include "io/ImageReader.h"
#include "metrics/ForegroundOverlap.h"
#include "panels/ModelPanel.h"
#include "runtime/Runtime.h"
#include "vtkqt/GlSetup.h"

#include <QAction>
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <vector>

namespace {

using diffseg::app::MainWindow;
using diffseg::app::PhotoMode;
using diffseg::widgets::SegmentationView2D;

/// Runs the event loop until `mode` reports the end of a run; false after `timeoutMs`.
bool waitForRunEnd(PhotoMode* mode, int timeoutMs)
{
    QEventLoop loop;
    bool ended = false;
    const auto connection =
        QObject::connect(mode, &PhotoMode::segmentationEnded, &loop, [&](bool ok) {
            ended = ok;
            loop.quit();
        });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    QObject::disconnect(connection);
    return ended;
}

/// The mask of `name` (photo stem, or stem + "_segmentation") in `gtDir`; empty when none.
QString maskFor(const QDir& gtDir, const QString& stem)
{
    for (const QString& candidate : {stem, stem + QStringLiteral("_segmentation")}) {
        const QStringList hits = gtDir.entryList({candidate + QStringLiteral(".*")}, QDir::Files);
        if (!hits.isEmpty()) {
            return gtDir.filePath(hits.first());
        }
    }
    return {};
}

double mean(const std::vector<double>& v)
{
    double s = 0.0;
    for (double x : v) {
        s += x;
    }
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

double median(std::vector<double> v)
{
    if (v.empty()) {
        return 0.0;
    }
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct PhotoCourse
{
    QString name;
    double segmentSeconds = 0.0;
    std::vector<double> dice;         ///< after 0 .. clicks clicks (the last carried forward)
    std::vector<double> clickSeconds; ///< each click, mouse event to refined outline on screen
    int zoomedClicks = 0;             ///< zoom steps taken to click beside an earlier marker
};

/// One photo: open, segment, accept, then up to `clicks` simulated clicks. Throws on failure.
PhotoCourse playPhoto(MainWindow& window, const QString& photoPath, const QString& maskPath,
                      int clicks, const QString& screenshots)
{
    PhotoCourse course;
    course.name = QFileInfo(photoPath).fileName();
    if (!window.openPath(photoPath, true)) {
        throw std::runtime_error(qPrintable(photoPath + ": " + window.lastError()));
    }
    PhotoMode* mode = window.photoMode();
    SegmentationView2D* view = mode->view();
    view->fitToWindow();
    const diffseg::core::Image2D truth = diffseg::core::readMask(maskPath.toStdString());

    QElapsedTimer clock;
    clock.start();
    if (!window.startSegmentation() || !waitForRunEnd(mode, 600000)) {
        throw std::runtime_error(
            qPrintable(photoPath + ": the segmentation did not finish: " + window.lastError()));
    }
    view->repaint();
    course.segmentSeconds = static_cast<double>(clock.nsecsElapsed()) * 1e-9;
    mode->acceptAiResult();
    course.dice.push_back(diffseg::core::foregroundDice(view->mask(), truth));

    mode->action(QStringLiteral("toolPrompt"))->trigger();
    for (int k = 1; k <= clicks; ++k) {
        // What the user sees: the refined outline once there is one, else the accepted mask.
        const diffseg::core::Image2D& shown = view->hasPreview() ? view->preview() : view->mask();
        const auto click = diffseg::core::nextSimulatedClick(shown, truth);
        if (!click) {
            course.dice.push_back(course.dice.back());
            continue;
        }
        // A press within 10 screen pixels of a marker grabs it: as a user would, zoom in first
        // when the new click is that near an earlier one.
        const QPointF point(click->x, click->y);
        double nearest = 1e9;
        for (const auto& c : view->promptLayer().clicks()) {
            nearest = std::min(nearest, std::hypot(c.x - click->x, c.y - click->y));
        }
        view->fitToWindow();
        while (nearest * view->zoom() < 14.0 && view->zoom() < 64.0) {
            view->zoomBy(2.0, view->imageToWidget(point));
            ++course.zoomedClicks;
        }
        view->centerOn(point);
        const QPoint at = view->imageToWidget(point).toPoint();
        const std::size_t before = view->promptLayer().clicks().size();
        clock.restart();
        QTest::mouseClick(view, click->lesion ? Qt::LeftButton : Qt::RightButton, Qt::NoModifier,
                          at);
        if (view->promptLayer().clicks().size() != before + 1 || !mode->isSegmenting()) {
            throw std::runtime_error(qPrintable(photoPath + ": click " + QString::number(k) +
                                                " was not taken as a new prompt"));
        }
        if (!waitForRunEnd(mode, 600000)) {
            throw std::runtime_error(qPrintable(photoPath + ": click " + QString::number(k) +
                                                " did not refine: " + window.lastError()));
        }
        view->repaint();
        course.clickSeconds.push_back(static_cast<double>(clock.nsecsElapsed()) * 1e-9);
        course.dice.push_back(diffseg::core::foregroundDice(
            view->hasPreview() ? view->preview() : view->mask(), truth));
    }
    if (!screenshots.isEmpty()) {
        view->fitToWindow();
        QTest::qWait(200); // layouts and repaints the events of the last click asked for
        window.grab().save(
            QDir(screenshots)
                .filePath(QFileInfo(photoPath).completeBaseName() + QStringLiteral("-clicks.png")));
    }
    return course;
}

} // namespace

int main(int argc, char** argv)
{
    // As the studio runs (OMP_WAIT_POLICY=ACTIVE measures the spinning default).
    diffseg::app::relaunchWithPassiveOpenMpWait(argv);
    diffseg::widgets::preInitializeApplication();
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Seconds from a Prompt-tool click to the refined outline on screen, in "
                       "the studio's main window, under the simulated user."));
    parser.addHelpOption();
    const QCommandLineOption model(QStringLiteral("model"), QStringLiteral("Checkpoint."),
                                   QStringLiteral("ckpt"));
    const QCommandLineOption input(QStringLiteral("input"), QStringLiteral("Folder of photos."),
                                   QStringLiteral("dir"));
    const QCommandLineOption gt(QStringLiteral("gt"), QStringLiteral("Folder of their masks."),
                                QStringLiteral("dir"));
    const QCommandLineOption clicksOption(QStringLiteral("clicks"),
                                          QStringLiteral("Clicks per photo."), QStringLiteral("n"),
                                          QStringLiteral("5"));
    const QCommandLineOption limit(QStringLiteral("limit"), QStringLiteral("At most n photos."),
                                   QStringLiteral("n"), QStringLiteral("0"));
    const QCommandLineOption threads(QStringLiteral("threads"),
                                     QStringLiteral("LibTorch intra-op threads."),
                                     QStringLiteral("n"), QStringLiteral("2"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Write the figures."),
                                  QStringLiteral("file"));
    const QCommandLineOption screenshotsOption(
        QStringLiteral("screenshots"),
        QStringLiteral("Save the window after each photo's last click into this folder."),
        QStringLiteral("dir"));
    parser.addOptions({model, input, gt, clicksOption, limit, threads, json, screenshotsOption});
    parser.process(app);
    if (!parser.isSet(model) || !parser.isSet(input) || !parser.isSet(gt)) {
        std::fprintf(stderr, "bench_studio_clicks: --model, --input and --gt are required\n");
        return 2;
    }
    diffseg::core::setComputeThreads(parser.value(threads).toInt());

    const QDir inputDir(parser.value(input));
    const QDir gtDir(parser.value(gt));
    std::vector<std::pair<QString, QString>> pairs;
    for (const QString& name : inputDir.entryList(
             {QStringLiteral("*.jpg"), QStringLiteral("*.png")}, QDir::Files, QDir::Name)) {
        const QString mask = maskFor(gtDir, QFileInfo(name).completeBaseName());
        if (!mask.isEmpty()) {
            pairs.emplace_back(inputDir.filePath(name), mask);
        }
    }
    const int most = parser.value(limit).toInt();
    if (most > 0 && static_cast<int>(pairs.size()) > most) {
        pairs.resize(static_cast<std::size_t>(most));
    }
    if (pairs.empty()) {
        std::fprintf(stderr, "bench_studio_clicks: no photo in %s has a mask in %s\n",
                     qPrintable(inputDir.path()), qPrintable(gtDir.path()));
        return 2;
    }

    // A scratch profile: no user settings, recent files or autosaves are touched.
    QTemporaryDir scratch;
    diffseg::app::MainWindowOptions options;
    options.interactive = false;
    options.settingsFile = scratch.filePath(QStringLiteral("bench.ini"));
    options.autosaveFolder = scratch.filePath(QStringLiteral("autosave"));
    MainWindow window(options);
    window.resize(1280, 860);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window)) {
        std::fprintf(stderr, "bench_studio_clicks: the window was not shown\n");
        return 1;
    }
    window.addModel(parser.value(model));
    const diffseg::core::SegmentationRequest request = window.photoMode()->modelPanel()->options();
    std::printf("model %s: %s %d steps x %d members; %d clicks per photo, %s threads\n",
                qPrintable(parser.value(model)), request.sampler == "ddim" ? "DDIM" : "DDPM",
                request.steps, request.ensemble, parser.value(clicksOption).toInt(),
                qPrintable(parser.value(threads)));

    const int clicks = parser.value(clicksOption).toInt();
    std::vector<double> allClicks;
    std::vector<double> segments;
    std::vector<double> diceSums(static_cast<std::size_t>(clicks) + 1, 0.0);
    QJsonArray photos;
    for (const auto& [photo, mask] : pairs) {
        PhotoCourse course;
        try {
            course = playPhoto(window, photo, mask, clicks, parser.value(screenshotsOption));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_studio_clicks: %s\n", e.what());
            return 1;
        }
        segments.push_back(course.segmentSeconds);
        allClicks.insert(allClicks.end(), course.clickSeconds.begin(), course.clickSeconds.end());
        QJsonArray dice;
        QJsonArray seconds;
        for (std::size_t k = 0; k < course.dice.size(); ++k) {
            diceSums[k] += course.dice[k];
            dice.append(course.dice[k]);
        }
        for (double s : course.clickSeconds) {
            seconds.append(s);
        }
        std::printf("%-24s segment %.2f s  Dice %.3f -> %.3f  clicks: mean %.2f s, max %.2f s"
                    "  (zoom steps %d)\n",
                    qPrintable(course.name), course.segmentSeconds, course.dice.front(),
                    course.dice.back(), mean(course.clickSeconds),
                    course.clickSeconds.empty()
                        ? 0.0
                        : *std::max_element(course.clickSeconds.begin(), course.clickSeconds.end()),
                    course.zoomedClicks);
        std::fflush(stdout);
        photos.append(QJsonObject{{QStringLiteral("photo"), course.name},
                                  {QStringLiteral("segment_seconds"), course.segmentSeconds},
                                  {QStringLiteral("dice_at"), dice},
                                  {QStringLiteral("click_seconds"), seconds}});
    }
    QJsonArray diceAt;
    for (double s : diceSums) {
        diceAt.append(s / static_cast<double>(pairs.size()));
    }
    const double maxClick =
        allClicks.empty() ? 0.0 : *std::max_element(allClicks.begin(), allClicks.end());
    std::printf("%zu photos, %zu clicks: click to outline on screen mean %.2f s, median %.2f s, "
                "max %.2f s; segment to outline mean %.2f s; Dice after 0 / %d clicks %.3f / "
                "%.3f\n",
                pairs.size(), allClicks.size(), mean(allClicks), median(allClicks), maxClick,
                mean(segments), clicks, diceAt.first().toDouble(), diceAt.last().toDouble());
    if (parser.isSet(json)) {
        const QJsonObject out{{QStringLiteral("photos"), static_cast<int>(pairs.size())},
                              {QStringLiteral("clicks"), static_cast<int>(allClicks.size())},
                              {QStringLiteral("steps"), request.steps},
                              {QStringLiteral("ensemble"), request.ensemble},
                              {QStringLiteral("seconds_per_click_mean"), mean(allClicks)},
                              {QStringLiteral("seconds_per_click_median"), median(allClicks)},
                              {QStringLiteral("seconds_per_click_max"), maxClick},
                              {QStringLiteral("segment_seconds_mean"), mean(segments)},
                              {QStringLiteral("dice_at"), diceAt},
                              {QStringLiteral("per_photo"), photos}};
        QFile file(parser.value(json));
        if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(out).toJson()) < 0) {
            std::fprintf(stderr, "bench_studio_clicks: cannot write %s\n",
                         qPrintable(parser.value(json)));
            return 1;
        }
    }
    return 0;
}
