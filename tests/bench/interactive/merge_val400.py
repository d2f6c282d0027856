#!/usr/bin/env python3
"""Pools run_val400.sh's chunks: for each method, the means over every photo its chunks cover
(each chunk's means weighted by its photo count, which is exact for means), the photos covered,
and a table. With --common, only the chunks that every method has, so that the methods are
compared on the same photos. Writes SUMMARY (JSON) and, where matplotlib is present, a plot.

Usage: merge_val400.py [VAL400_DIR] [--common] [--json SUMMARY] [--plot PNG]
"""
import argparse
import glob
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("folder", nargs="?", default=os.path.join(here, "val400"))
parser.add_argument("--common", action="store_true")
parser.add_argument("--json")
parser.add_argument("--plot")
args = parser.parse_args()

# method -> chunk name -> that chunk's result for the method (+ its photo count and timing)
chunks = {}
for path in sorted(glob.glob(os.path.join(args.folder, "*", "c*.json"))):
    run = json.load(open(path))
    # A folder named after its methods plus a tag (run_val400.sh's TAG) is a run with other
    # settings: its methods are reported as "<method>-<tag>".
    folder = os.path.basename(os.path.dirname(path))
    tag = folder[len("+".join(run["methods"])):].lstrip("-")
    for method, result in run["methods"].items():
        key = f"{method}-{tag}" if tag else method
        chunks.setdefault(key, {})[os.path.basename(path)] = (run["images"], result,
                                                              run.get("machine", {}))
if not chunks:
    raise SystemExit(f"no chunks under {args.folder}")
names = None
if args.common:
    names = set.intersection(*(set(c) for c in chunks.values()))

summary = {"methods": {}}
for method, byName in sorted(chunks.items()):
    picked = [v for k, v in sorted(byName.items()) if names is None or k in names]
    photos = sum(n for n, _, _ in picked)
    if photos == 0:
        continue
    k = len(picked[0][1]["dice_at"])
    mean = lambda key: sum(n * r[key] for n, r, _ in picked) / photos
    summary["methods"][method] = {
        "photos": photos,
        "dice_at": [sum(n * r["dice_at"][j] for n, r, _ in picked) / photos for j in range(k)],
        "noc85": mean("noc85"),
        "noc90": mean("noc90"),
        "seconds_per_click": mean("seconds_per_click"),
        "cpus": sorted({m.get("cpu", "?") for _, _, m in picked}),
    }
print(f"{'method':<16} {'photos':>6} " + " ".join(f"{'@' + str(j):>6}" for j in (0, 1, 2, 3, 5, 10))
      + "  NoC85  NoC90  s/click")
for method, s in summary["methods"].items():
    d = s["dice_at"]
    cols = " ".join(f"{d[j]:6.3f}" if j < len(d) else "     -" for j in (0, 1, 2, 3, 5, 10))
    print(f"{method:<16} {s['photos']:>6} {cols}  {s['noc85']:5.2f}  {s['noc90']:5.2f}"
          f"  {s['seconds_per_click']:7.2f}")
if args.json:
    with open(args.json, "w") as f:
        json.dump(summary, f, indent=1)
if args.plot:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    for method, s in summary["methods"].items():
        ax.plot(range(len(s["dice_at"])), s["dice_at"], "-o", ms=3,
                label=f"{method} ({s['photos']} photos)")
    ax.set_xlabel("clicks")
    ax.set_ylabel("mean Dice")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Simulated clicks on ISIC 2018 val photos", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.plot)
