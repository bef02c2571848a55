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

def NNSubsampleStridedPointwise
    : Pass<"nn-subsample-strided-pointwise", "::mlir::func::FuncOp"> {
  let summary = "Inference: a strided 1x1 convolution reads a subsampled input";
  let description = [{
    An `nn.conv2d` with a 1x1 kernel, a stride above 1 and no padding
    reads every s-th pixel of every s-th row: it becomes an
    `nn.maxpool2d` over 1x1 windows at that stride (which picks them)
    followed by the same convolution at stride 1, whose smaller plane is
    contiguous and can be computed as a matrix product.
  }];
}

def NNFuseEpilogues : Pass<"nn-fuse-epilogues", "::mlir::func::FuncOp"> {
  let summary = "Group each convolution or dense layer with the elementwise ops after it";
  let description = [{
    Starting at each `nn.conv2d`, `nn.dense` or `nn.conv2d_grad_input`,
    follows single uses through `nn.relu`, `nn.tanh`, `nn.sigmoid`,
    `nn.batchnorm`, `nn.add` (a residual sum) and the activations'
    gradients (`nn.relu_grad`, …, applied to the chain's gradient) and marks
    the chain with a common `nn.group` attribute.
    Code generation makes one kernel of each group: the intermediate tensors
    never reach memory. With `elementwise-roots` (training, where a layer's
    result feeds the batch statistics and the backward pass too), chains
    may also start at `nn.batchnorm` and `nn.add`.
  }];
  let options = [
    Option<"elementwiseRoots", "elementwise-roots", "bool", "false",
           "Also start groups at batchnorm and add">,
  ];
}

def NNAutodiff : Pass<"nn-autodiff", "::mlir::ModuleOp"> {
  let summary = "Append the backward graph: a @train function from @forward";
  let description = [{
    Copies `@forward` into `@train` with batch norm in training mode (batch
    statistics), adds one label argument (class indices, `tensor<?xf32>`) per
    result of `@forward` marked `nn.loss = "cross_entropy"` (weight
    `nn.loss_weight`, negated scores with `nn.loss_negate`), and appends the
    losses and, walking the graph backwards, one vector-Jacobian product per
    op. Gradients are computed only where they reach a trained parameter:
    none for buffers or parameters whose name starts with a prefix in the
    module's `nn.freeze`, and nothing below the lowest trained layer.
    `@train` returns, as its `nn.results` attribute lists: each loss term's
    per-sample loss (`loss:NAME`), the first loss term's scores
    (`scores:NAME`), each trained parameter's gradient (`grad:PARAM`) and
    each batch norm's batch mean and variance (`mean:BUFFER`, `var:BUFFER`,
    named by the running statistic they update).
  }];
}

#endif // NETC_NN_PASSES
