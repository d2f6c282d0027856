#pragma once

#include "DocumentSession.h"
#include "base/Image2D.h"

namespace diffseg::core {

/// A session on a dermoscopy photo: the RGB image, a binary mask (uint8 {0, 1}, the photo's size)
/// and an optional ground truth of that size; results come from a photo model (DermoSegDiff).
///
/// Uncertain regions are found at the network's input size (a region smaller than one input pixel
/// means nothing) and reported in photo pixels. Saving writes the mask as a {0, 255} PNG.
/// Ownership, threads and errors as Session.
class PhotoSession : public DocumentSession<InputKind::Photo, Image2D, Image2D>
{
public:
    void open(const std::string& path) override;
    /// Opens a photo held in memory (a generated demo, a view's image); `name` stands for its
    /// path (empty: none).
    void openImage(const Image2D& image, const std::string& name);
    /// Puts `mask` (uint8 {0, 1}, the photo's size) in as it is, without an undo step, and
    /// forgets the history (loading); Error(Mismatch) for another size.
    void setMaskWithoutHistory(const Image2D& mask);
    void loadGroundTruth(const std::string& path) override;

    const Image2D& image() const noexcept { return m_document; }
    const Image2D& mask() const noexcept { return m_labels; }

    std::size_t labelledCount() const override;
    std::vector<std::string> uncertaintyMaps() const override;
    /// The chosen uncertainty map at the photo's size, scaled to [0, 1] (empty without a result).
    Image2D uncertaintyImage() const;

protected:
    std::string documentStem() const override;
    void checkResult(const SegmentationOutcome& outcome) const override;
    std::vector<std::uint16_t> resultLabels() const override;
    std::optional<std::vector<std::uint16_t>> stepLabels(int step, int member) const override;
    std::vector<UncertainRegion> findRegions(const std::string& map) const override;
    void writeLabels(const std::string& path) const override;
    std::vector<std::uint16_t> readLabels(const std::string& path) const override;
    std::string autosaveLabelsName() const override { return "mask.png"; }

private:
    /// The map `name` at the network's size and the factor that scales it to [0, 1].
    std::pair<const Image2D*, float> mapAndScale(const std::string& name) const;
};

} // namespace diffseg::core
