// diffseg bench: the container of the benchmark sub-subcommands (see BenchCommand.h).

#include "BenchCommand.h"

#include <CLI/CLI.hpp>

#include <map>

namespace diffseg::app {

namespace {

std::map<std::string, BenchRegistrar>& benchRegistry()
{
    static std::map<std::string, BenchRegistrar> commands;
    return commands;
}

void registerBench(CLI::App& root, CliResult& result)
{
    auto* bench = root.add_subcommand(
        "bench", "Measure the engine's speed and memory on this machine (figures for reports)");
    bench->require_subcommand(1);
    for (auto& [name, registrar] : benchRegistry()) {
        registrar(*bench, result);
    }
}

} // namespace

bool registerBenchCommand(const char* name, BenchRegistrar registrar)
{
    benchRegistry()[name] = std::move(registrar);
    return true;
}

} // namespace diffseg::app

DIFFSEG_CLI_COMMAND(bench, ::diffseg::app::registerBench)
