#!/usr/bin/python3
"""Times training steps of the reference DermoSegDiff (xmindflow/DermoSegDiff, Python) on this
machine, for comparison with `diffseg train` under the same torch (Debian's python3-torch 1.13).

The reference is imported from a checkout given on the command line; nothing of it is copied
here. What Debian does not package is replaced by small stand-ins written for this script
(einops, ema_pytorch: seed spec §A12). One step is what the reference's train() does per batch:
zero_grad, p_losses (q_sample, forward, the configured l2 + boundary hybrid loss with its NumPy
boundary weights), backward, optimizer step, EMA update. Batches are real image/mask pairs,
resized like the reference's preprocessing and held in memory, so data loading and augmentation
are not timed (ours times them; see run_reference_speed.sh).

Usage: reference_train_speed.py --reference SRC_DIR --config OUR_YAML --data-dir PAIRS
           [--size 64] [--batch 8] [--threads 2] [--steps 20] [--warmup 2] [--json OUT]
           [--forward-batches 1,5]   (eval forwards instead of training steps)
"""

import argparse
import json
import os
import re
import statistics
import sys
import time
import types


def parse_axes(side):
    """'b (h c) x y' -> [['b'], ['h', 'c'], ['x'], ['y']]; '1' is an anonymous unit axis."""
    groups, current = [], None
    for token in re.findall(r"\(|\)|\.\.\.|[A-Za-z_][A-Za-z0-9_]*|\d+", side):
        if token == "(":
            current = []
        elif token == ")":
            groups.append(current)
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    return groups


def install_einops_standin():
    """rearrange / reduce / Rearrange for the patterns the reference uses: grouped axes on
    either side, unit axes written as 1, and '...' on the left of a reduction."""
    import torch

    def rearrange(tensor, pattern, **sizes):
        left, right = (parse_axes(s) for s in pattern.split("->"))
        known = dict(sizes)
        for group, dim in zip(left, tensor.shape):
            unknown = [a for a in group if a not in known]
            product = 1
            for a in group:
                if a in known:
                    product *= known[a]
            if len(unknown) == 1:
                known[unknown[0]] = dim // product
            elif unknown:
                raise ValueError(f"einops stand-in: cannot infer {unknown} in {pattern}")
        flat = [a for g in left for a in g]
        x = tensor.reshape([known[a] for a in flat])
        order = [flat.index(a) for g in right for a in g if a != "1"]
        x = x.permute(order)
        return x.reshape([int(g[0]) if g == ["1"] else _prod(known[a] for a in g) for g in right])

    def reduce(tensor, pattern, reduction):
        left, right = (parse_axes(s) for s in pattern.split("->"))
        if left[-1] != ["..."] or any(g != ["1"] for g in right[len(left) - 1:]):
            raise ValueError(f"einops stand-in: unsupported reduction {pattern}")
        kept = len(left) - 1
        flat = tensor.reshape(list(tensor.shape[:kept]) + [-1])
        if reduction == "mean":
            out = flat.mean(dim=-1)
        elif callable(reduction):
            out = reduction(flat, dim=-1)
        else:
            raise ValueError(f"einops stand-in: unsupported reduction {reduction}")
        return out.reshape(list(out.shape) + [1] * (len(right) - kept))

    class Rearrange(torch.nn.Module):
        def __init__(self, pattern, **sizes):
            super().__init__()
            self.pattern, self.sizes = pattern, sizes

        def forward(self, x):
            return rearrange(x, self.pattern, **self.sizes)

    einops = types.ModuleType("einops")
    einops.rearrange, einops.reduce = rearrange, reduce
    layers = types.ModuleType("einops.layers")
    layers_torch = types.ModuleType("einops.layers.torch")
    layers_torch.Rearrange = Rearrange
    einops.layers = layers
    layers.torch = layers_torch
    sys.modules.update({"einops": einops, "einops.layers": layers,
                        "einops.layers.torch": layers_torch})


def _prod(values):
    p = 1
    for v in values:
        p *= v
    return p


