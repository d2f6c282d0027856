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

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmTrace.h>
#include <map>
#include <optional>
#include <sstream>
#include <type_traits>

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
    DicomHeader header;
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
        slice.header = h;
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

/// Pixel format shared by every slice of the series.
struct PixelLayout
{
    int bitsAllocated = 16;
    int bitsStored = 16;
    int highBit = 15;
    bool isSigned = false;
    StoredType type = StoredType::UInt16;
};

long headerNumber(const DicomHeader& h, std::uint32_t tag, long fallback)
{
    const std::string v = h.value(tag);
    return v.empty() ? fallback : std::strtol(v.c_str(), nullptr, 10);
}

PixelLayout pixelLayout(const DicomHeader& h)
{
    PixelLayout p;
    p.bitsAllocated = static_cast<int>(headerNumber(h, dicomTag(0x0028, 0x0100), 16));
    p.bitsStored = static_cast<int>(headerNumber(h, dicomTag(0x0028, 0x0101), p.bitsAllocated));
    p.highBit = static_cast<int>(headerNumber(h, dicomTag(0x0028, 0x0102), p.bitsStored - 1));
    p.isSigned = headerNumber(h, dicomTag(0x0028, 0x0103), 0) == 1;
    switch (p.bitsAllocated) {
    case 8:
        p.type = p.isSigned ? StoredType::Int8 : StoredType::UInt8;
        break;
    case 16:
        p.type = p.isSigned ? StoredType::Int16 : StoredType::UInt16;
        break;
    default:
        p.type = p.isSigned ? StoredType::Int32 : StoredType::UInt32;
        break;
    }
    return p;
}

/// Rescale slope and intercept of one slice (1 and 0 when absent).
std::pair<double, double> rescaleOf(const Slice& slice)
{
    double slope = 1.0;
    double intercept = 0.0;
    const std::string s = slice.header.value(dicomTag(0x0028, 0x1053));
    const std::string i = slice.header.value(dicomTag(0x0028, 0x1052));
    if (!s.empty()) {
        const auto v = numbers(s, 1);
        if (!v || (*v)[0] == 0.0) {
            throw Error(ErrorKind::InvalidValue, slice.file, "invalid RescaleSlope '" + s + "'");
        }
        slope = (*v)[0];
    }
    if (!i.empty()) {
        const auto v = numbers(i, 1);
        if (!v) {
            throw Error(ErrorKind::InvalidValue, slice.file,
                        "invalid RescaleIntercept '" + i + "'");
        }
        intercept = (*v)[0];
    }
    return {slope, intercept};
}

/// Appends DICOM elements in one encoding (meta: explicit VR little endian).
class ElementWriter
{
public:
    ElementWriter(std::string& out, bool explicitVr, bool bigEndian)
        : m_out(out)
        , m_explicit(explicitVr)
        , m_bigEndian(bigEndian)
    {}
    void text(std::uint32_t tag, const char* vr, std::string value)
    {
        if (value.size() % 2) {
            value += std::strcmp(vr, "UI") == 0 ? '\0' : ' ';
        }
        header(tag, vr, value.size());
        m_out += value;
    }
    void us(std::uint32_t tag, unsigned value)
    {
        header(tag, "US", 2);
        put(value, 2);
    }
    void ob(std::uint32_t tag, const std::string& value)
    {
        header(tag, "OB", value.size());
        m_out += value;
    }

private:
    void put(std::uint64_t v, int n)
    {
        for (int i = 0; i < n; ++i) {
            const int shift = m_bigEndian ? 8 * (n - 1 - i) : 8 * i;
            m_out += static_cast<char>((v >> shift) & 0xFF);
        }
    }
    void header(std::uint32_t tag, const char* vr, std::size_t length)
    {
        put(tag >> 16, 2);
        put(tag & 0xFFFF, 2);
        if (!m_explicit) {
            put(length, 4);
        } else if (std::strcmp(vr, "OB") == 0) {
            m_out.append(vr, 2);
            put(0, 2);
            put(length, 4);
        } else {
            m_out.append(vr, 2);
            put(length, 2);
        }
    }

    std::string& m_out;
    bool m_explicit;
    bool m_bigEndian;
};

