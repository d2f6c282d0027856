#include "ItkSupport.h"

#include "base/EnumNames.h"

#include <itkGDCMImageIOFactory.h>
#include <itkImportImageContainer.h>
#include <itkMetaImageIOFactory.h>
#include <itkNiftiImageIOFactory.h>
#include <itkNrrdImageIOFactory.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace diffseg::core {

void registerItkImageIoFactories()
{
    static std::once_flag once;
    std::call_once(once, [] {
        itk::NiftiImageIOFactory::RegisterOneFactory();
        itk::NrrdImageIOFactory::RegisterOneFactory();
        itk::MetaImageIOFactory::RegisterOneFactory();
        itk::GDCMImageIOFactory::RegisterOneFactory();
    });
}

namespace detail {

namespace {

constexpr EnumName<StoredType> kStoredTypeNames[] = {
    {StoredType::Int8, "int8"},       {StoredType::UInt8, "uint8"},
    {StoredType::Int16, "int16"},     {StoredType::UInt16, "uint16"},
    {StoredType::Int32, "int32"},     {StoredType::UInt32, "uint32"},
    {StoredType::Int64, "int64"},     {StoredType::UInt64, "uint64"},
    {StoredType::Float32, "float32"}, {StoredType::Float64, "float64"}};

} // namespace

std::size_t storedTypeSize(StoredType type) noexcept
{
    return dispatchStored(type, [](auto v) { return sizeof(v); });
}

const char* storedTypeName(StoredType type) noexcept
{
    return enumName(kStoredTypeNames, type, "unknown");
}

bool isFloating(StoredType type) noexcept
{
    return type == StoredType::Float32 || type == StoredType::Float64;
}

PixelBuffer allocateItkBuffer(StoredType type, std::size_t count)
{
    return dispatchStored(type, [count](auto v) {
        using T = decltype(v);
        using Container = itk::ImportImageContainer<itk::SizeValueType, T>;
        typename Container::Pointer container = Container::New();
        try {
            // No value initialisation: the reader overwrites every byte.
            container->Reserve(count, false);
        } catch (const std::bad_alloc&) {
            throw Error(ErrorKind::InvalidValue, "",
                        "cannot allocate " + std::to_string(count * sizeof(T)) +
                            " bytes for the voxels");
        }
        auto owner = std::make_shared<typename Container::Pointer>(container);
        return PixelBuffer::wrap(container->GetBufferPointer(), count * sizeof(T), owner);
    });
}

void checkRawShape(const RawVolume& raw, std::uint64_t maxBytes)
{
    const std::string& path = raw.source.path;
    for (std::int64_t s : raw.size) {
        if (s <= 0 || s > Volume::kMaxSide) {
            throw Error(ErrorKind::InvalidValue, path,
                        "volume size " + std::to_string(raw.size[0]) + "x" +
                            std::to_string(raw.size[1]) + "x" + std::to_string(raw.size[2]) +
                            " is outside 1.." + std::to_string(Volume::kMaxSide) + " per axis");
        }
    }
    if (raw.channels <= 0 || raw.channels > Volume::kMaxChannels) {
        throw Error(ErrorKind::InvalidValue, path,
                    "volume has " + std::to_string(raw.channels) +
                        " channels (time points or vector components); at most " +
                        std::to_string(Volume::kMaxChannels) + " are supported");
    }
    const std::uint64_t voxels = static_cast<std::uint64_t>(raw.size[0] * raw.size[1]) *
                                 static_cast<std::uint64_t>(raw.size[2]);
    if (voxels > static_cast<std::uint64_t>(Volume::kMaxVoxels)) {
        throw Error(ErrorKind::InvalidValue, path,
                    "volume has " + std::to_string(voxels) + " voxels, more than the limit of " +
                        std::to_string(Volume::kMaxVoxels));
    }
    const std::uint64_t bytes =
        voxels * static_cast<std::uint64_t>(raw.channels) * storedTypeSize(raw.type);
    if (bytes > maxBytes) {
        throw Error(ErrorKind::InvalidValue, path,
                    "voxels need " + std::to_string(bytes) + " bytes, more than the limit of " +
                        std::to_string(maxBytes));
    }
}

Geometry geometryFromImageIo(const itk::ImageIOBase& io)
{
    Geometry g;
    const unsigned n = io.GetNumberOfDimensions();
    for (unsigned c = 0; c < 3; ++c) {
        if (c < n) {
            g.spacing[c] = io.GetSpacing(c);
            g.origin[c] = io.GetOrigin(c);
            const std::vector<double> axis = io.GetDirection(c);
            for (unsigned r = 0; r < 3; ++r) {
                g.direction[r * 3 + c] = r < axis.size() ? axis[r] : 0.0;
            }
        } else {
            for (unsigned r = 0; r < 3; ++r) {
                g.direction[r * 3 + c] = r == c ? 1.0 : 0.0;
            }
        }
    }
    return g;
}

StoredType storedTypeFromImageIo(const itk::ImageIOBase& io, const std::string& path)
{
    using C = itk::IOComponentEnum;
    const bool pixelOk = io.GetPixelType() != itk::IOPixelEnum::COMPLEX;
    const std::size_t size = io.GetComponentSize();
    if (pixelOk) {
        switch (io.GetComponentType()) {
        case C::UCHAR:
            return StoredType::UInt8;
        case C::CHAR:
            return StoredType::Int8;
        case C::USHORT:
            return StoredType::UInt16;
        case C::SHORT:
            return StoredType::Int16;
        case C::UINT:
            return size == 4 ? StoredType::UInt32 : StoredType::UInt64;
        case C::INT:
            return size == 4 ? StoredType::Int32 : StoredType::Int64;
        case C::ULONG:
        case C::ULONGLONG:
            return size == 4 ? StoredType::UInt32 : StoredType::UInt64;
        case C::LONG:
        case C::LONGLONG:
            return size == 4 ? StoredType::Int32 : StoredType::Int64;
        case C::FLOAT:
            return StoredType::Float32;
        case C::DOUBLE:
            return StoredType::Float64;
        default:
            break;
        }
    }
    // ITK's own *AsString() helpers throw for unknown enumerators: name the codes ourselves.
    throw Error(ErrorKind::Unsupported, path,
                "pixels of ITK pixel type " + std::to_string(static_cast<int>(io.GetPixelType())) +
                    " with component type " +
                    std::to_string(static_cast<int>(io.GetComponentType())) +
                    " are not supported (complex, long double or unknown)");
}

void shapeFromImageIo(const itk::ImageIOBase& io, const std::string& path, RawVolume& raw)
{
    const unsigned n = io.GetNumberOfDimensions();
    std::int64_t extra = 1;
    for (unsigned d = 0; d < n; ++d) {
        const std::int64_t extent = static_cast<std::int64_t>(io.GetDimensions(d));
        if (extent <= 0 || extent > Volume::kMaxSide) {
            throw Error(ErrorKind::InvalidValue, path,
                        "axis " + std::to_string(d) + " has size " + std::to_string(extent) +
                            ", outside 1.." + std::to_string(Volume::kMaxSide));
        }
        if (d < 3) {
            raw.size[d] = extent;
        } else if (d == 3) {
            extra = extent;
        } else if (extent != 1) {
            throw Error(ErrorKind::Unsupported, path,
                        "images with more than 4 dimensions are not supported");
        }
    }
    for (unsigned d = n; d < 3; ++d) {
        raw.size[d] = 1;
    }
    const std::int64_t components = io.GetNumberOfComponents();
    if (components > 1 && extra > 1) {
        throw Error(ErrorKind::Unsupported, path, "4D images of vector pixels are not supported");
    }
    const std::int64_t channels = components * extra;
    raw.channels =
        channels > Volume::kMaxChannels ? Volume::kMaxChannels + 1 : static_cast<int>(channels);
}

std::string itkMessage(const itk::ExceptionObject& e)
{
    std::string text = e.GetDescription() ? e.GetDescription() : "unknown ITK error";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

void deinterleave(const void* interleaved, void* planar, std::size_t voxels, int components,
                  std::size_t valueSize)
{
    const auto* in = static_cast<const unsigned char*>(interleaved);
    auto* out = static_cast<unsigned char*>(planar);
    const std::size_t n = static_cast<std::size_t>(components);
    for (std::size_t c = 0; c < n; ++c) {
        unsigned char* dst = out + c * voxels * valueSize;
        for (std::size_t v = 0; v < voxels; ++v) {
            std::memcpy(dst + v * valueSize, in + (v * n + c) * valueSize, valueSize);
        }
    }
}

void swapBytes(void* data, std::size_t count, std::size_t width)
{
    if (width < 2) {
        return;
    }
    auto* p = static_cast<unsigned char*>(data);
    for (std::size_t i = 0; i < count; ++i, p += width) {
        std::reverse(p, p + width);
    }
}

} // namespace detail
} // namespace diffseg::core
