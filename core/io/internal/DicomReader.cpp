// DICOM series: we group and order the slices ourselves from their headers (our own strict header
// walker, see DicomHeader.h) and use ITK/GDCM only to decode the pixels of the chosen series
// (JPEG 2000 included) and apply the rescale. Grouping by
// SeriesInstanceUID alone fails on anonymised data that blanks the UIDs, and ordering by
// InstanceNumber or file name is wrong whenever they run against the slice position, so slices
// are sorted by ImagePositionPatient projected on the slice normal, and the geometry is computed
// from the same tags.

#include "DicomHeader.h"
#include "ItkSupport.h"
#include "io/FileUtils.h"

#include <itkGDCMImageIO.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageSeriesReader.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gdcmTrace.h>
#include <map>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;

namespace diffseg::core::detail {

namespace {

std::string trimmed(const char* value)
{
    if (!value) {
        return {};
    }
    std::string s(value);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) {
        s.pop_back();
    }
    const std::size_t b = s.find_first_not_of(' ');
    return b == std::string::npos ? std::string() : s.substr(b);
}

/// Parses a backslash-separated DICOM decimal string; nullopt unless it holds exactly `count`
/// finite numbers.
std::optional<std::vector<double>> numbers(const std::string& text, std::size_t count)
{
    std::vector<double> values;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, '\\')) {
        char* end = nullptr;
        const std::string t = trimmed(item.c_str());
        const double v = std::strtod(t.c_str(), &end);
        if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v)) {
            return std::nullopt;
        }
        values.push_back(v);
    }
    if (values.size() != count) {
        return std::nullopt;
    }
    return values;
}

struct Slice
{
    std::string file;
    std::array<double, 3> position{};
    double along = 0.0; ///< position projected on the slice normal
};

struct Series
{
    DicomSeriesInfo info;
    std::array<double, 6> orientation{};
    std::vector<Slice> slices;
    int frames = 1;
    std::string spacing;   ///< PixelSpacing (or ImagerPixelSpacing) of the first slice
    std::string thickness; ///< SliceThickness of the first slice
    std::string rescale;   ///< "slope|intercept" of the first slice
    bool rescaleVaries = false;
};

