#!/usr/bin/env bash
# Sourced by the benchmarks that time the reference DermoSegDiff next to ours:
# reference_args USAGE BUILD_DIR REFERENCE_SRC OUT_DIR sets build, reference and out to the absolute
# paths of the three folders (OUT_DIR is created). It exits with USAGE when one is not given, and
# with status 2 when REFERENCE_SRC is not the src/ folder of a xmindflow/DermoSegDiff checkout.
reference_args() {
  local usage=$1
  build=$(cd "${2:?$usage}" && pwd)
  reference=$(cd "${3:?$usage}" && pwd)
  out=${4:?$usage}
  [ -f "$reference/models/segdiffs.py" ] || { echo "$reference: not the reference's src/ folder" >&2; exit 2; }
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
}
