#pragma once

#include "Session.h"
#include "metrics/ForegroundOverlap.h"

#include <filesystem>
#include <optional>
#include <string>

namespace diffseg::core {

/// What a photo session and a volume session do alike over their own types: they hold the
/// document, its labels and a ground truth on its grid, hand the document to a model, compare the
/// labels with the ground truth, and suggest a label file beside the document. `Document` is
/// Image2D or Volume; `Labels` is what the labels and the ground truth are stored as (a uint8
/// Image2D mask, a LabelMap). Ownership, threads and errors as Session.
template <InputKind Kind, class Document, class Labels>
class DocumentSession : public Session
{
public:
    InputKind kind() const noexcept override { return Kind; }
    const Labels& groundTruth() const noexcept { return m_groundTruth; }

    SegmentationInput input() const override
    {
        if constexpr (Kind == InputKind::Photo) {
            return SegmentationInput::ofPhoto(m_document);
        } else {
            return SegmentationInput::ofVolume(m_document);
        }
    }

    SegmentationLabels currentLabels() const override
    {
        if constexpr (Kind == InputKind::Photo) {
            return SegmentationLabels::ofPhoto(m_labels.clone());
        } else {
            return SegmentationLabels::ofVolume(LabelMap::fromVolume(m_labels.clone()));
        }
    }

    std::optional<OverlapMetrics> metrics() const override
    {
        if (!isOpen() || m_groundTruth.empty()) {
            return std::nullopt;
        }
        return overlapMetrics(foregroundCounts(m_labels, m_groundTruth, "ground truth"));
    }

    /// Where the labels were saved, else `<stem>_<autosave label file>` beside the document
    /// ("lesion_mask.png", "case_labels.nii.gz"), else that file name alone (no document file).
    std::string suggestedSavePath() const override
    {
        if (!savePath().empty()) {
            return savePath();
        }
        if (path().empty()) {
            return autosaveLabelsName();
        }
        const std::filesystem::path p(path());
        return (p.parent_path() / (documentStem() + "_" + autosaveLabelsName())).string();
    }

protected:
    /// The document's name without its folder and extension(s), for suggestedSavePath().
    virtual std::string documentStem() const = 0;

    Document m_document;
    Labels m_labels;
    Labels m_groundTruth;
};

} // namespace diffseg::core