std::array<double, 3> cross(const std::array<double, 6>& o)
{
    return {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
}

std::vector<std::string> listFiles(const std::string& folder)
{
    std::vector<std::string> files;
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(folder, ec)) {
        if (entry.is_regular_file(ec)) {
            files.push_back(entry.path().string());
        }
    }
    if (ec) {
        throw Error(ErrorKind::Io, folder, "cannot list the folder: " + ec.message());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<Series> scanSeries(const std::string& folder, std::vector<std::string>& skipped)
{
    std::map<std::string, Series> groups;
    for (const std::string& file : listFiles(folder)) {
        const DicomParseResult parsed = parseDicomHeader(file);
        if (!parsed.header) {
            if (parsed.looksLikeDicom) {
                throw Error(ErrorKind::Format, file, "corrupt DICOM file: " + parsed.problem);
            }
            skipped.push_back(file); // not DICOM at all (a README, a thumbnail, ...)
            continue;
        }
        const DicomHeader& h = *parsed.header;
        auto value = [&](std::uint32_t group, std::uint32_t element) {
            return h.value(dicomTag(group, element));
        };
        const auto position = numbers(value(0x0020, 0x0032), 3);
        const auto orientation = numbers(value(0x0020, 0x0037), 6);
        if (!position || !orientation || !h.hasPixelData) {
            skipped.push_back(file); // no image slice (DICOMDIR, report, ...) or no geometry
            continue;
        }
        if (const std::optional<std::string> problem = imagePixelProblem(h)) {
            throw Error(ErrorKind::Format, file, "unsupported or corrupt DICOM image: " + *problem);
        }
        const int rows = std::atoi(value(0x0028, 0x0010).c_str());
        const int columns = std::atoi(value(0x0028, 0x0011).c_str());
        std::array<double, 6> o{};
        std::copy(orientation->begin(), orientation->end(), o.begin());
        // Slices of one volume share series, orientation and matrix size.
        char key[256];
        std::snprintf(key, sizeof key, "|%.4f|%.4f|%.4f|%.4f|%.4f|%.4f|%dx%d", o[0], o[1], o[2],
                      o[3], o[4], o[5], columns, rows);
        const std::string seriesUid = value(0x0020, 0x000E);
        Series& s = groups[seriesUid + key];
        const std::string rescale = value(0x0028, 0x1053) + "|" + value(0x0028, 0x1052);
        if (s.slices.empty()) {
            s.info.seriesUid = seriesUid;
            s.info.description = value(0x0008, 0x103E);
            s.info.modality = value(0x0008, 0x0060);
            s.info.seriesNumber = value(0x0020, 0x0011);
            s.info.rows = rows;
            s.info.columns = columns;
            s.orientation = o;
            s.frames = std::max(1, std::atoi(value(0x0028, 0x0008).c_str()));
            s.spacing =
                value(0x0028, 0x0030).empty() ? value(0x0018, 0x1164) : value(0x0028, 0x0030);
            s.thickness = value(0x0018, 0x0050);
            s.rescale = rescale;
        } else if (s.rescale != rescale) {
            s.rescaleVaries = true;
        }
        Slice slice;
        slice.file = file;
        std::copy(position->begin(), position->end(), slice.position.begin());
        s.slices.push_back(slice);
    }
    std::vector<Series> result;
    for (auto& [key, s] : groups) {
        result.push_back(std::move(s));
    }
    return result;
}

std::string seriesName(const DicomSeriesInfo& info)
{
    std::string name =
        info.description.empty() ? std::string("series") : "'" + info.description + "'";
    if (!info.seriesNumber.empty()) {
        name += " #" + info.seriesNumber;
    }
    name += " (" + (info.modality.empty() ? std::string("?") : info.modality) + ", " +
            std::to_string(info.columns) + "x" + std::to_string(info.rows) + ", " +
            std::to_string(info.files.size()) + " file(s), UID " +
            (info.seriesUid.empty() ? std::string("empty") : info.seriesUid) + ")";
    return name;
}

/// Orders the slices along the normal and derives the LPS geometry from the same tags.
Geometry orderAndPlace(Series& s, const std::string& where, std::vector<std::string>& notes)
{
    std::array<double, 6> o = s.orientation;
    auto norm3 = [](const double* v) {
        return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    };
    const double nr = norm3(o.data());
    const double nc = norm3(o.data() + 3);
    if (std::abs(nr - 1.0) > 0.01 || std::abs(nc - 1.0) > 0.01 ||
        std::abs(o[0] * o[3] + o[1] * o[4] + o[2] * o[5]) > 0.01) {
        throw Error(ErrorKind::InvalidValue, where,
                    "ImageOrientationPatient is not two orthogonal unit vectors");
    }
    for (int i = 0; i < 3; ++i) {
        o[static_cast<std::size_t>(i)] /= nr;
        o[static_cast<std::size_t>(i) + 3] /= nc;
    }
    std::array<double, 3> normal = cross(o);
    const double nn = norm3(normal.data());
    for (double& v : normal) {
        v /= nn;
    }
    for (Slice& slice : s.slices) {
        slice.along = slice.position[0] * normal[0] + slice.position[1] * normal[1] +
                      slice.position[2] * normal[2];
    }
    std::stable_sort(s.slices.begin(), s.slices.end(),
                     [](const Slice& a, const Slice& b) { return a.along < b.along; });

    Geometry g;
    g.origin = s.slices.front().position;
    for (int r = 0; r < 3; ++r) {
        g.direction[static_cast<std::size_t>(r * 3 + 0)] = o[static_cast<std::size_t>(r)];
        g.direction[static_cast<std::size_t>(r * 3 + 1)] = o[static_cast<std::size_t>(r + 3)];
        g.direction[static_cast<std::size_t>(r * 3 + 2)] = normal[static_cast<std::size_t>(r)];
    }
    // PixelSpacing is "row spacing \ column spacing": y first.
    if (const auto ps = numbers(s.spacing, 2); ps && (*ps)[0] > 0 && (*ps)[1] > 0) {
        g.spacing[0] = (*ps)[1];
        g.spacing[1] = (*ps)[0];
    } else {
        notes.push_back("no valid PixelSpacing: assumed 1 mm in-plane");
        g.spacing[0] = g.spacing[1] = 1.0;
    }
    const std::size_t n = s.slices.size();
    if (n == 1) {
        const auto t = numbers(s.thickness, 1);
        g.spacing[2] = t && (*t)[0] > 0 ? (*t)[0] : 1.0;
        notes.push_back("single slice: slice spacing taken from SliceThickness (or 1 mm)");
        return g;
    }
    const double extent = s.slices.back().along - s.slices.front().along;
    const double step = extent / static_cast<double>(n - 1);
    for (std::size_t k = 1; k < n; ++k) {
        const double d = s.slices[k].along - s.slices[k - 1].along;
        if (d < 1e-4) {
            throw Error(ErrorKind::InvalidValue, where,
                        "two slices at the same position (" + s.slices[k - 1].file + " and " +
                            s.slices[k].file + "): several echoes or phases in one series?");
        }
        if (std::abs(d - step) > 0.01 * step + 1e-3) {
            throw Error(ErrorKind::InvalidValue, where,
                        "slice spacing is not uniform (step " + std::to_string(d) + " mm before " +
                            s.slices[k].file + ", mean " + std::to_string(step) +
                            " mm): missing slices?");
        }
    }
    // The slice positions must advance along the normal; a sideways drift is a gantry tilt,
    // which a direction matrix cannot represent.
    std::array<double, 3> drift{};
    for (int i = 0; i < 3; ++i) {
        const auto ui = static_cast<std::size_t>(i);
        drift[ui] =
            s.slices.back().position[ui] - s.slices.front().position[ui] - extent * normal[ui];
    }
    if (norm3(drift.data()) > 0.01 * extent + 1e-3) {
        throw Error(
            ErrorKind::Unsupported, where,
            "slices drift sideways along the stack (gantry tilt); resample the series first");
    }
    g.spacing[2] = step;
    return g;
}

template <class T>
PixelBuffer readSeriesPixels(const std::vector<std::string>& files, const std::string& where)
{
    using Image = itk::Image<T, 3>;
    itk::GDCMImageIO::Pointer io = itk::GDCMImageIO::New();
    typename Image::Pointer image;
    try {
        if (files.size() == 1) {
            auto reader = itk::ImageFileReader<Image>::New();
            reader->SetImageIO(io);
            reader->SetFileName(files.front());
            reader->Update();
            image = reader->GetOutput();
        } else {
            auto reader = itk::ImageSeriesReader<Image>::New();
            reader->SetImageIO(io);
            reader->SetFileNames(files);
            reader->MetaDataDictionaryArrayUpdateOff();
            reader->Update();
            image = reader->GetOutput();
        }
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorKind::Format, where, "cannot decode the DICOM pixels: " + itkMessage(e));
    }
    const std::size_t count = image->GetBufferedRegion().GetNumberOfPixels();
    auto owner = std::make_shared<typename Image::Pointer>(image);
    return PixelBuffer::wrap(image->GetBufferPointer(), count * sizeof(T), owner);
}

} // namespace

