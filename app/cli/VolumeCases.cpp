#include "VolumeCases.h"

#include "CasePairing.h"
#include "CliSupport.h"
#include "base/Error.h"
#include "data/DatasetLayout.h"
#include "io/FileUtils.h"
#include "io/VolumeReader.h"

#include <filesystem>
#include <optional>

namespace diffseg::app {

using namespace diffseg::core;
namespace fs = std::filesystem;

namespace {

bool isDicomFile(const std::string& path)
{
    try {
        return detectVolumeFormat(path) == VolumeFormat::Dicom;
    } catch (const Error&) {
        return false;
    }
}

} // namespace

bool isDicomFolder(const std::string& folder)
{
    std::error_code ec;
    int checked = 0;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end && checked < 8;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.empty() || name[0] == '.' || !it->is_regular_file(ec) ||
            hasVolumeExtension(name) || hasImageExtension(name)) {
            continue;
        }
        ++checked;
        if (isDicomFile(it->path().string())) {
            return true;
        }
    }
    return false;
}

std::vector<VolumeCaseInput> collectVolumeCases(const std::string& input, const std::string& gt)
{
    std::error_code ec;
    if (!fs::exists(input, ec)) {
        throw Error(ErrorKind::NotFound, input, "input volume or folder not found");
    }
    std::vector<VolumeCaseInput> cases;
    bool folderOfCases = false;
    if (fs::is_directory(input, ec)) {
        const std::optional<DatasetLayout> layout = detectDatasetLayout(input);
        if (layout && *layout != DatasetLayout::Isic2018 && *layout != DatasetLayout::Ph2) {
            // A dataset folder: its label maps are the ground truth.
            const DatasetScan scan = scanDataset(input, *layout);
            for (const DatasetSample& s : scan.samples) {
                cases.push_back({s.id, s.images, s.mask, "dataset"});
            }
            folderOfCases = true;
            if (cases.empty()) {
                throw Error(ErrorKind::NotFound, input,
                            std::string("holds no complete ") + datasetLayoutName(*layout) +
                                " case");
            }
        } else {
            const auto files = listFiles(input, [](const std::string& f) {
                return hasVolumeExtension(f) && pairingStem(f) == fileStem(f);
            });
            if (!files.empty()) {
                indexByStem(files); // one output folder per stem
                for (const std::string& f : files) {
                    cases.push_back({fileStem(f), {f}, {}, {}});
                }
                folderOfCases = true;
            } else if (isDicomFolder(input)) {
                cases.push_back(
                    {fs::path(input).lexically_normal().filename().string(), {input}, {}, {}});
                if (cases.back().id.empty()) {
                    cases.back().id = fs::absolute(input).parent_path().filename().string();
                }
            } else {
                throw Error(ErrorKind::NotFound, input,
                            "holds no volumes (.nii, .nii.gz, .nrrd, .mha, .mhd), DICOM files or "
                            "dataset layout (brats2023, aiib2023, decathlon, images/ + masks/)");
            }
        }
    } else {
        cases.push_back({fileStem(input), {input}, {}, {}});
    }
    if (gt.empty()) {
        return cases;
    }
    if (!fs::exists(gt, ec)) {
        throw Error(ErrorKind::NotFound, gt, "ground-truth label map or folder not found");
    }
    if (fs::is_directory(gt, ec)) {
        const auto maps = indexByStem(listFiles(gt, hasVolumeExtension));
        for (VolumeCaseInput& c : cases) {
            const auto it = maps.find(pairingStem(c.id));
            if (it != maps.end()) {
                c.gt = it->second;
                c.gtOrigin = "--gt";
            } else if (!folderOfCases) {
                throw Error(ErrorKind::NotFound, gt,
                            "holds no label map for " + c.id + " (stem '" + pairingStem(c.id) +
                                "')");
            }
        }
    } else if (folderOfCases) {
        throw Error(ErrorKind::Config, gt,
                    "--gt must be a folder of label maps when --input is a folder of cases");
    } else {
        cases.front().gt = gt;
        cases.front().gtOrigin = "--gt";
    }
    return cases;
}

bool looksLikeVolumeInput(const std::string& input)
{
    std::error_code ec;
    if (!fs::is_directory(input, ec)) {
        return hasVolumeExtension(input);
    }
    if (const auto layout = detectDatasetLayout(input)) {
        if (*layout == DatasetLayout::ImagesMasks) {
            // images/ + masks/ holds photos or volumes: look at images/.
            return looksLikeVolumeInput((fs::path(input) / "images").string());
        }
        return *layout == DatasetLayout::Brats2023 || *layout == DatasetLayout::Aiib2023 ||
               *layout == DatasetLayout::Decathlon;
    }
    for (fs::directory_iterator it(input, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && hasVolumeExtension(it->path().string())) {
            return true;
        }
    }
    return isDicomFolder(input);
}

} // namespace diffseg::app
