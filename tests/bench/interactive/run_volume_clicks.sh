#!/usr/bin/env bash
# The simulated-click protocol on volumes: `diffseg eval-interactive` on each held-out case of the
# Decathlon's hippocampus (the cases the packaged model never trained on: the run's split.json),
# with the packaged hippocampus model (chosen by default for MRI) and the clicks alone, then the
# means over the cases: Dice (foreground, both labels) after k clicks, NoC@85/90 and seconds per
# click. Writes OUT/summary.json and OUT/summary.png.
# Usage: run_volume_clicks.sh BUILD_DIR OUT [CASES (default 10)] [CLICKS (default 5)]
#   DATA (env): the Decathlon folder (default ../shared/data/volumes/msd_hippocampus)
#   SPLIT (env): the run's split.json (default ~/diffseg-runs/hippocampus-cpu/run/split.json)
#   RADIUS (env): --click-radius (a fraction of the longer extent); unset: 2.5 voxels
set -euo pipefail
build=$(realpath "$1")
out=$2
cases=${3:-10}
clicks=${4:-5}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
data=${DATA:-$root/../shared/data/volumes/msd_hippocampus}
split=${SPLIT:-$HOME/diffseg-runs/hippocampus-cpu/run/split.json}
mkdir -p "$out"
python3() { if [ -x /usr/bin/python3 ]; then /usr/bin/python3 "$@"; else command python3 "$@"; fi; }
radius=()
[ -n "${RADIUS:-}" ] && radius=(--click-radius "$RADIUS")
ids=$(python3 -c "import json; print(' '.join(json.load(open('$split'))['val'][:$cases]))")
for id in $ids; do
  "$build/app/cli/diffseg" eval-interactive --input "$data/imagesTr/$id.nii.gz" \
    --gt "$data/labelsTr/$id.nii.gz" --max-clicks "$clicks" --methods diffusion,clicks-only \
    --threads 2 "${radius[@]}" --json "$out/$id.json" > "$out/$id.txt" 2>&1
done
python3 - "$out" $ids <<'PY'
import json, sys
out, ids = sys.argv[1], sys.argv[2:]
runs = [json.load(open(f"{out}/{i}.json")) for i in ids]
summary = {"cases": len(runs), "ids": ids, "methods": {}}
for m in runs[0]["methods"]:
    rows = [r["methods"][m] for r in runs]
    k = len(rows[0]["dice_at"])
    summary["methods"][m] = {
        "dice_at": [sum(r["dice_at"][j] for r in rows) / len(rows) for j in range(k)],
        "noc85": sum(r["noc85"] for r in rows) / len(rows),
        "noc90": sum(r["noc90"] for r in rows) / len(rows),
        "seconds_per_click": sum(r["seconds_per_click"] for r in rows) / len(rows),
    }
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(f"{len(runs)} held-out cases")
for m, s in summary["methods"].items():
    print(f"{m:<12}" + " ".join(f"{d:.3f}" for d in s["dice_at"]) +
          f"  NoC85 {s['noc85']:.2f}  NoC90 {s['noc90']:.2f}  {s['seconds_per_click']:.2f} s/click")
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    for m, s in summary["methods"].items():
        ax.plot(range(len(s["dice_at"])), s["dice_at"], "-o", ms=3, label=m)
    ax.set_xlabel("clicks")
    ax.set_ylabel("mean Dice (foreground)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"Simulated clicks on {len(runs)} held-out hippocampus MRI cases", fontsize=9)
    fig.tight_layout()
    fig.savefig(f"{out}/summary.png")
except ImportError:
    print("no plot: python3-matplotlib is missing")
PY
