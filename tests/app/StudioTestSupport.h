#pragma once

// Helpers shared by the diffseg-studio tests: generated photos and masks, window options that
// keep tests away from the user's settings, mouse drags, catching message boxes and short runs of
// the volume workflow.

#include "GuiTestSupport.h"
#include "MainWindow.h"
#include "base/Image2D.h"

#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

class QWidget;

namespace diffseg::test {

/// A dermoscopy-like RGB photo: reddish skin with texture, a dark ellipse off-centre.
core::Image2D syntheticPhoto(int width, int height);
/// The ellipse of syntheticPhoto() as a uint8 {0,1} mask (its "ground truth").
core::Image2D syntheticLesionMask(int width, int height);

/// A fresh scratch folder `name` for a studio test case, with QStandardPaths in test mode so that
/// nothing the windows save reaches the user's folders.
QString studioScratchDir(const QString& name);

/// Options of a test window: settings and autosaves under `dir` named `name`; no modal prompts
/// unless `interactive` (then the window asks its start-up questions, as for a user).
app::MainWindowOptions testOptions(const QString& dir, const QString& name,
                                   bool interactive = false);

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

/// Shows `window`, opens the volume at `path` and adds the Diff-UNet `checkpoint` to its models:
/// the volume workflow then, or nullptr (with the reason logged) when the window was not exposed
/// or the volume did not open.
app::VolumeMode* openVolumeWithModel(app::MainWindow& window, const QString& path,
                                     const QString& checkpoint);

/// Sets the volume model panel's steps, and its window overlap and seed where given: short runs.
void useVolumeSampling(app::VolumeMode* mode, int steps, std::optional<double> overlap = {},
                       std::optional<int> seed = {});

} // namespace diffseg::test

// The names that every studio test spells, declared once here instead of in each file.
using diffseg::app::MainWindow;
namespace core = diffseg::core;
namespace test = diffseg::test;

/// Skips the test case unless the platform can show OpenGL views (the studio's windows have them).
#define DIFFSEG_REQUIRE_GL_DISPLAY()                                                               \
    DIFFSEG_SKIP_WITHOUT_GL_DISPLAY("the studio's windows have OpenGL views: run under xvfb-run")
