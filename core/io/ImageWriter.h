#pragma once

#include "base/Image2D.h"

#include <string>

namespace diffseg::core {

/// Writes a binary mask (1 channel UInt8 holding {0, 1}) as an 8-bit gray PNG holding {0, 255}, the
/// convention of ISIC ground truth. Atomic (temporary file + rename). Throws Error(InvalidValue)
/// when the mask is not 1-channel UInt8 {0, 1}, Error(Io/NotFound) when the file cannot be written.
void writeMaskPng(const Image2D& mask, const std::string& path);

/// Writes an image; the format follows the extension (.png, .bmp, .tif/.tiff, .jpg/.jpeg; JPEG
/// only for 8-bit images, at quality 95). UInt8 images are stored as is, Float32 ones only as
/// TIFF. RGB(A) channel order is converted to the encoders' BGR(A). Atomic.
void writeImage(const Image2D& image, const std::string& path);

} // namespace diffseg::core
