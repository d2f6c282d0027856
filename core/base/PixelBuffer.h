#pragma once

#include <cstddef>
#include <memory>

namespace diffseg::core {

/// A contiguous block of pixel bytes shared by every image that views it. Either allocated here
/// (64-byte aligned, zero-filled) or wrapping memory owned by someone else (an ITK image, a
/// cv::Mat) through `owner`, which is kept alive as long as any copy of the buffer exists: that is
/// how readers, tensors and vtkImageData share pixels without copies.
/// Copies are shallow; use clone() for a deep copy. Not synchronised: writers and readers on
/// different threads must be ordered by the caller.
class PixelBuffer
{
public:
    PixelBuffer() = default;

    /// Throws Error(InvalidValue) if `bytes` cannot be allocated.
    static PixelBuffer allocate(std::size_t bytes);
    static PixelBuffer wrap(void* data, std::size_t bytes, std::shared_ptr<void> owner);

    void* data() noexcept { return m_data; }
    const void* data() const noexcept { return m_data; }
    std::size_t size() const noexcept { return m_bytes; }
    bool empty() const noexcept { return m_bytes == 0; }
    PixelBuffer clone() const;
    /// Number of PixelBuffer copies sharing the memory (for tests and memory accounting).
    long useCount() const noexcept { return m_owner.use_count(); }

private:
    std::shared_ptr<void> m_owner;
    void* m_data = nullptr;
    std::size_t m_bytes = 0;
};

} // namespace diffseg::core
