#!/usr/bin/env bash
# Re-creates resources/models/diffunet-hippocampus.dsckpt end to end from the shared Decathlon
# Task04 Hippocampus data, with our own tools only:
#   1. `diffseg train` with resources/configs/diffunet/hippocampus-cpu.yaml on the Decathlon folder
#      as it is (dataset.json, imagesTr/, labelsTr/); the trainer's split (fractions 0.8 / 0.2,
#      seed 0) holds 42 of the 208 cases out and writes it to the run's split.json. Resumable: run
#      the script again to continue an interrupted training;
#   2. the run's last and best checkpoints segment the held-out cases with the settings the card
#      then records (whole volumes, sliding windows of 32^3 at overlap 0.5, 3 steps, the largest
#      connected piece of each label kept): mean Dice and HD95 per label; the better checkpoint
#      (mean Dice over the labels) is kept;
#   3. `diffseg export-model` writes it with its card (data, licence, validated settings, scores)
#      to resources/models/ (refused over 40 MB), and the learning curve is plotted to
#      resources/models/diffunet-hippocampus-learning-curve.png.
#
# Usage: packaging/make-hippocampus-model.sh [--diffseg PATH] [--data DIR] [--work DIR]
#                                            [--threads N] [--skip-training]
#   --data   the Decathlon Task04 folder (default ../shared/data/volumes/msd_hippocampus)
#   --work   run folder, segmentations, scores and card (default ~/diffseg-runs/hippocampus-cpu)
#   --skip-training   score and export the run as it is
# Needs python3 for the scores and python3-matplotlib for the curve (Debian packages).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
diffseg=""
data="$root/../shared/data/volumes/msd_hippocampus"
work="$HOME/diffseg-runs/hippocampus-cpu"
threads=2
train=1
while [ $# -gt 0 ]; do
  case "$1" in
    --diffseg) diffseg=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --skip-training) train=0; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "make-hippocampus-model: unknown argument $1" >&2; exit 2 ;;
  esac
done
. "$root/packaging/find-diffseg.sh"
find_diffseg make-hippocampus-model
[ -f "$data/dataset.json" ] || { echo "make-hippocampus-model: $data/dataset.json not found" >&2; exit 1; }
export OMP_WAIT_POLICY=PASSIVE
python3() { if [ -x /usr/bin/python3 ]; then /usr/bin/python3 "$@"; else command python3 "$@"; fi; }
mkdir -p "$work"
work=$(cd "$work" && pwd)
data=$(cd "$data" && pwd)
config="$root/resources/configs/diffunet/hippocampus-cpu.yaml"
model="$root/resources/models/diffunet-hippocampus.dsckpt"
run="$work/run"
echo "make-hippocampus-model: $("$diffseg" --version | head -1), work folder $work"

# 1. Training (continues an interrupted run).
if [ "$train" = 1 ]; then
  resume=()
  [ -f "$run/last.dsckpt" ] && resume=(--resume)
  start=$(date +%s)
  "$diffseg" train -c "$config" --data-dir "$data" --run-dir "$run" --threads "$threads" \
    --progress "$work/progress.jsonl" "${resume[@]}"
  echo "make-hippocampus-model: training (this call) took $(($(date +%s) - start)) s"
fi
[ -f "$run/last.dsckpt" ] || { echo "make-hippocampus-model: no $run/last.dsckpt" >&2; exit 1; }

# The held-out cases as images/ + masks/ links (the split the trainer wrote).
val="$work/val"
rm -rf "$val"
mkdir -p "$val/images" "$val/masks"
python3 - "$run/split.json" "$data" "$val" <<'PY'
import json, os, sys
split, data, val = sys.argv[1:4]
for entry in json.load(open(f"{data}/dataset.json"))["training"]:
    case = os.path.basename(entry["image"]).split(".")[0]
    if case in json.load(open(split))["val"]:
        os.symlink(os.path.normpath(f"{data}/{entry['image']}"), f"{val}/images/{case}.nii.gz")
        os.symlink(os.path.normpath(f"{data}/{entry['label']}"), f"{val}/masks/{case}.nii.gz")
PY
echo "make-hippocampus-model: $(ls "$val/images" | wc -l) held-out cases"

