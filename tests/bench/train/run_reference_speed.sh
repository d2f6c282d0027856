#!/usr/bin/env bash
# Training speed of `diffseg train` against the reference Python DermoSegDiff under the same torch
# (Debian python3-torch 1.13, which is the same libtorch our build links), same config, batch,
# input size, threads and data (the shared ISIC 2017 + PH2 pairs). Runs the two alternately
# ROUNDS times so that a change in machine load hits both, and prints the median step of each.
#
# Ours: `diffseg train --max-steps`; a step as its progress reports it (batch assembly,
# the hybrid loss with boundary weights, backward, optimizer, EMA). Augmentation is switched off
# in both because the reference's albumentations is not packaged for Debian.
# Reference: reference_train_speed.py (needs python3-torch, python3-torchvision, python3-opencv,
# python3-scipy, python3-skimage, python3-matplotlib, python3-termcolor, python3-tqdm).
#
# Usage: run_reference_speed.sh BUILD_DIR REFERENCE_SRC OUT_DIR [SIZE] [BATCH] [STEPS] [ROUNDS]
#   REFERENCE_SRC: the src/ folder of a xmindflow/DermoSegDiff checkout
#   CONFIG=...yaml: another of our configs (default small-cpu.yaml; isic2018.yaml is the paper's
#   321 M-parameter network: about 7 GB per process at batch 1)
set -euo pipefail
usage="usage: run_reference_speed.sh BUILD_DIR REFERENCE_SRC OUT_DIR [SIZE] [BATCH] [STEPS] [ROUNDS]"
size=${4:-64}
batch=${5:-8}
steps=${6:-20}
rounds=${7:-2}
root=$(cd "$(dirname "$0")/../../.." && pwd)
shared=${SHARED_DATA:-$root/../shared/data}
config=$(realpath "${CONFIG:-$root/resources/configs/dermosegdiff/small-cpu.yaml}")
threads=2
export OMP_WAIT_POLICY=PASSIVE
. "$root/tests/bench/train/reference-args.sh"
reference_args "$usage" "$@"

# One images/ + masks/ folder of links to both shared sets.
. "$root/tests/bench/train/link-shared-pairs.sh"
data="$out/data"
link_shared_pairs "$shared" "$data"

for round in $(seq 1 "$rounds"); do
  rm -rf "$out/run"
  # Two warm-up steps are dropped from our figures as from the reference's.
  "$build/app/cli/diffseg" train -c "$config" --data-dir "$data" --run-dir "$out/run" \
    --threads "$threads" -s "$size" -b "$batch" --augmentation_p 0 \
    --set training.validation.dice_every=100000 --set dataset.name="" --set dataset.split.mode=fractions --max-steps $((steps + 2)) \
    --progress "$out/ours-$round.jsonl" > /dev/null
  # From the output folder: the reference's logger writes log.log into the working directory.
  (cd "$out" && /usr/bin/python3 "$root/tests/bench/train/reference_train_speed.py" \
    --reference "$reference" --config "$config" --data-dir "$data" --size "$size" \
    --batch "$batch" --threads "$threads" --steps "$steps" --warmup 2 \
    --json "$out/reference-$round.json" | tail -1)
done

python3 - "$out" "$rounds" "$size" "$batch" "$(basename "$config")" <<'PY'
import json, statistics, sys
out, rounds, size, batch, config = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ours, ref = [], []
for r in range(1, rounds + 1):
    steps = [json.loads(l) for l in open(f"{out}/ours-{r}.jsonl") if '"event":"step"' in l.replace(" ", "")]
    ours += [s["step_seconds"] for s in steps[2:]]
    ref.append(json.load(open(f"{out}/reference-{r}.json"))["median_s"])
o = statistics.median(ours)
f = statistics.median(ref)
print(f"{config}, {size}x{size}, batch {batch}: diffseg train median {o:.3f} s/step "
      f"({len(ours)} steps), reference median {f:.3f} s/step; ours {f / o:.2f}x the reference's speed")
PY
