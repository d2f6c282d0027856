// diffseg check-parity FIXTURE.pt: compares the engine with tensors made by the reference code.

#include "CliCommand.h"
#include "engine/parity/ParityCheck.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

namespace {

using diffseg::core::engine::ParityReport;

void printReport(const ParityReport& report)
{
    std::printf("fixture:    %s\n", report.fixture.c_str());
    std::printf("network:    %s, %lld parameters (%d tensors loaded by name)\n",
                report.network.c_str(), report.parameterCount, report.weightTensors);
    std::printf("config:     %s\n", report.configJson.c_str());
    std::printf("%-46s %14s %11s  %s\n", "part", "max abs error", "tolerance", "result");
    for (const auto& part : report.parts) {
        std::printf("%-46s %14.3e %11.0e  %s\n", part.name.c_str(), part.maxAbsError,
                    part.tolerance, part.passed ? "ok" : "FAIL");
    }
    std::size_t failed = 0;
    for (const auto& part : report.parts) {
        failed += part.passed ? 0 : 1;
    }
    std::printf("parity: %s (%zu parts, %zu outside tolerance)\n",
                report.passed() ? "PASS" : "FAIL", report.parts.size(), failed);
}

void registerCheckParity(CLI::App& root, diffseg::app::CliResult& result)
{
    auto* command = root.add_subcommand(
        "check-parity",
        "Check the engine against a reference fixture (weights, inputs and outputs made by the "
        "reference implementation): prints the max abs error of each part and exits with status "
        "4 when one is outside its tolerance (eps_hat 1e-4, betas 1e-12, boundary weights 1e-4)");
    auto fixture = std::make_shared<std::string>();
    command
        ->add_option("fixture", *fixture,
                     "fixture file, e.g. ../shared/parity/dermosegdiff_small.pt")
        ->required();
    command->callback([fixture, &result] {
        const ParityReport report = diffseg::core::engine::runParityCheck(*fixture);
        printReport(report);
        result.exitCode = report.passed() ? diffseg::app::kExitOk : diffseg::app::kExitTolerance;
    });
}

} // namespace

DIFFSEG_CLI_COMMAND(check_parity, registerCheckParity)
