#include "BinaryMask.h"

#include "base/Error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace diffseg::core {

namespace {

void validateSpacing(const std::array<double, 3>& spacing, const std::string& subject)
{
    for (double s : spacing) {
        if (!std::isfinite(s) || s <= 0.0) {
            throw Error(ErrorKind::InvalidValue, subject,
                        "spacing must be positive and finite, got " + std::to_string(spacing[0]) +
                            " x " + std::to_string(spacing[1]) + " x " +
                            std::to_string(spacing[2]) + " mm");
        }
    }
}

template <class T>
void selectLabels(const T* labels, std::size_t count, const LabelSelection& selection,
                  std::uint8_t* out)
{
    if (selection.anyNonZero) {
        for (std::size_t n = 0; n < count; ++n) {
            out[n] = labels[n] != 0 ? 1 : 0;
        }
    } else {
        const auto wanted = static_cast<long>(selection.label);
        for (std::size_t n = 0; n < count; ++n) {
            out[n] = static_cast<long>(labels[n]) == wanted ? 1 : 0;
        }
    }
}

} // namespace

std::string LabelSelection::describe() const
{
    return anyNonZero ? std::string("any non-zero label") : "label " + std::to_string(label);
}

BinaryMask::BinaryMask(const std::array<std::int64_t, 3>& size,
                       const std::array<double, 3>& spacing, int dimensions)
    : m_size(size)
    , m_spacing(spacing)
    , m_dimensions(dimensions)
{
    for (std::int64_t s : size) {
        if (s < 1 || s > Volume::kMaxSide) {
            throw Error(ErrorKind::InvalidValue, "",
                        "mask size " + describeSize() + " is outside 1.." +
                            std::to_string(Volume::kMaxSide) + " per axis");
        }
    }
    if (dimensions != 2 && dimensions != 3) {
        throw Error(ErrorKind::InvalidValue, "",
                    "a mask has 2 or 3 dimensions, not " + std::to_string(dimensions));
    }
    if (dimensions == 2 && size[2] != 1) {
        throw Error(ErrorKind::InvalidValue, "",
                    "a 2D mask must have one slice, not " + std::to_string(size[2]));
    }
    validateSpacing(spacing, "");
    m_data.assign(static_cast<std::size_t>(size[0] * size[1] * size[2]), 0);
}

BinaryMask BinaryMask::fromImage(const Image2D& mask, const std::string& name)
{
    if (mask.empty()) {
        throw Error(ErrorKind::InvalidValue, name, "mask image is empty");
    }
    if (mask.channels() != 1 || mask.pixelType() != PixelType::UInt8) {
        throw Error(ErrorKind::InvalidValue, name,
                    "a binary mask must be a 1-channel uint8 image, not " + mask.describe());
    }
    const std::array<double, 2> sp = mask.spacing();
    BinaryMask out({mask.width(), mask.height(), 1}, {sp[0], sp[1], 1.0}, 2);
    const std::uint8_t* src = mask.data<std::uint8_t>();
    const std::size_t count = mask.pixelCount();
    for (std::size_t n = 0; n < count; ++n) {
        if (src[n] > 1) {
            const int x = static_cast<int>(n % static_cast<std::size_t>(mask.width()));
            const int y = static_cast<int>(n / static_cast<std::size_t>(mask.width()));
            throw Error(ErrorKind::InvalidValue, name,
                        "mask is not binary: value " + std::to_string(int(src[n])) + " at pixel (" +
                            std::to_string(x) + ", " + std::to_string(y) + "); expected {0, 1}");
        }
    }
    std::copy(src, src + count, out.m_data.begin());
    return out;
}

BinaryMask BinaryMask::fromVolume(const Volume& labels, const LabelSelection& selection,
                                  const std::string& name)
{
    if (labels.empty()) {
        throw Error(ErrorKind::InvalidValue, name, "label volume is empty");
    }
    if (labels.channels() != 1) {
        throw Error(ErrorKind::InvalidValue, name,
                    "a label map has one channel, not " + std::to_string(labels.channels()));
    }
    if (labels.pixelType() == PixelType::Float32) {
        throw Error(ErrorKind::InvalidValue, name,
                    "a label map must hold integer labels (uint8, uint16 or int16), not float32");
    }
    BinaryMask out(labels.size(), labels.geometry().spacing, 3);
    dispatchPixelType(labels.pixelType(), [&](auto tag) {
        using T = decltype(tag);
        selectLabels(labels.data<T>(), labels.voxelCount(), selection, out.m_data.data());
    });
    return out;
}

void BinaryMask::setSpacing(const std::array<double, 3>& spacing)
{
    validateSpacing(spacing, "");
    m_spacing = spacing;
}

std::size_t BinaryMask::foregroundCount() const noexcept
{
    return static_cast<std::size_t>(
        std::count(m_data.begin(), m_data.end(), static_cast<std::uint8_t>(1)));
}

std::string BinaryMask::describeSize() const
{
    std::string s = std::to_string(m_size[0]) + "x" + std::to_string(m_size[1]);
    if (m_dimensions == 3) {
        s += "x" + std::to_string(m_size[2]);
    }
    return s;
}

} // namespace diffseg::core
