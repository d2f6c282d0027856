#include "AtomicWrite.h"

#include "base/Error.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <system_error>
#include <unistd.h>

namespace fs = std::filesystem;

namespace diffseg::core {

namespace {

std::atomic<unsigned> g_counter{0};

void syncFile(const fs::path& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

} // namespace

AtomicWrite::AtomicWrite(const std::string& targetPath)
    : m_targetPath(targetPath)
{
    const fs::path target(targetPath);
    if (target.filename().empty()) {
        throw Error(ErrorKind::InvalidValue, targetPath, "the output path names no file");
    }
    fs::path folder = target.parent_path();
    if (folder.empty()) {
        folder = ".";
    }
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        throw Error(ErrorKind::NotFound, targetPath,
                    "the output folder " + folder.string() + " does not exist");
    }
    const std::string unique =
        ".diffseg-tmp-" + std::to_string(::getpid()) + "-" + std::to_string(g_counter.fetch_add(1));
    const fs::path temp = folder / unique;
    if (!fs::create_directory(temp, ec) || ec) {
        throw Error(ErrorKind::Io, targetPath,
                    "cannot create a temporary folder in " + folder.string() + ": " +
                        (ec ? ec.message() : std::string("it already exists")));
    }
    m_tempFolder = temp.string();
    m_tempPath = (temp / target.filename()).string();
}

AtomicWrite::~AtomicWrite()
{
    std::error_code ec;
    fs::remove_all(m_tempFolder, ec);
}

void AtomicWrite::commit()
{
    if (m_committed) {
        return;
    }
    const fs::path target(m_targetPath);
    const fs::path folder = fs::path(m_tempFolder).parent_path();
    std::error_code ec;
    if (!fs::exists(m_tempPath, ec)) {
        throw Error(ErrorKind::Io, m_targetPath, "the writer produced no file");
    }
    // Data files first and the target (a header for .mhd/.nhdr) last, so that a reader never sees
    // a new header pointing at missing data.
    std::vector<fs::path> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(m_tempFolder, ec)) {
        if (entry.path().filename() != target.filename()) {
            files.push_back(entry.path());
        }
    }
    files.push_back(m_tempPath);
    for (const fs::path& file : files) {
        syncFile(file);
    }
    for (const fs::path& file : files) {
        fs::rename(file, folder / file.filename(), ec);
        if (ec) {
            throw Error(ErrorKind::Io, m_targetPath,
                        "cannot move " + file.filename().string() + " into place: " + ec.message());
        }
    }
    m_committed = true;
}

void writeFileAtomically(const std::string& path, const void* data, std::size_t size)
{
    AtomicWrite write(path);
    std::FILE* f = std::fopen(write.tempPath().c_str(), "wb");
    if (!f) {
        throw Error(ErrorKind::Io, path,
                    std::string("cannot create the file: ") + std::strerror(errno));
    }
    const std::size_t written = size ? std::fwrite(data, 1, size, f) : 0;
    const bool closed = std::fclose(f) == 0;
    if (written != size || !closed) {
        throw Error(ErrorKind::Io, path, "write failed (disk full?)");
    }
    write.commit();
}

} // namespace diffseg::core
