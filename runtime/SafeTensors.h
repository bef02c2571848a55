//===- SafeTensors.h - Reading and writing .safetensors files ---*- C++ -*-===//
//
// The format: an 8-byte little-endian header size, a JSON header mapping
// each tensor name to {dtype, shape, data_offsets}, then the raw data.
// netc reads and writes float32 tensors; files from PyTorch load as is.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace netc::rt {

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// All tensors of a file, in the order of their data in the file. Throws
/// Error naming the file (and tensor) for a missing or truncated file, a bad
/// header, a dtype other than F32, or a shape that does not match the data.
/// The header's string metadata goes to `metadata` when given.
std::vector<NamedTensor>
readSafeTensors(const std::string &path,
                std::map<std::string, std::string> *metadata = nullptr);

/// Writes tensors in the given order, atomically: to PATH.tmp, flushed to
/// disk, then renamed over PATH, so a kill never leaves a half-written file.
void writeSafeTensors(const std::string &path,
                      const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

} // namespace netc::rt
