//===- Jpeg.h - JPEG decoding with libjpeg-turbo ----------------*- C++ -*-===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netc::rt {

/// Whether the file starts with a JPEG signature.
bool isJpeg(const std::string &path);

/// Decodes a JPEG file to 8-bit pixels, `channels` (1: gray, 3: RGB)
/// interleaved, row by row; sets width and height. Throws Error naming the
/// file for corrupt data, or an image of more than `maxPixels`. libjpeg-turbo
/// (linked statically) decodes it: it stays safe on corrupt data.
std::vector<unsigned char> decodeJpeg(const std::string &path, int channels,
                                      int &width, int &height,
                                      int64_t maxPixels);

} // namespace netc::rt
