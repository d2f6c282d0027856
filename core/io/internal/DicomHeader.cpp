#include "DicomHeader.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

namespace fs = std::filesystem;

namespace diffseg::core::detail {

namespace {

constexpr std::uint32_t kUndefined = 0xFFFFFFFFu;
constexpr std::uint32_t kItem = dicomTag(0xFFFE, 0xE000);
constexpr std::uint32_t kItemEnd = dicomTag(0xFFFE, 0xE00D);
constexpr std::uint32_t kSequenceEnd = dicomTag(0xFFFE, 0xE0DD);
constexpr std::uint32_t kPixelData = dicomTag(0x7FE0, 0x0010);
constexpr std::uint32_t kTransferSyntax = dicomTag(0x0002, 0x0010);

/// The tags whose values are kept, with the VR they have in implicit-VR files.
const std::map<std::uint32_t, const char*>& wantedTags()
{
    static const std::map<std::uint32_t, const char*> tags = {
        {dicomTag(0x0008, 0x0060), "CS"}, {dicomTag(0x0008, 0x103E), "LO"},
        {dicomTag(0x0018, 0x0050), "DS"}, {dicomTag(0x0018, 0x1164), "DS"},
        {dicomTag(0x0020, 0x000E), "UI"}, {dicomTag(0x0020, 0x0011), "IS"},
        {dicomTag(0x0020, 0x0032), "DS"}, {dicomTag(0x0020, 0x0037), "DS"},
        {dicomTag(0x0028, 0x0002), "US"}, {dicomTag(0x0028, 0x0004), "CS"},
        {dicomTag(0x0028, 0x0008), "IS"}, {dicomTag(0x0028, 0x0010), "US"},
        {dicomTag(0x0028, 0x0011), "US"}, {dicomTag(0x0028, 0x0030), "DS"},
        {dicomTag(0x0028, 0x0100), "US"}, {dicomTag(0x0028, 0x0101), "US"},
        {dicomTag(0x0028, 0x0102), "US"}, {dicomTag(0x0028, 0x0103), "US"},
        {dicomTag(0x0028, 0x1052), "DS"}, {dicomTag(0x0028, 0x1053), "DS"},
        {kTransferSyntax, "UI"}};
    return tags;
}

bool isKnownVr(const char* vr)
{
    static const std::set<std::string> kVrs = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL",
                                               "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW",
                                               "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC",
                                               "UI", "UL", "UN", "UR", "US", "UT", "UV"};
    return kVrs.count(std::string(vr, 2)) > 0;
}

bool hasLongLength(const char* vr)
{
    static const std::set<std::string> kLong = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                                "SV", "UC", "UN", "UR", "UT", "UV"};
    return kLong.count(std::string(vr, 2)) > 0;
}

/// Transfer syntaxes whose data set we can walk: implicit/explicit little endian, explicit big
/// endian, and the encapsulated (compressed) ones, which are explicit little endian.
bool walkableSyntax(const std::string& uid, bool& explicitVr, bool& bigEndian)
{
    explicitVr = uid != "1.2.840.10008.1.2";
    bigEndian = uid == "1.2.840.10008.1.2.2";
    return uid == "1.2.840.10008.1.2" || uid == "1.2.840.10008.1.2.1" ||
           uid == "1.2.840.10008.1.2.2" || uid == "1.2.840.10008.1.2.5" ||
           uid.rfind("1.2.840.10008.1.2.4.", 0) == 0;
}

std::string trimValue(std::string s)
{
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) {
        s.pop_back();
    }
    const std::size_t b = s.find_first_not_of(' ');
    return b == std::string::npos ? std::string() : s.substr(b);
}

/// An open container: a sequence, an item, or encapsulated pixel data.
struct Container
{
    enum Kind
    {
        Sequence,
        Item,
        Fragments
    } kind;
    std::uint64_t end; ///< first byte after it, or 0 for undefined length
    bool explicitVr;   ///< encoding of the elements inside (UN sequences are implicit VR)
};

class Walker
{
public:
    explicit Walker(const std::string& path)
        : m_in(path, std::ios::binary)
    {
        std::error_code ec;
        m_size = fs::file_size(path, ec);
        m_ok = m_in && !ec;
    }

