#!/usr/bin/env python3
"""Writes a small checkpoint exactly as the reference DermoSegDiff training script saves it, plus the
outputs our import must reproduce. Run once by hand; CI only reads the two files it writes.

The files must come from the reference code itself (not from our C++ port), so this script imports
the reference's DermoSegDiff class, ForwardSchedule and calc_boundary_att (xmindflow/DermoSegDiff
d8e7eec) and lucidrains' ema_pytorch 0.2.3 from paths given on the command line:

    python3 make_reference_checkpoint.py --reference-src /path/to/DermoSegDiff/src \
        [--extra-path DIR ...] --out-dir tests/data/engine

It was run with Debian's python3-torch 1.13.1 and python3-opencv. The reference's modules also
import einops, matplotlib, scipy, skimage, torchvision, termcolor and tqdm at load time: install them,
or put stand-ins on --extra-path (only einops' rearrange/reduce/Rearrange are used by the code paths
run here).

Outputs (kept small for the repository, < 500 KB):
  reference_tiny.pth           the reference's checkpoint dict: model, epoch, epochs, optimizer (SGD
                               momentum state), ema (EMA state_dict: initted, step, online_model.*,
                               ema_model.*) and vl_loss (a numpy float64, as the reference stores it)
  reference_tiny_fixture.pt    a parity fixture in the format of shared/parity/dermosegdiff_small.pt
                               for this other config and another schedule: param/<name> (the online
                               weights), meta/config, meta/schedule (JSON: T=100, betas 1e-4..0.02),
                               input/x_t, input/g, input/t, output/eps_hat (online weights),
                               output/eps_ema (EMA weights), schedule/<mode>/betas and
                               boundary/mask + boundary/gamma0.5/t<t> from the reference's functions
"""
import argparse
import json
import os
import sys

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-src", required=True, help="DermoSegDiff's src/ folder")
    parser.add_argument("--extra-path", action="append", default=[],
                        help="folders with einops / ema_pytorch (or stand-ins) to import from")
    parser.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()
    sys.path[:0] = args.extra_path + [args.reference_src]

    import torch
    from ema_pytorch import EMA
    from forward.forward_schedules import ForwardSchedule
    from models.segdiffs import DermoSegDiff
    from utils.helper_funcs import calc_boundary_att

    torch.manual_seed(20240611)
    # One level keeps the file small; the parity fixture covers the multi-level names.
    config = {"dim_x": 4, "dim_g": 4, "channels_x": 1, "channels_g": 3, "out_dim": 1,
              "dim_x_mults": [1], "dim_g_mults": [1], "resnet_block_groups": 4}
    model = DermoSegDiff(**config)
    # SGD with momentum (selectable by name in the reference) keeps one state tensor per parameter
    # instead of Adam's two, so that the file stays under 500 KB; the importer ignores it anyway.
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    # The reference's EMA arguments, with a short warm-up so that the EMA weights differ from the
    # online ones after a few steps.
    ema = EMA(model=model, beta=0.9999, update_after_step=2, update_every=1, inv_gamma=1.0,
              power=0.9)

    size, batch, timesteps = 16, 2, 250
    for _ in range(6):
        x0 = torch.where(torch.rand(batch, 1, size, size) > 0.5, 1.0, -1.0)
        g = torch.rand(batch, 3, size, size)
        t = torch.randint(1, timesteps, (batch,))
        noise = torch.randn_like(x0)
        loss = torch.nn.functional.mse_loss(model(x0 + noise, g, t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ema.update()

    checkpoint = {
        "model": model.state_dict(),
        "epoch": 5,
        "epochs": 10,
        "optimizer": optimizer.state_dict(),
        "ema": ema.state_dict(),
        "vl_loss": np.mean([0.25, 0.5]),
    }
    torch.save(checkpoint, os.path.join(args.out_dir, "reference_tiny.pth"))

    model.eval()
    ema.ema_model.eval()
    size = 32
    x_t = torch.randn(batch, 1, size, size)
    g = torch.rand(batch, 3, size, size)
    t = torch.tensor([7, 99])
    schedule = {"timesteps": 100, "beta_start": 0.0001, "beta_end": 0.02}

    def utf8(obj):
        return torch.tensor(list(json.dumps(obj).encode()), dtype=torch.uint8)

    fixture = {"param/" + k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        fixture.update({
            "meta/config": utf8(config),
            "meta/schedule": utf8(schedule),
            "input/x_t": x_t,
            "input/g": g,
            "input/t": t,
            "output/eps_hat": model(x_t, g, t),
            "output/eps_ema": ema.ema_model(x_t, g, t),
        })
    for mode in ("linear", "quadratic", "cosine", "sigmoid"):
        betas = ForwardSchedule(schedule["timesteps"], schedule["beta_start"], schedule["beta_end"],
                                mode).betas
        fixture["schedule/%s/betas" % mode] = betas.double()
    # An ellipse and a square in {-1, 1}, as the reference's masks.
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    ellipse = ((xx - 14.0) / 9.0) ** 2 + ((yy - 17.0) / 6.0) ** 2 <= 1.0
    square = (xx >= 4) & (xx < 20) & (yy >= 8) & (yy < 28)
    mask = torch.stack([ellipse, square]).unsqueeze(1).float() * 2 - 1
    fixture["boundary/mask"] = mask
    for step in (1, 50, 99):
        fixture["boundary/gamma0.5/t%d" % step] = calc_boundary_att(
            mask, torch.full((batch,), step), T=schedule["timesteps"], gamma=0.5).float()
    torch.save(fixture, os.path.join(args.out_dir, "reference_tiny_fixture.pt"))


if __name__ == "__main__":
    main()
