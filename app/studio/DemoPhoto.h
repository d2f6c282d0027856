#pragma once

#include <QString>

namespace diffseg::app {

/// The photo the first-run demo opens, and how the window credits it.
struct DemoPhoto
{
    QString image; ///< absolute path of the photo (its ground truth lies next to it)
    QString what;  ///< e.g. "a generated dermoscopy photo", for the status bar
    QString title; ///< the window title while it is open
};

/// The default photo model: the best packaged one (core::packagedDefaultModel), or an empty
/// string when none is installed.
QString demoModelPath();
/// A real demo photo shipped in resources/demo/ (its mask in masks/, its credit in CREDITS.md)
/// for the real photo model; empty when none is installed.
QString realDemoPhoto();
/// The demo photo for `model`: the real model gets the real photo (one it never trained on,
/// credited); otherwise a photo of the generator the demo model was trained on (`diffseg
/// demo-data`, at a seed it never saw), written afresh with its ground truth under the cache
/// folder (a few milliseconds, so it always matches this version's generator). Throws
/// core::Error naming the folder when the generated photo cannot be written.
DemoPhoto prepareDemoPhoto(const QString& model);

} // namespace diffseg::app
