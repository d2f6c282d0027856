#!/usr/bin/env bash
# Runs every fuzz target for a fixed time from generated seeds and reports executions and
# crashes per target. Build first:
#   cmake -G Ninja -S . -B ../build-fuzz -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
#         -DDIFFSEG_BUILD_FUZZERS=ON -DDIFFSEG_BUILD_GUI=OFF && ninja -C ../build-fuzz -j2 fuzzers
# Usage: tests/fuzz/run_fuzzers.sh FUZZ_BUILD_DIR [SECONDS_PER_TARGET=300] [PARALLEL=2] [SHARED_DATA_DIR] [TARGETS...]
set -euo pipefail
build=${1:?usage: run_fuzzers.sh FUZZ_BUILD_DIR [SECONDS] [PARALLEL] [SHARED_DATA_DIR] [TARGETS...]}
seconds=${2:-300}
parallel=${3:-2}
shared=${4:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/data}
shift $(( $# < 4 ? $# : 4 ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_image_decode fuzz_mask_decode fuzz_nifti fuzz_nrrd fuzz_metaimage fuzz_dicom fuzz_split_json)
fi
bin="$build/tests/fuzz"
work="$build/fuzz-work"
mkdir -p "$work"
"$bin/fuzz_make_seeds" "$work/seeds" "$shared" >/dev/null

run_one() {
  local t=$1
  local extra=()
  local asan="${ASAN_OPTIONS:-}"
  # Leaks in the dependencies, not in our code, would stop these runs at the first bad input:
  # ITK 5.2's NrrdImageIO leaks teem's header and error text (a few kB) for every header it
  # rejects, and GDCM leaks its OpenJPEG decoder and buffer (~0.5 MB) on a corrupt JPEG 2000
  # stream. Leak checks stay on for every other target.
  if [ "$t" = fuzz_nrrd ] || [ "$t" = fuzz_dicom ]; then
    extra=(-detect_leaks=0)
    asan="detect_leaks=0${asan:+:$asan}"
  fi
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t" "$work/logs"
  # -close_fd_mask=3 silences the libraries' own chatter; libFuzzer keeps its report.
  ASAN_OPTIONS="$asan" "$bin/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -close_fd_mask=3 \
    -artifact_prefix="$work/artifacts/$t/" "${extra[@]}" "$work/corpus/$t" "$work/seeds/$t" \
    >"$work/logs/$t.log" 2>&1 || true
}

running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

printf '%-20s %12s %8s %8s  %s\n' target executions seconds crashes artifacts
status=0
for t in "${targets[@]}"; do
  log="$work/logs/$t.log"
  runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 | awk '{print $2}' || true)
  secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 | awk '{print $5}' || true)
  if [ -z "$runs" ]; then
    # Stopped early (a finding): the last status line has the count.
    runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
    secs="stopped"
  fi
  crashes=$(find "$work/artifacts/$t" -type f | wc -l)
  [ "$crashes" -eq 0 ] || status=1
  printf '%-20s %12s %8s %8s  %s\n' "$t" "${runs:-0}" "${secs:-?}" "$crashes" "$work/artifacts/$t"
done
exit $status
