#pragma once

#include "Error.h"
#include "PixelBuffer.h"
#include "PixelType.h"

#include <optional>
#include <string>
#include <utility>

namespace diffseg::core {

/// The typed, shared pixel memory under Image2D and Volume (CRTP): the pixel type, the
/// PixelBuffer, access that checks the type, and deep copies. `Self` provides byteSize() and
/// describe(), and names itself and its elements in errors through `Self::kNoun` ("image",
/// "volume") and `Self::kElementNoun` ("pixel", "voxel"); `DefaultType` is the pixel type of an
/// empty Self.
///
/// Copies share the pixels (see PixelBuffer); clone() copies them. Not thread-safe for writes.
template <class Self, PixelType DefaultType>
class PixelStorage
{
public:
    PixelType pixelType() const noexcept { return m_type; }

    void* rawData() noexcept { return m_buffer.data(); }
    const void* rawData() const noexcept { return m_buffer.data(); }
    const PixelBuffer& buffer() const noexcept { return m_buffer; }

    /// Typed access to all elements; throws Error(Internal) when T does not match pixelType().
    template <class T>
    T* data()
    {
        checkType(PixelTypeOf<T>::value);
        return static_cast<T*>(m_buffer.data());
    }
    template <class T>
    const T* data() const
    {
        checkType(PixelTypeOf<T>::value);
        return static_cast<const T*>(m_buffer.data());
    }

    /// A copy with pixels of its own.
    Self clone() const
    {
        Self copy = static_cast<const Self&>(*this);
        copy.m_buffer = m_buffer.clone();
        return copy;
    }

protected:
    // Protected: a PixelStorage is only ever part of a Self (no slicing, no deleting through it).
    PixelStorage() = default;
    explicit PixelStorage(PixelType type) noexcept
        : m_type(type)
    {}
    ~PixelStorage() = default;
    PixelStorage(const PixelStorage&) = default;
    PixelStorage(PixelStorage&&) noexcept = default;
    PixelStorage& operator=(const PixelStorage&) = default;
    PixelStorage& operator=(PixelStorage&&) noexcept = default;

    void checkType(PixelType requested) const
    {
        if (requested != m_type) {
            throw Error(ErrorKind::Internal, "",
                        std::string(Self::kNoun) + " holds " + pixelTypeName(m_type) + " " +
                            Self::kElementNoun + "s, not " + pixelTypeName(requested));
        }
    }

    /// Gives the shape and type already set (and checked) its elements: `view`, memory that
    /// someone else owns (Error(InvalidValue) when it is too small), or else zero-filled ones.
    void store(std::optional<PixelBuffer> view)
    {
        const Self& self = static_cast<const Self&>(*this);
        if (!view) {
            m_buffer = PixelBuffer::allocate(self.byteSize());
            return;
        }
        if (view->size() < self.byteSize()) {
            throw Error(ErrorKind::InvalidValue, "",
                        std::string(Self::kElementNoun) + " buffer of " +
                            std::to_string(view->size()) + " bytes is too small for " +
                            self.describe());
        }
        m_buffer = std::move(*view);
    }

    PixelType m_type = DefaultType;
    PixelBuffer m_buffer;
};

} // namespace diffseg::core