    DicomParseResult run()
    {
        DicomParseResult result;
        if (!m_ok) {
            result.problem = "cannot open the file";
            return result;
        }
        DicomHeader header;
        unsigned char magic[4] = {0, 0, 0, 0};
        header.hasPreamble =
            m_size >= 132 && read(128, magic, 4) && std::memcmp(magic, "DICM", 4) == 0;
        std::uint64_t pos = header.hasPreamble ? 132 : 0;
        bool explicitVr = true;
        bool bigEndian = false;
        if (header.hasPreamble) {
            result.looksLikeDicom = true;
            if (!readMeta(pos, header, result.problem)) {
                return result;
            }
            if (!walkableSyntax(header.transferSyntax, explicitVr, bigEndian)) {
                result.problem = "unsupported transfer syntax " + header.transferSyntax;
                return result;
            }
        } else {
            // No meta header: the first element must be a plausible group 0008 element.
            unsigned char h[8];
            if (m_size < 8 || !read(0, h, 8) || u16(h, false) != 0x0008) {
                result.problem = "not a DICOM file";
                return result;
            }
            result.looksLikeDicom = true;
            explicitVr = std::isupper(h[4]) && std::isupper(h[5]) &&
                         isKnownVr(reinterpret_cast<char*>(h + 4));
        }
        header.explicitVr = explicitVr;
        header.bigEndian = bigEndian;
        if (!walkDataSet(pos, explicitVr, bigEndian, header, result.problem)) {
            return result;
        }
        result.header = std::move(header);
        return result;
    }

private:
    bool read(std::uint64_t pos, unsigned char* out, std::size_t n)
    {
        if (pos > m_size || n > m_size - pos) {
            return false;
        }
        m_in.clear();
        m_in.seekg(static_cast<std::streamoff>(pos));
        return static_cast<bool>(
            m_in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n)));
    }
    static std::uint32_t u16(const unsigned char* p, bool be)
    {
        return be ? (std::uint32_t(p[0]) << 8 | p[1]) : (std::uint32_t(p[1]) << 8 | p[0]);
    }
    static std::uint32_t u32(const unsigned char* p, bool be)
    {
        return be ? (std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 |
                     std::uint32_t(p[2]) << 8 | p[3])
                  : (std::uint32_t(p[3]) << 24 | std::uint32_t(p[2]) << 16 |
                     std::uint32_t(p[1]) << 8 | p[0]);
    }
    static std::string tagText(std::uint32_t tag)
    {
        char text[16];
        std::snprintf(text, sizeof text, "(%04X,%04X)", tag >> 16, tag & 0xFFFF);
        return text;
    }

    /// The file meta group: explicit VR little endian, normally opened by its group length
    /// (0002,0000); older writers omit it, then the group ends at the first other group.
    bool readMeta(std::uint64_t& pos, DicomHeader& header, std::string& problem)
    {
        unsigned char h[12];
        if (!read(pos, h, 8) || u16(h, false) != 0x0002) {
            problem = "no file meta information (group 0002) after the DICM prefix";
            return false;
        }
        std::uint64_t end = 0; // unknown
        if (u16(h + 2, false) == 0x0000) {
            if (std::memcmp(h + 4, "UL", 2) != 0 || u16(h + 6, false) != 4 || !read(pos, h, 12)) {
                problem = "invalid file meta group length (0002,0000)";
                return false;
            }
            const std::uint64_t groupLength = u32(h + 8, false);
            end = pos + 12 + groupLength;
            if (end > m_size) {
                problem = "file meta information claims " + std::to_string(groupLength) +
                          " bytes, beyond the end of the file";
                return false;
            }
            pos += 12;
        }
        while (end == 0 ? true : pos < end) {
            if (!read(pos, h, 8)) {
                problem = "truncated file meta information";
                return false;
            }
            const std::uint32_t tag = dicomTag(u16(h, false), u16(h + 2, false));
            if (end == 0 && (tag >> 16) != 0x0002) {
                break;
            }
            const char* vr = reinterpret_cast<const char*>(h + 4);
            if ((tag >> 16) != 0x0002 || !isKnownVr(vr)) {
                problem = "invalid element " + tagText(tag) + " in the file meta information";
                return false;
            }
            std::uint64_t length = u16(h + 6, false);
            std::uint64_t headerSize = 8;
            if (hasLongLength(vr)) {
                if (!read(pos, h, 12)) {
                    problem = "truncated file meta information";
                    return false;
                }
                length = u32(h + 8, false);
                headerSize = 12;
            }
            const std::uint64_t limit = end == 0 ? m_size : end;
            if (length == kUndefined || length > limit - pos - headerSize) {
                problem = "element " + tagText(tag) + " overruns the file meta information";
                return false;
            }
            if (tag == kTransferSyntax && length < 128) {
                std::string uid(static_cast<std::size_t>(length), '\0');
                read(pos + headerSize, reinterpret_cast<unsigned char*>(uid.data()), uid.size());
                header.transferSyntax = trimValue(uid);
            }
            pos += headerSize + length;
        }
        if (header.transferSyntax.empty()) {
            problem = "file meta information has no transfer syntax (0002,0010)";
            return false;
        }
        return true;
    }

    bool walkDataSet(std::uint64_t pos, bool explicitVr, bool bigEndian, DicomHeader& header,
                     std::string& problem)
    {
        std::vector<Container> stack;
        unsigned char h[12];
        std::size_t elements = 0;
        while (true) {
            // Close defined-length containers that end here.
            while (!stack.empty() && stack.back().end != 0 && pos == stack.back().end) {
                stack.pop_back();
            }
            if (pos == m_size) {
                break;
            }
            if (!stack.empty() && stack.back().end != 0 && pos > stack.back().end) {
                problem = "an element overruns its enclosing sequence or item";
                return false;
            }
            if (!read(pos, h, 8)) {
                problem = "truncated element header at byte " + std::to_string(pos);
                return false;
            }
            const std::uint64_t elementStart = pos;
            const std::uint32_t tag = dicomTag(u16(h, bigEndian), u16(h + 2, bigEndian));
            if ((tag >> 16) == 0x0002) {
                problem = "file meta element " + tagText(tag) + " inside the data set";
                return false;
            }
            ++elements;
            const Container::Kind inside = stack.empty() ? Container::Item : stack.back().kind;
            const bool topLevel = stack.empty();
            if ((tag >> 16) == 0xFFFE) {
                const std::uint64_t length = u32(h + 4, bigEndian);
                pos += 8;
                if (tag == kItem) {
                    if (stack.empty() || inside == Container::Item) {
                        problem = "item outside a sequence at byte " + std::to_string(pos - 8);
                        return false;
                    }
                    if (length == kUndefined) {
                        if (inside == Container::Fragments) {
                            problem = "pixel data fragment of undefined length";
                            return false;
                        }
                        stack.push_back({Container::Item, 0, stack.back().explicitVr});
                        continue;
                    }
                    if (length > m_size - pos) {
                        problem = "item claims " + std::to_string(length) + " bytes but only " +
                                  std::to_string(m_size - pos) +
                                  " remain (truncated or corrupt file)";
                        return false;
                    }
                    if (inside == Container::Fragments) {
                        pos += length; // compressed data: opaque
                    } else if (length > 0) {
                        stack.push_back({Container::Item, pos + length, stack.back().explicitVr});
                    }
                    continue;
                }
                if (tag == kItemEnd || tag == kSequenceEnd) {
                    const Container::Kind expected =
                        tag == kItemEnd ? Container::Item : Container::Sequence;
                    const bool matches =
                        !stack.empty() && stack.back().end == 0 &&
                        (stack.back().kind == expected ||
                         (tag == kSequenceEnd && stack.back().kind == Container::Fragments));
                    if (!matches || length != 0) {
                        problem = "misplaced delimiter " + tagText(tag) + " at byte " +
                                  std::to_string(pos - 8);
                        return false;
                    }
                    if (stack.back().kind == Container::Fragments) {
                        header.pixelElementEnd = pos;
                    }
                    stack.pop_back();
                    continue;
                }
                problem = "invalid element " + tagText(tag);
                return false;
            }
            if (inside == Container::Sequence || inside == Container::Fragments) {
                problem =
                    "element " + tagText(tag) + " directly inside a sequence (not in an item)";
                return false;
            }
            std::string vr;
            std::uint64_t length = 0;
            std::uint64_t headerSize = 8;
            const bool explicitHere = stack.empty() ? explicitVr : stack.back().explicitVr;
            if (explicitHere) {
                const char* v = reinterpret_cast<const char*>(h + 4);
                if (!isKnownVr(v)) {
                    problem = "invalid value representation in element " + tagText(tag);
                    return false;
                }
                vr.assign(v, 2);
                if (hasLongLength(v)) {
                    if (!read(pos, h, 12)) {
                        problem = "truncated element header at byte " + std::to_string(pos);
                        return false;
                    }
                    length = u32(h + 8, bigEndian);
                    headerSize = 12;
                } else {
                    length = u16(h + 6, bigEndian);
                }
            } else {
                length = u32(h + 4, bigEndian);
                const auto wanted = wantedTags().find(tag);
                vr = wanted != wantedTags().end() ? wanted->second : "";
            }
            pos += headerSize;
            if (length == kUndefined) {
                if (tag == kPixelData && topLevel) {
                    header.hasPixelData = true;
                    header.encapsulatedPixels = true;
                    header.pixelElementBegin = elementStart;
                    stack.push_back({Container::Fragments, 0, explicitHere});
                } else if (vr == "SQ" || !explicitHere) {
                    stack.push_back({Container::Sequence, 0, explicitHere});
                } else if (vr == "UN") {
                    stack.push_back(
                        {Container::Sequence, 0, false}); // PS3.5 6.2.2: implicit inside
                } else {
                    problem = "undefined length on element " + tagText(tag) + " of VR " + vr;
                    return false;
                }
                continue;
            }
            if (length > m_size - pos) {
                problem = "element " + tagText(tag) + " claims " + std::to_string(length) +
                          " bytes but only " + std::to_string(m_size - pos) +
                          " remain (truncated or corrupt file)";
                return false;
            }
            // A sequence of defined length (implicit VR: recognised by its first item).
            unsigned char first[4] = {0, 0, 0, 0};
            const bool startsWithItem = length >= 8 && read(pos, first, 4) &&
                                        u16(first, bigEndian) == 0xFFFE &&
                                        u16(first + 2, bigEndian) == 0xE000;
            if (vr == "SQ" || (!explicitHere && vr.empty() && startsWithItem)) {
                if (length > 0) {
                    stack.push_back({Container::Sequence, pos + length, explicitHere});
                }
                continue;
            }
            if (tag == kPixelData && topLevel) {
                header.hasPixelData = true;
                header.pixelBytes = length;
                header.pixelElementBegin = elementStart;
                header.pixelElementEnd = pos + length;
            }
            if (topLevel && wantedTags().count(tag) && length <= 1024) {
                header.values[tag] = valueText(pos, length, vr, bigEndian);
            }
            pos += length;
        }
        if (!stack.empty()) {
            problem = "truncated file: a sequence or the pixel data is not closed";
            return false;
        }
        if (elements == 0) {
            problem = "empty data set";
            return false;
        }
        return true;
    }

    std::string valueText(std::uint64_t pos, std::uint64_t length, const std::string& vr,
                          bool bigEndian)
    {
        std::string bytes(static_cast<std::size_t>(length), '\0');
        if (!read(pos, reinterpret_cast<unsigned char*>(bytes.data()), bytes.size())) {
            return {};
        }
        if (vr == "US") {
            if (length != 2) {
                return "invalid";
            }
            return std::to_string(
                u16(reinterpret_cast<const unsigned char*>(bytes.data()), bigEndian));
        }
        for (char& c : bytes) {
            if (c != '\0' && !std::isprint(static_cast<unsigned char>(c))) {
                c = '?'; // never hand control characters to messages or parsers
            }
        }
        return trimValue(bytes);
    }

    std::ifstream m_in;
    std::uint64_t m_size = 0;
    bool m_ok = false;
};

} // namespace

