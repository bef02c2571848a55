//===- SafeTensors.cpp - Reading and writing .safetensors files -----------===//

#include "SafeTensors.h"

#include "Error.h"
#include "OutputFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <thread>
#include <unistd.h>

namespace netc::rt {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100 << 20;

std::string describeShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// How deep the header's JSON nests, without parsing it (strings skipped).
int nestingDepth(const std::string &text) {
  int depth = 0, deepest = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

/// The dtypes netc reads, with their sizes: float32 as is; the others
/// PyTorch writes (half and double weights, integer buffers such as
/// batch norm's num_batches_tracked) converted to float32.
int dtypeSize(const std::string &dtype) {
  static const std::map<std::string, int> sizes = {
      {"F32", 4}, {"F64", 8}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f,
           mantissa = h & 0x3ff, bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000 | (mantissa << 13); // inf, nan
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign; // zero
  } else {       // subnormal: normalize
    int shift = 0;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | ((113 - shift) << 23) | ((mantissa & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// `count` values of `dtype` at `raw` as float32 (little-endian files on a
/// little-endian machine).
void convert(const std::string &dtype, const unsigned char *raw, size_t count,
             float *out) {
  for (size_t i = 0; i < count; ++i) {
    const unsigned char *v = raw + i * size_t(dtypeSize(dtype));
    if (dtype == "F32") {
      std::memcpy(&out[i], v, 4);
    } else if (dtype == "F64") {
      double d;
      std::memcpy(&d, v, 8);
      out[i] = float(d);
    } else if (dtype == "F16") {
      uint16_t h;
      std::memcpy(&h, v, 2);
      out[i] = halfToFloat(h);
    } else if (dtype == "BF16") {
      uint32_t bits = uint32_t(v[0] | (v[1] << 8)) << 16;
      std::memcpy(&out[i], &bits, 4);
    } else if (dtype == "I64") {
      int64_t n;
      std::memcpy(&n, v, 8);
      out[i] = float(n);
    } else if (dtype == "I32") {
      int32_t n;
      std::memcpy(&n, v, 4);
      out[i] = float(n);
    } else if (dtype == "I16") {
      int16_t n;
      std::memcpy(&n, v, 2);
      out[i] = float(n);
    } else if (dtype == "I8") {
      out[i] = float(int8_t(v[0]));
    } else { // U8, BOOL
      out[i] = float(v[0]);
    }
  }
}

struct File {
  FILE *f = nullptr;
  ~File() {
    if (f)
      std::fclose(f);
  }
};

} // namespace

std::vector<NamedTensor>
readSafeTensors(const std::string &path,
                std::map<std::string, std::string> *metadata) {
  File file;
  file.f = std::fopen(path.c_str(), "rb");
  if (!file.f)
    throw Error(path + ": cannot open weights file: " + std::strerror(errno));
  std::fseek(file.f, 0, SEEK_END);
  long fileSize = std::ftell(file.f);
  std::fseek(file.f, 0, SEEK_SET);
  unsigned char sizeBytes[8];
  if (fileSize < 8 || std::fread(sizeBytes, 1, 8, file.f) != 8)
    throw Error(path + ": not a safetensors file (shorter than its 8-byte "
                       "header size)");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | sizeBytes[i];
  if (headerSize > kMaxHeaderBytes || headerSize + 8 > uint64_t(fileSize))
    throw Error(path + ": not a safetensors file (header size " +
                std::to_string(headerSize) + " does not fit in the " +
                std::to_string(fileSize) + "-byte file)");
  std::string header(headerSize, '\0');
  if (std::fread(header.data(), 1, headerSize, file.f) != headerSize)
    throw Error(path + ": truncated header");
  // Deep nesting is no safetensors header, and would exhaust the stack of
  // whatever walks it.
  if (nestingDepth(header) > 16)
    throw Error(path + ": not a safetensors file (its header nests deeper "
                       "than 16 levels)");
  nlohmann::json json = nlohmann::json::parse(header, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    throw Error(path + ": the header is not a JSON object");

  uint64_t dataSize = uint64_t(fileSize) - 8 - headerSize;
  struct Entry {
    std::string name;
    std::vector<int64_t> shape;
    uint64_t begin, end;
    std::string dtype;
  };
  std::vector<Entry> entries;
  for (auto &[name, info] : json.items()) {
    if (name == "__metadata__") {
      if (metadata && info.is_object())
        for (auto &[key, value] : info.items())
          if (value.is_string())
            (*metadata)[key] = value.get<std::string>();
      continue;
    }
    auto where = path + ": tensor '" + name + "'";
    if (!info.is_object() || !info.contains("dtype") ||
        !info.contains("shape") || !info.contains("data_offsets"))
      throw Error(where + " lacks dtype, shape or data_offsets");
    if (!info["dtype"].is_string())
      throw Error(where + " has a dtype that is not a string");
    std::string dtype = info["dtype"].get<std::string>();
    if (!dtypeSize(dtype))
      throw Error(where + " has dtype \"" + dtype.substr(0, 16) +
                  "\"; netc programs read F32, F64, F16, BF16 and integer "
                  "tensors");
    Entry entry{name, {}, 0, 0, dtype};
    uint64_t elements = 1;
    if (!info["shape"].is_array())
      throw Error(where + " has a malformed shape");
    for (auto &dim : info["shape"]) {
      if (!dim.is_number_integer() || dim.get<int64_t>() < 0 ||
          dim.get<int64_t>() > (int64_t(1) << 40))
        throw Error(where + " has a malformed shape");
      entry.shape.push_back(dim.get<int64_t>());
      elements *= uint64_t(entry.shape.back());
      if (elements > (uint64_t(1) << 40))
        throw Error(where + " is too large");
    }
    auto &offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 ||
        !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      throw Error(where + " has malformed data_offsets");
    entry.begin = offsets[0].get<uint64_t>();
    entry.end = offsets[1].get<uint64_t>();
    if (entry.end < entry.begin ||
        entry.end - entry.begin != elements * uint64_t(dtypeSize(dtype)))
      throw Error(where + " has " + std::to_string(entry.end - entry.begin) +
                  " bytes of data for shape " + describeShape(entry.shape));
    if (entry.end > dataSize)
      throw Error(where + " extends past the end of the file (truncated?)");
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.begin < b.begin; });
  for (size_t i = 1; i < entries.size(); ++i)
    if (entries[i].begin < entries[i - 1].end)
      throw Error(path + ": tensor '" + entries[i].name +
                  "' overlaps the data of tensor '" + entries[i - 1].name +
                  "'");

  std::vector<NamedTensor> tensors;
  for (Entry &entry : entries) {
    NamedTensor tensor{entry.name, entry.shape, {}};
    size_t bytes = size_t(entry.end - entry.begin);
    tensor.data.resize(bytes / size_t(dtypeSize(entry.dtype)));
    std::vector<unsigned char> raw;
    unsigned char *target = reinterpret_cast<unsigned char *>(
        tensor.data.data()); // F32 is read in place
    if (entry.dtype != "F32") {
      raw.resize(bytes);
      target = raw.data();
    }
    if (std::fseek(file.f, long(8 + headerSize + entry.begin), SEEK_SET) != 0 ||
        std::fread(target, 1, bytes, file.f) != bytes)
      throw Error(path + ": tensor '" + entry.name + "' could not be read");
    if (entry.dtype != "F32")
      convert(entry.dtype, raw.data(), tensor.data.size(), tensor.data.data());
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

void writeSafeTensors(const std::string &path,
                      const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const NamedTensor &tensor : tensors) {
    uint64_t bytes = tensor.data.size() * 4;
    header[tensor.name] = {{"dtype", "F32"},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  while ((text.size() + 8) % 8 != 0)
    text += ' '; // keep the data 8-byte aligned, as the format recommends

  OutputFile out(path);
  unsigned char sizeBytes[8];
  uint64_t headerSize = text.size();
  for (int i = 0; i < 8; ++i)
    sizeBytes[i] = static_cast<unsigned char>(headerSize >> (8 * i));
  out.write(sizeBytes, 8);
  out.write(text.data(), text.size());
  // For the kill test: a write slow enough to be killed in the middle.
  if (const char *ms = std::getenv("NETC_SLOW_WRITE_MS"))
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(ms)));
  for (const NamedTensor &tensor : tensors)
    out.write(tensor.data.data(), tensor.data.size() * 4);
  out.commit();
}

} // namespace netc::rt
