#include "RawVolume.h"

#include <cfloat>
#include <cmath>
#include <limits>
#include <type_traits>

namespace diffseg::core::detail {

namespace {

std::string voxelText(const RawVolume& raw, std::size_t linear)
{
    const std::size_t voxels = raw.voxelCount();
    const std::size_t c = linear / voxels;
    const std::size_t rem = linear % voxels;
    const auto nx = static_cast<std::size_t>(raw.size[0]);
    const auto ny = static_cast<std::size_t>(raw.size[1]);
    std::string text = "voxel (" + std::to_string(rem % nx) + ", " + std::to_string(rem / nx % ny) +
                       ", " + std::to_string(rem / (nx * ny)) + ")";
    if (raw.channels > 1) {
        text += " of channel " + std::to_string(c);
    }
    return text;
}

std::string number(double v)
{
    char text[64];
    std::snprintf(text, sizeof text, "%.10g", v);
    return text;
}

/// Value range after scaling, and where the first problem value sits.
struct Scan
{
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    std::size_t nonFinite = 0;
    std::size_t firstNonFinite = 0;
    bool allIntegers = true;
    std::size_t firstNonInteger = 0;
    std::size_t minAt = 0;
    std::size_t maxAt = 0;
};

template <class T>
Scan scanValues(const T* p, std::size_t n, double slope, double intercept, bool checkIntegers)
{
    Scan s;
    const bool scaled = slope != 1.0 || intercept != 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double v =
            scaled ? static_cast<double>(p[i]) * slope + intercept : static_cast<double>(p[i]);
        if constexpr (std::is_floating_point_v<T>) {
            if (!std::isfinite(v)) {
                if (s.nonFinite++ == 0) {
                    s.firstNonFinite = i;
                }
                continue;
            }
        }
        if (v < s.min) {
            s.min = v;
            s.minAt = i;
        }
        if (v > s.max) {
            s.max = v;
            s.maxAt = i;
        }
        if (checkIntegers && s.allIntegers && std::floor(v) != v) {
            s.allIntegers = false;
            s.firstNonInteger = i;
        }
    }
    return s;
}

template <class T, class U>
void convertValues(const T* in, U* out, std::size_t n, double slope, double intercept)
{
    const bool scaled = slope != 1.0 || intercept != 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double v =
            scaled ? static_cast<double>(in[i]) * slope + intercept : static_cast<double>(in[i]);
        if constexpr (std::is_integral_v<U>) {
            out[i] = static_cast<U>(std::llround(v));
        } else {
            out[i] = static_cast<U>(v);
        }
    }
}

/// Converts the raw values into a new buffer of `target` (or in place when that is allowed:
/// same width and the two types may alias).
PixelBuffer convertBuffer(RawVolume& raw, PixelType target)
{
    const std::size_t n = raw.valueCount();
    const bool inPlace = (target == PixelType::Int16 &&
                          (raw.type == StoredType::Int16 || raw.type == StoredType::UInt16)) ||
                         (target == PixelType::UInt16 &&
                          (raw.type == StoredType::Int16 || raw.type == StoredType::UInt16)) ||
                         (target == PixelType::Float32 && raw.type == StoredType::Float32);
    PixelBuffer out = inPlace ? raw.buffer : PixelBuffer::allocate(n * pixelTypeSize(target));
    dispatchStored(raw.type, [&](auto v) {
        using T = decltype(v);
        const T* in = static_cast<const T*>(raw.buffer.data());
        dispatchPixelType(target, [&](auto u) {
            using U = decltype(u);
            convertValues(in, static_cast<U*>(out.data()), n, raw.slope, raw.intercept);
        });
    });
    return out;
}

Scan scanRaw(const RawVolume& raw, bool checkIntegers)
{
    return dispatchStored(raw.type, [&](auto v) {
        using T = decltype(v);
        return scanValues(static_cast<const T*>(raw.buffer.data()), raw.valueCount(), raw.slope,
                          raw.intercept, checkIntegers);
    });
}

void throwNonFinite(const RawVolume& raw, const Scan& s)
{
    throw Error(ErrorKind::InvalidValue, raw.source.path,
                "contains " + std::to_string(s.nonFinite) +
                    " non-finite value(s) (NaN or Inf), the first at " +
                    voxelText(raw, s.firstNonFinite));
}

bool isIntegral(double v)
{
    return std::isfinite(v) && std::floor(v) == v;
}

} // namespace

