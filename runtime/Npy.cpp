//===- Npy.cpp - NumPy .npy files of float32 ------------------------------===//

#include "Npy.h"

#include "Error.h"
#include "OutputFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

namespace netc::rt {

namespace {

/// The header dictionary NumPy writes, `{'descr': '<f4', 'fortran_order':
/// False, 'shape': (2, 3), }`, read strictly: anything else is an error
/// naming the file, never a guess.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

class HeaderParser {
public:
  HeaderParser(const std::string &path, const std::string &text)
      : path_(path), text_(text) {}

  NpyHeader parse() {
    NpyHeader h;
    std::set<std::string> seen;
    expect('{');
    while (!next('}')) {
      std::string key = quoted();
      if (!seen.insert(key).second)
        fail("the key '" + key + "' is given twice");
      expect(':');
      if (key == "descr")
        h.descr = quoted();
      else if (key == "fortran_order")
        h.fortranOrder = boolean();
      else if (key == "shape")
        h.shape = tuple();
      else
        fail("unexpected key '" + key + "'");
      if (!next(','))
        expect('}');
      else
        continue;
      break;
    }
    skipSpace();
    if (pos_ != text_.size())
      fail("text after the dictionary");
    for (const char *key : {"descr", "fortran_order", "shape"})
      if (!seen.count(key))
        fail(std::string("no '") + key + "'");
    return h;
  }

private:
  [[noreturn]] void fail(const std::string &what) {
    throw Error(path_ + ": malformed .npy header: " + what);
  }
  void skipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t'))
      ++pos_;
  }
  bool next(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!next(c))
      fail(std::string("expected '") + c + "'");
  }
  std::string quoted() {
    skipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail("expected a quoted string");
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == std::string::npos)
      fail("an unterminated string");
    std::string value = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    skipSpace();
    for (const char *word : {"True", "False"})
      if (text_.compare(pos_, std::strlen(word), word) == 0) {
        pos_ += std::strlen(word);
        return word[0] == 'T';
      }
    fail("expected True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (!next(')')) {
      skipSpace();
      size_t start = pos_;
      int64_t n = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        n = n * 10 + (text_[pos_++] - '0');
        if (n > (int64_t(1) << 40))
          fail("a dimension is too large");
      }
      if (pos_ == start)
        fail("the shape holds something other than sizes");
      dims.push_back(n);
      if (!next(',')) {
        expect(')');
        break;
      }
    }
    return dims;
  }

  const std::string &path_;
  const std::string &text_;
  size_t pos_ = 0;
};

} // namespace

NamedTensor readNpy(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw Error(path + ": not a .npy file");
  uint32_t headerLength;
  int version = static_cast<unsigned char>(magic[6]);
  if (version < 1 || version > 3)
    throw Error(path + ": unsupported .npy version " + std::to_string(version) +
                " (netc reads versions 1 to 3)");
  if (version == 1) {
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
  NpyHeader h = HeaderParser(path, header).parse();
  if (h.descr != "<f4")
    throw Error(path + ": array has dtype '" + h.descr.substr(0, 16) +
                "'; expected float32 ('<f4'), e.g. x.astype(np.float32)");
  if (h.fortranOrder)
    throw Error(path + ": array is in Fortran order; save a C-ordered array");
  NamedTensor tensor;
  tensor.name = path;
  tensor.shape = h.shape;
  uint64_t elements = 1;
  for (int64_t d : h.shape) {
    elements *= uint64_t(d);
    if (elements > (uint64_t(1) << 36))
      throw Error(path + ": array is too large");
  }
  if (elements > (uint64_t(1) << 36))
    throw Error(path + ": array is too large");
  // The data must be there before memory is set aside for it: a header
  // may promise anything.
  std::streamoff start = in.tellg();
  in.seekg(0, std::ios::end);
  uint64_t have = uint64_t(in.tellg() - start);
  in.seekg(start);
  if (have < elements * 4)
    throw Error(path + ": truncated: the header promises " +
                std::to_string(elements) + " floats, the file holds " +
                std::to_string(have / 4));
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
