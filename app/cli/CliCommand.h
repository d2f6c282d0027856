#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace diffseg::app {

/// What a subcommand leaves behind for main(): its exit status (0 = success).
struct CliResult
{
    int exitCode = 0;
};

/// Exit statuses shared by every subcommand, so scripts can tell failures apart.
enum CliExit : int
{
    kExitOk = 0,
    kExitError = 1,     ///< the input or the configuration is wrong (message says which)
    kExitUsage = 2,     ///< bad command line (CLI11 reports it)
    kExitCancelled = 3, ///< interrupted by SIGINT/SIGTERM after a clean shutdown
    kExitTolerance = 4  ///< a check ran but a value is outside its tolerance (check-parity, eval)
};

/// Each subcommand lives in its own translation unit and registers itself on the root app. The
/// callback runs after parsing; errors are thrown as core::Error and reported by main().
using CliRegistrar = std::function<void(CLI::App& root, CliResult& result)>;

/// Registers `registrar`; called at static-initialisation time by CLI_REGISTER_COMMAND.
bool registerCliCommand(const char* name, CliRegistrar registrar);
/// Adds every registered subcommand to `root`, in name order.
void addRegisteredCommands(CLI::App& root, CliResult& result);

} // namespace diffseg::app

/// Registers a subcommand defined in a .cpp file of app/cli. Use once per file:
/// `DIFFSEG_CLI_COMMAND(info, [](CLI::App& root, CliResult& result) { ... });`
#define DIFFSEG_CLI_COMMAND(name, ...)                                                             \
    namespace {                                                                                    \
    const bool kRegistered_##name = ::diffseg::app::registerCliCommand(#name, __VA_ARGS__);        \
    }
