#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace diffseg::core {

/// Scalar types a pixel component can have. Images: UInt8 or Float32; volumes: Int16 or Float32
/// (UInt8/UInt16 for label maps); all four are accepted everywhere a buffer is typed at run time.
enum class PixelType
{
    UInt8,
    Int16,
    UInt16,
    Float32
};

std::size_t pixelTypeSize(PixelType type) noexcept;
const char* pixelTypeName(PixelType type) noexcept;

/// Maps a C++ scalar type to its PixelType at compile time.
template <class T>
struct PixelTypeOf;
template <>
struct PixelTypeOf<std::uint8_t>
{
    static constexpr PixelType value = PixelType::UInt8;
};
template <>
struct PixelTypeOf<std::int16_t>
{
    static constexpr PixelType value = PixelType::Int16;
};
template <>
struct PixelTypeOf<std::uint16_t>
{
    static constexpr PixelType value = PixelType::UInt16;
};
template <>
struct PixelTypeOf<float>
{
    static constexpr PixelType value = PixelType::Float32;
};

/// Calls `fn(T{})` with T the C++ type of `type`, so that code can be written once for all types.
template <class Fn>
decltype(auto) dispatchPixelType(PixelType type, Fn&& fn)
{
    switch (type) {
    case PixelType::UInt8:
        return fn(std::uint8_t{});
    case PixelType::Int16:
        return fn(std::int16_t{});
    case PixelType::UInt16:
        return fn(std::uint16_t{});
    case PixelType::Float32:
        break;
    }
    return fn(float{});
}

} // namespace diffseg::core
