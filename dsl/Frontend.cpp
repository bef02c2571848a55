//===- Frontend.cpp - From a file name to an elaborated graph -------------===//

#include "Frontend.h"

#include "Elaborator.h"
#include "Lexer.h"
#include "Parser.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace netc::dsl {

std::unique_ptr<SourceFile> loadSource(const std::string &path,
                                       DiagnosticEngine &diags) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    diags.error(path, std::string("cannot open file: ") + std::strerror(errno));
    return nullptr;
  }
  if (S_ISDIR(info.st_mode)) {
    diags.error(path, "is a directory, not a .nn file");
    return nullptr;
  }
  if (S_ISREG(info.st_mode) &&
      static_cast<size_t>(info.st_size) > kMaxSourceBytes) {
    diags.error(path, "file is too large (" + std::to_string(info.st_size) +
                          " bytes; at most " + std::to_string(kMaxSourceBytes) +
                          ")");
    return nullptr;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.error(path, std::string("cannot open file: ") + std::strerror(errno));
    return nullptr;
  }
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxSourceBytes) {
      diags.error(path, "file is too large (more than " +
                            std::to_string(kMaxSourceBytes) + " bytes)");
      return nullptr;
    }
  }
  if (in.bad()) {
    diags.error(path, "error while reading the file");
    return nullptr;
  }
  auto file = std::make_unique<SourceFile>(path, std::move(text));
  if (!checkText(*file, diags))
    return nullptr;
  return file;
}

bool checkText(const SourceFile &file, DiagnosticEngine &diags) {
  std::string_view text = file.text();
  size_t nul = text.find('\0');
  if (nul != std::string_view::npos) {
    diags.error(file.locAt(static_cast<uint32_t>(nul)),
                "file is not text (it contains a NUL byte); expected a .nn "
                "source file");
    return false;
  }
  int64_t bad = findInvalidUtf8(text);
  if (bad >= 0) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X",
                  static_cast<unsigned char>(text[bad]));
    diags.error(file.locAt(static_cast<uint32_t>(bad)),
                std::string("file is not valid UTF-8 (byte ") + hex + ")");
    return false;
  }
  return true;
}

FileAST parseSource(const SourceFile &file, DiagnosticEngine &diags) {
  // Skip a UTF-8 byte order mark.
  uint32_t begin = file.text().substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  Lexer lexer(file, diags, begin);
  Parser parser(lexer.lex(), diags);
  return parser.parseFile();
}

std::optional<Graph>
elaborate(const FileAST &ast, DiagnosticEngine &diags,
          const std::map<std::string, std::string> &overrides) {
  Elaborator elaborator(ast, diags);
  return elaborator.run(overrides);
}

} // namespace netc::dsl