# 2. Scores of whole held-out volumes with segment3d's defaults.
score() { # NAME CHECKPOINT
  rm -rf "$work/seg-$1"
  "$diffseg" segment3d --model "$2" --input "$val" --out "$work/seg-$1" --save-steps none \
    --steps 3 --fusion mean --overlap 0.5 --largest-component --threads "$threads" \
    --progress none > "$work/seg-$1.log"
  python3 "$root/packaging/hippocampus/score.py" "$work/seg-$1" --json "$work/score-$1.json" \
    --name "$1"
}
score last "$run/last.dsckpt"
kept=last
if [ -f "$run/best.dsckpt" ]; then
  score best "$run/best.dsckpt"
  kept=$(python3 -c "
import json
def mean(n):
    s = json.load(open('$work/score-' + n + '.json'))['labels']
    return sum(v['mean_dice'] for v in s.values()) / len(s)
print('best' if mean('best') > mean('last') else 'last')")
fi
echo "make-hippocampus-model: keeping the $kept checkpoint"
cp "$work/score-$kept.json" "$work/score.json"

# 3. The card, the model and the curve.
python3 - "$work" "$run/$kept.dsckpt" <<'PY'
import json, sys
work, checkpoint = sys.argv[1:3]
s = json.load(open(f"{work}/score.json"))
scores = {}
for label, r in s["labels"].items():
    scores[f"{r['name']} mean Dice"] = round(r["mean_dice"], 4)
    scores[f"{r['name']} median Dice"] = round(r["median_dice"], 4)
    if r["mean_hd95_mm"] is not None:
        scores[f"{r['name']} mean HD95 mm"] = round(r["mean_hd95_mm"], 2)
scores["seconds per case (2 CPU threads)"] = round(s["seconds_per_case"]["mean"], 2)
card = {
    "name": "Diff-UNet hippocampus (Decathlon Task04, CPU recipe)",
    "input_kind": "volume",
    "training_data": f"Medical Segmentation Decathlon Task04 Hippocampus: 166 of its 208 "
                     f"labelled T1 MRI crops (Vanderbilt University Medical Center); "
                     f"{s['cases']} held out for validation",
    "licence": "CC-BY-SA 4.0, as the Decathlon data (Antonelli et al. 2022, Nature "
               "Communications 13:4128; Simpson et al. 2019, arXiv:1902.09063)",
    "notes": "Labels 1 anterior and 2 posterior hippocampus, on T1 MRI crops around the "
             "hippocampus at 1 mm (as the Decathlon's); a whole-brain MRI must be cropped first. "
             "The label map keeps the largest connected piece of each label (as nnU-Net's "
             "post-processing); the probabilities and uncertainty maps are the network's. "
             "Re-made by packaging/make-hippocampus-model.sh. A research tool, not a medical "
             "device.",
    "validated": {"steps": 3, "fusion": "mean", "overlap": 0.5, "mirror_tta": False,
                  "largest_component": True},
    "scores": scores,
}
json.dump(card, open(f"{work}/card.json", "w"), indent=2)
print(json.dumps(card, indent=2))
PY
# Diff-UNet trains without an EMA copy: the online weights.
"$diffseg" export-model --checkpoint "$run/$kept.dsckpt" --weights online --card "$work/card.json" \
  --out "$model"
size=$(stat -c %s "$model")
if [ "$size" -gt $((40 * 1024 * 1024)) ]; then
  echo "make-hippocampus-model: $model is $size bytes, over the 40 MB limit" >&2
  exit 1
fi
finals=$(python3 -c "
import json
s = json.load(open('$work/score.json'))['labels']
print(','.join(str(round(s[k]['mean_dice'], 4)) for k in sorted(s, key=int)))")
python3 "$root/packaging/hippocampus/plot_learning_curve.py" \
  "$root/resources/models/diffunet-hippocampus-learning-curve.png" "$work/progress.jsonl" \
  --labels Anterior,Posterior --final "$kept checkpoint, whole held-out volumes=$finals" \
  --anchor "nnU-Net (published)=0.90,0.89" \
  || echo "make-hippocampus-model: no curve (python3-matplotlib missing?)" >&2
"$diffseg" info "$model"
echo "make-hippocampus-model: wrote $model ($size bytes)"
