#pragma once

#include <string>
#include <vector>

namespace diffseg::core {

/// Makes a file (or a header plus its data files, as .mhd/.raw) appear all at once: writers write
/// into a private hidden folder next to the target, and commit() renames each file into place, the
/// target last. A crash or exception before commit() leaves the previous target untouched and the
/// destructor removes the temporary folder. Renames stay in one file system, so each is atomic.
///
/// Not thread-safe; one instance per write. Throws Error(Io) naming the target when the folder
/// cannot be created or a rename fails.
class AtomicWrite
{
public:
    explicit AtomicWrite(const std::string& targetPath);
    ~AtomicWrite();
    AtomicWrite(const AtomicWrite&) = delete;
    AtomicWrite& operator=(const AtomicWrite&) = delete;

    /// Where the writer must write the target; other files it writes must go to tempFolder().
    const std::string& tempPath() const noexcept { return m_tempPath; }
    const std::string& tempFolder() const noexcept { return m_tempFolder; }
    const std::string& targetPath() const noexcept { return m_targetPath; }

    /// Flushes every file of the temporary folder to disk and moves it into the target folder.
    void commit();

private:
    std::string m_targetPath;
    std::string m_tempFolder;
    std::string m_tempPath;
    bool m_committed = false;
};

/// Writes `size` bytes to `path` through an AtomicWrite.
void writeFileAtomically(const std::string& path, const void* data, std::size_t size);

} // namespace diffseg::core
