#include "PhotoSession.h"

#include "DocumentPaths.h"
#include "base/Error.h"
#include "imaging/MaskResize.h"
#include "inference/Segmenter2D.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#include "metrics/ForegroundOverlap.h"

#include <cmath>
#include <cstring>
#include <filesystem>

namespace diffseg::core {

namespace {

std::vector<std::uint16_t> toLabels(const Image2D& mask)
{
    const std::uint8_t* p = mask.data<std::uint8_t>();
    return std::vector<std::uint16_t>(p, p + mask.pixelCount());
}

std::string sizeText(const Image2D& image)
{
    return std::to_string(image.width()) + " x " + std::to_string(image.height());
}

} // namespace

void PhotoSession::open(const std::string& path)
{
    ImageReadOptions options;
    options.color = ImageColor::Rgb;
    openImage(readImage(path, options), path);
    if (const std::string gt = findPhotoGroundTruth(path); !gt.empty()) {
        try {
            loadGroundTruth(gt);
        } catch (const Error&) {
            // A mask beside the photo that does not fit it is not its ground truth.
        }
    }
}

void PhotoSession::openImage(const Image2D& image, const std::string& name)
{
    if (image.empty()) {
        throw Error(ErrorKind::InvalidValue, name, "the image is empty");
    }
    m_document = image;
    m_labels = Image2D(image.width(), image.height(), 1, PixelType::UInt8);
    m_labels.setSpacing(image.spacing());
    m_groundTruth = Image2D();
    resetDocument(name, LabelCanvas(m_labels));
}

void PhotoSession::setMaskWithoutHistory(const Image2D& mask)
{
    if (mask.width() != m_document.width() || mask.height() != m_document.height() ||
        mask.channels() != 1 || mask.pixelType() != PixelType::UInt8) {
        throw Error(ErrorKind::Mismatch, "mask",
                    "must be a 1-channel uint8 mask of " + sizeText(m_document));
    }
    std::memcpy(m_labels.rawData(), mask.rawData(), m_labels.byteSize());
    resetHistory();
    notify(SessionEvent::Labels, IndexBox::whole({m_document.width(), m_document.height(), 1}));
}

void PhotoSession::loadGroundTruth(const std::string& path)
{
    if (!isOpen()) {
        throw Error(ErrorKind::InvalidValue, path, "open a photo before its ground truth");
    }
    Image2D mask = readMask(path);
    if (mask.width() != m_document.width() || mask.height() != m_document.height()) {
        throw Error(ErrorKind::Mismatch, path,
                    "the mask is " + sizeText(mask) + " but the image is " + sizeText(m_document));
    }
    m_groundTruth = std::move(mask);
    setGroundTruthPath(path);
}

std::size_t PhotoSession::labelledCount() const
{
    return countNonZero(m_labels);
}

std::vector<std::string> PhotoSession::uncertaintyMaps() const
{
    std::vector<std::string> names;
    for (const char* name : {"std", "entropy", "instability"}) {
        if (hasResult() && !mapAndScale(name).first->empty()) {
            names.emplace_back(name);
        }
    }
    return names;
}

std::pair<const Image2D*, float> PhotoSession::mapAndScale(const std::string& name) const
{
    const SegmentResult& r = *result().photo;
    if (name == "std") {
        return {&r.uncertaintyStd, 2.0f}; // population std of probabilities: at most 0.5
    }
    if (name == "entropy") {
        return {&r.uncertaintyEntropy, static_cast<float>(1.0 / std::log(2.0))}; // at most ln 2
    }
    return {&r.uncertaintyInstability, 1.0f};
}

Image2D PhotoSession::uncertaintyImage() const
{
    if (!hasResult() || uncertainty().empty()) {
        return {};
    }
    const auto [map, scale] = mapAndScale(uncertainty());
    return map->empty() ? Image2D()
                        : upsampleMap(*map, m_document.width(), m_document.height(), scale);
}

std::string PhotoSession::documentStem() const
{
    return std::filesystem::path(path()).stem().string();
}

void PhotoSession::checkResult(const SegmentationOutcome& outcome) const
{
    const SegmentResult& r = *outcome.photo;
    if (r.mask.width() != m_document.width() || r.mask.height() != m_document.height()) {
        throw Error(ErrorKind::Mismatch, "segmentation result",
                    "is " + sizeText(r.mask) + " but the photo is " + sizeText(m_document));
    }
}

std::vector<std::uint16_t> PhotoSession::resultLabels() const
{
    return toLabels(result().photo->mask);
}

std::optional<std::vector<std::uint16_t>> PhotoSession::stepLabels(int step, int member) const
{
    const std::shared_ptr<StepCache> cache = result().steps();
    if (!cache || step < 0 || step >= cache->config().steps) {
        return std::nullopt;
    }
    const StepFrame frame = member >= 0 && member < cache->config().members
                                ? cache->get(member, step, FrameKind::X0)
                                : cache->meanOverMembers(step, FrameKind::X0);
    if (!frame.valid()) {
        return std::nullopt;
    }
    return toLabels(upsampleToMask(frame.image(), m_document.width(), m_document.height()));
}

std::vector<UncertainRegion> PhotoSession::findRegions(const std::string& name) const
{
    const auto [source, scale] = mapAndScale(name);
    if (source->empty()) {
        return {};
    }
    const Image2D map = upsampleMap(*source, source->width(), source->height(), scale);
    std::vector<UncertainRegion> regions = findUncertainRegions(map, kRegionThreshold, 2);
    const double sx = static_cast<double>(m_document.width()) / map.width();
    const double sy = static_cast<double>(m_document.height()) / map.height();
    for (UncertainRegion& region : regions) {
        region.centroid = {region.centroid[0] * sx, region.centroid[1] * sy, 0.0};
        region.box.lo = {static_cast<std::int64_t>(std::floor(region.box.lo[0] * sx)),
                         static_cast<std::int64_t>(std::floor(region.box.lo[1] * sy)), 0};
        region.box.hi = {static_cast<std::int64_t>(std::ceil(region.box.hi[0] * sx)),
                         static_cast<std::int64_t>(std::ceil(region.box.hi[1] * sy)), 1};
    }
    return regions;
}

void PhotoSession::writeLabels(const std::string& path) const
{
    writeMaskPng(m_labels, path);
}

std::vector<std::uint16_t> PhotoSession::readLabels(const std::string& path) const
{
    const Image2D mask = readMask(path);
    if (mask.width() != m_document.width() || mask.height() != m_document.height()) {
        throw Error(ErrorKind::Mismatch, path,
                    "the mask is " + sizeText(mask) + " but the image is " + sizeText(m_document));
    }
    return toLabels(mask);
}

} // namespace diffseg::core
