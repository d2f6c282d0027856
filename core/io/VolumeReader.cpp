#include "VolumeReader.h"

#include "FileUtils.h"
#include "base/EnumNames.h"
#include "internal/RawVolume.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <zlib.h>

namespace fs = std::filesystem;

namespace diffseg::core {

namespace {

using detail::RawVolume;

constexpr EnumName<VolumeFormat> kVolumeFormatNames[] = {{VolumeFormat::Nifti, "NIfTI"},
                                                         {VolumeFormat::Nrrd, "NRRD"},
                                                         {VolumeFormat::MetaImage, "MetaImage"},
                                                         {VolumeFormat::Dicom, "DICOM series"}};

/// The first bytes of a file, decompressed when it is gzip (zlib reads plain files as is).
std::string leadingBytes(const std::string& path, std::size_t count)
{
    std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(path.c_str(), "rb"), gzclose);
    if (!gz) {
        return {};
    }
    std::string bytes(count, '\0');
    const int n = gzread(gz.get(), bytes.data(), static_cast<unsigned>(count));
    bytes.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return bytes;
}

std::string rawLeadingBytes(const std::string& path, std::size_t count)
{
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!f) {
        return {};
    }
    std::string bytes(count, '\0');
    bytes.resize(std::fread(bytes.data(), 1, count, f.get()));
    return bytes;
}

RawVolume readRaw(VolumeFormat format, const std::string& path, std::uint64_t maxBytes,
                  bool headerOnly)
{
    switch (format) {
    case VolumeFormat::Nifti:
        return detail::readNiftiRaw(path, maxBytes, headerOnly);
    case VolumeFormat::Nrrd:
        return detail::readNrrdRaw(path, maxBytes, headerOnly);
    case VolumeFormat::MetaImage:
        return detail::readMetaImageRaw(path, maxBytes, headerOnly);
    case VolumeFormat::Dicom:
        return detail::readDicomRaw(path, maxBytes, headerOnly);
    case VolumeFormat::Unknown:
        break;
    }
    throw Error(ErrorKind::Format, path,
                "unknown volume format (expected NIfTI .nii/.nii.gz, NRRD .nrrd/.nhdr, MetaImage "
                ".mha/.mhd, or a DICOM folder)");
}

void checkGeometry(const Geometry& g, const std::string& path)
{
    if (g.isValid()) {
        return;
    }
    char text[512];
    std::snprintf(text, sizeof text,
                  "invalid geometry: spacing %g x %g x %g mm (must be positive and finite), "
                  "origin (%g, %g, %g), direction columns (%g %g %g), (%g %g %g), (%g %g %g) "
                  "(must be orthonormal)",
                  g.spacing[0], g.spacing[1], g.spacing[2], g.origin[0], g.origin[1], g.origin[2],
                  g.direction[0], g.direction[3], g.direction[6], g.direction[1], g.direction[4],
                  g.direction[7], g.direction[2], g.direction[5], g.direction[8]);
    throw Error(ErrorKind::InvalidValue, path, text);
}

/// Runs `fn`, giving errors that name no file the name of `path`.
template <class Fn>
auto naming(const std::string& path, Fn&& fn) -> decltype(fn())
{
    try {
        return fn();
    } catch (const Error& e) {
        if (!e.subject().empty()) {
            throw;
        }
        throw Error(e.kind(), path, e.problem());
    } catch (const std::bad_alloc&) {
        throw Error(ErrorKind::InvalidValue, path, "out of memory while reading the voxels");
    } catch (const std::exception& e) {
        // Last line of defence: an exception from a library that the readers did not translate.
        throw Error(ErrorKind::Format, path, std::string("cannot read: ") + e.what());
    }
}

VolumeFormat requireFormat(const std::string& path)
{
    const VolumeFormat format = detectVolumeFormat(path);
    if (format == VolumeFormat::Unknown) {
        readRaw(format, path, 0, true); // throws the "unknown format" error
    }
    return format;
}

} // namespace

const char* volumeFormatName(VolumeFormat format) noexcept
{
    return enumName(kVolumeFormatNames, format, "unknown");
}

VolumeFormat detectVolumeFormat(const std::string& path)
{
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
        throw Error(ErrorKind::NotFound, path, "file or folder not found");
    }
    if (fs::is_directory(status)) {
        return VolumeFormat::Dicom;
    }
    // A volume extension decides (its reader then checks the content), so that a mislabelled file
    // fails with that format's error instead of, say, opening its whole folder as DICOM.
    const std::string ext = fileExtension(path);
    if (ext == ".nii" || ext == ".nii.gz" || ext == ".hdr" || ext == ".img" || ext == ".img.gz") {
        return VolumeFormat::Nifti;
    }
    if (ext == ".nrrd" || ext == ".nhdr" || ext == ".seg.nrrd") {
        return VolumeFormat::Nrrd;
    }
    if (ext == ".mha" || ext == ".mhd") {
        return VolumeFormat::MetaImage;
    }
    const std::string raw = rawLeadingBytes(path, 132);
    if (raw.size() >= 132 && raw.compare(128, 4, "DICM") == 0) {
        return VolumeFormat::Dicom;
    }
    const std::string head = leadingBytes(path, 348);
    if (head.size() >= 348 && (std::memcmp(head.data() + 344, "n+1", 4) == 0 ||
                               std::memcmp(head.data() + 344, "ni1", 4) == 0)) {
        return VolumeFormat::Nifti;
    }
    if (head.compare(0, 7, "NRRD000") == 0) {
        return VolumeFormat::Nrrd;
    }
    if (ext == ".dcm" || ext == ".ima") {
        return VolumeFormat::Dicom; // DICOM without the 128-byte preamble
    }
    return VolumeFormat::Unknown;
}

