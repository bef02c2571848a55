//===- Diagnostics.cpp - Compiler-style error reporting -------------------===//

#include "Diagnostics.h"

namespace netc::dsl {

static const char *severityName(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

void DiagnosticEngine::print(Severity severity, Loc loc,
                             const std::string &message, uint32_t length) {
  if (!loc.valid()) {
    os_ << severityName(severity) << ": " << message << "\n";
    return;
  }
  os_ << loc.file->name() << ":" << loc.line << ":" << loc.col << ": "
      << severityName(severity) << ": " << message << "\n";
  std::string_view line = loc.file->lineText(loc.line);
  // Very long lines are cut around the column so the caret stays readable.
  constexpr size_t kMaxShown = 200;
  size_t start = 0;
  if (line.size() > kMaxShown && loc.col > kMaxShown / 2)
    start = loc.col - kMaxShown / 2;
  std::string shown, caret;
  size_t col = 1;
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    bool continuation = (c & 0xC0) == 0x80;
    if (!continuation)
      ++col;
    if (col - 1 <= start)
      continue;
    if (shown.size() >= kMaxShown + 8)
      break;
    if (c == '\t')
      shown += ' ';
    else if (c < 0x20 || c == 0x7F)
      shown += '?';
    else
      shown += static_cast<char>(c);
  }
  for (size_t i = start + 1; i < loc.col; ++i)
    caret += ' ';
  caret += '^';
  for (uint32_t i = 1; i < length && i < 80; ++i)
    caret += '~';
  os_ << "  " << shown << "\n  " << caret << "\n";
}

bool DiagnosticEngine::error(Loc loc, const std::string &message,
                             uint32_t length) {
  auto key =
      std::make_tuple(static_cast<const void *>(loc.file), loc.offset, message);
  if (!seen_.insert(key).second || tooMany()) {
    suppressNotes_ = true;
    return false;
  }
  suppressNotes_ = false;
  ++errors_;
  print(Severity::Error, loc, message, length);
  return true;
}

void DiagnosticEngine::warning(Loc loc, const std::string &message,
                               uint32_t length) {
  suppressNotes_ = false;
  print(Severity::Warning, loc, message, length);
}

void DiagnosticEngine::note(Loc loc, const std::string &message,
                            uint32_t length) {
  if (!suppressNotes_)
    print(Severity::Note, loc, message, length);
}

void DiagnosticEngine::error(const std::string &file,
                             const std::string &message) {
  ++errors_;
  suppressNotes_ = false;
  os_ << file << ": error: " << message << "\n";
}

} // namespace netc::dsl
