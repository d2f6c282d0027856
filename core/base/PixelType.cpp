#include "PixelType.h"

#include "EnumNames.h"

namespace diffseg::core {

namespace {

constexpr EnumName<PixelType> kPixelTypeNames[] = {{PixelType::UInt8, "uint8"},
                                                   {PixelType::Int16, "int16"},
                                                   {PixelType::UInt16, "uint16"},
                                                   {PixelType::Float32, "float32"}};

} // namespace

std::size_t pixelTypeSize(PixelType type) noexcept
{
    switch (type) {
    case PixelType::UInt8:
        return 1;
    case PixelType::Int16:
    case PixelType::UInt16:
        return 2;
    case PixelType::Float32:
        return 4;
    }
    return 0;
}

const char* pixelTypeName(PixelType type) noexcept
{
    return enumName(kPixelTypeNames, type, "unknown");
}

} // namespace diffseg::core
