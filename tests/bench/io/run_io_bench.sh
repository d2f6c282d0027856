#!/usr/bin/env bash
# Reproduces the volume-loading benchmark: readVolume() vs a plain itk::ImageFileReader, each load
# in a fresh process (time and peak RSS), on a generated 512x512x300 int16 .nii.gz and on the
# largest shared volume.
# Usage: tests/bench/io/run_io_bench.sh BUILD_DIR [SHARED_DATA_DIR] [REPEATS]
set -euo pipefail
build=${1:?usage: run_io_bench.sh BUILD_DIR [SHARED_DATA_DIR] [REPEATS]}
shared=${2:-$(cd "$(dirname "$0")/../../../.." && pwd)/shared/data}
repeats=${3:-5}
tool="$build/tests/bench/io/bench_io_load"
data="$build/bench-data"
mkdir -p "$data"
generated="$data/ct_512x512x300_int16.nii.gz"
if [ ! -s "$generated" ]; then
  "$tool" generate "$generated"
fi
status=0
"$tool" compare "$generated" "$repeats" || status=1
echo
# Largest shared volume by voxel bytes (ties: the larger file).
largest=""
best=0
while IFS= read -r f; do
  bytes=$("$build/app/cli/diffseg" info --json "$f" 2>/dev/null |
    python3 -c 'import json,sys; j=json.load(sys.stdin); s=j["size"]; b={"int16":2,"uint8":1,"uint16":2,"float32":4}[j["pixel_type"]]; print(s[0]*s[1]*s[2]*j["channels"]*b)' || echo 0)
  size=$(stat -c %s "$f")
  key=$((bytes * 100000000 + size))
  if [ "$key" -gt "$best" ]; then best=$key; largest=$f; fi
done < <(find "$shared/volumes" -name '*.nii.gz' | sort)
if [ -n "$largest" ]; then
  "$tool" compare "$largest" "$repeats" || status=1
fi
exit $status
