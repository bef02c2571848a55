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

def NNRemoveDropout : Pass<"nn-remove-dropout", "::mlir::func::FuncOp"> {
  let summary = "Inference: dropout is the identity";
  let description = [{
    Replaces every `nn.dropout` by its input.
  }];
}

def NNFoldBatchNorm : Pass<"nn-fold-batchnorm", "::mlir::func::FuncOp"> {
  let summary = "Inference: fold batch norm into the convolution or dense layer before it";
  let description = [{
    `nn.batchnorm` whose input is a single-use `nn.conv2d` or `nn.dense`
    becomes part of that layer: its weight and bias are replaced by
    `nn.fold_bn_weight` and `nn.fold_bn_bias` of the parameters, which
    programs compute once when they load the weights.
  }];
}

def NNFuseEpilogues : Pass<"nn-fuse-epilogues", "::mlir::func::FuncOp"> {
  let summary = "Group each convolution or dense layer with the elementwise ops after it";
  let description = [{
    Starting at each `nn.conv2d` or `nn.dense`, follows single uses through
    `nn.relu`, `nn.tanh`, `nn.sigmoid`, `nn.batchnorm` and `nn.add` (a
    residual sum) and marks the chain with a common `nn.group` attribute.
    Code generation makes one kernel of each group: the intermediate tensors
    never reach memory.
  }];
}

#endif // NETC_NN_PASSES