DicomParseResult parseDicomHeader(const std::string& path)
{
    return Walker(path).run();
}

std::optional<std::string> imagePixelProblem(const DicomHeader& h)
{
    auto number = [&](std::uint32_t tag, long fallback) {
        const std::string v = h.value(tag);
        if (v.empty()) {
            return fallback;
        }
        char* end = nullptr;
        const long n = std::strtol(v.c_str(), &end, 10);
        return end && *end == '\0' ? n : -1;
    };
    const long rows = number(dicomTag(0x0028, 0x0010), 0);
    const long columns = number(dicomTag(0x0028, 0x0011), 0);
    const long samples = number(dicomTag(0x0028, 0x0002), 1);
    const long allocated = number(dicomTag(0x0028, 0x0100), -1);
    const long stored = number(dicomTag(0x0028, 0x0101), allocated);
    const long highBit = number(dicomTag(0x0028, 0x0102), stored - 1);
    const long representation = number(dicomTag(0x0028, 0x0103), 0);
    const long frames = number(dicomTag(0x0028, 0x0008), 1);
    const std::string photometric = h.value(dicomTag(0x0028, 0x0004));
    if (rows <= 0 || columns <= 0 || rows > 65535 || columns > 65535) {
        return "invalid Rows/Columns";
    }
    if (!h.hasPixelData) {
        return "no pixel data";
    }
    if (samples != 1 ||
        (!photometric.empty() && photometric != "MONOCHROME1" && photometric != "MONOCHROME2")) {
        return "not a grayscale image (samples per pixel " + std::to_string(samples) + ", " +
               (photometric.empty() ? std::string("no photometric interpretation") : photometric) +
               ")";
    }
    if ((allocated != 8 && allocated != 16 && allocated != 32) || stored < 1 ||
        stored > allocated || highBit < stored - 1 || highBit >= allocated ||
        (representation != 0 && representation != 1)) {
        return "inconsistent pixel format (bits allocated " + std::to_string(allocated) +
               ", stored " + std::to_string(stored) + ", high bit " + std::to_string(highBit) + ")";
    }
    if (frames < 1 || frames > 65535) {
        return "invalid NumberOfFrames";
    }
    if (!h.encapsulatedPixels) {
        const std::uint64_t needed = std::uint64_t(rows) * std::uint64_t(columns) *
                                     std::uint64_t(frames) * std::uint64_t(allocated / 8);
        if (h.pixelBytes < needed) {
            return "pixel data holds " + std::to_string(h.pixelBytes) + " bytes, the image needs " +
                   std::to_string(needed) + " (truncated or corrupt file)";
        }
    }
    return std::nullopt;
}

} // namespace diffseg::core::detail
