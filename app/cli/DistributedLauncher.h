#pragma once

#include "base/CancelToken.h"

#include <string>
#include <vector>

namespace diffseg::app {

/// `diffseg train --nproc N`: starts N copies of this command as the ranks of one local job, with
/// torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT: a free
/// port), and supervises them as torchrun does: a SIGINT/SIGTERM (`cancel`) goes to every rank
/// (they stop together and rank 0 saves `last`); when a rank fails, the others are stopped
/// (SIGTERM, then SIGKILL after `graceSeconds`). Rank 0 keeps this process's stdout (the progress);
/// the other ranks' stdout is dropped, their stderr kept. `arguments` are this command's own
/// (argv without the program and without --nproc). Returns the job's exit code: rank 0's when all
/// succeed, else the first failing rank's (or 1 when one was killed by a signal). Blocks the
/// calling thread. Errors: Error(Io) when a rank cannot be started.
int runLocalRanks(int ranks, const std::vector<std::string>& arguments,
                  const core::CancelToken& cancel, int graceSeconds);

/// This process's arguments after the program name, without `--nproc N` / `--nproc=N`.
std::vector<std::string> argumentsWithoutNproc();

} // namespace diffseg::app