/// A minimal DICOM stream with only what the pixel decoder needs: fixed SOP class, the image pixel
/// module, and the file's pixel data element copied byte for byte. GDCM's image reader asserts
/// on many unusual attributes (unknown SOP classes, recognition codes, icons, overlays, ...);
/// here it never sees them.
std::string minimalSlice(const Slice& slice, const PixelLayout& layout)
{
    const DicomHeader& h = slice.header;
    const char* sopClass = "1.2.840.10008.5.1.4.1.1.2"; // CT Image Storage: grayscale, one frame
    std::string meta;
    ElementWriter m(meta, true, false);
    m.ob(dicomTag(0x0002, 0x0001), std::string("\x00\x01", 2));
    m.text(dicomTag(0x0002, 0x0002), "UI", sopClass);
    m.text(dicomTag(0x0002, 0x0003), "UI", "1.2.3.4");
    m.text(dicomTag(0x0002, 0x0010), "UI",
           h.transferSyntax.empty() ? "1.2.840.10008.1.2" : h.transferSyntax);
    std::string out(128, '\0');
    out += "DICM";
    out += std::string("\x02\x00\x00\x00UL\x04\x00", 8);
    for (int i = 0; i < 4; ++i) {
        out += static_cast<char>((meta.size() >> (8 * i)) & 0xFF);
    }
    out += meta;
    ElementWriter d(out, h.explicitVr, h.bigEndian);
    d.text(dicomTag(0x0008, 0x0016), "UI", sopClass);
    d.text(dicomTag(0x0008, 0x0018), "UI", "1.2.3.4");
    d.us(dicomTag(0x0028, 0x0002), 1);
    d.text(dicomTag(0x0028, 0x0004), "CS", "MONOCHROME2");
    d.us(dicomTag(0x0028, 0x0010),
         static_cast<unsigned>(headerNumber(h, dicomTag(0x0028, 0x0010), 0)));
    d.us(dicomTag(0x0028, 0x0011),
         static_cast<unsigned>(headerNumber(h, dicomTag(0x0028, 0x0011), 0)));
    d.us(dicomTag(0x0028, 0x0100), static_cast<unsigned>(layout.bitsAllocated));
    d.us(dicomTag(0x0028, 0x0101), static_cast<unsigned>(layout.bitsStored));
    d.us(dicomTag(0x0028, 0x0102), static_cast<unsigned>(layout.highBit));
    d.us(dicomTag(0x0028, 0x0103), layout.isSigned ? 1 : 0);
    // The pixel data element, as stored (header, value or fragments, delimiter).
    std::ifstream in(slice.file, std::ios::binary);
    const std::uint64_t length = h.pixelElementEnd - h.pixelElementBegin;
    const std::size_t start = out.size();
    out.resize(start + static_cast<std::size_t>(length));
    in.seekg(static_cast<std::streamoff>(h.pixelElementBegin));
    if (!in.read(out.data() + start, static_cast<std::streamsize>(length))) {
        throw Error(ErrorKind::Io, slice.file, "cannot read the pixel data");
    }
    return out;
}

/// Keeps the stored bits of each value (BitsStored at HighBit) and sign-extends signed ones.
template <class T>
void normaliseStoredBits(T* values, std::size_t count, const PixelLayout& layout)
{
    if (layout.bitsStored >= layout.bitsAllocated) {
        return;
    }
    using U = std::make_unsigned_t<T>;
    const int shift = layout.highBit + 1 - layout.bitsStored;
    const U mask = static_cast<U>((U(1) << layout.bitsStored) - 1);
    const U sign = static_cast<U>(U(1) << (layout.bitsStored - 1));
    for (std::size_t i = 0; i < count; ++i) {
        U v = static_cast<U>(static_cast<U>(values[i]) >> shift) & mask;
        if (layout.isSigned && (v & sign)) {
            v = static_cast<U>(v | static_cast<U>(~mask));
        }
        values[i] = static_cast<T>(v);
    }
}