namespace {

/// Reads `path` in the format it has, checks its geometry and returns what `convert` makes of
/// the voxels (an image volume, a label map) with the file's source; errors name the file.
template <class Loaded, class Convert>
Loaded readConverted(const std::string& path, const VolumeReadOptions& options, Convert convert)
{
    return naming(path, [&] {
        const VolumeFormat format = requireFormat(path);
        RawVolume raw = readRaw(format, path, options.maxBytes, false);
        checkGeometry(raw.geometry, path);
        auto converted = convert(raw);
        return Loaded{std::move(converted), std::move(raw.source)};
    });
}

} // namespace

LoadedVolume readVolume(const std::string& path, const VolumeReadOptions& options)
{
    return readConverted<LoadedVolume>(path, options, detail::toImageVolume);
}

LoadedLabelMap readLabelMap(const std::string& path, const VolumeReadOptions& options)
{
    return readConverted<LoadedLabelMap>(path, options, detail::toLabelMap);
}

LoadedVolume readVolumeChannels(const std::vector<std::string>& paths,
                                const VolumeReadOptions& options)
{
    if (paths.empty()) {
        throw Error(ErrorKind::InvalidValue, "", "no files to stack as channels");
    }
    if (paths.size() > static_cast<std::size_t>(Volume::kMaxChannels)) {
        throw Error(ErrorKind::InvalidValue, paths.front(),
                    "cannot stack " + std::to_string(paths.size()) +
                        " files as channels (at most " + std::to_string(Volume::kMaxChannels) +
                        ")");
    }
    if (paths.size() == 1) {
        return readVolume(paths.front(), options); // a 4D file holds its channels itself
    }
    std::vector<LoadedVolume> parts;
    bool allInt16 = true;
    for (const std::string& path : paths) {
        LoadedVolume part = readVolume(path, options);
        if (part.volume.channels() != 1) {
            throw Error(ErrorKind::InvalidValue, path,
                        "has " + std::to_string(part.volume.channels()) +
                            " channels; each stacked file must have one");
        }
        if (!parts.empty()) {
            const Volume& first = parts.front().volume;
            if (part.volume.size() != first.size() ||
                !part.volume.geometry().isClose(first.geometry(), 1e-3)) {
                throw Error(ErrorKind::Mismatch, path,
                            "grid " + part.volume.describe() + " differs from " + paths.front() +
                                " (" + first.describe() + ")");
            }
        }
        allInt16 = allInt16 && part.volume.pixelType() == PixelType::Int16;
        parts.push_back(std::move(part));
    }
    const Volume& first = parts.front().volume;
    const PixelType type = allInt16 ? PixelType::Int16 : PixelType::Float32;
    Volume stacked(first.size(), static_cast<int>(parts.size()), type, first.geometry());
    const std::size_t n = first.voxelCount();
    for (std::size_t c = 0; c < parts.size(); ++c) {
        const Volume& part = parts[c].volume;
        dispatchPixelType(type, [&](auto t) {
            using T = decltype(t);
            T* out = stacked.channelData<T>(static_cast<int>(c));
            dispatchPixelType(part.pixelType(), [&](auto s) {
                using S = decltype(s);
                const S* in = part.data<S>();
                for (std::size_t i = 0; i < n; ++i) {
                    out[i] = static_cast<T>(in[i]);
                }
            });
        });
    }
    VolumeSource source = parts.front().source;
    std::string list;
    for (const std::string& path : paths) {
        list += (list.empty() ? "" : ", ") + fs::path(path).filename().string();
    }
    source.notes.push_back("stacked " + std::to_string(paths.size()) +
                           " files as channels: " + list);
    for (std::size_t c = 1; c < parts.size(); ++c) {
        for (const std::string& note : parts[c].source.notes) {
            source.notes.push_back(fs::path(paths[c]).filename().string() + ": " + note);
        }
    }
    return LoadedVolume{std::move(stacked), std::move(source)};
}

VolumeHeader readVolumeHeader(const std::string& path)
{
    return naming(path, [&] {
        const VolumeFormat format = requireFormat(path);
        RawVolume raw = readRaw(format, path, std::numeric_limits<std::uint64_t>::max(), true);
        VolumeHeader header;
        header.size = raw.size;
        header.channels = raw.channels;
        header.geometry = raw.geometry;
        header.source = std::move(raw.source);
        return header;
    });
}

} // namespace diffseg::core
