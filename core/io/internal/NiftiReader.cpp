// NIfTI voxels are read here with zlib straight into the destination buffer rather than through
// itk::NiftiImageIO::Read, for two reasons measured on ITK 5.2:
//  - ITK loads the voxels into niftilib's own buffer and then copies them, so its peak memory is
//    twice the voxel bytes;
//  - niftilib reports a short read as success, so ITK returns a truncated .nii/.nii.gz with its
//    missing voxels silently left as they were.
// The header, and so the geometry, still comes from itk::NiftiImageIO: our LPS geometry is exactly
// what ITK computes from qform/sform.

#include "ItkSupport.h"
#include "io/FileUtils.h"

#include <climits>
#include <itkNiftiImageIO.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nifti1_io.h>
#include <zlib.h>

namespace diffseg::core::detail {

namespace {

struct NiftiDeleter
{
    void operator()(nifti_image* nim) const noexcept { nifti_image_free(nim); }
};

struct GzCloser
{
    void operator()(gzFile_s* f) const noexcept { gzclose(f); }
};

StoredType storedTypeFromNifti(int datatype, const std::string& path)
{
    switch (datatype) {
    case DT_INT8:
        return StoredType::Int8;
    case DT_UINT8:
        return StoredType::UInt8;
    case DT_INT16:
        return StoredType::Int16;
    case DT_UINT16:
        return StoredType::UInt16;
    case DT_INT32:
        return StoredType::Int32;
    case DT_UINT32:
        return StoredType::UInt32;
    case DT_INT64:
        return StoredType::Int64;
    case DT_UINT64:
        return StoredType::UInt64;
    case DT_FLOAT32:
        return StoredType::Float32;
    case DT_FLOAT64:
        return StoredType::Float64;
    default:
        break;
    }
    const char* name = nifti_datatype_string(datatype);
    throw Error(ErrorKind::Unsupported, path,
                std::string("NIfTI datatype ") + std::to_string(datatype) + " (" +
                    (name ? name : "unknown") + ") is not supported");
}

bool isGzipFile(const std::string& path)
{
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        return false;
    }
    unsigned char magic[2] = {0, 0};
    const bool gz = std::fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    std::fclose(f);
    return gz;
}

void readVoxels(const std::string& headerPath, const std::string& dataPath, std::int64_t offset,
                void* buffer, std::size_t bytes)
{
    std::unique_ptr<gzFile_s, GzCloser> gz(gzopen(dataPath.c_str(), "rb"));
    if (!gz) {
        throw Error(ErrorKind::Io, headerPath, "cannot open the voxel data in " + dataPath);
    }
    gzbuffer(gz.get(), 1 << 18);
    if (offset > 0 && gzseek(gz.get(), static_cast<z_off_t>(offset), SEEK_SET) != offset) {
        throw Error(ErrorKind::Format, headerPath,
                    "truncated file: it ends before the voxel data offset " +
                        std::to_string(offset));
    }
    auto* out = static_cast<unsigned char*>(buffer);
    std::size_t done = 0;
    while (done < bytes) {
        const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes - done, 1u << 30));
        const int n = gzread(gz.get(), out + done, chunk);
        if (n < 0) {
            int code = 0;
            const char* why = gzerror(gz.get(), &code);
            throw Error(ErrorKind::Format, headerPath,
                        std::string("corrupt compressed voxel data: ") +
                            (why ? why : "zlib error"));
        }
        if (n == 0) {
            throw Error(ErrorKind::Format, headerPath,
                        "truncated file: voxel data ends after " + std::to_string(done) + " of " +
                            std::to_string(bytes) + " bytes");
        }
        done += static_cast<std::size_t>(n);
    }
    // One more read makes zlib check the gzip trailer (CRC and length) of a compressed file.
    unsigned char extra = 0;
    if (gzread(gz.get(), &extra, 1) < 0) {
        int code = 0;
        const char* why = gzerror(gz.get(), &code);
        throw Error(ErrorKind::Format, headerPath,
                    std::string("corrupt or truncated gzip stream after the voxel data: ") +
                        (why ? why : "zlib error"));
    }
}

/// ITK decomposes the qform/sform with an SVD that never returns on NaN or Inf (found by
/// fuzzing), so the header's spatial fields are checked before ITK sees them.
void checkSpatialFields(const nifti_image& nim, const std::string& path)
{
    constexpr float kAbsurd = 1e9f; // mm: far beyond any scanner
    auto usable = [](float v) {
        return std::isfinite(v) && std::abs(v) < kAbsurd;
    };
    for (float v : {nim.dx, nim.dy, nim.dz}) {
        if (!usable(v)) {
            throw Error(ErrorKind::InvalidValue, path,
                        "NIfTI voxel size (pixdim) holds a non-finite or absurd value");
        }
    }
    const std::pair<int, const mat44*> transforms[] = {{nim.qform_code, &nim.qto_xyz},
                                                       {nim.sform_code, &nim.sto_xyz}};
    for (const auto& [code, matrix] : transforms) {
        if (code <= 0) {
            continue;
        }
        for (const auto& row : matrix->m) {
            for (float v : row) {
                if (!usable(v)) {
                    throw Error(ErrorKind::InvalidValue, path,
                                std::string("NIfTI ") +
                                    (matrix == &nim.qto_xyz ? "qform" : "sform") +
                                    " holds a non-finite or absurd value");
                }
            }
        }
    }
}

} // namespace

