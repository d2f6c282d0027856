#!/usr/bin/python3
"""Scores a `diffseg segment --gt ... --baseline` output folder: pooled Dice (TP/FP/FN summed
over every pixel of every photo, at each photo's own size), the per-photo median and 10th
percentile Dice, the mean seconds per photo, for the model and for the Otsu baseline side by side.

Usage: score.py SEGMENT_OUT [--json FILE] [--name NAME]
Reads SEGMENT_OUT/<stem>/summary.json (metrics and baseline.metrics hold the counts tp, fp, fn and the dice).
"""

import glob
import json
import os
import sys


def percentile(values, q):
    """The q-th percentile (0..100) by linear interpolation, as numpy's default."""
    v = sorted(values)
    if not v:
        return float("nan")
    pos = (len(v) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(v) - 1)
    return v[low] + (v[high] - v[low]) * (pos - low)


def pooled(metrics):
    tp = sum(m["counts"]["tp"] for m in metrics)
    fp = sum(m["counts"]["fp"] for m in metrics)
    fn = sum(m["counts"]["fn"] for m in metrics)
    return 2.0 * tp / (2.0 * tp + fp + fn) if tp + fp + fn > 0 else 1.0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = argv[1]
    out_json = None
    name = os.path.basename(os.path.normpath(folder))
    i = 2
    while i < len(argv):
        if argv[i] == "--json":
            out_json = argv[i + 1]
            i += 2
        elif argv[i] == "--name":
            name = argv[i + 1]
            i += 2
        else:
            print(f"score.py: unknown argument {argv[i]}", file=sys.stderr)
            return 2
    model, baseline, seconds, previews, settings = [], [], [], [], None
    for path in sorted(glob.glob(os.path.join(folder, "*", "summary.json"))):
        with open(path) as f:
            s = json.load(f)
        if "metrics" not in s or s["metrics"] is None:
            continue
        model.append(s["metrics"])
        if s.get("baseline"):
            baseline.append(s["baseline"]["metrics"])
        seconds.append(s["timings_s"].get("segment_total", 0.0) + s["timings_s"].get("read", 0.0))
        previews.append(s["timings_s"].get("first_preview", 0.0))
        settings = s["settings"]
    if not model:
        print(f"score.py: no summary.json with metrics under {folder}", file=sys.stderr)
        return 1
    result = {"name": name, "photos": len(model), "settings": settings}
    for key, metrics in (("model", model), ("otsu", baseline)):
        if metrics:
            dice = [m["dice"] for m in metrics]
            result[key] = {"pooled_dice": pooled(metrics),
                           "median_dice": percentile(dice, 50),
                           "p10_dice": percentile(dice, 10)}
    result["seconds_per_photo"] = sum(seconds) / len(seconds)
    result["max_seconds_per_photo"] = max(seconds)
    result["max_first_preview_seconds"] = max(previews)
    print(f"{name}: {len(model)} photos, {settings['sampler']} {settings['steps']} steps x "
          f"{settings['ensemble']} members, {settings.get('precision', '?')}, "
          f"{result['seconds_per_photo']:.2f} s per photo (reading + segmenting, at most "
          f"{result['max_seconds_per_photo']:.2f} s; first preview at most "
          f"{result['max_first_preview_seconds']:.2f} s)")
    print(f"  {'':8s} {'pooled':>8s} {'median':>8s} {'p10':>8s}")
    for key in ("model", "otsu"):
        if key in result:
            r = result[key]
            print(f"  {key:8s} {r['pooled_dice']:8.4f} {r['median_dice']:8.4f} {r['p10_dice']:8.4f}")
    if out_json:
        with open(out_json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