class EmaStandin:
    """The update of ema_pytorch as the reference configures it (seed spec §A6): a deep copy of
    the model; for the first update_after_step steps the copy follows the model, afterwards it
    moves towards it with decay min(beta, 1 - (1 + n / inv_gamma) ** -power)."""

    def __init__(self, model, beta=0.9999, update_after_step=100, update_every=10,
                 inv_gamma=1.0, power=2.0 / 3.0, min_value=0.0):
        import copy
        self.model = model
        self.ema_model = copy.deepcopy(model)
        self.ema_model.requires_grad_(False)
        self.beta, self.after, self.every = beta, update_after_step, update_every
        self.inv_gamma, self.power, self.min_value = inv_gamma, power, min_value
        self.step = 0

    def update(self):
        import torch
        step = self.step
        self.step += 1
        if step % self.every != 0:
            return
        with torch.no_grad():
            pairs = list(zip(self.ema_model.parameters(), self.model.parameters()))
            if step <= self.after:
                for ema, cur in pairs:
                    ema.copy_(cur)
            else:
                n = max(step - self.after - 1, 0)
                decay = 0.0 if n <= 0 else min(
                    max(1 - (1 + n / self.inv_gamma) ** -self.power, self.min_value), self.beta)
                for ema, cur in pairs:
                    ema.lerp_(cur, 1.0 - decay)
            for ema, cur in zip(self.ema_model.buffers(), self.model.buffers()):
                ema.copy_(cur)


