//===- Passes.h - Passes on the nn dialect ----------------------*- C++ -*-===//
#pragma once

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace netc::nn {

#define GEN_PASS_DECL
#include "compiler/passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/passes/Passes.h.inc"

/// What an inference program is compiled from: shapes inferred, dropout
/// removed, batch norm folded, epilogues grouped with their layers.
void buildInferencePipeline(mlir::OpPassManager &pm);

/// What a training program is compiled from: shapes inferred, the backward
/// graph appended (@train), common subexpressions merged.
void buildTrainingPipeline(mlir::OpPassManager &pm);

/// Registers them as `--nn-inference` and `--nn-training` for netc-opt.
void registerPipelines();

} // namespace netc::nn
