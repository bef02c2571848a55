//===- NNOps.h - Ops of the nn dialect --------------------------*- C++ -*-===//
#pragma once

#include "compiler/dialect/NNDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "compiler/dialect/ShapeInferenceInterface.h.inc"

namespace netc::nn {

/// Verifies that a ranked result has the shape the op's rule computes.
mlir::LogicalResult verifyInferredShape(mlir::Operation *op);

template <typename ConcreteType>
class ResultMatchesInferredShape
    : public mlir::OpTrait::TraitBase<ConcreteType,
                                      ResultMatchesInferredShape> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return verifyInferredShape(op);
  }
};

} // namespace netc::nn

#define GET_OP_CLASSES
#include "compiler/dialect/NNOps.h.inc"
