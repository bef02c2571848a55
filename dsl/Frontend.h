//===- Frontend.h - From a file name to an elaborated graph -----*- C++ -*-===//
#pragma once

#include "AST.h"
#include "Diagnostics.h"
#include "Graph.h"

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace netc::dsl {

/// Files larger than this are refused before reading.
constexpr size_t kMaxSourceBytes = 16 << 20;

/// Reads a .nn file, checking that it is UTF-8 text. Reports and returns null
/// on failure.
std::unique_ptr<SourceFile> loadSource(const std::string &path,
                                       DiagnosticEngine &diags);
/// Checks already-loaded text (used by loadSource and the fuzzer).
bool checkText(const SourceFile &file, DiagnosticEngine &diags);

FileAST parseSource(const SourceFile &file, DiagnosticEngine &diags);

std::optional<Graph>
elaborate(const FileAST &ast, DiagnosticEngine &diags,
          const std::map<std::string, std::string> &overrides = {});

} // namespace netc::dsl