RawVolume readDicomRaw(const std::string& path, std::uint64_t maxBytes, bool headerOnly)
{
    // GDCM prints its warnings and errors to stderr; ours carry the file and the problem.
    gdcm::Trace::WarningOff();
    gdcm::Trace::ErrorOff();
    std::error_code ec;
    const bool isFolder = fs::is_directory(path, ec);
    const std::string folder = isFolder ? path : fs::path(path).parent_path().string();
    RawVolume raw;
    raw.source.path = path;
    raw.source.format = VolumeFormat::Dicom;

    std::vector<std::string> skipped;
    std::vector<Series> all = scanSeries(folder.empty() ? "." : folder, skipped);
    if (all.empty()) {
        throw Error(ErrorKind::NotFound, path,
                    "no DICOM series found (" + std::to_string(skipped.size()) +
                        " file(s) checked, none is a DICOM image slice with position and "
                        "orientation)");
    }
    for (Series& s : all) {
        for (const Slice& slice : s.slices) {
            s.info.files.push_back(slice.file);
        }
    }
    std::size_t chosen = 0;
    if (isFolder) {
        for (std::size_t i = 1; i < all.size(); ++i) {
            if (all[i].slices.size() > all[chosen].slices.size()) {
                chosen = i;
            }
        }
    } else {
        const std::string wanted = fs::path(path).lexically_normal().string();
        bool found = false;
        for (std::size_t i = 0; i < all.size() && !found; ++i) {
            for (const Slice& slice : all[i].slices) {
                if (fs::path(slice.file).lexically_normal().string() == wanted) {
                    chosen = i;
                    found = true;
                    break;
                }
            }
        }
        if (!found) {
            throw Error(ErrorKind::Format, path,
                        "not a DICOM image slice with position and orientation");
        }
    }
    Series& series = all[chosen];
    raw.geometry = orderAndPlace(series, path, raw.source.notes);
    series.info.files.clear();
    for (const Slice& slice : series.slices) {
        series.info.files.push_back(slice.file);
    }
    if (all.size() > 1) {
        raw.source.notes.push_back(
            "folder holds " + std::to_string(all.size()) + " DICOM series; read " +
            seriesName(series.info) +
            (isFolder ? ", the one with most slices" : ", the one containing the file"));
    }
    if (!skipped.empty()) {
        raw.source.notes.push_back("skipped " + std::to_string(skipped.size()) +
                                   " file(s) that are not DICOM image slices");
    }
    if (series.frames > 1 && series.slices.size() > 1) {
        throw Error(ErrorKind::Unsupported, path,
                    "series mixes several multi-frame files; not supported");
    }
    for (Series& s : all) {
        raw.source.dicomSeries.push_back(s.info);
    }
    raw.source.chosenSeries = static_cast<int>(chosen);

    // The grid must be plausible before GDCM decodes anything (1 byte per voxel at least).
    raw.size = {series.info.columns, series.info.rows,
                static_cast<std::int64_t>(series.slices.size()) * series.frames};
    raw.channels = 1;
    raw.type = StoredType::UInt8;
    checkRawShape(raw, maxBytes);

    // Pixel type after rescale, as GDCM will deliver it.
    itk::GDCMImageIO::Pointer io = itk::GDCMImageIO::New();
    io->SetFileName(series.slices.front().file);
    try {
        io->ReadImageInformation();
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorKind::Format, series.slices.front().file,
                    "cannot read the DICOM header: " + itkMessage(e));
    }
    if (io->GetNumberOfComponents() != 1) {
        throw Error(ErrorKind::Unsupported, path,
                    "colour DICOM images (" + std::to_string(io->GetNumberOfComponents()) +
                        " samples per pixel) are not supported as volumes");
    }
    raw.type = storedTypeFromImageIo(*io, series.slices.front().file);
    if (series.rescaleVaries && !isFloating(raw.type)) {
        // Each slice is rescaled with its own slope and intercept; a common float type keeps
        // every slice's values.
        raw.type = StoredType::Float32;
        raw.source.notes.push_back(
            "rescale slope/intercept differ between slices: read as float32");
    }
    raw.source.storedType = storedTypeName(raw.type);
    raw.size = {series.info.columns, series.info.rows,
                static_cast<std::int64_t>(series.slices.size()) * series.frames};
    raw.channels = 1;
    checkRawShape(raw, maxBytes);
    if (series.frames > 1) {
        // One multi-frame file: GDCM computes its geometry from the functional groups.
        raw.geometry = geometryFromImageIo(*io);
    }
    if (headerOnly) {
        return raw;
    }
    raw.buffer = dispatchStored(raw.type, [&](auto v) -> PixelBuffer {
        using T = decltype(v);
        if constexpr (std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t> ||
                      std::is_same_v<T, std::int16_t> || std::is_same_v<T, std::uint16_t> ||
                      std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint32_t> ||
                      std::is_same_v<T, float> || std::is_same_v<T, double>) {
            return readSeriesPixels<T>(series.info.files, path);
        } else {
            throw Error(ErrorKind::Unsupported, path, "64-bit integer DICOM pixels");
        }
    });
    if (raw.buffer.size() != raw.byteSize()) {
        throw Error(ErrorKind::Format, path,
                    "decoded pixel data does not match the slice headers (" +
                        std::to_string(raw.buffer.size()) + " bytes instead of " +
                        std::to_string(raw.byteSize()) + ")");
    }
    return raw;
}

} // namespace diffseg::core::detail
