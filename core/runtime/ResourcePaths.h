#pragma once

#include <string>
#include <vector>

namespace diffseg::core {

/// Where the application's read-only resources are: the folder that holds `configs/` (training
/// configurations) and `models/` (the demo checkpoints), as `resources/` does in the source tree
/// and `share/diffseg-studio/` does once installed. Lookup order:
///
///  1. `$DIFFSEG_RESOURCE_DIR`, when it names an existing folder;
///  2. `<prefix>/share/diffseg-studio`, where `<prefix>` is the folder above the one holding the
///     running executable (the installed layout `<prefix>/bin/diffseg`; the executable's path has
///     its symbolic links resolved, so a link elsewhere to it still works);
///  3. the `resources/` folder of the source tree this build was configured from, when it exists
///     (running from a build folder).
///
/// Returns an absolute path without a trailing separator, or an empty string when no candidate
/// exists (never throws). Thread-safe: reads the environment and the file system only; the
/// result is not cached, so it follows changes of the environment.
std::string resourceDir();

/// Steps 2 and 3 of resourceDir() for a given executable path (for tests and tools).
std::string resourceDirFor(const std::string& executablePath);

/// `resourceDir()/relative` when that file or folder exists, else an empty string, e.g.
/// `resourcePath("models/dermoscopy-demo.dsckpt")`.
std::string resourcePath(const std::string& relative);

/// What a packaged model segments.
enum class PackagedModelKind
{
    Photo, ///< 2D dermoscopy photos (DermoSegDiff)
    Volume ///< CT/MRI volumes (Diff-UNet)
};

/// The packaged model used when none is chosen: the first of `models/` that exists, in order of
/// preference (photos: dermoscopy-isic2018.dsckpt, the real model; then dermoscopy-demo.dsckpt,
/// trained on generated photos only. Volumes: diffunet-hippocampus.dsckpt, then
/// diffunet-demo.dsckpt). An empty string when none is installed.
std::string packagedDefaultModel(PackagedModelKind kind);
/// Every packaged model of that kind that is installed, in the same order of preference.
std::vector<std::string> packagedModels(PackagedModelKind kind);

/// Absolute path of the running executable with its links resolved (`/proc/self/exe` on Linux),
/// or an empty string when the system does not say.
std::string executablePath();

} // namespace diffseg::core
