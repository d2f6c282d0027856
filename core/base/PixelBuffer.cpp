#include "PixelBuffer.h"

#include "Error.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace diffseg::core {

namespace {
constexpr std::size_t kAlignment = 64;
}

PixelBuffer PixelBuffer::allocate(std::size_t bytes)
{
    PixelBuffer buffer;
    if (bytes == 0) {
        return buffer;
    }
    const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, rounded);
    if (!p) {
        throw Error(ErrorKind::InvalidValue, "",
                    "cannot allocate " + std::to_string(bytes) + " bytes for pixel data");
    }
    std::memset(p, 0, rounded);
    buffer.m_owner = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
    buffer.m_data = p;
    buffer.m_bytes = bytes;
    return buffer;
}

PixelBuffer PixelBuffer::wrap(void* data, std::size_t bytes, std::shared_ptr<void> owner)
{
    PixelBuffer buffer;
    buffer.m_owner = owner ? std::move(owner) : std::shared_ptr<void>(data, [](void*) {});
    buffer.m_data = data;
    buffer.m_bytes = bytes;
    return buffer;
}

PixelBuffer PixelBuffer::clone() const
{
    PixelBuffer copy = allocate(m_bytes);
    if (m_bytes) {
        std::memcpy(copy.m_data, m_data, m_bytes);
    }
    return copy;
}

} // namespace diffseg::core
