//===- Npy.cpp - NumPy .npy files of float32 ------------------------------===//

#include "Npy.h"

#include "Error.h"
#include "OutputFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace netc::rt {

namespace {

/// The value of `'key':` in a .npy header dictionary, up to the next comma
/// at nesting level 0.
std::string headerField(const std::string &header, const std::string &key) {
  size_t pos = header.find("'" + key + "'");
  if (pos == std::string::npos)
    return "";
  pos = header.find(':', pos);
  if (pos == std::string::npos)
    return "";
  int depth = 0;
  size_t end = pos + 1;
  for (; end < header.size(); ++end) {
    char c = header[end];
    if (c == '(')
      ++depth;
    else if (c == ')')
      --depth;
    else if ((c == ',' && depth == 0) || c == '}')
      break;
  }
  std::string value = header.substr(pos + 1, end - pos - 1);
  size_t first = value.find_first_not_of(" ");
  size_t last = value.find_last_not_of(" ");
  return first == std::string::npos ? ""
                                    : value.substr(first, last - first + 1);
}

} // namespace

NamedTensor readNpy(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw Error(path + ": not a .npy file");
  uint32_t headerLength;
  if (magic[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char *>(b), 2);
    headerLength = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char *>(b), 4);
    headerLength = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  if (!in || headerLength > (1u << 20))
    throw Error(path + ": malformed .npy header");
  std::string header(headerLength, '\0');
  if (!in.read(header.data(), headerLength))
    throw Error(path + ": truncated .npy header");
  std::string descr = headerField(header, "descr");
  if (descr != "'<f4'")
    throw Error(path + ": array has dtype " + descr +
                "; expected float32 ('<f4'), e.g. x.astype(np.float32)");
  if (headerField(header, "fortran_order") != "False")
    throw Error(path + ": array is in Fortran order; save a C-ordered array");
  std::string shapeText = headerField(header, "shape");
  NamedTensor tensor;
  tensor.name = path;
  uint64_t elements = 1;
  std::string digits;
  for (char c : shapeText + ",") {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c == ',' && !digits.empty()) {
      if (digits.size() > 12)
        throw Error(path + ": array is too large");
      tensor.shape.push_back(std::stoll(digits));
      elements *= uint64_t(tensor.shape.back());
      digits.clear();
    }
  }
  if (elements > (uint64_t(1) << 36))
    throw Error(path + ": array is too large");
  tensor.data.resize(elements);
  if (!in.read(reinterpret_cast<char *>(tensor.data.data()),
               std::streamsize(elements * 4)))
    throw Error(path + ": truncated: the header promises " +
                std::to_string(elements) + " floats");
  return tensor;
}

void writeNpy(const std::string &path, const NamedTensor &tensor) {
  std::string shape = "(";
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    shape += (i ? ", " : "") + std::to_string(tensor.shape[i]);
  shape += tensor.shape.size() == 1 ? ",)" : ")";
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  OutputFile out(path);
  out.write("\x93NUMPY\x01\x00", 8);
  unsigned char length[2] = {static_cast<unsigned char>(header.size() & 0xFF),
                             static_cast<unsigned char>(header.size() >> 8)};
  out.write(length, 2);
  out.write(header.data(), header.size());
  out.write(tensor.data.data(), tensor.data.size() * 4);
  out.commit();
}

} // namespace netc::rt
