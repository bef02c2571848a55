//===- SafeTensors.h - Reading and writing .safetensors files ---*- C++ -*-===//
//
// The format: an 8-byte little-endian header size, a JSON header mapping
// each tensor name to {dtype, shape, data_offsets}, then the raw data.
// netc writes float32 tensors and reads those and the other dtypes PyTorch
// writes (F64, F16, BF16, integers), converted to float32; files from
// PyTorch load as is.
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
/// header (deeply nested, overlapping tensors), an unknown dtype, or a shape
/// that does not match the data.
/// The header's string metadata goes to `metadata` when given.
std::vector<NamedTensor>
readSafeTensors(const std::string &path,
                std::map<std::string, std::string> *metadata = nullptr);

/// Writes tensors in the given order through OutputFile: atomically over a
/// regular file (PATH.tmp, flushed, renamed), through a symbolic link, in
/// place on a device.
void writeSafeTensors(const std::string &path,
                      const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

} // namespace netc::rt
