#!/usr/bin/python3
"""Plots the learning curve of `diffseg train` runs: the validation Dice the trainer samples
every few epochs (pooled over its validation photos, at the network's input size) against hours
of training, where an hour is the trainer's own time (the sum of its step and validation
seconds, so pauses and other load on the machine do not stretch the axis).

Usage: plot_learning_curve.py OUT.png LABEL=progress.jsonl [LABEL=+progress.jsonl ...]
       [--otsu DICE] [--mark HOURS=DICE:TEXT] [--final DICE:TEXT]
  LABEL=+FILE  a run that continues the one before it (a second stage): its hours start where
               that one's end
  --otsu   a dashed line for the Otsu baseline
  --mark   a star at (HOURS, DICE) with a label; --final puts it at the end of the last run

Needs Debian's python3-matplotlib.
"""

import json
import sys


def curve(path, key="dice"):
    """(hours, value of `key`, step) of every validation event that has it, in the run's order
    (resumed runs append to the same file; a step counter that goes back starts a new segment of
    time). DermoSegDiff's events time their validation in loss_seconds and dice_seconds,
    Diff-UNet's in seconds; packaging/hippocampus reads dice_per_class with it."""
    seconds = 0.0
    points = []
    with open(path) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue  # a line cut by a kill
            kind = e.get("event")
            if kind == "step":
                seconds += e.get("step_seconds", 0.0)
            elif kind == "validation":
                seconds += sum(e.get(k, 0.0) for k in ("loss_seconds", "dice_seconds", "seconds"))
                if e.get(key) is not None:
                    points.append((seconds / 3600.0, e[key], e.get("step")))
    return points


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = argv[1]
    otsu = None
    marks = []
    runs = []
    args = argv[2:]
    i = 0
    while i < len(args):
        if args[i] == "--otsu":
            otsu = float(args[i + 1])
            i += 2
        elif args[i] == "--final":
            dice, text = args[i + 1].split(":", 1)
            marks.append((None, float(dice), text))
            i += 2
        elif args[i] == "--mark":
            hours, rest = args[i + 1].split("=", 1)
            dice, text = rest.split(":", 1)
            marks.append((float(hours), float(dice), text))
            i += 2
        else:
            label, path = args[i].split("=", 1)
            runs.append((label, path))
            i += 1
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    end = 0.0
    for label, path in runs:
        offset = end if path.startswith("+") else 0.0
        points = curve(path.lstrip("+"))
        if points:
            ax.plot([offset + p[0] for p in points], [p[1] for p in points], marker="o",
                    markersize=3, label=label)
            end = offset + points[-1][0]
    if otsu is not None:
        ax.axhline(otsu, color="grey", linestyle="--", linewidth=1,
                   label=f"Otsu baseline, 400 val photos at full size ({otsu:.3f})")
    for hours, dice, text in marks:
        hours = end if hours is None else hours
        ax.plot([hours], [dice], marker="*", markersize=12, color="black")
        ax.annotate(text, (hours, dice), textcoords="offset points", xytext=(6, -12), fontsize=8)
    ax.set_xlabel("hours of training (the trainer's own time, 2 CPU cores)")
    ax.set_ylabel("validation Dice (pooled)")
    ax.set_title("DermoSegDiff on ISIC 2018: sampled validation Dice during training")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
