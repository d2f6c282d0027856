#pragma once

#include "CliCommand.h"

namespace diffseg::app {

/// `diffseg bench <what>`: each benchmark lives in its own CommandBench<What>.cpp and registers a
/// sub-subcommand on the `bench` app (forward, later sample, train, ...).
using BenchRegistrar = std::function<void(CLI::App& bench, CliResult& result)>;

/// Registers `registrar` under `diffseg bench`; called at static-initialisation time.
bool registerBenchCommand(const char* name, BenchRegistrar registrar);

} // namespace diffseg::app

/// Use once per file: `DIFFSEG_BENCH_COMMAND(forward, [](CLI::App& bench, CliResult& r) { ... });`
#define DIFFSEG_BENCH_COMMAND(name, ...)                                                           \
    namespace {                                                                                    \
    const bool kBenchRegistered_##name = ::diffseg::app::registerBenchCommand(#name, __VA_ARGS__); \
    }
