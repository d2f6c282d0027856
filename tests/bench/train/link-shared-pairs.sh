#!/usr/bin/env bash
# Sourced by the training benchmarks: link_shared_pairs SHARED_DATA_DIR OUT_DIR makes
# OUT_DIR/images and OUT_DIR/masks hold links to both shared dermoscopy sets (ISIC 2017 and PH2,
# 32 pairs; pairs match by stem, the masks' _segmentation and _lesion suffixes are ignored).
link_shared_pairs() {
  local shared=$1 data=$2 set f
  mkdir -p "$data/images" "$data/masks"
  for set in isic2017 ph2; do
    for f in "$shared/dermoscopy/$set/images/"*; do ln -sf "$f" "$data/images/"; done
    for f in "$shared/dermoscopy/$set/masks/"*; do ln -sf "$f" "$data/masks/"; done
  done
}
