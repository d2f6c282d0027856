#!/usr/bin/env bash
# Issue 19's simulated-click run on the 400 ISIC 2018 validation photos, in chunks of 5 photos
# (sorted by id), so that it can be stopped at any point and carried on later, by another session
# on another machine: each chunk's result is a small JSON under OUT/<methods>/cNN.json, kept in
# the repository (tests/bench/interactive/val400/), with the machine, precision and commit that
# made it. A chunk whose JSON exists is skipped. merge_val400.py pools the chunks.
#
# The network runs in fp32 whatever the CPU offers, so that chunks measured on different machines
# give the same Dice (bf16 would not); the seconds per click are only comparable within a chunk.
#
# Usage: run_val400.sh BUILD_DIR [METHODS (default diffusion)] [FIRST LAST (chunks, default 0 79)]
#   OUT (env): results folder (default: this script's val400/)
#   DATA (env): the ISIC 2018 folder (default ../shared/data/dermoscopy/isic2018)
#   THREADS (env): compute threads (default 2)
#   TAG (env): a suffix of the results folder (OUT/<methods>-TAG), for a run with other settings
#   EXTRA (env): more eval-interactive options for that run (e.g. "--background-regions 0")
#   DIFFSEG (env): the diffseg binary (default BUILD_DIR/app/cli/diffseg; a copy keeps a long run
#     safe from rebuilds)
#   MODEL (env): the checkpoint (default the packaged resources/models/dermoscopy-isic2018.dsckpt)
set -euo pipefail
build=$(realpath "$1")
methods=${2:-diffusion}
first=${3:-0}
last=${4:-79}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
data=${DATA:-$root/../shared/data/dermoscopy/isic2018}
out=${OUT:-$here/val400}/${methods//,/+}${TAG:+-$TAG}
read -r -a extra <<< "${EXTRA:-}"
threads=${THREADS:-2}
bin=${DIFFSEG:-$build/app/cli/diffseg}
model=${MODEL:-$root/resources/models/dermoscopy-isic2018.dsckpt}
if [ ! -f "$data/manifest.csv" ]; then
  echo "run_val400.sh: $data/manifest.csv is missing (the shared ISIC 2018 data)" >&2
  exit 2
fi
mkdir -p "$out"
# The clinician's desktop setting (see app/studio/OpenMpWait.h): threads that wait passively do
# not collapse when another process wants a core.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
mapfile -t ids < <(awk -F, 'NR > 1 && $4 ~ /\/val\// { print $1 }' "$data/manifest.csv" | sort)
if [ "${#ids[@]}" -ne 400 ]; then
  echo "run_val400.sh: expected 400 val photos in $data/manifest.csv, found ${#ids[@]}" >&2
  exit 2
fi
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
bf16=$(grep -q avx512_bf16 /proc/cpuinfo && echo yes || echo no)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
for ((c = first; c <= last; ++c)); do
  name=$(printf 'c%02d' "$c")
  [ -f "$out/$name.json" ] && continue
  work=$(mktemp -d)
  mkdir "$work/images" "$work/masks"
  for id in "${ids[@]:$((c * 5)):5}"; do
    ln -s "$data/images/$id.jpg" "$work/images/$id.jpg"
    ln -s "$data/masks/${id}_segmentation.png" "$work/masks/${id}_segmentation.png"
  done
  started=$(date -u +%FT%TZ)
  if "$bin" eval-interactive --model "$model" --input "$work/images" --gt "$work/masks" \
    --max-clicks 10 --methods "$methods" --threads "$threads" --precision fp32 \
    "${extra[@]}" --json "$work/result.json" > "$work/log.txt" 2>&1; then
    python3 - "$work/result.json" "$work/log.txt" "$out/$name.json" "$started" "$cpu" "$bf16" "$commit" \
      "$(basename "$model")" "${EXTRA:-}" \
      "${ids[@]:$((c * 5)):5}" <<'PY'
import json, os, sys
src, log, dst, started, cpu, bf16, commit, model, extra, *ids = sys.argv[1:]
run = json.load(open(src))
run["photos"] = ids
# Each photo's Dice at the start and after the last click, per method, from the printed lines
# ("[i/n] ID.jpg  diffusion 0.948->0.945  grabcut ..."): where clicks help and where they fail.
run["per_photo"] = {}
for line in open(log):
    parts = line.split()
    if len(parts) >= 4 and parts[0].startswith("["):
        stem = parts[1].rsplit(".", 1)[0]
        run["per_photo"][stem] = {m: [float(v) for v in d.split("->")]
                                  for m, d in zip(parts[2::2], parts[3::2]) if "->" in d}
run["model"] = model
run["options"] = extra  # beyond --max-clicks 10 --precision fp32 and the defaults
run["machine"] = {"cpu": cpu, "avx512_bf16": bf16 == "yes", "nproc": os.cpu_count(),
                  "started": started, "commit": commit, "precision": "fp32"}
tmp = dst + ".tmp"
with open(tmp, "w") as f:
    json.dump(run, f, indent=1)
os.replace(tmp, dst)
PY
    echo "$name done"
  else
    echo "$name failed:" >&2
    tail -5 "$work/log.txt" >&2
  fi
  rm -rf "$work"
done