/// Decodes one slice's pixels (any transfer syntax GDCM decodes) into `out`.
void decodeSlice(const Slice& slice, const PixelLayout& layout, void* out, std::size_t bytes)
{
    std::istringstream stream(minimalSlice(slice, layout));
    gdcm::ImageReader reader;
    reader.SetStream(stream);
    if (!reader.Read()) {
        throw Error(ErrorKind::Format, slice.file, "cannot decode the DICOM pixel data");
    }
    const gdcm::Image& image = reader.GetImage();
    if (image.GetBufferLength() != bytes) {
        throw Error(ErrorKind::Format, slice.file,
                    "decoded pixel data has " + std::to_string(image.GetBufferLength()) +
                        " bytes instead of " + std::to_string(bytes));
    }
    if (!image.GetBuffer(static_cast<char*>(out))) {
        throw Error(ErrorKind::Format, slice.file,
                    "cannot decode the DICOM pixel data (corrupt compressed stream?)");
    }
    dispatchStored(layout.type, [&](auto v) {
        using T = decltype(v);
        if constexpr (std::is_integral_v<T>) {
            normaliseStoredBits(static_cast<T*>(out), bytes / sizeof(T), layout);
        }
    });
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

    if (series.frames > 1) {
        throw Error(ErrorKind::Unsupported, series.slices.front().file,
                    "multi-frame (enhanced) DICOM files are not supported; export the series as "
                    "single-frame slices");
    }
    const PixelLayout layout = pixelLayout(series.slices.front().header);
    for (const Slice& slice : series.slices) {
        const PixelLayout other = pixelLayout(slice.header);
        if (other.type != layout.type || other.bitsStored != layout.bitsStored ||
            other.highBit != layout.highBit) {
            throw Error(ErrorKind::Unsupported, slice.file,
                        "pixel format differs from the first slice of the series");
        }
    }
    const auto rescale = rescaleOf(series.slices.front());
    for (const Slice& slice : series.slices) {
        rescaleOf(slice); // validates every slice's values
    }
    raw.type = series.rescaleVaries ? StoredType::Float32 : layout.type;
    if (series.rescaleVaries) {
        raw.source.notes.push_back(
            "rescale slope/intercept differ between slices: each applied, read as float32");
    } else {
        raw.slope = rescale.first;
        raw.intercept = rescale.second;
    }
    if (series.slices.front().header.value(dicomTag(0x0028, 0x0004)) == "MONOCHROME1") {
        raw.source.notes.push_back("MONOCHROME1: low values are displayed bright");
    }
    raw.source.storedType = storedTypeName(layout.type);
    raw.size = {series.info.columns, series.info.rows,
                static_cast<std::int64_t>(series.slices.size())};
    raw.channels = 1;
    checkRawShape(raw, maxBytes);
    if (headerOnly) {
        return raw;
    }

    const std::size_t sliceValues = static_cast<std::size_t>(raw.size[0] * raw.size[1]);
    const std::size_t sliceBytes = sliceValues * storedTypeSize(layout.type);
    raw.buffer = allocateItkBuffer(raw.type, raw.valueCount());
    PixelBuffer scratch = series.rescaleVaries ? PixelBuffer::allocate(sliceBytes) : PixelBuffer();
    for (std::size_t k = 0; k < series.slices.size(); ++k) {
        const Slice& slice = series.slices[k];
        if (!series.rescaleVaries) {
            decodeSlice(slice, layout,
                        static_cast<unsigned char*>(raw.buffer.data()) + k * sliceBytes,
                        sliceBytes);
            continue;
        }
        decodeSlice(slice, layout, scratch.data(), sliceBytes);
        // Plain variables: structured bindings cannot be captured by the lambda below in C++17.
        const std::pair<double, double> rescaleHere = rescaleOf(slice);
        const double slope = rescaleHere.first;
        const double intercept = rescaleHere.second;
        float* dst = static_cast<float*>(raw.buffer.data()) + k * sliceValues;
        dispatchStored(layout.type, [&](auto v) {
            using T = decltype(v);
            const T* src = static_cast<const T*>(scratch.data());
            for (std::size_t i = 0; i < sliceValues; ++i) {
                dst[i] = static_cast<float>(static_cast<double>(src[i]) * slope + intercept);
            }
        });
    }
    return raw;
}

} // namespace diffseg::core::detail
