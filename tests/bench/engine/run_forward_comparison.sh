#!/usr/bin/env bash
# The paper's network (DermoSegDiff-A, isic2018 config, 321 M parameters, 128x128, eval) timed in
# turns: the reference's Python forward under Debian's python3-torch 1.13 (the same libtorch our
# build links) and `diffseg bench forward` in bf16 (auto on a CPU with AVX512-BF16) and in fp32,
# at B=1 and B=5 (the ensemble), 2 threads. Running them alternately ROUNDS times lets a change of
# machine load hit all three; the medians are printed side by side.
#
# Usage: run_forward_comparison.sh BUILD_DIR REFERENCE_SRC OUT_DIR [ROUNDS] [REPEATS]
#   REFERENCE_SRC: the src/ folder of a xmindflow/DermoSegDiff checkout
#   Needs python3-torch, python3-yaml, python3-numpy (the reference harness's imports).
set -euo pipefail
usage="usage: run_forward_comparison.sh BUILD_DIR REFERENCE_SRC OUT_DIR [ROUNDS] [REPEATS]"
rounds=${4:-2}
repeats=${5:-3}
root=$(cd "$(dirname "$0")/../../.." && pwd)
config="$root/resources/configs/dermosegdiff/isic2018.yaml"
export OMP_WAIT_POLICY=PASSIVE
. "$root/tests/bench/train/reference-args.sh"
reference_args "$usage" "$@"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; bf16 flags: $(grep -o -m1 -E 'avx512_bf16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for round in $(seq 1 "$rounds"); do
  (cd "$out" && /usr/bin/python3 "$root/tests/bench/train/reference_train_speed.py" \
    --reference "$reference" --config "$config" --data-dir "$out" --size 128 --threads 2 \
    --forward-batches 1,5 --steps "$repeats" --warmup 1 --json "$out/reference-$round.json" \
    | grep "reference forward")
  for precision in bf16 fp32; do
    "$build/app/cli/diffseg" bench forward --config isic2018 --batch 1 5 --size 128 --threads 2 \
      --repeats "$repeats" --no-train --no-roofline --precision "$precision" \
      --json "$out/ours-$precision-$round.json" 2>/dev/null | grep -E "^  forward"
  done
done

/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows = {}
for r in range(1, rounds + 1):
    ref = json.load(open(f"{out}/reference-{r}.json"))
    for b, v in ref["forward"].items():
        rows.setdefault(int(b), {}).setdefault("reference", []).append(v["median_s"])
    for p in ("bf16", "fp32"):
        ours = json.load(open(f"{out}/ours-{p}-{r}.json"))
        for t in ours["forward"]:
            rows.setdefault(t["batch"], {}).setdefault(p, []).append(t["median_s"])
print("median of the per-round medians (s); ratio = reference / ours")
for b in sorted(rows):
    v = {k: statistics.median(x) for k, x in rows[b].items()}
    print(f"B={b}: reference {v['reference']:.3f}  ours bf16 {v['bf16']:.3f} "
          f"({v['reference'] / v['bf16']:.2f}x)  ours fp32 {v['fp32']:.3f} "
          f"({v['reference'] / v['fp32']:.2f}x)  per member: bf16 {v['bf16'] / b:.3f}, "
          f"fp32 {v['fp32'] / b:.3f}, reference {v['reference'] / b:.3f}")
PY
