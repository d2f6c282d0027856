#!/usr/bin/python3
"""Plots the learning curve of a Diff-UNet `diffseg train` run: the validation Dice per class that
the trainer measures every few epochs (on patches of its validation cases) against hours of
training, where an hour is the trainer's own time (the sum of its step and validation seconds, so
pauses and other load on the machine do not stretch the axis).

Usage: plot_learning_curve.py OUT.png progress.jsonl --labels NAME,NAME [--final TEXT=D1,D2]
                              [--anchor TEXT=D1,D2]
  --labels  the names of classes 1, 2, ... (the background is not plotted)
  --final   stars at the end of the run: the final scores of whole validation volumes
  --anchor  dotted lines: a published result per class (e.g. nnU-Net's)

Needs Debian's python3-matplotlib.
"""

import argparse
import os
import sys

# The ISIC curve's reader of progress.jsonl (the trainer's own time, resumed runs), for Diff-UNet's
# per-class Dice.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "isic2018"))
from plot_learning_curve import curve  # noqa: E402


def values(text):
    label, _, numbers = text.partition("=")
    return label, [float(v) for v in numbers.split(",")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("progress")
    parser.add_argument("--labels", required=True)
    parser.add_argument("--final")
    parser.add_argument("--anchor")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = args.labels.split(",")
    points = curve(args.progress, "dice_per_class")
    if not points:
        raise SystemExit(f"plot_learning_curve.py: no validation events in {args.progress}")
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
    hours = [p[0] for p in points]
    for k, name in enumerate(names):
        colour = colours[k % len(colours)]
        ax.plot(hours, [p[1][k] for p in points], "-o", ms=3, color=colour,
                label=f"{name}: validation patches")
        if args.final:
            text, finals = values(args.final)
            ax.plot([hours[-1]], [finals[k]], "*", ms=14, color=colour,
                    label=f"{name}: {text} {finals[k]:.3f}")
        if args.anchor:
            text, anchors = values(args.anchor)
            ax.axhline(anchors[k], ls=":", color=colour, lw=1,
                       label=f"{name}: {text} {anchors[k]:.2f}")
    ax.set_xlabel("hours of training (2 CPU cores)")
    ax.set_ylabel("Dice")
    ax.set_ylim(0.0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Diff-UNet on the Decathlon's hippocampus MRI: learning curve", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out)


if __name__ == "__main__":
    main()
