#!/usr/bin/env bash
# Builds the Debian package with CPack from a built build folder, unpacks it into a scratch root
# (dpkg-deb -x, no root needed) and uses the unpacked files as a user would: checks the control
# fields and the file list, runs `diffseg --version` (which must find the installed resources next
# to the executable) and a headless `diffseg segment` of a demo image with the packaged demo model.
# Usage: test-package.sh BUILD_DIR SCRATCH_DIR GUI(ON|OFF)
set -euo pipefail

build=$(realpath "$1")
scratch=$2
gui=${3:-ON}
rm -rf "$scratch"
mkdir -p "$scratch"
scratch=$(realpath "$scratch")
cd "$scratch"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() {
  echo "== $* ($(($(date +%s) - start)) s)"
}
start=$(date +%s)

step "cpack"
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$scratch/out" >cpack.log 2>&1; then
  cat cpack.log
  fail "cpack failed"
fi
debs=("$scratch"/out/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb in $scratch/out"
deb=${debs[0]}
echo "package: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB"

step "control fields"
dpkg-deb -I "$deb" | tee info.txt
for field in Package Version Architecture Maintainer Depends Section Description; do
  grep -q "^ $field: " info.txt || fail "control field $field missing"
done
grep -q '^ Package: diffseg-studio$' info.txt || fail "package name"
depends=$(grep '^ Depends: ' info.txt)
for dep in libc6 libstdc++6 libtorch libopencv-core libinsighttoolkit qt6-qpa-plugins; do
  grep -q "$dep" <<<"$depends" || fail "Depends lacks $dep"
done
if [ "$gui" = ON ]; then
  for dep in libqt6widgets6 libvtk9; do
    grep -q "$dep" <<<"$depends" || fail "Depends lacks $dep"
  done
fi

step "contents"
dpkg-deb -c "$deb" | awk '{print $6}' >contents.txt
expected=(
  ./usr/bin/diffseg
  ./usr/share/diffseg-studio/configs/dermosegdiff/small-cpu.yaml
  ./usr/share/diffseg-studio/configs/demo/dermoscopy-demo.yaml
  ./usr/share/diffseg-studio/configs/demo/diffunet-demo.yaml
  ./usr/share/diffseg-studio/models/dermoscopy-demo.dsckpt
  ./usr/share/diffseg-studio/models/diffunet-demo.dsckpt
  ./usr/share/diffseg-studio/configs/diffunet/hippocampus-cpu.yaml
  ./usr/share/applications/diffseg-studio.desktop
  ./usr/share/icons/hicolor/scalable/apps/diffseg-studio.svg
  ./usr/share/metainfo/org.diffseg.DiffSegStudio.metainfo.xml
  ./usr/share/doc/diffseg-studio/copyright
)
[ "$gui" = ON ] && expected+=(./usr/bin/diffseg-studio)
for f in "${expected[@]}"; do
  grep -qx -- "$f" contents.txt || fail "$f is not in the package"
done
if grep -qvE '^\./usr(/|$)' contents.txt; then
  fail "files outside /usr: $(grep -vE '^\./usr(/|$)' contents.txt | head -3)"
fi
# Files over 5 MB other than the executables and the packaged models (at most 40 MB each) would be
# a packaging mistake (a stray training checkpoint).
dpkg-deb -c "$deb" | awk '($3 > 5242880 && $6 !~ /^\.\/usr\/bin\// && $6 !~ /\/models\/[^\/]*\.dsckpt$/) ||
  ($3 > 41943040 && $6 ~ /\.dsckpt$/) {print $6}' >large.txt
[ ! -s large.txt ] || fail "unexpected large files: $(cat large.txt)"
# The hippocampus model's data licence (CC-BY-SA 4.0) is in the copyright file too.
if grep -q 'models/diffunet-hippocampus.dsckpt' contents.txt; then
  dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/diffseg-studio/copyright >copyright-h.txt
  grep -q "CC-BY-SA-4.0" copyright-h.txt || fail "the copyright file does not state the hippocampus model's licence"
fi
# Every packaged model trained on ISIC data says so: its terms are in the copyright file.
if grep -q 'models/dermoscopy-isic2018.dsckpt' contents.txt; then
  # Into a file first: `grep -q` leaving a pipe early makes tar die of SIGPIPE, which pipefail
  # reports as a failure on a busy machine.
  dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/diffseg-studio/copyright >copyright.txt
  grep -q "non-commercial" copyright.txt || fail "the copyright file does not state the ISIC model's terms"
  # ... and the studio's demo opens a real photo it never trained on, credited.
  for f in demo/ISIC_0000072.jpg demo/masks/ISIC_0000072_segmentation.png demo/CREDITS.md; do
    grep -qx -- "./usr/share/diffseg-studio/$f" contents.txt || fail "$f is not in the package"
  done
fi

step "unpack"
dpkg-deb -x "$deb" root
exe=$scratch/root/usr/bin/diffseg
[ -x "$exe" ] || fail "no executable $exe"
# The executables link only system libraries: nothing from the build tree, nothing missing.
for bin in root/usr/bin/*; do
  if ldd "$bin" | grep -E "not found|$build" >ldd-bad.txt; then
    fail "$bin: $(cat ldd-bad.txt)"
  fi
  readelf -d "$bin" >dynamic.txt
  if grep -qE 'RPATH|RUNPATH' dynamic.txt; then
    fail "$bin has an RPATH/RUNPATH"
  fi
done
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net root/usr/share/metainfo/org.diffseg.DiffSegStudio.metainfo.xml
fi
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate root/usr/share/applications/diffseg-studio.desktop
fi

# The unpacked tool runs without LD_LIBRARY_PATH and without the source tree's resources.
run() {
  env -u LD_LIBRARY_PATH -u DIFFSEG_RESOURCE_DIR OMP_WAIT_POLICY=PASSIVE "$@"
}

step "diffseg --version"
run "$exe" --version | tee version.txt
grep -q "^diffseg " version.txt || fail "--version"
grep -qx "  resources: $scratch/root/usr/share/diffseg-studio" version.txt ||
  fail "the unpacked diffseg does not use its installed resources"

step "diffseg demo-data"
# Held-out images for the demo model (it was trained on seeds 0..239 at this size).
run "$exe" demo-data --out demo --count 2 --size 256x256 --seed 10000 --quiet
[ -s demo/images/demo_0000.png ] && [ -s demo/masks/demo_0000_segmentation.png ] ||
  fail "demo-data wrote no image"

step "diffseg segment"
run "$exe" segment --model root/usr/share/diffseg-studio/models/dermoscopy-demo.dsckpt \
  --input demo/images --gt demo/masks --out seg --sampler ddim --steps 5 --ensemble 2 \
  --device cpu --threads 2 --progress none | tee segment.txt
for stem in demo_0000 demo_0001; do
  [ -s seg/$stem/mask.png ] || fail "no mask written for $stem"
  [ -s seg/$stem/summary.json ] || fail "no summary.json written for $stem"
done
# The packaged model is the trained one, not a stale or untrained file: pooled Dice 0.76 on these
# two images when it was committed (0.87 mean on eight with 10 steps and 3 members); the same
# network after one training step scores 0.18.
run "$exe" eval --pred seg --gt demo/masks --no-distances --min-dice 0.6 | tail -1 ||
  fail "the packaged demo model's Dice on held-out demo images is below 0.6"

if grep -q 'models/dermoscopy-isic2018.dsckpt' contents.txt; then
  step "diffseg segment (the ISIC 2018 model, by default)"
  # Without --model the installed default photo model runs with its card's settings, on the real
  # demo photo it never trained on: Dice 0.83 when the model was committed (Otsu 0.95; the model
  # also outlines a grey patch above the lesion that the expert left out). The previous model,
  # which started from the Otsu outline, scored 0.96 here but 0.790 pooled on the 400 val photos
  # (this one: 0.880). A model that does not find the lesion scores far below 0.75.
  share=root/usr/share/diffseg-studio
  run "$exe" segment --input $share/demo/ISIC_0000072.jpg --gt $share/demo/masks \
    --out seg-isic --device cpu --threads 2 --progress none 2>&1 | tee segment-isic.txt
  grep -q "dermoscopy-isic2018.dsckpt" segment-isic.txt ||
    fail "segment without --model did not take the packaged ISIC 2018 model"
  run "$exe" eval --pred seg-isic --gt $share/demo/masks --no-distances --min-dice 0.75 | tail -1 ||
    fail "the packaged ISIC 2018 model's Dice on its demo photo is below 0.75"
fi

hippocampus=${DIFFSEG_SHARED_DIR:-}/data/volumes/msd_hippocampus
if grep -q 'models/diffunet-hippocampus.dsckpt' contents.txt; then
  if [ -n "${DIFFSEG_SHARED_DIR:-}" ] && [ -f "$hippocampus/dataset.json" ]; then
    step "diffseg segment3d (the hippocampus model, by default for MRI)"
    # A held-out case (hippocampus_006) without --model: the packaged MRI model with its card's
    # settings. Foreground Dice 0.92 when the model was committed.
    run "$exe" segment3d --input "$hippocampus/imagesTr/hippocampus_006.nii.gz" \
      --gt "$hippocampus/labelsTr/hippocampus_006.nii.gz" --out seg-hippocampus --device cpu \
      --threads 2 --save-steps none --progress none >segment-hippocampus.txt 2>&1 ||
      { cat segment-hippocampus.txt; fail "segment3d with the hippocampus model failed"; }
    grep -q "diffunet-hippocampus.dsckpt" segment-hippocampus.txt ||
      fail "segment3d without --model did not take the packaged hippocampus model for an MRI"
    run "$exe" eval --pred seg-hippocampus --gt "$hippocampus/labelsTr" --no-distances \
      --min-dice 0.8 2>/dev/null | tail -1 ||
      fail "the packaged hippocampus model's Dice on a held-out case is below 0.8"
  else
    echo "skipped: the hippocampus check needs DIFFSEG_SHARED_DIR with data/volumes/msd_hippocampus"
  fi
fi

if [ "$gui" = ON ]; then
  step "diffseg-studio --version"
  # Loads every library the studio links and its Qt platform plugin, without a display.
  run env QT_QPA_PLATFORM=offscreen root/usr/bin/diffseg-studio --version | tee studio.txt
  grep -qE '[0-9]+\.[0-9]+\.[0-9]+' studio.txt ||
    fail "diffseg-studio --version printed no version"
fi
step "done"
