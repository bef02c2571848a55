//===- SafeTensors.cpp - Reading and writing .safetensors files -----------===//

#include "SafeTensors.h"

#include "Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
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
  nlohmann::json json = nlohmann::json::parse(header, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    throw Error(path + ": the header is not a JSON object");

  uint64_t dataSize = uint64_t(fileSize) - 8 - headerSize;
  struct Entry {
    std::string name;
    std::vector<int64_t> shape;
    uint64_t begin, end;
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
    if (!info["dtype"].is_string() || info["dtype"] != "F32")
      throw Error(where + " has dtype " + info["dtype"].dump() +
                  "; netc programs read F32 tensors");
    Entry entry{name, {}, 0, 0};
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
    if (entry.end < entry.begin || entry.end - entry.begin != elements * 4)
      throw Error(where + " has " + std::to_string(entry.end - entry.begin) +
                  " bytes of data for shape " + describeShape(entry.shape));
    if (entry.end > dataSize)
      throw Error(where + " extends past the end of the file (truncated?)");
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.begin < b.begin; });

  std::vector<NamedTensor> tensors;
  for (Entry &entry : entries) {
    NamedTensor tensor{entry.name, entry.shape, {}};
    tensor.data.resize((entry.end - entry.begin) / 4);
    if (std::fseek(file.f, long(8 + headerSize + entry.begin), SEEK_SET) != 0 ||
        std::fread(tensor.data.data(), 4, tensor.data.size(), file.f) !=
            tensor.data.size())
      throw Error(path + ": tensor '" + entry.name + "' could not be read");
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

  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw Error(tmp + ": cannot create: " + std::strerror(errno));
  auto writeAll = [&](const void *data, size_t size) {
    const char *p = static_cast<const char *>(data);
    while (size > 0) {
      ssize_t n = ::write(fd, p, size);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        int saved = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error(tmp + ": write failed: " + std::strerror(saved));
      }
      p += n;
      size -= size_t(n);
    }
  };
  unsigned char sizeBytes[8];
  uint64_t headerSize = text.size();
  for (int i = 0; i < 8; ++i)
    sizeBytes[i] = static_cast<unsigned char>(headerSize >> (8 * i));
  writeAll(sizeBytes, 8);
  writeAll(text.data(), text.size());
  for (const NamedTensor &tensor : tensors)
    writeAll(tensor.data.data(), tensor.data.size() * 4);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw Error(tmp + ": could not be flushed to disk");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error(path + ": cannot replace: " + std::strerror(errno));
}

} // namespace netc::rt
