//===- Npy.h - NumPy .npy files of float32 ----------------------*- C++ -*-===//
#pragma once

#include "SafeTensors.h"

#include <string>

namespace netc::rt {

/// Reads a C-ordered little-endian float32 array ('<f4'). Throws Error
/// naming the file for anything else.
NamedTensor readNpy(const std::string &path);

/// Writes a float32 array (atomically, as writeSafeTensors does).
void writeNpy(const std::string &path, const NamedTensor &tensor);

} // namespace netc::rt
