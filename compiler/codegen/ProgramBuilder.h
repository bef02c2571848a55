//===- ProgramBuilder.h - From nn module to standalone program --*- C++ -*-===//
#pragma once

#include "compiler/codegen/BuildOptions.h"
#include "dsl/Graph.h"

#include "mlir/IR/BuiltinOps.h"

#include <ostream>

namespace netc::codegen {

/// Lowers every op to a kernel (compiling those not in the cache), writes
/// the driver, and links the program. `module` has the inference @forward;
/// `trainModule`, when not null, the @train of a training program
/// (nn-autodiff). Progress and errors go to `log`; returns false on failure.
bool buildProgram(mlir::ModuleOp module, mlir::ModuleOp trainModule,
                  const dsl::Graph &graph, const BuildOptions &options,
                  std::ostream &log);

} // namespace netc::codegen
