// diffseg export-model: turns a training checkpoint into a model to ship: one set of weights (the
// EMA or the online ones), no optimizer or trainer state, and a model card (what it was trained
// on, its licence, the settings it was validated with and its scores).

#include "CliCommand.h"
#include "base/Error.h"
#include "engine/checkpoint/Checkpoint.h"
#include "inference/ModelCard.h"
#include "io/FileUtils.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace {

using diffseg::core::Error;
using diffseg::core::ErrorKind;
namespace engine = diffseg::core::engine;

struct ExportArgs
{
    std::string checkpoint;
    std::string out;
    std::string weights = "ema";
    std::string card;
};

void runExport(const ExportArgs& args)
{
    engine::Checkpoint checkpoint = engine::loadCheckpoint(args.checkpoint);
    const bool ema = args.weights == "ema";
    if (ema && !checkpoint.hasEma()) {
        throw Error(ErrorKind::InvalidValue, args.checkpoint,
                    "has no EMA weights; export the online ones with --weights online");
    }
    engine::Checkpoint out;
    out.info = checkpoint.info;
    out.model = ema ? std::move(checkpoint.ema) : std::move(checkpoint.model);
    out.info.emaStep = 0;
    out.info.emaInitted = false;
    out.info.source =
        "diffseg export-model: the " + args.weights + " weights of " + args.checkpoint +
        (checkpoint.info.step ? " (step " + std::to_string(*checkpoint.info.step) + ")"
                              : std::string());
    if (!args.card.empty()) {
        const std::vector<unsigned char> bytes =
            diffseg::core::readFileBytes(args.card, std::uint64_t(1) << 20);
        // Parsed to check it; stored as the card's own JSON.
        const diffseg::core::ModelCard card =
            diffseg::core::ModelCard::fromJson(std::string(bytes.begin(), bytes.end()), args.card);
        out.info.cardJson = card.toJson();
    }
    engine::saveCheckpoint(args.out, out);
    std::printf("wrote %s: the %s weights of %s%s\n", args.out.c_str(), args.weights.c_str(),
                args.checkpoint.c_str(), args.card.empty() ? "" : ", with its model card");
}

} // namespace

DIFFSEG_CLI_COMMAND(export_model, [](CLI::App& root, diffseg::app::CliResult& result) {
    auto args = std::make_shared<ExportArgs>();
    auto* cmd = root.add_subcommand(
        "export-model", "Make a model to ship from a training checkpoint: one set of weights (EMA "
                        "or online), no optimizer state, and a model card (--card)");
    cmd->add_option("--checkpoint", args->checkpoint, "a checkpoint written by diffseg train")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--out", args->out, "the model file to write (atomically)")->required();
    cmd->add_option("--weights", args->weights, "ema (when the checkpoint has them) or online")
        ->check(CLI::IsMember({"ema", "online"}))
        ->capture_default_str();
    cmd->add_option("--card", args->card,
                    "a JSON model card: name, input_kind, training_data, licence, notes, "
                    "validated {sampler, steps, ensemble, eta, ...}, scores {...}")
        ->check(CLI::ExistingFile);
    cmd->callback([args, &result] {
        runExport(*args);
        result.exitCode = diffseg::app::kExitOk;
    });
})
