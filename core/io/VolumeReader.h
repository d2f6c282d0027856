#pragma once

#include "base/LabelMap.h"
#include "base/Volume.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace diffseg::core {

/// Volume file formats. DICOM means a series of single-slice files in one folder.
enum class VolumeFormat
{
    Unknown,
    Nifti,     ///< .nii, .nii.gz (and .hdr/.img pairs with a NIfTI header)
    Nrrd,      ///< .nrrd, .nhdr, .seg.nrrd
    MetaImage, ///< .mha, .mhd (+ .raw/.zraw)
    Dicom      ///< a folder of DICOM files, or one file of such a folder
};

const char* volumeFormatName(VolumeFormat format) noexcept;

/// One DICOM series found in a folder.
struct DicomSeriesInfo
{
    std::string seriesUid;   ///< may be empty: anonymised data sometimes blanks it
    std::string description; ///< SeriesDescription
    std::string modality;
    std::string seriesNumber;
    int rows = 0;
    int columns = 0;
    /// Files ordered by ImagePositionPatient projected on the slice normal, ascending: slice k of
    /// the volume is files[k].
    std::vector<std::string> files;
};

/// Where a volume came from and what the reader did to it, for logs and `diffseg info`.
struct VolumeSource
{
    std::string path; ///< the file or folder that was opened
    VolumeFormat format = VolumeFormat::Unknown;
    std::string storedType; ///< component type in the file: "int16", "uint16", "float64", ...
    /// Conversions and choices made while reading, in plain words ("uint16 voxels stored as
    /// int16", "folder holds 2 DICOM series; read the one with most slices", ...).
    std::vector<std::string> notes;
    std::vector<DicomSeriesInfo> dicomSeries; ///< every series found (DICOM only)
    int chosenSeries = -1;                    ///< index into dicomSeries of the series read

    /// The DICOM modality of the series read ("CT", "MR", ...); "" for other formats.
    std::string modality() const
    {
        return chosenSeries >= 0 && chosenSeries < static_cast<int>(dicomSeries.size())
                   ? dicomSeries[static_cast<std::size_t>(chosenSeries)].modality
                   : std::string();
    }
};

/// Grid and geometry of a volume file, read without its voxels (DICOM: from the slice headers).
struct VolumeHeader
{
    std::array<std::int64_t, 3> size{0, 0, 0};
    int channels = 0;
    Geometry geometry;
    VolumeSource source;
};

struct VolumeReadOptions
{
    /// Files whose voxels need more memory than this are refused before anything is allocated
    /// (protects against hostile headers); 16 GiB by default.
    std::uint64_t maxBytes = std::uint64_t(16) << 30;
};

struct LoadedVolume
{
    Volume volume;
    VolumeSource source;
};

struct LoadedLabelMap
{
    LabelMap labels;
    VolumeSource source;
};

/// Recognises a volume: a folder is DICOM; a volume extension (.nii, .nii.gz, .nrrd, .nhdr,
/// .seg.nrrd, .mha, .mhd) decides, and its reader then checks the content; other files are
/// recognised by their first bytes (DICOM, NIfTI, NRRD). Returns Unknown (never throws for
/// unknown content); throws Error(NotFound) when `path` does not exist.
VolumeFormat detectVolumeFormat(const std::string& path);

/// Reads an image volume (CT, MRI) into Int16 or Float32 voxels, keeping the file's geometry in
/// LPS exactly as ITK reports it (NIfTI's RAS is converted by ITK's rules; DICOM geometry comes
/// from ImagePositionPatient/ImageOrientationPatient).
///
/// Pixel types: int16 stays int16 (zero-copy); uint16 becomes int16 when every value fits
/// (zero-copy, same bits), else float32; other integers become int16 when they fit, else float32;
/// float32 stays (zero-copy); float64 becomes float32. NIfTI scl_slope/scl_inter and DICOM
/// rescale are applied (integer rescale that fits stays int16: CT in HU). 4D NIfTI files and
/// vector pixels become channels (at most Volume::kMaxChannels).
///
/// Voxels are read straight into the buffer that the returned Volume wraps (ITK's pixel container,
/// kept alive by the Volume), so peak memory stays near the voxel bytes.
///
/// Throws Error naming the file: NotFound, Format (unknown, corrupt or truncated content),
/// InvalidValue (zero or absurd sizes, invalid geometry, non-finite values), Unsupported.
LoadedVolume readVolume(const std::string& path, const VolumeReadOptions& options = {});

/// Reads a label map: one channel of non-negative integer labels, stored as UInt8 when every
/// label is below 256, else UInt16 (uint8/uint16 files zero-copy). Float files (as BraTS 2013
/// and SCT write them) are accepted when every value is an integer. Throws Error(InvalidValue)
/// naming the file and the first offending voxel for non-integer, negative, too large or
/// non-finite values, and for several channels.
LoadedLabelMap readLabelMap(const std::string& path, const VolumeReadOptions& options = {});

/// Reads one single-channel volume per path (e.g. the four BraTS modalities) and stacks them as
/// channels, in the order given. Every file must have the grid of the first (size, and geometry
/// within 1e-3 mm): Error(Mismatch) names the file that differs. Int16 when all are int16, else
/// Float32. A single path is read as it is, with all its channels (a Decathlon 4D file).
LoadedVolume readVolumeChannels(const std::vector<std::string>& paths,
                                const VolumeReadOptions& options = {});

/// Size, channels, stored type and geometry without reading voxels.
VolumeHeader readVolumeHeader(const std::string& path);

/// Registers ITK's NIfTI, NRRD, MetaImage and GDCM image IO factories (once, thread-safe), so
/// that plain itk::ImageFileReader/Writer work in this process. The readers above do not need it.
void registerItkImageIoFactories();

} // namespace diffseg::core
