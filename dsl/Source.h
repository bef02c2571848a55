//===- Source.h - Source files and locations --------------------*- C++ -*-===//
//
// A SourceFile owns the text of one .nn file; a Loc points into it by byte
// offset, line and column (both 1-based, columns count characters).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace netc::dsl {

class SourceFile;

struct Loc {
  const SourceFile *file = nullptr;
  uint32_t offset = 0;
  uint32_t line = 0;
  uint32_t col = 0;

  bool valid() const { return file != nullptr; }
};

class SourceFile {
public:
  SourceFile(std::string name, std::string text);

  const std::string &name() const { return name_; }
  std::string_view text() const { return text_; }

  /// The text of line `line` (1-based), without its line break.
  std::string_view lineText(uint32_t line) const;
  /// The location of a byte offset. Offsets asked for in increasing order
  /// (as the lexer does) cost time in proportion to the distance between
  /// them, so a long line is not counted again for each token.
  Loc locAt(uint32_t offset) const;

private:
  std::string name_;
  std::string text_;
  std::vector<uint32_t> lineStarts_;
  mutable Loc last_; // the last location computed
};

/// Byte offset of the first invalid UTF-8 sequence in `text`, or -1.
int64_t findInvalidUtf8(std::string_view text);

} // namespace netc::dsl