RawVolume readNiftiRaw(const std::string& path, std::uint64_t maxBytes, bool headerOnly)
{
    RawVolume raw;
    raw.source.path = path;
    raw.source.format = VolumeFormat::Nifti;

    nifti_set_debug_level(0);
    std::unique_ptr<nifti_image, NiftiDeleter> nim(nifti_image_read(path.c_str(), 0));
    if (!nim) {
        throw Error(ErrorKind::Format, path,
                    "not a readable NIfTI file (corrupt or truncated header)");
    }
    if (nim->nifti_type == NIFTI_FTYPE_ASCII) {
        throw Error(ErrorKind::Unsupported, path, "ASCII NIfTI files are not supported");
    }
    if (nim->nifti_type == NIFTI_FTYPE_ANALYZE) {
        throw Error(ErrorKind::Unsupported, path,
                    "Analyze 7.5 files have no reliable orientation; convert to NIfTI");
    }
    raw.type = storedTypeFromNifti(nim->datatype, path);
    checkSpatialFields(*nim, path);
    if (nim->ndim < 1 || nim->ndim > 7) {
        throw Error(ErrorKind::Format, path,
                    "NIfTI header has " + std::to_string(nim->ndim) + " dimensions");
    }
    const int dims[7] = {nim->nx, nim->ny, nim->nz, nim->nt, nim->nu, nim->nv, nim->nw};
    std::int64_t channels = 1;
    for (int d = 0; d < 7; ++d) {
        const std::int64_t extent = d < nim->ndim ? dims[d] : 1;
        if (extent <= 0) {
            throw Error(ErrorKind::InvalidValue, path,
                        "NIfTI dimension " + std::to_string(d + 1) + " has size " +
                            std::to_string(extent));
        }
        if (d < 3) {
            raw.size[static_cast<std::size_t>(d)] = extent;
        } else {
            channels *= extent;
            channels = std::min<std::int64_t>(channels, Volume::kMaxChannels + 1);
        }
    }
    raw.channels = static_cast<int>(channels);
    checkRawShape(raw, maxBytes);
    if (static_cast<std::size_t>(nim->nbyper) != storedTypeSize(raw.type)) {
        throw Error(ErrorKind::Format, path, "NIfTI header has an inconsistent bytes-per-voxel");
    }

    // Geometry as ITK computes it (qform/sform rules, RAS to LPS).
    itk::NiftiImageIO::Pointer io = itk::NiftiImageIO::New();
    io->SetFileName(path);
    try {
        io->ReadImageInformation();
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorKind::Format, path, "cannot read the NIfTI header: " + itkMessage(e));
    }
    raw.geometry = geometryFromImageIo(*io);

    if (nim->scl_slope != 0.0f && (nim->scl_slope != 1.0f || nim->scl_inter != 0.0f)) {
        if (!std::isfinite(nim->scl_slope) || !std::isfinite(nim->scl_inter)) {
            throw Error(ErrorKind::InvalidValue, path, "NIfTI scl_slope/scl_inter are not finite");
        }
        raw.slope = nim->scl_slope;
        raw.intercept = nim->scl_inter;
    }
    raw.source.storedType = storedTypeName(raw.type);
    if (headerOnly) {
        return raw;
    }

    const std::string dataPath = nim->iname ? nim->iname : path;
    const std::int64_t offset = nim->iname_offset;
    if (offset < 0) {
        throw Error(ErrorKind::Format, path, "negative voxel data offset");
    }
    const std::size_t bytes = raw.byteSize();
    if (!isGzipFile(dataPath)) {
        // Uncompressed: the file size tells a truncated file before anything is allocated.
        const std::uint64_t available = fileSize(dataPath);
        if (available < static_cast<std::uint64_t>(offset) + bytes) {
            throw Error(ErrorKind::Format, path,
                        "truncated file: " + std::to_string(bytes) +
                            " bytes of voxels expected at offset " + std::to_string(offset) +
                            ", but the file has " + std::to_string(available) + " bytes");
        }
    }
    raw.buffer = allocateItkBuffer(raw.type, raw.valueCount());
    readVoxels(path, dataPath, offset, raw.buffer.data(), bytes);
    if (nim->byteorder != nifti_short_order() && storedTypeSize(raw.type) > 1) {
        swapBytes(raw.buffer.data(), raw.valueCount(), storedTypeSize(raw.type));
    }
    return raw;
}

} // namespace diffseg::core::detail
