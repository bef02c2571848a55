//===- ShapeChecks.h - Operand checks shared by the shape rules -*- C++ -*-===//
#pragma once

#include "mlir/IR/Operation.h"

#include <string>

namespace netc::nn::detail {

/// "[?, 3, 32, 32]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// The operand's shape with the given rank (any rank when negative), static
/// but for the batch dimension, or an error naming it as `what`.
mlir::FailureOr<llvm::ArrayRef<int64_t>> operandShape(mlir::Operation *op,
                                                      mlir::Value value,
                                                      int64_t rank,
                                                      llvm::StringRef what);

/// A parameter-like operand: fully static with exactly `expected` shape.
mlir::LogicalResult expectParam(mlir::Operation *op, mlir::Value value,
                                llvm::ArrayRef<int64_t> expected,
                                llvm::StringRef what);

/// An attribute list of `size` values, each at least `minimum`.
mlir::LogicalResult checkPairs(mlir::Operation *op,
                               llvm::ArrayRef<int64_t> values, size_t size,
                               llvm::StringRef name, int64_t minimum);

} // namespace netc::nn::detail
