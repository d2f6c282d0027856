#include "VolumeSession.h"

#include "DocumentPaths.h"
#include "base/Error.h"
#include "inference/Segmenter3D.h"
#include "io/VolumeWriter.h"
#include "metrics/ForegroundOverlap.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace diffseg::core {

namespace {

std::string gridText(const Volume& v)
{
    const auto& s = v.size();
    return std::to_string(s[0]) + " x " + std::to_string(s[1]) + " x " + std::to_string(s[2]) +
           ", " + v.geometry().orientationCode();
}

std::vector<std::uint16_t> toLabels(const LabelMap& labels)
{
    const std::size_t n = labels.voxelCount();
    std::vector<std::uint16_t> out(n);
    if (labels.pixelType() == PixelType::UInt16) {
        const std::uint16_t* p = labels.data<std::uint16_t>();
        std::copy(p, p + n, out.begin());
    } else {
        const std::uint8_t* p = labels.data<std::uint8_t>();
        std::copy(p, p + n, out.begin());
    }
    return out;
}

} // namespace

void VolumeSession::open(const std::string& path)
{
    LoadedVolume loaded = readVolume(path);
    openVolume(loaded.volume, path);
    m_source = std::move(loaded.source);
    if (const std::string gt = findVolumeGroundTruth(path); !gt.empty()) {
        try {
            loadGroundTruth(gt);
        } catch (const Error&) {
            // A label file beside the volume on another grid is not its ground truth.
        }
    }
}

void VolumeSession::openVolume(const Volume& volume, const std::string& name, VolumeSource source)
{
    if (volume.empty()) {
        throw Error(ErrorKind::InvalidValue, name.empty() ? std::string("volume") : name,
                    "the volume is empty");
    }
    m_document = volume;
    m_source = std::move(source);
    if (m_source.path.empty()) {
        m_source.path = name;
    }
    m_labels = LabelMap::like(volume);
    m_groundTruth = LabelMap();
    resetDocument(name, LabelCanvas(m_labels));
}

void VolumeSession::checkAligned(const LabelMap& labels, const std::string& what) const
{
    if (labels.size() != m_document.size() ||
        !labels.geometry().isClose(m_document.geometry(), 1e-3)) {
        throw Error(ErrorKind::Mismatch, what,
                    "the label map (" + gridText(labels) + ") is not on the grid of the volume (" +
                        gridText(m_document) + "): size, spacing, origin or direction differ");
    }
}

LabelMap VolumeSession::readAligned(const std::string& path) const
{
    LabelMap labels = readLabelMap(path).labels;
    checkAligned(labels, path);
    // Within the tolerance: the label map takes the volume's geometry exactly.
    labels.setGeometry(m_document.geometry());
    return labels;
}

void VolumeSession::loadGroundTruth(const std::string& path)
{
    if (!isOpen()) {
        throw Error(ErrorKind::InvalidValue, path, "open a volume before its ground truth");
    }
    m_groundTruth = readAligned(path);
    setGroundTruthPath(path);
}

void VolumeSession::setGroundTruth(const LabelMap& labels)
{
    if (!isOpen()) {
        throw Error(ErrorKind::InvalidValue, "ground truth",
                    "open a volume before its ground truth");
    }
    if (!labels.empty()) {
        checkAligned(labels, "ground truth");
    }
    m_groundTruth = labels;
    if (!m_groundTruth.empty()) {
        m_groundTruth.setGeometry(m_document.geometry());
    }
    setGroundTruthPath({});
}

void VolumeSession::setLabelsWithoutHistory(const LabelMap& labels)
{
    checkAligned(labels, "label map");
    // A copy: later edits must not change the caller's map behind its back. It takes the
    // volume's geometry exactly, so that saved label maps carry the source's.
    m_labels = LabelMap::fromVolume(labels.clone());
    m_labels.setGeometry(m_document.geometry());
    replaceCanvas(LabelCanvas(m_labels));
    notify(SessionEvent::Labels);
}

void VolumeSession::replaceLabels(const LabelMap& labels, const std::string& title)
{
    checkAligned(labels, "label map");
    Session::replaceLabels(toLabels(labels), title);
}

std::size_t VolumeSession::labelledCount() const
{
    // Counted in place: the label map can be hundreds of megavoxels.
    const std::size_t n = m_labels.voxelCount();
    if (m_labels.pixelType() == PixelType::UInt16) {
        const std::uint16_t* p = m_labels.data<std::uint16_t>();
        return static_cast<std::size_t>(n - std::count(p, p + n, std::uint16_t(0)));
    }
    const std::uint8_t* p = m_labels.data<std::uint8_t>();
    return static_cast<std::size_t>(n - std::count(p, p + n, std::uint8_t(0)));
}

const Volume* VolumeSession::uncertaintyVolume(const std::string& name) const
{
    const Segment3DResult& r = *result().volume;
    if (name == "entropy") {
        return &r.entropy;
    }
    if (name == "steps") {
        return &r.stepEntropy;
    }
    return name == "mirror" ? &r.mirrorVariance : nullptr;
}

std::vector<std::string> VolumeSession::uncertaintyMaps() const
{
    std::vector<std::string> names;
    for (const char* name : {"entropy", "steps", "mirror"}) {
        if (hasResult() && !uncertaintyVolume(name)->empty()) {
            names.emplace_back(name);
        }
    }
    return names;
}

std::string VolumeSession::documentStem() const
{
    std::error_code ec;
    const std::filesystem::path p(path());
    return std::filesystem::is_directory(p, ec) ? p.filename().string() : volumeStem(path());
}

void VolumeSession::checkResult(const SegmentationOutcome& outcome) const
{
    const Segment3DResult& r = *outcome.volume;
    if (r.labels.size() != m_document.size()) {
        throw Error(ErrorKind::Mismatch, "segmentation result",
                    "is " + gridText(r.labels) + " but the volume is " + gridText(m_document));
    }
}

std::vector<std::uint16_t> VolumeSession::resultLabels() const
{
    return toLabels(result().volume->labels);
}

std::optional<std::vector<std::uint16_t>> VolumeSession::stepLabels(int step, int member) const
{
    (void)member; // a volume run has one chain: its steps have no members
    const std::shared_ptr<StepCache> cache = result().steps();
    if (!cache || step < 0 || step >= cache->config().steps) {
        return std::nullopt;
    }
    return toLabels(Segmenter3D::stepLabelsFromCache(*cache, step));
}

std::vector<UncertainRegion> VolumeSession::findRegions(const std::string& name) const
{
    const Volume* source = uncertaintyVolume(name);
    if (!source || source->empty()) {
        return {};
    }
    // Scale to [0, 1]: entropies by ln C, the mirror variance by its maximum 0.25.
    const int classes = std::max(2, result().volume->classes);
    const float scale = name == "mirror" ? 4.0f : static_cast<float>(1.0 / std::log(classes));
    Volume map(source->size(), 1, PixelType::Float32, source->geometry());
    const float* in = source->data<float>();
    float* out = map.data<float>();
    for (std::size_t i = 0; i < map.voxelCount(); ++i) {
        out[i] = in[i] * scale;
    }
    return findUncertainRegions(map, kRegionThreshold, 8);
}

void VolumeSession::writeLabels(const std::string& path) const
{
    writeLabelMap(m_labels, path);
}

std::vector<std::uint16_t> VolumeSession::readLabels(const std::string& path) const
{
    return toLabels(readAligned(path));
}

} // namespace diffseg::core
