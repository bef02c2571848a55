//===- MLIRGen.h - Elaborated graph to the nn dialect -----------*- C++ -*-===//
#pragma once

#include "dsl/Graph.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace netc {

/// Registers the dialects netc's modules use (nn, func).
void registerDialects(mlir::MLIRContext &context);

/// Builds `func.func @forward` with one nn op per graph node. Results are
/// left unranked, as a front end would, for the shape inference pass.
/// With `inference`, auxiliary outputs (training-only heads) are left out.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context,
                                          const dsl::Graph &graph,
                                          bool inference = false);

/// mlirGen followed by shape inference and verification. Returns null after
/// printing MLIR's diagnostics.
mlir::OwningOpRef<mlir::ModuleOp> buildShapedModule(mlir::MLIRContext &context,
                                                    const dsl::Graph &graph,
                                                    bool inference = false);

} // namespace netc
