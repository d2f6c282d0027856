#!/usr/bin/env bash
# Installs the Debian 12 packages DiffSeg Studio needs to build, test and run, and nothing else.
# Does nothing (and needs no root) when everything is already present.
# Usage: packaging/install-deps.sh [--runtime-only]
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  qt6-base-dev libqt6opengl6-dev qt6-charts-dev qt6-base-dev-tools
  libvtk9-dev libinsighttoolkit5-dev libgdcm-tools
  libtorch-dev libgloo-dev libopenblas0-openmp
  libopencv-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev zlib1g-dev
  libbenchmark-dev libgtest-dev
  xvfb xauth x11-utils xfonts-base mesa-utils libgl1-mesa-dri qt6-qpa-plugins
  clang-14 libclang-rt-14-dev clang-format dpkg-dev file
)

missing=()
for p in "${build_pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are missing or stale, to keep repeated runs fast.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  "${sudo_cmd[@]}" apt-get update -q
fi
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
