#pragma once

// Internal to core/io: glue between ITK's ImageIO classes and our types.

#include "RawVolume.h"

#include <itkImageIOBase.h>

#include <string>

namespace diffseg::core::detail {

/// Geometry (LPS) of the first three axes of an ImageIO that has read its header; missing axes get
/// spacing 1, origin 0 and an identity direction.
Geometry geometryFromImageIo(const itk::ImageIOBase& io);

/// The stored component type; throws Error(Unsupported) naming `path` for complex, long double or
/// unknown components.
StoredType storedTypeFromImageIo(const itk::ImageIOBase& io, const std::string& path);

/// Size and channels (vector components times the extent of a 4th axis); throws Error for more
/// than four axes with extent above 1, or vectors combined with a 4th axis.
void shapeFromImageIo(const itk::ImageIOBase& io, const std::string& path, RawVolume& raw);

/// ITK's description without its source location, for our messages.
std::string itkMessage(const itk::ExceptionObject& e);

/// Copies interleaved components (x fastest, components innermost) into planar channels.
void deinterleave(const void* interleaved, void* planar, std::size_t voxels, int components,
                  std::size_t valueSize);

/// Reverses the byte order of `count` values of `width` bytes (big-endian files).
void swapBytes(void* data, std::size_t count, std::size_t width);

} // namespace diffseg::core::detail
