//===- Image.h - Images as network inputs -----------------------*- C++ -*-===//
#pragma once

#include "SafeTensors.h"

#include <string>
#include <vector>

namespace netc::rt {

/// Reads a PNG, PPM, PGM, JPEG or BMP image as a [1, channels, height,
/// width] float tensor in [0, 1] (gray for 1 channel, RGB for 3), resized
/// bilinearly to height x width when its size differs, then normalized by
/// per-channel `mean` and `std` when given. Throws Error naming the file.
NamedTensor readImage(const std::string &path, int channels, int height,
                      int width, const std::vector<float> &mean = {},
                      const std::vector<float> &std = {});

} // namespace netc::rt
