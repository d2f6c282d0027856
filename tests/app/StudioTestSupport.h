#pragma once

// Helpers shared by the diffseg-studio tests: generated photos and masks, window options that
// keep tests away from the user's settings, mouse drags, and catching message boxes.

#include "MainWindow.h"
#include "base/Image2D.h"

#include <QGuiApplication>
#include <QPoint>
#include <QString>
#include <QStringList>

#include <functional>

class QWidget;

namespace diffseg::test {

/// A dermoscopy-like RGB photo: reddish skin with texture, a dark ellipse off-centre.
core::Image2D syntheticPhoto(int width, int height);
/// The ellipse of syntheticPhoto() as a uint8 {0,1} mask (its "ground truth").
core::Image2D syntheticLesionMask(int width, int height);

/// Options of a test window: no modal prompts, settings and autosaves under `dir` named `name`.
app::MainWindowOptions testOptions(const QString& dir, const QString& name);

/// Presses `button` at points.first(), moves through every point, releases at points.last().
void drag(QWidget* widget, Qt::MouseButton button, const QList<QPoint>& points,
          Qt::KeyboardModifiers modifiers = Qt::NoModifier);

/// Runs `action` while a watcher closes the first modal message box that appears and returns
/// its title and text ("" when none appeared within `timeoutMs`).
QString catchMessageBox(const std::function<void()>& action, int timeoutMs = 30000);

/// Milliseconds from the start of `action` until `widget` has been repainted (the event loop
/// runs until its paint event is done, however Qt schedules it); -1 after `timeoutMs`.
double msUntilPainted(QWidget* widget, const std::function<void()>& action, int timeoutMs = 5000);

/// Number of pixels of `mask` that are nonzero.
std::size_t lesionPixels(const core::Image2D& mask);

/// Sets the photo model panel's sampler (DDIM or DDPM), steps, ensemble and seed: small runs.
void useFastSampling(app::MainWindow& window, int steps, int members, bool ddim = true,
                     int seed = 3);

} // namespace diffseg::test

/// Skips the test case unless the platform can show OpenGL views (the studio's windows have
/// them; xvfb-run gives one, the offscreen and minimal platforms do not).
#define DIFFSEG_REQUIRE_GL_DISPLAY()                                                               \
    do {                                                                                           \
        const QString platform = QGuiApplication::platformName();                                  \
        if (platform == QLatin1String("offscreen") || platform == QLatin1String("minimal")) {      \
            QSKIP("the studio's windows have OpenGL views: run under xvfb-run");                   \
        }                                                                                          \
    } while (false)
