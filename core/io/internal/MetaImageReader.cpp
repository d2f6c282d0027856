// MetaImage voxels are read here rather than through itk::MetaImageIO::Read, because MetaIO
// reports a short read (raw or compressed) as success: ITK 5.2 returns a truncated .mha with its
// missing voxels left as they were. The header, and so the geometry, still comes from ITK.

#include "ItkSupport.h"
#include "base/Text.h"
#include "io/FileUtils.h"

#include <itkMetaImageIO.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>
#include <zlib.h>

namespace fs = std::filesystem;

namespace diffseg::core::detail {

namespace {

struct MetaHeader
{
    std::map<std::string, std::string> fields; ///< key (lower case) -> value (trimmed)
    std::uint64_t dataOffset = 0;              ///< first byte after the header (LOCAL data)
};

std::string trim(const std::string& s)
{
    const std::size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) {
        return {};
    }
    const std::size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

/// Parses "Key = Value" lines up to ElementDataFile, which MetaIO requires to be the last one.
MetaHeader parseHeader(const std::string& path)
{
    constexpr std::size_t kMaxHeader = 1 << 20;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::Io, path, "cannot open for reading");
    }
    MetaHeader header;
    std::string line;
    std::uint64_t consumed = 0;
    std::size_t lineNumber = 0;
    while (consumed < kMaxHeader && std::getline(in, line)) {
        consumed += line.size() + 1;
        ++lineNumber;
        const std::size_t eq = line.find('=');
        if (eq == std::string::npos) {
            if (trim(line).empty()) {
                continue;
            }
            throw Error(ErrorKind::Format, path,
                        "corrupt MetaImage header: line without '=' before ElementDataFile");
        }
        // MetaIO copies names and values into fixed-size buffers (a 300-character name overflowed
        // one under fuzzing): only plain names and short printable values reach it.
        const std::string name = trim(line.substr(0, eq));
        const std::string value = trim(line.substr(eq + 1));
        const bool plainName = !name.empty() && name.size() <= 64 &&
                               std::all_of(name.begin(), name.end(), [](unsigned char c) {
                                   return std::isalnum(c) || c == '_';
                               });
        const bool plainValue =
            value.size() <= 4096 && std::all_of(value.begin(), value.end(), [](unsigned char c) {
                return c == '\t' || (c >= 0x20 && c < 0x7f);
            });
        if (!plainName || !plainValue) {
            throw Error(ErrorKind::Format, path,
                        "corrupt MetaImage header: malformed line " + std::to_string(lineNumber));
        }
        const std::string key = asciiLower(name);
        header.fields[key] = value;
        if (key == "elementdatafile") {
            header.dataOffset = consumed;
            return header;
        }
    }
    throw Error(ErrorKind::Format, path,
                "corrupt or truncated MetaImage header: no ElementDataFile line");
}

bool isTrue(const MetaHeader& h, const char* key)
{
    const auto it = h.fields.find(key);
    return it != h.fields.end() && (asciiLower(it->second) == "true" || it->second == "1");
}

StoredType storedTypeFromMet(const std::string& name, const std::string& path)
{
    static const std::map<std::string, StoredType> kTypes = {
        {"MET_CHAR", StoredType::Int8},       {"MET_UCHAR", StoredType::UInt8},
        {"MET_SHORT", StoredType::Int16},     {"MET_USHORT", StoredType::UInt16},
        {"MET_INT", StoredType::Int32},       {"MET_UINT", StoredType::UInt32},
        {"MET_LONG", StoredType::Int32},      {"MET_ULONG", StoredType::UInt32},
        {"MET_LONG_LONG", StoredType::Int64}, {"MET_ULONG_LONG", StoredType::UInt64},
        {"MET_FLOAT", StoredType::Float32},   {"MET_DOUBLE", StoredType::Float64}};
    const auto it = kTypes.find(name);
    if (it == kTypes.end()) {
        throw Error(ErrorKind::Unsupported, path,
                    "MetaImage ElementType '" + name + "' is not supported");
    }
    return it->second;
}

void readExact(std::FILE* f, void* out, std::size_t bytes, const std::string& path)
{
    if (bytes > 0 && std::fread(out, 1, bytes, f) != bytes) {
        throw Error(ErrorKind::Format, path,
                    "truncated file: could not read " + std::to_string(bytes) + " bytes of voxels");
    }
}

