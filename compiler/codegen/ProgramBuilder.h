//===- ProgramBuilder.h - From nn module to standalone program --*- C++ -*-===//
#pragma once

#include "dsl/Graph.h"

#include "mlir/IR/BuiltinOps.h"

#include <ostream>
#include <string>

namespace netc::codegen {

struct BuildOptions {
  std::string output; // the executable to write
  std::string target = "host";
  std::string cacheDir;   // empty: KernelCompiler::defaultCacheDir()
  std::string workDir;    // where main.cpp goes; empty: a temporary folder
  std::string projectDir; // --emit-project: a folder that builds alone
  std::string source;     // the .nn file, for the program's info
  bool verbose = false;   // print the compiler command
};

/// Lowers every op to a kernel (compiling those not in the cache), writes
/// the driver, and links the program. `module` has the inference @forward;
/// `trainModule`, when not null, the @train of a training program
/// (nn-autodiff). Progress and errors go to `log`; returns false on failure.
bool buildProgram(mlir::ModuleOp module, mlir::ModuleOp trainModule,
                  const dsl::Graph &graph, const BuildOptions &options,
                  std::ostream &log);

} // namespace netc::codegen
