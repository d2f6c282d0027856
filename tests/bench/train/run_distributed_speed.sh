#!/usr/bin/env bash
# Data-parallel training speed on this machine, side by side in one run: the packaged ISIC 2018
# recipe (resources/configs/dermosegdiff/isic2018-cpu.yaml, 64 x 64) with a global batch of 8 as
#   A) 1 process x 2 threads, batch 8, and
#   B) 2 ranks (c10d Gloo over loopback) x 1 thread, batch 4 each,
# each for STEPS optimizer steps after the dataset cache is built. Prints steps per second (the
# median of the steps after the first 5), samples per second and each process's peak memory.
# Not part of CTest (minutes on 2 cores). The split file is the one packaging/ writes; without
# it, the config's split is replaced by fractions (the speed does not depend on which photos).
# Usage: tests/bench/train/run_distributed_speed.sh BUILD_DIR OUT_DIR [STEPS] [SHARED_DATA_DIR]
set -euo pipefail
build=$(cd "${1:?usage: run_distributed_speed.sh BUILD_DIR OUT_DIR [STEPS] [SHARED_DATA_DIR]}" && pwd)
out=${2:?usage: run_distributed_speed.sh BUILD_DIR OUT_DIR [STEPS] [SHARED_DATA_DIR]}
steps=${3:-40}
root=$(cd "$(dirname "$0")/../../.." && pwd)
shared=${4:-$root/../shared/data}
cli="$build/app/cli/diffseg"
config="$root/resources/configs/dermosegdiff/isic2018-cpu.yaml"
mkdir -p "$out"
out=$(cd "$out" && pwd)
common=(-c "$config" --data-dir "$shared/dermoscopy/isic2018" --set "dataset.cache_dir=$out/cache"
  --set dataset.split.mode=fractions --set "dataset.split.fractions=[0.9,0.1,0.0]"
  --set training.validation.dice_every=1000 --overwrite)

# The dataset cache first, so that neither side pays for decoding the photos.
"$cli" train "${common[@]}" --run-dir "$out/warm" --threads 2 --max-steps 1 \
  --progress "$out/warm.jsonl" >/dev/null

echo "A) 1 process x 2 threads, batch 8"
OMP_NUM_THREADS=2 /usr/bin/time -f "peak memory %M KiB" -o "$out/a.mem" \
  "$cli" train "${common[@]}" --max-steps "$steps" --run-dir "$out/a" --threads 2 --progress "$out/a.jsonl" >/dev/null

echo "B) 2 ranks x 1 thread, batch 4 each (global batch 8)"
port=$(( 29600 + RANDOM % 300 ))
for r in 0 1; do
  WORLD_SIZE=2 RANK=$r LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=$port OMP_NUM_THREADS=1 \
    /usr/bin/time -f "peak memory %M KiB" -o "$out/b$r.mem" \
    "$cli" train "${common[@]}" --set data_loader.train.batch_size=4 --max-steps "$steps" --run-dir "$out/b" \
    --threads 1 --progress "$out/b$r.jsonl" >/dev/null &
done
wait

python3 - "$out" <<'PY'
import json, statistics, sys, os
out = sys.argv[1]
def rate(name):
    s = []
    for line in open(os.path.join(out, name)):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("event") == "step":
            s.append((e["step"], e["step_seconds"], e.get("world_size")))
    s = [x for x in s if x[0] > 5]
    sec = statistics.median(x[1] for x in s)
    return 1.0 / sec
def mem(name):
    return open(os.path.join(out, name)).read().strip().split("\n")[-1]
a, b = rate("a.jsonl"), rate("b0.jsonl")
print(f"A) 1 x 2 threads, batch 8:  {a:.2f} steps/s, {8*a:.1f} samples/s, {mem('a.mem')}")
print(f"B) 2 ranks x 1 thread, 2x4: {b:.2f} steps/s, {8*b:.1f} samples/s, rank 0 {mem('b0.mem')}, rank 1 {mem('b1.mem')}")
print(f"B / A = {b/a:.2f}")
PY
