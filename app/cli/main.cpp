// diffseg: the command-line front end of the engine (segment, train, eval, info, bench, ...).
// Builds without Qt and VTK so that it runs on GPU servers.

#include "CliCommand.h"
#include "base/Error.h"
#include "runtime/ResourcePaths.h"
#include "runtime/Runtime.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <sstream>

namespace {

std::string versionText()
{
    const diffseg::core::LibraryVersions v = diffseg::core::libraryVersions();
    std::ostringstream out;
    out << "diffseg " << v.diffseg << "\n"
        << "  ITK " << v.itk << ", OpenCV " << v.opencv << ", LibTorch " << v.torch << "\n"
        << "  CUDA: "
        << (v.cudaAvailable ? "available, " + std::to_string(v.cudaDeviceCount) + " device(s)"
                            : std::string("not available (CPU only)"))
        << "\n  compute threads: " << v.computeThreads;
    const std::string resources = diffseg::core::resourceDir();
    out << "\n  resources: " << (resources.empty() ? std::string("not found") : resources);
    return out.str();
}

} // namespace

int main(int argc, char** argv)
{
    diffseg::core::setComputeThreads(0);

    CLI::App app{"diffseg: diffusion-model segmentation of dermoscopy images and CT/MRI volumes.\n"
                 "The engine behind DiffSeg Studio; every subcommand also runs headless."};
    app.set_version_flag("--version", versionText, "Print versions of diffseg and its libraries");
    app.require_subcommand(0, 1);
    diffseg::app::CliResult result;
    diffseg::app::addRegisteredCommands(app, result);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version end here with 0; every other parse error is a usage error (2),
        // whatever CLI11's own code for it, so that scripts can rely on the documented statuses.
        const int code = app.exit(e);
        return code == 0 ? diffseg::app::kExitOk : diffseg::app::kExitUsage;
    } catch (const diffseg::core::Error& e) {
        std::fprintf(stderr, "diffseg: error: %s\n", e.what());
        return e.kind() == diffseg::core::ErrorKind::Cancelled ? diffseg::app::kExitCancelled
                                                               : diffseg::app::kExitError;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "diffseg: error: %s\n", e.what());
        return diffseg::app::kExitError;
    }
    if (app.get_subcommands().empty()) {
        std::printf("%s", app.help().c_str());
    }
    return result.exitCode;
}
