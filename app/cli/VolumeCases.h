#pragma once

// The cases of `diffseg segment3d`: a volume file, a DICOM folder, a folder of volumes or a
// dataset folder (BraTS 2023, AIIB 2023, images/ + masks/), each paired with its ground truth.

#include <string>
#include <vector>

namespace diffseg::app {

/// One case to segment.
struct VolumeCaseInput
{
    std::string id;
    std::vector<std::string> images; ///< one file or DICOM folder, or one file per channel
    std::string gt;                  ///< empty: no ground truth
    std::string gtOrigin;            ///< "--gt" or "dataset"
};

/// The cases under `input` with their ground truth (a dataset's own label maps, or `gt`: a label
/// map for one case, or a folder of them paired by stem). Throws core::Error naming the path:
/// NotFound when there is nothing to segment or a case lacks its label map, Config when a single
/// label map is given for a folder of cases.
std::vector<VolumeCaseInput> collectVolumeCases(const std::string& input, const std::string& gt);

/// A folder whose regular files include DICOM files (checked on the first few, by content).
bool isDicomFolder(const std::string& folder);

/// Whether `input` holds volumes rather than photos: a volume extension, a volume dataset layout,
/// a folder with a volume file or DICOM files.
bool looksLikeVolumeInput(const std::string& input);

} // namespace diffseg::app
