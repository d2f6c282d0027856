#!/usr/bin/env bash
# Re-creates the demo checkpoints in resources/models/ end to end, with our own tools only:
#   1. `diffseg demo-data` generates the training data (deterministic for its seed);
#   2. `diffseg train` trains each model from its config in resources/configs/demo/;
#   3. the run's best.dsckpt is copied to resources/models/ (refused when over 5 MB);
#   4. the new model segments held-out generated data (other seeds) and its Dice is printed.
#
# Usage: packaging/make-demo-models.sh [--diffseg PATH] [--work DIR] [--only 2d|3d]
#                                      [--threads N] [--device cpu|cuda|auto]
#   --diffseg  the diffseg executable (default: the first of build/{release,ci,dev,pkg}, then PATH)
#   --work     scratch folder for data and runs (default: build/demo-models)
#   --threads  compute threads (default 1: on a machine shared with builds, one thread per
#              process is several times faster than two that wait for each other)
#
# The committed models were made on 2 cores: the 2D model (216 steps) with --threads 1 in
# 2174 s (shared with other work, load average 7-11), the 3D one (1440 steps) with --threads 2 in
# 895 s (quiet machine); resources/models/README.md has their held-out scores. Other thread counts or devices
# give slightly different weights (floating-point summation order), not another quality.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
diffseg=""
work="$root/build/demo-models"
only=""
threads=1
device=cpu
while [ $# -gt 0 ]; do
  case "$1" in
    --diffseg) diffseg=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "make-demo-models: unknown argument $1" >&2; exit 2 ;;
  esac
done
. "$root/packaging/find-diffseg.sh"
find_diffseg make-demo-models
export OMP_WAIT_POLICY=PASSIVE
models="$root/resources/models"
configs="$root/resources/configs/demo"
limit=$((5 * 1024 * 1024))
mkdir -p "$work" "$models"
# Absolute: diffseg resolves a relative data_dir against the config's folder.
work=$(cd "$work" && pwd)
echo "make-demo-models: $("$diffseg" --version | head -1), work folder $work"

# train NAME CONFIG DATA: trains into $work/runs/NAME and copies best.dsckpt to models/NAME-demo.
train() {
  local name=$1 config=$2 data=$3
  local run="$work/runs/$name"
  local start=$(date +%s)
  "$diffseg" train -c "$config" --data-dir "$data" --run-dir "$run" --device "$device" \
    --threads "$threads" --overwrite --progress "$work/$name-progress.jsonl"
  local seconds=$(($(date +%s) - start))
  local best="$run/best.dsckpt"
  [ -f "$best" ] || { echo "make-demo-models: $name: no best.dsckpt in $run" >&2; exit 1; }
  local size=$(stat -c %s "$best")
  if [ "$size" -gt "$limit" ]; then
    echo "make-demo-models: $name: $best is $size bytes, over the 5 MB limit for committed models" >&2
    exit 1
  fi
  cp "$best" "$models/$name-demo.dsckpt"
  echo "make-demo-models: $name: trained in $seconds s, $size bytes -> resources/models/$name-demo.dsckpt"
  # The run's overall Dice is the line's first "dice" (the per-image ones follow in "samples").
  local dice
  dice=$(grep '"event":"validation"' "$work/$name-progress.jsonl" | grep '"dice"' | tail -1 |
    grep -o '"dice":[0-9.e-]*' | head -1 | cut -d: -f2 || true)
  echo "make-demo-models: $name: last validation Dice ${dice:-n/a}"
}

if [ -z "$only" ] || [ "$only" = 2d ]; then
  "$diffseg" demo-data --out "$work/data2d" --count 240 --size 256x256 --seed 0 --quiet
  train dermoscopy "$configs/dermoscopy-demo.yaml" "$work/data2d"
  # Held-out images (seeds the training never saw), scored as the README shows.
  "$diffseg" demo-data --out "$work/test2d" --count 8 --size 256x256 --seed 10000 --quiet
  "$diffseg" segment --model "$models/dermoscopy-demo.dsckpt" --input "$work/test2d/images" \
    --gt "$work/test2d/masks" --out "$work/test2d/seg" --sampler ddim --steps 10 --ensemble 3 \
    --device "$device" --threads "$threads" --progress none
fi

if [ -z "$only" ] || [ "$only" = 3d ]; then
  "$diffseg" demo-data --out "$work/data3d" --count 0 --volume --volume-count 20 \
    --volume-size 100x100x40 --seed 0 --quiet
  train diffunet "$configs/diffunet-demo.yaml" "$work/data3d/ct"
  # A held-out phantom at a finer grid (resampled to the model's 4 x 4 x 5 mm on the way in).
  "$diffseg" demo-data --out "$work/test3d" --count 0 --volume --volume-count 2 \
    --volume-size 160x160x64 --seed 10000 --quiet
  "$diffseg" segment3d --model "$models/diffunet-demo.dsckpt" --input "$work/test3d/ct" \
    --out "$work/test3d/seg" --device "$device" --threads "$threads" --progress none \
    --save-steps none
  # Per label (1 liver, 2 lesion): the foreground score above pools both.
  for gt in "$work"/test3d/ct/masks/*.nii.gz; do
    stem=$(basename "$gt" .nii.gz)
    for label in 1 2; do
      "$diffseg" eval --pred "$work/test3d/seg/$stem/labels.nii.gz" --gt "$gt" --label "$label" \
        --no-distances | grep '^pooled' | sed "s/^pooled (all pixels)/make-demo-models: $stem label $label Dice IoU SE SP ACC PREC:/"
    done
  done
fi
echo "make-demo-models: done; check the sizes (git add refuses nothing: keep each file under 5 MB)"
ls -l "$models"