void inflateExact(const std::vector<unsigned char>& compressed, void* out, std::size_t bytes,
                  const std::string& path)
{
    z_stream zs{};
    // 15 + 32: accept zlib and gzip headers, as MetaIO does.
    if (inflateInit2(&zs, 15 + 32) != Z_OK) {
        throw Error(ErrorKind::Internal, path, "zlib initialisation failed");
    }
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
    zs.next_in = const_cast<unsigned char*>(compressed.data());
    auto* dst = static_cast<unsigned char*>(out);
    std::size_t inLeft = compressed.size();
    std::size_t outDone = 0;
    int status = Z_OK;
    while (status == Z_OK) {
        const uInt inChunk = static_cast<uInt>(std::min<std::size_t>(inLeft, 1u << 30));
        const uInt outChunk = static_cast<uInt>(std::min<std::size_t>(bytes - outDone, 1u << 30));
        zs.avail_in = inChunk;
        zs.next_out = dst + outDone;
        zs.avail_out = outChunk;
        status = inflate(&zs, Z_NO_FLUSH);
        inLeft -= inChunk - zs.avail_in;
        outDone += outChunk - zs.avail_out;
        if (status == Z_OK && outDone == bytes) {
            // Output is full; the stream must end right here (a final empty call checks that).
            unsigned char probe = 0;
            zs.next_out = &probe;
            zs.avail_out = 1;
            zs.avail_in = static_cast<uInt>(std::min<std::size_t>(inLeft, 1u << 30));
            status = inflate(&zs, Z_NO_FLUSH);
            if (status == Z_OK || (status == Z_STREAM_END && zs.avail_out == 0)) {
                throw Error(ErrorKind::Format, path,
                            "compressed data holds more than the header's size");
            }
        } else if (status == Z_OK && zs.avail_in == 0 && inLeft == 0) {
            status = Z_BUF_ERROR;
        }
    }
    if (status != Z_STREAM_END || outDone != bytes) {
        throw Error(ErrorKind::Format, path,
                    "corrupt or truncated compressed voxel data (inflated " +
                        std::to_string(outDone) + " of " + std::to_string(bytes) + " bytes" +
                        (zs.msg ? std::string(": ") + zs.msg : std::string()) + ")");
    }
}

/// MetaIO reads NDims values for every per-axis field and channel counts without bounds: a header
/// saying "NDims = 36189037276" kept it busy for minutes (found by fuzzing). The numbers that size
/// its loops are checked here before ITK parses the header.
void checkHeaderNumbers(const MetaHeader& header, const std::string& path)
{
    auto integers = [&](const char* key) {
        std::vector<long long> values;
        const auto it = header.fields.find(key);
        if (it == header.fields.end()) {
            return values;
        }
        std::istringstream in(it->second);
        std::string word;
        while (in >> word) {
            char* end = nullptr;
            const long long v = std::strtoll(word.c_str(), &end, 10);
            if (!end || *end != '\0') {
                throw Error(ErrorKind::Format, path,
                            std::string("MetaImage field ") + key + " holds '" + word +
                                "', not an integer");
            }
            values.push_back(v);
        }
        return values;
    };
    const std::vector<long long> ndims = integers("ndims");
    if (ndims.size() != 1 || ndims[0] < 1 || ndims[0] > 8) {
        throw Error(ErrorKind::Format, path, "MetaImage NDims must be one integer in 1..8");
    }
    const std::vector<long long> dims = integers("dimsize");
    if (dims.size() != static_cast<std::size_t>(ndims[0])) {
        throw Error(ErrorKind::Format, path,
                    "MetaImage DimSize has " + std::to_string(dims.size()) + " values for NDims " +
                        std::to_string(ndims[0]));
    }
    for (long long d : dims) {
        if (d <= 0 || d > Volume::kMaxSide) {
            throw Error(ErrorKind::InvalidValue, path,
                        "MetaImage DimSize value " + std::to_string(d) + " is outside 1.." +
                            std::to_string(Volume::kMaxSide));
        }
    }
    const std::vector<long long> channels = integers("elementnumberofchannels");
    if (!channels.empty() &&
        (channels.size() != 1 || channels[0] < 1 || channels[0] > Volume::kMaxChannels)) {
        throw Error(ErrorKind::InvalidValue, path,
                    "MetaImage ElementNumberOfChannels must be in 1.." +
                        std::to_string(Volume::kMaxChannels));
    }
    const auto type = header.fields.find("elementtype");
    if (type == header.fields.end()) {
        throw Error(ErrorKind::Format, path, "MetaImage header has no ElementType");
    }
    storedTypeFromMet(type->second, path);
}

} // namespace