def load_pairs(folder, size, count):
    """Image/mask pairs of an images/ + masks/ folder, matched by stem (mask suffixes
    _segmentation and _lesion ignored), resized as the reference's preprocessing does."""
    import cv2
    import numpy as np
    stem = lambda name: re.sub(r"_(segmentation|lesion)$", "", os.path.splitext(name)[0])
    masks = {stem(n): n for n in os.listdir(os.path.join(folder, "masks"))}
    images, labels = [], []
    for name in sorted(os.listdir(os.path.join(folder, "images"))):
        if stem(name) not in masks:
            continue
        img = cv2.imread(os.path.join(folder, "images", name), cv2.IMREAD_COLOR)
        msk = cv2.imread(os.path.join(folder, "masks", masks[stem(name)]), cv2.IMREAD_GRAYSCALE)
        if img is None or msk is None:
            raise SystemExit(f"{folder}: cannot decode {name}")
        img = cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), (size, size),
                         interpolation=cv2.INTER_LINEAR)
        msk = cv2.resize(msk, (size, size), interpolation=cv2.INTER_NEAREST)
        images.append(img.transpose(2, 0, 1).astype(np.float32) / 255.0)
        labels.append((msk[None] > 127).astype(np.float32) * 2.0 - 1.0)
        if len(images) == count:
            break
    if not images:
        raise SystemExit(f"{folder}: no image/mask pairs")
    return np.stack(images), np.stack(labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", required=True, help="the reference checkout's src/ folder")
    ap.add_argument("--config", required=True, help="our YAML config (same keys as the reference)")
    ap.add_argument("--data-dir", required=True, help="folder with images/ and masks/")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--forward-batches", default="",
                    help="instead of training steps, time eval forwards (torch.inference_mode) "
                         "at these batch sizes, e.g. 1,5, like `diffseg bench forward`")
    args = ap.parse_args()

    import numpy as np
    import torch
    import yaml
    torch.set_num_threads(args.threads)
    try:
        import einops  # noqa: F401
        einops_note = "einops " + einops.__version__
    except ImportError:
        install_einops_standin()
        einops_note = "einops stand-in"
    try:
        from ema_pytorch import EMA
        ema_note = "ema_pytorch"
    except ImportError:
        EMA, ema_note = EmaStandin, "ema_pytorch stand-in"

    sys.path.insert(0, os.path.abspath(args.reference))
    from forward.forward_schedules import ForwardSchedule
    from forward.forward_process import ForwardProcess
    from models.segdiffs import DermoSegDiff
    from loss import p_losses

    with open(args.config) as f:
        cfg = yaml.safe_load(f)
    # The reference selects the hybrid sum with loss_name; our configs infer it from the terms.
    terms = cfg["training"]["loss"]
    cfg["training"].setdefault("loss_name", "hybrid" if len(terms) > 1 else next(iter(terms)))
    schedule = {k: v for k, v in cfg["diffusion"]["schedule"].items()}
    forward_process = ForwardProcess(ForwardSchedule(**schedule))
    torch.manual_seed(0)
    model = DermoSegDiff(**cfg["model"]["params"])
    model.train()
    opt_cfg = cfg["training"]["optimizer"]
    optimizer = getattr(torch.optim, opt_cfg["name"])(model.parameters(), **opt_cfg["params"])
    ema_params = cfg["training"].get("ema", {}).get("params", {})
    ema = EMA(model, **ema_params) if cfg["training"].get("ema", {}).get("use") else None

    if args.forward_batches:
        model.eval()
        report = {"parameters": sum(p.numel() for p in model.parameters()), "forward": {}}
        for batch in (int(b) for b in args.forward_batches.split(",")):
            x = torch.randn(batch, cfg["model"]["params"].get("channels_x", 1), args.size, args.size)
            g = torch.rand(batch, cfg["model"]["params"].get("channels_g", 3), args.size, args.size)
            t = torch.randint(0, 250, (batch,))
            seconds = []
            with torch.inference_mode():
                for run in range(args.warmup + args.steps):
                    start = time.perf_counter()
                    model(x, g, t)
                    if run >= args.warmup:
                        seconds.append(time.perf_counter() - start)
            report["forward"][batch] = {"median_s": statistics.median(seconds),
                                        "best_s": min(seconds)}
            print(f"reference forward B={batch}: median {statistics.median(seconds):.3f} s, "
                  f"best {min(seconds):.3f} s over {len(seconds)} runs "
                  f"({report['parameters']} parameters, {args.size}x{args.size}, "
                  f"{torch.get_num_threads()} threads)", flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=2)
        return

    images, masks = load_pairs(args.data_dir, args.size, args.batch * 4)
    rng = np.random.default_rng(0)
    timesteps = forward_process.forward_schedule.timesteps
    parameters = sum(p.numel() for p in model.parameters())
    print(f"reference DermoSegDiff: {parameters} parameters, {args.size}x{args.size}, "
          f"batch {args.batch}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
          f"{einops_note}, {ema_note}, loss {cfg['training']['loss_name']} "
          f"{sorted(terms)}, {opt_cfg['name']}", flush=True)

    seconds = []
    for step in range(args.warmup + args.steps):
        pick = rng.choice(len(images), size=args.batch, replace=len(images) < args.batch)
        g = torch.from_numpy(images[pick])
        x0 = torch.from_numpy(masks[pick])
        start = time.perf_counter()
        optimizer.zero_grad()
        t = torch.randint(1, timesteps, (args.batch,)).long()
        loss, _ = p_losses(forward_process, model, x_start=x0, g=g, t=t, cfg=cfg)
        loss.backward()
        optimizer.step()
        if ema:
            ema.update()
        elapsed = time.perf_counter() - start
        if not np.isfinite(loss.item()):
            raise SystemExit(f"step {step + 1}: the loss is {loss.item()}")
        if step >= args.warmup:
            seconds.append(elapsed)
        print(f"step {step + 1}: {elapsed:.3f} s, loss {loss.item():.4f}"
              + (" (warm-up)" if step < args.warmup else ""), flush=True)

    report = {"parameters": parameters, "size": args.size, "batch": args.batch,
              "threads": torch.get_num_threads(), "steps": len(seconds),
              "median_s": statistics.median(seconds), "best_s": min(seconds),
              "mean_s": statistics.fmean(seconds)}
    print(f"reference step: median {report['median_s']:.3f} s, best {report['best_s']:.3f} s, "
          f"mean {report['mean_s']:.3f} s over {len(seconds)} steps", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
