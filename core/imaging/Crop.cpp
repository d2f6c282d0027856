#include "Crop.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace diffseg::core {

namespace {

std::string boxText(const BoundingBox& b)
{
    return "[" + std::to_string(b.begin[0]) + ".." + std::to_string(b.end[0]) + ") x [" +
           std::to_string(b.begin[1]) + ".." + std::to_string(b.end[1]) + ") x [" +
           std::to_string(b.begin[2]) + ".." + std::to_string(b.end[2]) + ")";
}

void checkBox(const BoundingBox& box, const std::array<std::int64_t, 3>& size)
{
    for (int d = 0; d < 3; ++d) {
        if (box.begin[d] < 0 || box.end[d] > size[d] || box.begin[d] >= box.end[d]) {
            throw Error(ErrorKind::InvalidValue, "",
                        "box " + boxText(box) + " is empty or outside the " +
                            std::to_string(size[0]) + "x" + std::to_string(size[1]) + "x" +
                            std::to_string(size[2]) + " grid");
        }
    }
}

/// The geometry of a sub-grid starting at voxel `begin`: same axes, origin at that voxel.
Geometry shiftedGeometry(const Geometry& g, const std::array<std::int64_t, 3>& begin)
{
    Geometry out = g;
    out.origin = g.indexToPhysical({double(begin[0]), double(begin[1]), double(begin[2])});
    return out;
}

/// Copies the box of `extent` voxels at `srcBegin` in `src` to `dstBegin` in `dst`, every channel,
/// row by row. Both volumes have the same channel count and pixel type.
void copyBox(const Volume& src, const std::array<std::int64_t, 3>& srcBegin, Volume& dst,
             const std::array<std::int64_t, 3>& dstBegin, const std::array<std::int64_t, 3>& extent)
{
    const std::size_t valueSize = pixelTypeSize(src.pixelType());
    const std::size_t row = static_cast<std::size_t>(extent[0]) * valueSize;
    const auto& srcSize = src.size();
    const auto& dstSize = dst.size();
    for (int c = 0; c < src.channels(); ++c) {
        const auto* from = static_cast<const unsigned char*>(src.rawData()) +
                           static_cast<std::size_t>(c) * src.voxelCount() * valueSize;
        auto* to = static_cast<unsigned char*>(dst.rawData()) +
                   static_cast<std::size_t>(c) * dst.voxelCount() * valueSize;
        for (std::int64_t k = 0; k < extent[2]; ++k) {
            for (std::int64_t j = 0; j < extent[1]; ++j) {
                const auto s = static_cast<std::size_t>(
                    ((srcBegin[2] + k) * srcSize[1] + srcBegin[1] + j) * srcSize[0] + srcBegin[0]);
                const auto d = static_cast<std::size_t>(
                    ((dstBegin[2] + k) * dstSize[1] + dstBegin[1] + j) * dstSize[0] + dstBegin[0]);
                std::memcpy(to + d * valueSize, from + s * valueSize, row);
            }
        }
    }
}

} // namespace

std::optional<BoundingBox> nonZeroBoundingBox(const Volume& volume)
{
    const auto& s = volume.size();
    BoundingBox box{{s[0], s[1], s[2]}, {0, 0, 0}};
    bool any = false;
    dispatchPixelType(volume.pixelType(), [&](auto t) {
        using T = decltype(t);
        for (int c = 0; c < volume.channels(); ++c) {
            const T* p = volume.channelData<T>(c);
            std::size_t i = 0;
            for (std::int64_t k = 0; k < s[2]; ++k) {
                for (std::int64_t j = 0; j < s[1]; ++j) {
                    for (std::int64_t x = 0; x < s[0]; ++x, ++i) {
                        if (p[i] != T(0)) {
                            any = true;
                            const std::array<std::int64_t, 3> idx{x, j, k};
                            for (int d = 0; d < 3; ++d) {
                                box.begin[d] = std::min(box.begin[d], idx[d]);
                                box.end[d] = std::max(box.end[d], idx[d] + 1);
                            }
                        }
                    }
                }
            }
        }
    });
    return any ? std::optional<BoundingBox>(box) : std::nullopt;
}

Volume cropVolume(const Volume& volume, const BoundingBox& box)
{
    checkBox(box, volume.size());
    Volume out(box.size(), volume.channels(), volume.pixelType(),
               shiftedGeometry(volume.geometry(), box.begin));
    copyBox(volume, box.begin, out, {0, 0, 0}, box.size());
    return out;
}

LabelMap cropLabelMap(const LabelMap& labels, const BoundingBox& box)
{
    return LabelMap::fromVolume(cropVolume(labels, box));
}

CroppedVolume cropToNonZero(const Volume& volume)
{
    const std::optional<BoundingBox> found = nonZeroBoundingBox(volume);
    const BoundingBox box = found ? *found : BoundingBox{{0, 0, 0}, volume.size()};
    return {cropVolume(volume, box), box, volume.size(), volume.geometry()};
}

Volume uncropVolume(const Volume& cropped, const BoundingBox& box,
                    const std::array<std::int64_t, 3>& originalSize,
                    const Geometry& originalGeometry, double fill)
{
    checkBox(box, originalSize);
    if (cropped.size() != box.size()) {
        throw Error(ErrorKind::Mismatch, "",
                    "cropped volume " + cropped.describe() + " does not have the size of the box " +
                        boxText(box));
    }
    Volume out(originalSize, cropped.channels(), cropped.pixelType(), originalGeometry);
    if (fill != 0.0) {
        dispatchPixelType(out.pixelType(), [&](auto t) {
            using T = decltype(t);
            std::fill(out.data<T>(),
                      out.data<T>() + out.voxelCount() * static_cast<std::size_t>(out.channels()),
                      static_cast<T>(fill));
        });
    }
    copyBox(cropped, {0, 0, 0}, out, box.begin, box.size());
    return out;
}

LabelMap uncropLabelMap(const LabelMap& cropped, const BoundingBox& box,
                        const std::array<std::int64_t, 3>& originalSize,
                        const Geometry& originalGeometry)
{
    return LabelMap::fromVolume(uncropVolume(cropped, box, originalSize, originalGeometry, 0.0));
}

} // namespace diffseg::core
