//===- Diagnostics.h - Compiler-style error reporting -----------*- C++ -*-===//
//
// Diagnostics print as
//
//   file.nn:3:12: error: unknown layer 'convv'
//     x = image -> convv(6, k=5)
//                  ^~~~~
//
// Notes attach to the error before them. Identical errors at the same place
// (a block body instantiated many times) are reported once.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Source.h"

#include <ostream>
#include <set>
#include <string>
#include <tuple>

namespace netc::dsl {

enum class Severity { Error, Warning, Note };

class DiagnosticEngine {
public:
  explicit DiagnosticEngine(std::ostream &os, size_t maxErrors = 20)
      : os_(os), maxErrors_(maxErrors) {}

  /// Reports an error at `loc`, underlining `length` characters. Returns
  /// false when the same error was already reported (its notes are then
  /// suppressed as well).
  bool error(Loc loc, const std::string &message, uint32_t length = 1);
  void warning(Loc loc, const std::string &message, uint32_t length = 1);
  void note(Loc loc, const std::string &message, uint32_t length = 1);
  /// An error with no source position, e.g. a file that cannot be read.
  void error(const std::string &file, const std::string &message);

  bool hadError() const { return errors_ > 0; }
  /// True once `maxErrors` errors were printed; callers stop early.
  bool tooMany() const { return errors_ >= maxErrors_; }

private:
  void print(Severity severity, Loc loc, const std::string &message,
             uint32_t length);

  std::ostream &os_;
  size_t maxErrors_;
  size_t errors_ = 0;
  bool suppressNotes_ = false;
  std::set<std::tuple<const void *, uint32_t, std::string>> seen_;
};

} // namespace netc::dsl
