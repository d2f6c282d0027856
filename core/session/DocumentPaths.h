#pragma once

// What opens how: telling photos from volumes by their path, and finding the ground truth that
// sits beside a document, for the session layer (and through it the studio and the CLI).

#include <string>

namespace diffseg::core {

/// 2D formats the image readers decode (.png, .jpg, .jpeg, .bmp, .tif, .tiff).
bool hasImageExtension(const std::string& path);
/// Volume and label-map files (.nii, .nii.gz, .nrrd, .nhdr, .seg.nrrd, .mha, .mhd, .dcm).
bool hasVolumeExtension(const std::string& path);
/// A folder (DICOM), a volume extension, or a file whose first bytes say DICOM, NIfTI or NRRD;
/// never throws (a missing path is not a volume).
bool isVolumePath(const std::string& path);
/// The file name without its volume extension ("t2.nii.gz" -> "t2").
std::string volumeStem(const std::string& path);
/// A name that says "labels" (seg, label, mask, _gt, -gt, truth, .seg.nrrd).
bool looksLikeLabelFile(const std::string& path);

/// The ground truth of a photo: a file in its folder, in masks/ beside it or in ../masks or
/// ../ground_truth whose name is the photo's stem plus a known mask suffix (_segmentation,
/// _lesion, _mask, ...), so that ISIC_1.jpg never picks ISIC_12.png. Empty when there is none.
std::string findPhotoGroundTruth(const std::string& imagePath);
/// The ground truth of a volume file: `<stem>_*` in its folder with a volume extension and a
/// label-like name (t2.nii.gz -> t2_seg-manual.nii.gz). Empty when there is none.
std::string findVolumeGroundTruth(const std::string& volumePath);

} // namespace diffseg::core
