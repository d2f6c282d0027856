#pragma once

#include <string>
#include <vector>

namespace diffseg::core::engine {

/// One compared quantity of a parity fixture.
struct ParityPart
{
    std::string name;         ///< e.g. "eps_hat (eval, cached WS)", "schedule/cosine/betas"
    double maxAbsError = 0.0; ///< max |ours - reference|
    double tolerance = 0.0;
    bool passed = false;
};

struct ParityReport
{
    std::string fixture;
    std::string network;    ///< "DermoSegDiff" or "Diff-UNet"
    std::string configJson; ///< the fixture's meta/config
    long long parameterCount = 0;
    int weightTensors = 0; ///< tensors loaded by name from param/*
    std::vector<ParityPart> parts;

    bool passed() const;
};

/// Tolerances of `diffseg check-parity` (the acceptance values).
struct ParityTolerances
{
    double epsHat = 1e-4;
    double betas = 1e-12;
    double boundary = 1e-4;
};

/// Checks our engine against a reference fixture in the format of shared/parity/
/// dermosegdiff_small.pt (a torch.save'd dict of tensors: param/<state_dict name>, input/x_t,
/// input/g, input/t, output/eps_hat, schedule/<mode>/betas, boundary/mask,
/// boundary/gamma<g>/t<t>, meta/config as UTF-8 JSON bytes; optional meta/schedule JSON with
/// timesteps/beta_start/beta_end, else T is the betas' length and the range 0.0004..0.08).
/// It builds the network named by meta/config, loads every param/ tensor by name (all must fit),
/// runs one forward in eval mode (cached standardised weights) and one in train mode (fresh
/// standardisation), and compares each part present in the fixture; parts absent from the fixture
/// are skipped. CPU only; LibTorch-free interface for the CLI.
///
/// Throws Error naming the file (NotFound, Format for an unreadable or incomplete fixture,
/// Mismatch when the weights do not fit, Config for a bad meta/config).
///
/// Diff-UNet fixtures (meta/config with base_features / n_stages, as shared/parity/
/// diffunet_small.pt) are checked too: edge_logits, edge_skip0..5, time_embedding, denoise_logits
/// (one denoiser evaluation on cat[input/image, input/mask_t] at input/time with MBA), all within
/// the eps_hat tolerance, and schedule/log_snr|alpha|sigma at schedule/tau (relative error).
ParityReport runParityCheck(const std::string& fixturePath,
                            const ParityTolerances& tolerances = {});

} // namespace diffseg::core::engine
