//===- ShapeInferenceInterface.td - Result shapes from operands -*- tablegen -*-===//
#ifndef NETC_SHAPE_INFERENCE_INTERFACE
#define NETC_SHAPE_INFERENCE_INTERFACE

include "mlir/IR/OpBase.td"

def ShapeInferenceOpInterface : OpInterface<"ShapeInference"> {
  let cppNamespace = "::netc::nn";
  let description = [{
    Ops whose result shape follows from their operand shapes and attributes.
    The shape inference pass calls `inferShapes` on ops whose result is still
    unranked; the verifier checks ranked results against the same rule.
  }];
  let methods = [
    InterfaceMethod<"Computes the result shape (batch first, dynamic); "
                    "emits an error and fails if the operands do not fit.",
                    "::mlir::FailureOr<::llvm::SmallVector<int64_t>>",
                    "inferResultShape">,
  ];
}

#endif // NETC_SHAPE_INFERENCE_INTERFACE
