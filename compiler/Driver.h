//===- Driver.h - netc's pipeline behind one entry point --------*- C++ -*-===//
//
// Every front end (the netc tool, tests, a tuner) runs the pipeline through
// these functions: the front end (load, parse, elaborate), MLIRGen and the
// nn passes, and program building. They print diagnostics as a compiler
// does (file:line:col with the line and a caret) to `err` (the dsl's) or
// to stderr (MLIR's), and return the process exit status: 0 on success, 1
// when the model has errors.
//
// This header includes nothing of MLIR or Halide.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/codegen/BuildOptions.h"

#include <map>
#include <ostream>
#include <string>

namespace netc {

/// A model file and the values of its parameters (`-p classes=10`).
struct ModelRequest {
  std::string file;
  std::map<std::string, std::string> params;
};

/// Parses and elaborates; prints nothing when the model is valid.
int check(const ModelRequest &model, std::ostream &err);

/// The layer table (or with `json` one JSON object).
int summarize(const ModelRequest &model, bool json, std::ostream &out,
              std::ostream &err);

/// An intermediate form of the model.
enum class Form {
  Ast,       // the syntax tree
  Nn,        // the nn dialect after shape inference
  Inference, // … after the inference passes (folding, fusion)
  Training,  // … after the training passes (@train appended)
};
int emit(const ModelRequest &model, Form form, bool locations,
         std::ostream &out, std::ostream &err);

/// A standalone program (options.training: a training program).
int build(const ModelRequest &model, codegen::BuildOptions options,
          std::ostream &err);

/// Whether `target` is "host" or a target string Halide accepts.
bool isKnownTarget(const std::string &target);

/// netc's version, as programs and --version print it.
const char *version();

} // namespace netc
