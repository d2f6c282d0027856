#!/usr/bin/env python3
"""Scores a `diffseg segment3d` output folder (one DIR/<case>/summary.json per case, made with
ground truth): per label, the mean, median and 10th percentile Dice and the mean HD95 (mm) over
the cases, and the time per case. Writes them as JSON and prints a table.

Usage: score.py SEGMENT_DIR --json OUT.json [--name NAME]
"""
import argparse
import glob
import json
import math
import os
import statistics
import sys


def percentile(values, q):
    """numpy.percentile's default (linear between order statistics)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--json", required=True)
    parser.add_argument("--name", default="")
    args = parser.parse_args()

    summaries = sorted(glob.glob(os.path.join(args.folder, "*", "summary.json")))
    if not summaries:
        sys.exit(f"score.py: no <case>/summary.json under {args.folder}")
    per_label = {}
    names = {}
    seconds = []
    for path in summaries:
        s = json.load(open(path))
        if "metrics" not in s:
            sys.exit(f"score.py: {path} has no metrics (segment3d ran without ground truth)")
        names.update(s["outputs"]["labels"]["labels"])
        for label, m in s["metrics"]["labels"].items():
            entry = per_label.setdefault(label, {"dice": [], "hd95": []})
            entry["dice"].append(m["dice"])
            if m.get("distances_defined") and m["hd95_mm"] is not None:
                entry["hd95"].append(m["hd95_mm"])
        seconds.append(s["timings_s"]["case_total"])

    result = {"name": args.name, "cases": len(summaries), "labels": {}}
    print(f"{args.name}: {len(summaries)} cases")
    print(f"{'label':<22}{'mean Dice':>10}{'median':>10}{'p10':>10}{'mean HD95':>11}")
    for label in sorted(per_label, key=int):
        e = per_label[label]
        row = {
            "name": names.get(label, f"label {label}"),
            "mean_dice": statistics.mean(e["dice"]),
            "median_dice": statistics.median(e["dice"]),
            "p10_dice": percentile(e["dice"], 10),
            "mean_hd95_mm": statistics.mean(e["hd95"]) if e["hd95"] else None,
            "cases_with_distances": len(e["hd95"]),
        }
        result["labels"][label] = row
        hd = "n/a" if row["mean_hd95_mm"] is None else f"{row['mean_hd95_mm']:.2f}"
        print(f"{label + ' ' + row['name']:<22}{row['mean_dice']:>10.4f}"
              f"{row['median_dice']:>10.4f}{row['p10_dice']:>10.4f}{hd:>11}")
    result["seconds_per_case"] = {"mean": statistics.mean(seconds), "max": max(seconds)}
    print(f"seconds per case: mean {statistics.mean(seconds):.2f}, max {max(seconds):.2f}")
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
