#pragma once

#include <stdexcept>
#include <string>

namespace diffseg::core {

/// What went wrong, so that callers (CLI exit codes, GUI dialogs) can react without parsing text.
enum class ErrorKind
{
    NotFound,     ///< a file or folder does not exist
    Io,           ///< the OS refused a read or write
    Format,       ///< unknown, corrupt or truncated file content
    InvalidValue, ///< a value out of range: dimensions, non-finite data, bad geometry
    Mismatch,     ///< two inputs that must agree do not (image/mask size, checkpoint shapes)
    Config,       ///< a bad or unknown configuration key or value
    Cancelled,    ///< the user cancelled a long operation
    Unsupported,  ///< a valid request this build cannot serve (e.g. CUDA without CUDA)
    Internal      ///< a bug: should never reach a user
};

/// The one exception type of the engine. The message always names the file (or config key) and the
/// problem, e.g. "masks/ISIC_1_segmentation.png: mask is 640x480 but its image is 1024x768".
/// Thread-safe to copy and throw across threads (it holds only strings).
class Error : public std::runtime_error
{
public:
    Error(ErrorKind kind, const std::string& subject, const std::string& problem);

    ErrorKind kind() const noexcept { return m_kind; }
    /// The file, folder or config key the error is about (may be empty).
    const std::string& subject() const noexcept { return m_subject; }
    /// The problem without the subject.
    const std::string& problem() const noexcept { return m_problem; }

private:
    ErrorKind m_kind;
    std::string m_subject;
    std::string m_problem;
};

/// Short lower-case name of a kind ("not found", "format", ...), for logs and JSON progress.
const char* errorKindName(ErrorKind kind) noexcept;

} // namespace diffseg::core
