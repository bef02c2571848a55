//===- Passes.td - Passes on the nn dialect ----------------*- tablegen -*-===//
#ifndef NETC_NN_PASSES
#define NETC_NN_PASSES

include "mlir/Pass/PassBase.td"

def NNShapeInference : Pass<"nn-shape-inference", "::mlir::func::FuncOp"> {
  let summary = "Give every nn op result its static per-sample shape";
  let description = [{
    Walks the function in order and replaces each unranked result type with
    the shape its op computes from operand shapes and attributes (the batch
    dimension stays dynamic), then updates the function's result types.
    Fails with the op's diagnostic when operands do not fit.
  }];
}

#endif // NETC_NN_PASSES