RawVolume readMetaImageRaw(const std::string& path, std::uint64_t maxBytes, bool headerOnly)
{
    RawVolume raw;
    raw.source.path = path;
    raw.source.format = VolumeFormat::MetaImage;
    const MetaHeader header = parseHeader(path);
    checkHeaderNumbers(header, path);

    itk::MetaImageIO::Pointer io = itk::MetaImageIO::New();
    io->SetFileName(path);
    try {
        io->ReadImageInformation();
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorKind::Format, path, "cannot read the MetaImage header: " + itkMessage(e));
    }
    shapeFromImageIo(*io, path, raw);
    raw.type = storedTypeFromImageIo(*io, path);
    checkRawShape(raw, maxBytes);
    raw.geometry = geometryFromImageIo(*io);
    raw.source.storedType = storedTypeName(raw.type);

    const auto elementType = header.fields.find("elementtype");
    if (elementType == header.fields.end() ||
        storedTypeFromMet(elementType->second, path) != raw.type) {
        throw Error(ErrorKind::Format, path, "MetaImage ElementType is missing or inconsistent");
    }
    if (header.fields.count("binarydata") && !isTrue(header, "binarydata")) {
        throw Error(ErrorKind::Unsupported, path,
                    "MetaImage files with ASCII voxels are not supported");
    }
    if (headerOnly) {
        return raw;
    }

    const std::string dataName = header.fields.at("elementdatafile");
    std::string dataPath = path;
    std::uint64_t offset = header.dataOffset;
    if (asciiLower(dataName) != "local") {
        if (asciiLower(dataName.substr(0, 4)) == "list" ||
            dataName.find('%') != std::string::npos) {
            throw Error(ErrorKind::Unsupported, path,
                        "MetaImage data split over several files (" + dataName +
                            ") is not supported; convert to .mha");
        }
        const fs::path candidate(dataName);
        dataPath = (candidate.is_absolute() ? candidate : fs::path(path).parent_path() / candidate)
                       .string();
        offset = 0;
    }
    const std::uint64_t available = fileSize(dataPath);
    const std::size_t bytes = raw.byteSize();
    const bool compressed = isTrue(header, "compresseddata");
    long long headerSize = 0;
    if (header.fields.count("headersize")) {
        headerSize = std::atoll(header.fields.at("headersize").c_str());
    }
    if (!compressed && headerSize == -1) {
        if (available < bytes) {
            throw Error(ErrorKind::Format, path, "truncated data file " + dataPath);
        }
        offset = available - bytes; // -1: the voxels are the last bytes of the data file
    } else if (headerSize > 0) {
        offset += static_cast<std::uint64_t>(headerSize);
    }

    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(dataPath.c_str(), "rb"),
                                                      std::fclose);
    if (!f || std::fseek(f.get(), static_cast<long>(offset), SEEK_SET) != 0) {
        throw Error(ErrorKind::Io, path, "cannot open the voxel data in " + dataPath);
    }
    std::vector<unsigned char> packed;
    if (compressed) {
        std::uint64_t compressedSize = available > offset ? available - offset : 0;
        if (header.fields.count("compresseddatasize")) {
            const long long declared = std::atoll(header.fields.at("compresseddatasize").c_str());
            if (declared <= 0 || static_cast<std::uint64_t>(declared) > compressedSize) {
                throw Error(ErrorKind::Format, path,
                            "truncated file: the header announces " + std::to_string(declared) +
                                " bytes of compressed voxels, " + std::to_string(compressedSize) +
                                " are present");
            }
            compressedSize = static_cast<std::uint64_t>(declared);
        }
        packed.resize(static_cast<std::size_t>(compressedSize));
        readExact(f.get(), packed.data(), packed.size(), path);
    } else if (available < offset + bytes) {
        throw Error(ErrorKind::Format, path,
                    "truncated file: " + std::to_string(bytes) +
                        " bytes of voxels expected at offset " + std::to_string(offset) + ", but " +
                        dataPath + " has " + std::to_string(available) + " bytes");
    }

    raw.buffer = allocateItkBuffer(raw.type, raw.valueCount());
    // Vector pixels are stored interleaved; our channels are planar.
    const bool interleaved = raw.channels > 1 && io->GetNumberOfComponents() > 1;
    PixelBuffer target = interleaved ? PixelBuffer::allocate(bytes) : raw.buffer;
    if (compressed) {
        inflateExact(packed, target.data(), bytes, path);
    } else {
        readExact(f.get(), target.data(), bytes, path);
    }
    if (interleaved) {
        deinterleave(target.data(), raw.buffer.data(), raw.voxelCount(), raw.channels,
                     storedTypeSize(raw.type));
    }
    if (isTrue(header, "binarydatabyteordermsb") || isTrue(header, "elementbyteordermsb")) {
        swapBytes(raw.buffer.data(), raw.valueCount(), storedTypeSize(raw.type));
    }
    return raw;
}

} // namespace diffseg::core::detail