Volume toImageVolume(RawVolume& raw)
{
    const std::string& path = raw.source.path;
    std::vector<std::string>& notes = raw.source.notes;
    const bool scaled = raw.slope != 1.0 || raw.intercept != 0.0;
    const char* stored = storedTypeName(raw.type);
    PixelType target = PixelType::Float32;
    PixelBuffer buffer;

    if (!scaled && raw.type == StoredType::Int16) {
        target = PixelType::Int16;
        buffer = raw.buffer;
    } else if (!scaled && raw.type == StoredType::Float32) {
        const Scan s = scanRaw(raw, false);
        if (s.nonFinite) {
            throwNonFinite(raw, s);
        }
        buffer = raw.buffer;
    } else {
        const Scan s = scanRaw(raw, false);
        if (s.nonFinite) {
            throwNonFinite(raw, s);
        }
        const bool integerValues =
            !isFloating(raw.type) && isIntegral(raw.slope) && isIntegral(raw.intercept);
        const bool fitsInt16 = s.min >= -32768.0 && s.max <= 32767.0;
        if (integerValues && fitsInt16) {
            target = PixelType::Int16;
        } else if (std::abs(s.min) > FLT_MAX || std::abs(s.max) > FLT_MAX) {
            throw Error(ErrorKind::InvalidValue, path,
                        "value " + number(std::abs(s.min) > FLT_MAX ? s.min : s.max) + " at " +
                            voxelText(raw, std::abs(s.min) > FLT_MAX ? s.minAt : s.maxAt) +
                            " does not fit float32");
        }
        if (!scaled && raw.type == StoredType::UInt16 && target == PixelType::Int16) {
            buffer = raw.buffer; // every value is below 32768: the same bits read as int16
        } else {
            buffer = convertBuffer(raw, target);
        }
        std::string note = std::string(stored) + " voxels";
        if (scaled) {
            note += " rescaled (slope " + number(raw.slope) + ", intercept " +
                    number(raw.intercept) + ")";
        }
        note += std::string(" stored as ") + pixelTypeName(target);
        if (target == PixelType::Float32 && !isFloating(raw.type) && !fitsInt16) {
            note += " (values " + number(s.min) + ".." + number(s.max) + " exceed int16)";
        }
        notes.push_back(note);
    }
    return Volume::wrap(raw.size, raw.channels, target, raw.geometry, std::move(buffer));
}

LabelMap toLabelMap(RawVolume& raw)
{
    const std::string& path = raw.source.path;
    if (raw.channels != 1) {
        throw Error(ErrorKind::InvalidValue, path,
                    "a label map has one channel; this file has " + std::to_string(raw.channels) +
                        " (overlapping segment layers or time points)");
    }
    const bool scaled = raw.slope != 1.0 || raw.intercept != 0.0;
    if (!scaled && (raw.type == StoredType::UInt8 || raw.type == StoredType::UInt16)) {
        const PixelType type = raw.type == StoredType::UInt8 ? PixelType::UInt8 : PixelType::UInt16;
        return LabelMap::fromVolume(Volume::wrap(raw.size, 1, type, raw.geometry, raw.buffer));
    }
    const Scan s = scanRaw(raw, true);
    if (s.nonFinite) {
        throwNonFinite(raw, s);
    }
    if (!s.allIntegers) {
        const double v = dispatchStored(raw.type, [&](auto t) {
            using T = decltype(t);
            return static_cast<double>(
                       static_cast<const T*>(raw.buffer.data())[s.firstNonInteger]) *
                       raw.slope +
                   raw.intercept;
        });
        throw Error(ErrorKind::InvalidValue, path,
                    "not a label map: it holds the non-integer value " + number(v) + " at " +
                        voxelText(raw, s.firstNonInteger));
    }
    if (s.min < 0.0) {
        throw Error(ErrorKind::InvalidValue, path,
                    "not a label map: it holds the negative value " + number(s.min) + " at " +
                        voxelText(raw, s.minAt));
    }
    if (s.max > 65535.0) {
        throw Error(ErrorKind::InvalidValue, path,
                    "label " + number(s.max) + " at " + voxelText(raw, s.maxAt) +
                        " exceeds the largest supported label, 65535");
    }
    const PixelType target = s.max <= 255.0 ? PixelType::UInt8 : PixelType::UInt16;
    PixelBuffer buffer = convertBuffer(raw, target);
    raw.source.notes.push_back(std::string(storedTypeName(raw.type)) + " labels (0.." +
                               number(s.max) + ") stored as " + pixelTypeName(target));
    return LabelMap::fromVolume(Volume::wrap(raw.size, 1, target, raw.geometry, std::move(buffer)));
}

} // namespace diffseg::core::detail
