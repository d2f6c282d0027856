#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace diffseg::core {

/// Folder layouts of the training and evaluation datasets (seed-spec A2.1 and B2.1).
enum class DatasetLayout
{
    Isic2018,    ///< ISIC2018_Task1-2_Training_Input/ISIC_<id>.jpg +
                 ///< ISIC2018_Task1_Training_GroundTruth/ISIC_<id>_segmentation.png
    Ph2,         ///< trainx/IMD<id>.bmp + trainy/IMD<id>_lesion.bmp
    ImagesMasks, ///< images/ + masks/ matched by file stem (mask suffixes _segmentation, _lesion,
                 ///< _mask, _seg, _gt are ignored); 2D images or volumes
    Brats2023,   ///< one folder per case with t2w, t2f, t1n, t1c and seg NIfTI files
    Aiib2023,    ///< img/ + gt/ with identical file names
    Decathlon    ///< the Medical Segmentation Decathlon's dataset.json + imagesTr/ + labelsTr/
                 ///< (its "training" pairs; or nnU-Net v2's <case>_0000 channel files)
};

const char* datasetLayoutName(DatasetLayout layout) noexcept;
/// "isic2018", "ph2", "images-masks", "brats2023", "aiib2023", "decathlon" (case-insensitive).
std::optional<DatasetLayout> datasetLayoutFromName(const std::string& name);

/// One case: its id, its image file(s) and its mask / label map file.
struct DatasetSample
{
    std::string id;
    /// One file for 2D datasets, AIIB and the Decathlon (whose 4D files hold the channels);
    /// BraTS: the four modalities in the channel order the networks expect, t2w, t2f, t1n, t1c;
    /// nnU-Net v2: one file per channel in channel order.
    std::vector<std::string> images;
    std::string mask;
};

/// What a dataset folder holds.
struct DatasetScan
{
    DatasetLayout layout = DatasetLayout::ImagesMasks;
    std::string root;
    std::vector<DatasetSample> samples;      ///< complete cases, sorted by id
    std::vector<std::string> unpairedImages; ///< images (or case folders) without a mask
    std::vector<std::string> unpairedMasks;  ///< masks without an image
    /// Files and folders that look wrong: names that do not follow the layout, duplicate ids,
    /// incomplete BraTS cases.
    std::vector<std::string> problems;

    /// What the dataset says about itself (a Decathlon dataset.json); empty for other layouts.
    std::string name;
    std::string licence;
    std::vector<std::string> channelNames;               ///< "MRI"; "FLAIR", "T1w", ...
    std::vector<std::pair<int, std::string>> labelNames; ///< label value -> name, by value

    /// The name of label `value`, or "" when the dataset does not name it.
    std::string labelName(int value) const;
};

/// The layout of `root`, from its folder names; nullopt when none fits. Throws Error(NotFound)
/// when `root` is not a folder.
std::optional<DatasetLayout> detectDatasetLayout(const std::string& root);

/// Lists the cases of a dataset folder, pairing images and masks. Listing order never matters:
/// samples are sorted by id. Throws Error(NotFound) when the layout's folders are missing and
/// Error(Format) (naming the folder) when no layout fits.
DatasetScan scanDataset(const std::string& root);
DatasetScan scanDataset(const std::string& root, DatasetLayout layout);

/// Stem used to pair a mask with its image: the file stem without a known mask suffix.
std::string pairingStem(const std::string& path);

} // namespace diffseg::core
