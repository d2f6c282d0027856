#include "StudioTestSupport.h"

#include "PhotoMode.h"
#include "TestSupport.h"
#include "VolumeMode.h"
#include "panels/ModelPanel.h"
#include "panels/VolumePanel.h"

#include <QAbstractButton>
#include <QApplication>
#include <QDir>
#include <QMessageBox>
#include <QStandardPaths>
#include <QTimer>
#include <QtTest>

#include <cstdint>

namespace diffseg::test {

namespace {

bool insideLesion(int x, int y, int width, int height)
{
    const double dx = (x + 0.5 - 0.45 * width) / (0.28 * width);
    const double dy = (y + 0.5 - 0.55 * height) / (0.3 * height);
    return dx * dx + dy * dy < 1.0;
}

/// Notes that a widget received a paint event.
class PaintWatcher : public QObject
{
public:
    bool painted = false;

protected:
    bool eventFilter(QObject*, QEvent* e) override
    {
        painted = painted || e->type() == QEvent::Paint;
        return false;
    }
};

} // namespace

double msUntilPainted(QWidget* widget, const std::function<void()>& action, int timeoutMs)
{
    PaintWatcher watcher;
    widget->installEventFilter(&watcher);
    QElapsedTimer clock;
    clock.start();
    action();
    // The paint runs inside processEvents(), so the flag is seen only once it has finished.
    while (!watcher.painted && clock.elapsed() < timeoutMs) {
        QApplication::processEvents(QEventLoop::AllEvents, 1);
    }
    const double ms = clock.nsecsElapsed() / 1e6;
    widget->removeEventFilter(&watcher);
    return watcher.painted ? ms : -1.0;
}

core::Image2D syntheticPhoto(int width, int height)
{
    core::Image2D image(width, height, 3, core::PixelType::UInt8);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const bool lesion = insideLesion(x, y, width, height);
            const int texture = (x * 7 + y * 13) % 11;
            image.at<std::uint8_t>(x, y, 0) = std::uint8_t(lesion ? 90 + texture : 205 - texture);
            image.at<std::uint8_t>(x, y, 1) = std::uint8_t(lesion ? 60 + texture : 160 - texture);
            image.at<std::uint8_t>(x, y, 2) = std::uint8_t(lesion ? 50 + texture : 140 - texture);
        }
    }
    return image;
}

core::Image2D syntheticLesionMask(int width, int height)
{
    core::Image2D mask(width, height, 1, core::PixelType::UInt8);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            mask.at<std::uint8_t>(x, y) = insideLesion(x, y, width, height) ? 1 : 0;
        }
    }
    return mask;
}

QString studioScratchDir(const QString& name)
{
    QStandardPaths::setTestModeEnabled(true);
    return scratchDir(name);
}

app::MainWindowOptions testOptions(const QString& dir, const QString& name, bool interactive)
{
    app::MainWindowOptions o;
    o.interactive = interactive;
    o.settingsFile = QDir(dir).filePath(name + QStringLiteral(".ini"));
    o.autosaveFolder = QDir(dir).filePath(QStringLiteral("autosave-") + name);
    o.autosaveDebounceMs = 100;
    return o;
}

QString catchMessageBox(const std::function<void()>& action, int timeoutMs)
{
    QString caught;
    QTimer watcher;
    watcher.setInterval(20);
    QElapsedTimer clock;
    clock.start();
    QObject::connect(&watcher, &QTimer::timeout, [&] {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        if (box) {
            caught = box->windowTitle() + QStringLiteral(": ") + box->text();
            box->done(QMessageBox::Ok);
            watcher.stop();
        } else if (clock.elapsed() > timeoutMs) {
            watcher.stop();
        }
    });
    watcher.start();
    action();
    // The box may come from a queued event (e.g. a failed run): wait for it.
    (void)QTest::qWaitFor([&] { return !caught.isEmpty() || !watcher.isActive(); }, timeoutMs);
    watcher.stop();
    return caught;
}

std::size_t lesionPixels(const core::Image2D& mask)
{
    std::size_t n = 0;
    const auto* p = mask.data<std::uint8_t>();
    for (std::size_t i = 0; i < mask.pixelCount(); ++i) {
        n += p[i] != 0;
    }
    return n;
}

void useFastSampling(app::MainWindow& window, int steps, int members, bool ddim, int seed)
{
    core::SegmentationRequest r = window.photoMode()->modelPanel()->options();
    r.sampler = ddim ? "ddim" : "ddpm";
    r.steps = steps;
    r.ensemble = members;
    r.seed = static_cast<std::uint64_t>(seed);
    window.photoMode()->modelPanel()->setOptions(r);
}

app::VolumeMode* openVolumeWithModel(app::MainWindow& window, const QString& path,
                                     const QString& checkpoint)
{
    window.show();
    if (!QTest::qWaitForWindowExposed(&window)) {
        qWarning("the window was not exposed");
        return nullptr;
    }
    app::VolumeMode* mode = window.volumeMode();
    if (!window.openPath(path, true)) {
        qWarning("%s did not open: %s", qPrintable(path), qPrintable(mode->lastError()));
        return nullptr;
    }
    window.addModel(checkpoint);
    return mode;
}

void useVolumeSampling(app::VolumeMode* mode, int steps, std::optional<double> overlap,
                       std::optional<int> seed)
{
    core::SegmentationRequest r = mode->panel()->options();
    r.steps = steps;
    r.overlap = overlap.value_or(r.overlap);
    r.seed = static_cast<std::uint64_t>(seed.value_or(static_cast<int>(r.seed)));
    mode->panel()->setOptions(r);
}

} // namespace diffseg::test
