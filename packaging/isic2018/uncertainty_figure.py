#!/usr/bin/python3
"""Is the model's uncertainty honest on real photos? Reads a `diffseg segment --gt` output folder
and the photos, and
  1. measures over every pixel of every photo how well the predictive entropy separates the
     wrong pixels from the right ones (the area under the ROC curve: 0.5 is no better than
     chance, 1 is perfect) and the mean entropy on wrong and on right pixels;
  2. picks one photo where the model is right and sure (high Dice, low mean entropy) and one where
     it is wrong and says so (low Dice, high entropy on its errors), and draws each: the photo
     with the expert's outline (yellow) and the model's (blue), and the entropy heat map with the
     wrong pixels outlined (white).

Usage: uncertainty_figure.py SEGMENT_OUT IMAGES_DIR MASKS_DIR OUT.png [--json FILE]
Needs python3-opencv and python3-numpy.
"""

import glob
import json
import os
import sys

import cv2
import numpy as np

LN2 = float(np.log(2.0))


def load_case(folder, images_dir, masks_dir):
    summary = json.load(open(os.path.join(folder, "summary.json")))
    stem = os.path.basename(folder)
    photo_path = summary["input"]["path"]
    if not os.path.exists(photo_path):
        candidates = glob.glob(os.path.join(images_dir, stem + ".*"))
        photo_path = candidates[0]
    photo = cv2.imread(photo_path, cv2.IMREAD_COLOR)
    mask = cv2.imread(os.path.join(folder, "mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    # 8-bit code: entropy = code * ln2 / 255 nats.
    entropy = cv2.imread(os.path.join(folder, "uncertainty_entropy.png"),
                         cv2.IMREAD_GRAYSCALE).astype(np.float32) * LN2 / 255.0
    truth_path = summary["ground_truth"]  # as given to segment: maybe relative to its folder
    if not os.path.exists(truth_path):
        truth_path = glob.glob(os.path.join(masks_dir, stem + "_*"))[0]
    truth = cv2.imread(truth_path, cv2.IMREAD_GRAYSCALE) > 0
    return stem, photo, mask, entropy, truth, summary["metrics"]["dice"]


def panel(photo, mask, entropy, truth, side=360):
    h, w = mask.shape
    scale = side / max(h, w)
    size = (int(round(w * scale)), int(round(h * scale)))
    left = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
    for m, colour in ((truth, (0, 220, 255)), (mask, (255, 120, 0))):
        small = cv2.resize(m.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(small, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(left, contours, -1, colour, 2)
    heat = cv2.applyColorMap(np.clip(entropy / LN2 * 255, 0, 255).astype(np.uint8),
                             cv2.COLORMAP_INFERNO)
    right = cv2.resize(heat, size, interpolation=cv2.INTER_AREA)
    wrong = cv2.resize((mask != truth).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(wrong, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(right, contours, -1, (255, 255, 255), 1)
    return np.hstack([left, np.full((size[1], 6, 3), 255, np.uint8), right])


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir, images_dir, masks_dir, out_png = argv[1], argv[2], argv[3], argv[4]
    out_json = argv[argv.index("--json") + 1] if "--json" in argv else None
    codes_wrong = np.zeros(256)
    codes_right = np.zeros(256)
    cases = []
    for folder in sorted(glob.glob(os.path.join(out_dir, "*", ""))):
        if not os.path.exists(os.path.join(folder, "summary.json")):
            continue
        stem, photo, mask, entropy, truth, dice = load_case(folder.rstrip("/"), images_dir, masks_dir)
        wrong = mask != truth
        codes = np.clip(np.round(entropy / LN2 * 255.0), 0, 255).astype(np.int64)
        codes_wrong += np.bincount(codes[wrong], minlength=256)
        codes_right += np.bincount(codes[~wrong], minlength=256)
        cases.append({"stem": stem, "dice": dice, "mean_entropy": float(entropy.mean()),
                      "entropy_wrong": float(entropy[wrong].mean()) if wrong.any() else 0.0,
                      "entropy_right": float(entropy[~wrong].mean()),
                      "folder": folder.rstrip("/")})
    centres = (np.arange(256) + 0.5) * LN2 / 255.0
    pos, neg = codes_wrong, codes_right
    neg_below = np.cumsum(neg) - neg
    area = float((pos * (neg_below + 0.5 * neg)).sum() / (pos.sum() * neg.sum()))
    result = {"photos": len(cases), "auroc_entropy_vs_error": area,
              "mean_entropy_wrong_pixels": float((centres * pos).sum() / pos.sum()),
              "mean_entropy_right_pixels": float((centres * neg).sum() / neg.sum())}
    sure = [c for c in cases if c["dice"] >= 0.95]
    right = min(sure or cases, key=lambda c: c["mean_entropy"])
    wrongs = [c for c in cases if c["dice"] < 0.75] or sorted(cases, key=lambda c: c["dice"])[:5]
    wrong = max(wrongs, key=lambda c: c["entropy_wrong"] / max(c["entropy_right"], 1e-6))
    rows = []
    for case in (right, wrong):
        _, photo, mask, entropy, truth, _ = load_case(case["folder"], images_dir, masks_dir)
        rows.append(panel(photo, mask, entropy, truth))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    cv2.imwrite(out_png, np.vstack([rows[0], np.full((6, width, 3), 255, np.uint8), rows[1]]))
    result["right_and_sure"] = {k: right[k] for k in ("stem", "dice", "mean_entropy")}
    result["wrong_and_says_so"] = {k: wrong[k] for k in ("stem", "dice", "entropy_wrong",
                                                         "entropy_right")}
    print(json.dumps(result, indent=2))
    if out_json:
        json.dump(result, open(out_json, "w"), indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
