// diffseg bench forward: DermoSegDiff forward (B=1 and the ensemble as one batch), a training step
// of a small config and a convolution roofline, all measured in the same run.

#include "BenchCommand.h"
#include "base/Error.h"
#include "engine/bench/EngineBenchmark.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>

namespace {

using diffseg::core::engine::BenchTiming;
using diffseg::core::engine::ForwardBenchOptions;
using diffseg::core::engine::ForwardBenchReport;

void printTiming(const BenchTiming& t, bool perImage)
{
    std::printf("  %-36s B=%-3d first %7.3f s  best %7.3f s (cpu %7.3f s)  median %7.3f s  "
                "%8.2f GMAC  %7.1f GFLOP/s  %5.1f%% of roofline",
                t.name.c_str(), t.batch, t.first, t.best, t.cpuBest, t.median, t.gmacs, t.gflops,
                t.percentOfRoofline);
    if (t.batch > 0 && t.name.rfind("conv", 0) != 0 && t.name.rfind("sgemm", 0) != 0) {
        std::printf("  %s", t.channelsLast ? "NHWC" : "NCHW");
    }
    if (perImage && t.batch > 1) {
        std::printf("  (%.3f s per row)", t.best / t.batch);
    }
    std::printf("\n");
    if (!t.parts.empty()) {
        std::printf("    mean of the parts:");
        for (const auto& [name, seconds] : t.parts) {
            std::printf("  %s %.3f s", name.c_str(), seconds);
        }
        std::printf("\n");
    }
}

nlohmann::json timingJson(const BenchTiming& t)
{
    nlohmann::json doc{{"name", t.name},
                       {"batch", t.batch},
                       {"first_s", t.first},
                       {"seconds", t.seconds},
                       {"best_s", t.best},
                       {"cpu_best_s", t.cpuBest},
                       {"median_s", t.median},
                       {"gmacs", t.gmacs},
                       {"gflops", t.gflops},
                       {"percent_of_roofline", t.percentOfRoofline},
                       {"channels_last", t.channelsLast}};
    for (const auto& [name, seconds] : t.parts) {
        doc["parts_mean_s"][name] = seconds;
    }
    return doc;
}

void registerForward(CLI::App& bench, diffseg::app::CliResult& result)
{
    auto options = std::make_shared<ForwardBenchOptions>();
    auto jsonPath = std::make_shared<std::string>();
    auto* command = bench.add_subcommand(
        "forward", "Time the DermoSegDiff forward in eval mode (B=1 and the 5-member ensemble as "
                   "one batch), a training step of a small config, and a conv roofline");
    command
        ->add_option(
            "--config", options->config,
            "network: isic2018, ph2, ham10000, small (dim_x 32, dim_g 16, mults 1-4 / 1-8), or a "
            "JSON file of model params")
        ->capture_default_str();
    command->add_option("--batch", options->batches, "batch sizes to time")
        ->delimiter(',')
        ->capture_default_str();
    command->add_option("--size", options->size, "image side in pixels")->capture_default_str();
    command->add_option("--threads", options->threads, "LibTorch intra-op threads")
        ->capture_default_str();
    command->add_option("--warmup", options->warmup, "untimed runs before timing")
        ->capture_default_str();
    command->add_option("--repeats", options->repeats, "timed runs (best and median reported)")
        ->capture_default_str();
    auto layout = std::make_shared<std::string>("auto");
    command
        ->add_option("--layout", *layout,
                     "activations' memory layout: auto (channels-last for bf16 and for float32 "
                     "batches above 1), nchw or channels-last")
        ->check(CLI::IsMember({"auto", "nchw", "channels-last"}))
        ->capture_default_str();
    auto* channelsLastFlag =
        command->add_flag("--channels-last", "the same as --layout channels-last");
    auto precision = std::make_shared<std::string>("auto");
    command
        ->add_option("--precision", *precision,
                     "fp32, bf16, or auto (bf16 where this CPU computes it natively)")
        ->capture_default_str();
    auto* noRewrites = command->add_flag(
        "--no-rewrites", "run the plain forms of the exact rewrites (x_t fold, upsample conv)");
    command
        ->add_option("--train-config", options->trainConfig,
                     "network of the training step (preset or JSON file)")
        ->capture_default_str();
    command->add_option("--train-batch", options->trainBatch, "batch of the training step")
        ->capture_default_str();
    command->add_option("--train-size", options->trainSize, "image side of the training step")
        ->capture_default_str();
    command->add_option("--profile", options->profilePath,
                        "profile one more forward per batch and one more training step; write "
                        "their operators as Chrome traces to PREFIX-forward-B<b>.json and "
                        "PREFIX-train.json");
    auto* noTrain = command->add_flag("--no-train", "skip the training step");
    auto* noRoofline = command->add_flag("--no-roofline", "skip the roofline");
    command->add_option("--json", *jsonPath, "also write the figures to this JSON file");
    command->callback([options, jsonPath, noTrain, noRoofline, precision, noRewrites, layout,
                       channelsLastFlag, &result] {
        if (channelsLastFlag->count() > 0) {
            *layout = "channels-last";
        }
        if (*layout != "auto") {
            options->channelsLast = *layout == "channels-last";
        }
        options->precision = diffseg::core::engine::parsePrecision(*precision, "--precision");
        options->rewrites = noRewrites->count() == 0;
        options->trainStep = noTrain->count() == 0;
        options->roofline = noRoofline->count() == 0;
        const ForwardBenchReport report = diffseg::core::engine::runForwardBenchmark(
            *options, [](const diffseg::core::ProgressInfo& info) {
                std::fprintf(stderr, "bench: %s %s\n", info.stage.c_str(), info.message.c_str());
            });
        std::printf("diffseg bench forward: %lld parameters, %dx%d, %d threads, eval + "
                    "InferenceMode, %s, layout %s%s\n  config %s\n",
                    report.parameters, report.size, report.size, report.threads,
                    report.precision.c_str(), report.layout.c_str(),
                    report.rewrites ? "" : ", plain forms (no rewrites)", report.config.c_str());
        if (!report.roofline.empty()) {
            std::printf("roofline:\n");
            for (const BenchTiming& t : report.roofline) {
                printTiming(t, false);
            }
            std::printf("  => roofline %.1f GFLOP/s (best convolution)\n", report.rooflineGflops);
        }
        std::printf("forward:\n");
        for (const BenchTiming& t : report.forward) {
            printTiming(t, true);
        }
        if (!report.train.empty()) {
            std::printf("training step (GMAC = 3 x forward):\n");
            for (const BenchTiming& t : report.train) {
                printTiming(t, false);
            }
        }
        std::printf("peak RSS: %.0f MB\n", report.peakRssMb);
        if (!jsonPath->empty()) {
            nlohmann::json doc;
            doc["config"] = nlohmann::json::parse(report.config);
            doc["parameters"] = report.parameters;
            doc["threads"] = report.threads;
            doc["size"] = report.size;
            doc["layout"] = report.layout;
            doc["precision"] = report.precision;
            doc["rewrites"] = report.rewrites;
            doc["roofline_gflops"] = report.rooflineGflops;
            doc["peak_rss_mb"] = report.peakRssMb;
            for (const auto& [key, list] : {std::pair<const char*, const std::vector<BenchTiming>*>{
                                                "roofline", &report.roofline},
                                            {"forward", &report.forward},
                                            {"train", &report.train}}) {
                doc[key] = nlohmann::json::array();
                for (const BenchTiming& t : *list) {
                    doc[key].push_back(timingJson(t));
                }
            }
            std::ofstream out(*jsonPath);
            out << doc.dump(2) << "\n";
            if (!out) {
                throw diffseg::core::Error(diffseg::core::ErrorKind::Io, *jsonPath,
                                           "cannot write the JSON report");
            }
        }
        result.exitCode = diffseg::app::kExitOk;
    });
}

} // namespace

DIFFSEG_BENCH_COMMAND(forward, registerForward)
