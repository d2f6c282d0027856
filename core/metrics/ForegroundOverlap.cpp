#include "ForegroundOverlap.h"

#include "base/Error.h"

#include <cstdint>

namespace diffseg::core {

namespace {

template <class A, class B>
ConfusionCounts count(const A* a, const B* b, std::size_t n)
{
    std::uint64_t both = 0;
    std::uint64_t onlyA = 0;
    std::uint64_t onlyB = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const bool x = a[i] != 0;
        const bool y = b[i] != 0;
        both += x & y;
        onlyA += x & !y;
        onlyB += !x & y;
    }
    ConfusionCounts c;
    c.tp = both;
    c.fp = onlyA;
    c.fn = onlyB;
    c.tn = n - both - onlyA - onlyB;
    return c;
}

/// Dispatches on the two pixel types (uint8 or uint16 each).
ConfusionCounts countTyped(const void* a, PixelType ta, const void* b, PixelType tb, std::size_t n,
                           const std::string& subject)
{
    const auto check = [&](PixelType t) {
        if (t != PixelType::UInt8 && t != PixelType::UInt16) {
            throw Error(ErrorKind::InvalidValue, subject,
                        std::string("masks must be uint8 or uint16, not ") + pixelTypeName(t));
        }
    };
    check(ta);
    check(tb);
    const auto* a8 = static_cast<const std::uint8_t*>(a);
    const auto* a16 = static_cast<const std::uint16_t*>(a);
    const auto* b8 = static_cast<const std::uint8_t*>(b);
    const auto* b16 = static_cast<const std::uint16_t*>(b);
    if (ta == PixelType::UInt8) {
        return tb == PixelType::UInt8 ? count(a8, b8, n) : count(a8, b16, n);
    }
    return tb == PixelType::UInt8 ? count(a16, b8, n) : count(a16, b16, n);
}

} // namespace

ConfusionCounts foregroundCounts(const Image2D& prediction, const Image2D& reference,
                                 const std::string& subject)
{
    if (prediction.width() != reference.width() || prediction.height() != reference.height()) {
        throw Error(ErrorKind::Mismatch, subject,
                    "is " + std::to_string(reference.width()) + "x" +
                        std::to_string(reference.height()) + " but the mask is " +
                        std::to_string(prediction.width()) + "x" +
                        std::to_string(prediction.height()));
    }
    if (prediction.channels() != 1 || reference.channels() != 1) {
        throw Error(ErrorKind::InvalidValue, subject, "masks must have one channel");
    }
    return countTyped(prediction.rawData(), prediction.pixelType(), reference.rawData(),
                      reference.pixelType(), prediction.pixelCount(), subject);
}

ConfusionCounts foregroundCounts(const Volume& prediction, const Volume& reference,
                                 const std::string& subject)
{
    if (prediction.size() != reference.size()) {
        throw Error(ErrorKind::Mismatch, subject, "is on another grid than the labels");
    }
    if (prediction.channels() != 1 || reference.channels() != 1) {
        throw Error(ErrorKind::InvalidValue, subject, "label maps must have one channel");
    }
    return countTyped(prediction.rawData(), prediction.pixelType(), reference.rawData(),
                      reference.pixelType(), prediction.voxelCount(), subject);
}

double foregroundDice(const Image2D& prediction, const Image2D& reference)
{
    return overlapMetrics(foregroundCounts(prediction, reference)).dice;
}

double foregroundDice(const Volume& prediction, const Volume& reference)
{
    return overlapMetrics(foregroundCounts(prediction, reference)).dice;
}

} // namespace diffseg::core
