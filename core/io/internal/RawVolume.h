#pragma once

// Internal to core/io: voxels as stored in a file, before the type policy of readVolume() /
// readLabelMap() is applied. Not installed, not included by users.

#include "base/PixelBuffer.h"
#include "io/VolumeReader.h"

#include <cstdint>
#include <string>

namespace diffseg::core::detail {

enum class StoredType
{
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float32,
    Float64
};

std::size_t storedTypeSize(StoredType type) noexcept;
const char* storedTypeName(StoredType type) noexcept;
bool isFloating(StoredType type) noexcept;

/// Calls fn(T{}) with the C++ type of `type`.
template <class Fn>
decltype(auto) dispatchStored(StoredType type, Fn&& fn)
{
    switch (type) {
    case StoredType::Int8:
        return fn(std::int8_t{});
    case StoredType::UInt8:
        return fn(std::uint8_t{});
    case StoredType::Int16:
        return fn(std::int16_t{});
    case StoredType::UInt16:
        return fn(std::uint16_t{});
    case StoredType::Int32:
        return fn(std::int32_t{});
    case StoredType::UInt32:
        return fn(std::uint32_t{});
    case StoredType::Int64:
        return fn(std::int64_t{});
    case StoredType::UInt64:
        return fn(std::uint64_t{});
    case StoredType::Float32:
        return fn(float{});
    case StoredType::Float64:
        break;
    }
    return fn(double{});
}

/// Planar channels, x fastest, exactly as Volume; `buffer` is empty for header-only reads.
struct RawVolume
{
    std::array<std::int64_t, 3> size{0, 0, 0};
    int channels = 1;
    StoredType type = StoredType::UInt8;
    Geometry geometry;
    /// Stored value v means v * slope + intercept (NIfTI scl_*, DICOM rescale not applied by ITK).
    double slope = 1.0;
    double intercept = 0.0;
    PixelBuffer buffer;
    VolumeSource source;

    std::size_t voxelCount() const noexcept
    {
        return static_cast<std::size_t>(size[0] * size[1] * size[2]);
    }
    std::size_t valueCount() const noexcept
    {
        return voxelCount() * static_cast<std::size_t>(channels);
    }
    std::size_t byteSize() const noexcept { return valueCount() * storedTypeSize(type); }
};

/// Uninitialised storage for `count` values of `type` in an ITK pixel container (the storage
/// itk::Image uses), owned by the returned buffer.
PixelBuffer allocateItkBuffer(StoredType type, std::size_t count);

/// Checks sizes and channels against Volume's limits and `maxBytes` before anything is allocated.
void checkRawShape(const RawVolume& raw, std::uint64_t maxBytes);

RawVolume readNiftiRaw(const std::string& path, std::uint64_t maxBytes, bool headerOnly);
RawVolume readMetaImageRaw(const std::string& path, std::uint64_t maxBytes, bool headerOnly);
RawVolume readNrrdRaw(const std::string& path, std::uint64_t maxBytes, bool headerOnly);
/// `path` is a folder, or one DICOM file whose folder's series containing it is read.
RawVolume readDicomRaw(const std::string& path, std::uint64_t maxBytes, bool headerOnly);

/// Applies the type policies documented on readVolume() / readLabelMap().
Volume toImageVolume(RawVolume& raw);
LabelMap toLabelMap(RawVolume& raw);

} // namespace diffseg::core::detail
