//===- GradientRules.h - One vector-Jacobian product per nn op --*- C++ -*-===//
//
// The autodiff pass walks the forward graph backwards and asks each op for
// the gradients of its operands given the gradient of its result. The rules
// are listed in docs/training.md.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

namespace netc::nn {

/// Emits, at the builder's insertion point, the gradient of each operand `i`
/// of `op` with `wanted[i]` set, given `grad` (the loss's gradient with
/// respect to `op`'s result). Operands not wanted get a null Value. Fails
/// with an error on `op` when it has no rule.
mlir::FailureOr<llvm::SmallVector<mlir::Value>>
emitGradients(mlir::OpBuilder &builder, mlir::Operation *op, mlir::Value grad,
              llvm::ArrayRef<bool> wanted);

/// Ops whose operands never receive gradients through them (batch
/// statistics: batch norm's own rule accounts for them).
bool isGradientStop(mlir::Operation *op);

} // namespace netc::nn
