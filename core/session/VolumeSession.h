#pragma once

#include "DocumentSession.h"
#include "base/LabelMap.h"
#include "base/Volume.h"
#include "io/VolumeReader.h"

namespace diffseg::core {

/// A session on a CT/MRI volume: the volume (every channel, LPS geometry), a label map on its
/// grid (UInt8, or UInt16 when a loaded map needs it) and an optional ground truth on that grid;
/// results come from a volume model (Diff-UNet).
///
/// Uncertain regions are 6-connected regions of the chosen map (entropies divided by ln C, the
/// mirror variance by its maximum 0.25) above Session::kRegionThreshold with at least 8 voxels.
/// Saving writes NIfTI, NRRD or MetaImage by the extension, with the volume's geometry.
/// Ownership, threads and errors as Session.
class VolumeSession : public DocumentSession<InputKind::Volume, Volume, LabelMap>
{
public:
    /// Opens a volume file or a DICOM folder and a ground truth named after it.
    void open(const std::string& path) override;
    /// Opens a volume held in memory: one read elsewhere (`source` says how; `name` is its path)
    /// or a generated phantom (`name` empty: nothing to reopen, so no autosave can point at it).
    void openVolume(const Volume& volume, const std::string& name, VolumeSource source = {});
    void loadGroundTruth(const std::string& path) override;
    /// A ground truth held in memory (a phantom's labels); Error(Mismatch) for another grid.
    void setGroundTruth(const LabelMap& labels);
    /// Reads a label map file on this volume's grid (within 1e-3), given the volume's geometry
    /// exactly; Error(Mismatch) naming the file otherwise.
    LabelMap readAligned(const std::string& path) const;
    /// Makes (a copy of) `labels` the labels without an undo step, and forgets the history
    /// (labels loaded as they are; a UInt16 map keeps its type). Error(Mismatch) for another grid.
    void setLabelsWithoutHistory(const LabelMap& labels);
    /// Makes `labels` the labels as one undo step named `title`; Error(Mismatch) for another grid.
    void replaceLabels(const LabelMap& labels, const std::string& title);

    const Volume& volume() const noexcept { return m_document; }
    const VolumeSource& source() const noexcept { return m_source; }
    const LabelMap& labels() const noexcept { return m_labels; }

    std::size_t labelledCount() const override;
    std::vector<std::string> uncertaintyMaps() const override;

protected:
    /// A DICOM folder's name, else the file name without its volume extension (".nii.gz", ...).
    std::string documentStem() const override;
    void checkResult(const SegmentationOutcome& outcome) const override;
    std::vector<std::uint16_t> resultLabels() const override;
    std::optional<std::vector<std::uint16_t>> stepLabels(int step, int member) const override;
    std::vector<UncertainRegion> findRegions(const std::string& map) const override;
    void writeLabels(const std::string& path) const override;
    std::vector<std::uint16_t> readLabels(const std::string& path) const override;
    std::string autosaveLabelsName() const override { return "labels.nii.gz"; }

private:
    /// Error(Mismatch) naming `what` unless `labels` lies on the volume's grid (within 1e-3).
    void checkAligned(const LabelMap& labels, const std::string& what) const;
    const Volume* uncertaintyVolume(const std::string& name) const;

    VolumeSource m_source;
};

} // namespace diffseg::core
