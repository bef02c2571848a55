//===- ShapeInference.cpp - Static shapes for every nn op -----------------===//

#include "compiler/dialect/NNOps.h"
#include "compiler/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

namespace netc::nn {
#define GEN_PASS_DEF_NNSHAPEINFERENCE
#include "compiler/passes/Passes.h.inc"
} // namespace netc::nn

using namespace mlir;

namespace {

struct ShapeInferencePass
    : netc::nn::impl::NNShapeInferenceBase<ShapeInferencePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // Ops are in topological order within the body, so one walk suffices.
    WalkResult result = func.walk([](netc::nn::ShapeInference op) {
      Value output = op->getResult(0);
      if (isa<RankedTensorType>(output.getType()))
        return WalkResult::advance();
      FailureOr<SmallVector<int64_t>> shape = op.inferResultShape();
      if (failed(shape))
        return WalkResult::interrupt();
      auto element = cast<TensorType>(output.getType()).getElementType();
      output.setType(RankedTensorType::get(*shape, element));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();

    // The function's result types follow what it returns.
    if (func.getBody().empty())
      return;
    Operation *terminator = func.getBody().back().getTerminator();
    func.setType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                   terminator->getOperandTypes()));
  }
};

} // namespace
