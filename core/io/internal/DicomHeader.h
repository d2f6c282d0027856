#pragma once

// Internal to core/io: a strict, allocation-bounded reader of DICOM element headers.
//
// GDCM (3.0, as packaged) allocates whatever length an element declares, and on a data set it
// cannot parse it falls back to compatibility paths that end in assert()/abort(): fuzzing found
// files of a few bytes that make it allocate gigabytes or abort the process. No file therefore
// reaches GDCM before this parser has walked every element of it, checked lengths, nesting and
// value representations, and found a plausible image pixel module. It also extracts the few
// top-level values the series logic needs, so that only the chosen series is ever given to GDCM.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace diffseg::core::detail {

constexpr std::uint32_t dicomTag(std::uint32_t group, std::uint32_t element)
{
    return (group << 16) | element;
}

struct DicomHeader
{
    bool hasPreamble = false;        ///< "DICM" at byte 128
    std::string transferSyntax;      ///< empty for files without a meta header
    bool encapsulatedPixels = false; ///< compressed pixel data (fragments)
    std::uint64_t pixelBytes = 0;    ///< length of uncompressed pixel data
    bool hasPixelData = false;
    /// Byte range of the whole top-level pixel data element (header, value, fragments and their
    /// delimiter), to hand it to the decoder untouched.
    std::uint64_t pixelElementBegin = 0;
    std::uint64_t pixelElementEnd = 0;
    bool explicitVr = true; ///< data set encoding
    bool bigEndian = false;
    /// Top-level values of the tags the readers use, as text (binary US values are converted).
    std::map<std::uint32_t, std::string> values;

    std::string value(std::uint32_t tag) const
    {
        const auto it = values.find(tag);
        return it == values.end() ? std::string() : it->second;
    }
};

struct DicomParseResult
{
    std::optional<DicomHeader> header; ///< set when the file is well-formed
    std::string problem;               ///< why it is not
    bool looksLikeDicom = false;       ///< has the preamble or starts with a plausible element
};

/// Walks every element of `path` without allocating more than a few bytes per element.
DicomParseResult parseDicomHeader(const std::string& path);

/// Checks the image pixel module of a parsed header (sizes, bits, samples, photometric, pixel data
/// length) against what the volume reader supports; returns the problem, or nullopt.
std::optional<std::string> imagePixelProblem(const DicomHeader& header);

} // namespace diffseg::core::detail
