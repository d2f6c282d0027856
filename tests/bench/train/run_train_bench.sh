#!/usr/bin/env bash
# Trains the small CPU config on the shared dermoscopy pairs (ISIC 2017 + PH2, 32 pairs, split
# 24/8 with the config's seeded fractions), then segments the 8 validation images with the best
# checkpoint using DDPM (all T) and DDIM 50/25/10, ensemble 5, and scores them with diffseg eval.
# Prints the loss/Dice curve, the training time and the time and Dice of each sampler.
# Not part of CTest: it takes tens of minutes on 2 cores.
# Usage: tests/bench/train/run_train_bench.sh BUILD_DIR OUT_DIR [EPOCHS] [SHARED_DATA_DIR]
set -euo pipefail
build=$(cd "${1:?usage: run_train_bench.sh BUILD_DIR OUT_DIR [EPOCHS] [SHARED_DATA_DIR]}" && pwd)
out=${2:?usage: run_train_bench.sh BUILD_DIR OUT_DIR [EPOCHS] [SHARED_DATA_DIR]}
epochs=${3:-200}
root=$(cd "$(dirname "$0")/../../.." && pwd)
shared=${4:-$root/../shared/data}
cli="$build/app/cli/diffseg"
config="$root/resources/configs/dermosegdiff/small-cpu.yaml"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# One images/ + masks/ folder of links to both shared sets.
. "$root/tests/bench/train/link-shared-pairs.sh"
data="$out/data"
link_shared_pairs "$shared" "$data"

start=$(date +%s)
if [ -f "$out/run/last.dsckpt" ]; then resume=--resume; else resume=; fi
"$cli" train -c "$config" --data-dir "$data" --run-dir "$out/run" --threads 2 \
  --set training.epochs="$epochs" --progress "$out/progress.jsonl" $resume | grep -v '^epoch ' || true
echo "train: $(( $(date +%s) - start )) s wall for $epochs epochs"

python3 - "$out/progress.jsonl" <<'PY'
import json, sys
rows = {}
steps = []
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e["event"] == "epoch":
        rows.setdefault(e["epoch"], {})["train"] = e["train_loss"]
        rows[e["epoch"]]["seconds"] = e["seconds"]
    elif e["event"] == "validation":
        r = rows.setdefault(e["epoch"] + 1, {})
        r["val"] = e["val_loss"]
        if e.get("dice") is not None:
            r["dice"] = e["dice"]
    elif e["event"] == "step":
        steps.append(e["step_seconds"])
print("epoch  train_loss  val_loss  sampled_dice(DDIM)")
for epoch in sorted(rows):
    r = rows[epoch]
    if epoch % 10 == 0 or "dice" in r or epoch == 1:
        print(f"{epoch:5d}  {r.get('train', float('nan')):10.4f}  {r.get('val', float('nan')):8.4f}"
              f"  {r['dice']:.4f}" if "dice" in r else
              f"{epoch:5d}  {r.get('train', float('nan')):10.4f}  {r.get('val', float('nan')):8.4f}")
if steps:
    s = sorted(steps)
    print(f"steps: {len(steps)}, median {s[len(s)//2]:.3f} s/step ({1/s[len(s)//2]:.2f} steps/s)")
PY

# The validation images of the run's split, segmented with the best checkpoint.
val="$out/val"
rm -rf "$val" && mkdir -p "$val/images" "$val/masks"
python3 - "$out/run/split.json" "$data" "$val" <<'PY'
import json, os, sys
split = json.load(open(sys.argv[1]))
data, val = sys.argv[2], sys.argv[3]
for kind in ("images", "masks"):
    for name in sorted(os.listdir(os.path.join(data, kind))):
        stem = os.path.splitext(name)[0]
        for suffix in ("_segmentation", "_lesion"):
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
        if stem in split["val"]:
            os.symlink(os.path.realpath(os.path.join(data, kind, name)), os.path.join(val, kind, name))
print("validation images:", ", ".join(split["val"]))
PY
for sampler in "ddpm 0" "ddim 50" "ddim 25" "ddim 10"; do
  set -- $sampler
  name="$1$2"
  rm -rf "$out/seg-$name"
  t0=$(date +%s.%N)
  "$cli" segment --model "$out/run/best.dsckpt" --input "$val/images" --gt "$val/masks" \
    --out "$out/seg-$name" --sampler "$1" --steps "$2" --ensemble 5 --threads 2 --progress none >/dev/null
  t1=$(date +%s.%N)
  python3 - "$out/seg-$name" "$name" "$t0" "$t1" <<'PY'
import glob, json, os, sys
folder, name, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
sampling, first, dice = [], [], []
for f in sorted(glob.glob(os.path.join(folder, "*", "summary.json"))):
    s = json.load(open(f))
    t = s.get("timings_s", s.get("timings", {}))
    sampling.append(t.get("sampling_s", t.get("sampling", 0)))
    first.append(t.get("first_preview_s", t.get("first_preview", 0)))
n = len(sampling)
def pooled(file):
    p = json.load(open(os.path.join(folder, file)))["pooled"]
    return p.get("dice"), p.get("iou")
full = pooled("metrics.json")
small = pooled("metrics_input_size.json")
print(f"{name:8s} images {n}  sampling {sum(sampling)/n:.2f} s/image  first preview "
      f"{sum(first)/n:.2f} s  wall {(t1-t0)/n:.2f} s/image  pooled Dice {full[0]:.4f} IoU "
      f"{full[1]:.4f} (original size), Dice {small[0]:.4f} (64x64, the reference's way)")
PY
done
