//===- NNOps.td - Ops of the nn dialect --------------------*- tablegen -*-===//
//
// Each layer op computes its result shape from its operands and attributes
// (ShapeInferenceOpInterface); a ranked result must match that shape.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_NN_OPS
#define NETC_NN_OPS

include "NNDialect.td"
include "ShapeInferenceInterface.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def ResultMatchesInferredShape
    : NativeOpTrait<"ResultMatchesInferredShape"> {
  let cppNamespace = "::netc::nn";
}

class NN_LayerOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat(traits, [
        Pure, DeclareOpInterfaceMethods<ShapeInferenceOpInterface>,
        ResultMatchesInferredShape])> {
  let results = (outs F32Tensor:$output);
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

def NN_ParamOp : NN_Op<"param", [Pure]> {
  let summary = "A named parameter or buffer tensor of the model";
  let description = [{
    `%w = nn.param "layer1.0.conv1.weight" : tensor<64x64x3x3xf32>`.
    The name is the tensor's key in weight files; `buffer` marks state that is
    not trained by gradient descent (batch-norm running statistics).
  }];
  let arguments = (ins StrAttr:$name, UnitAttr:$buffer);
  let results = (outs F32Tensor:$value);
  let assemblyFormat = "$name attr-dict `:` type($value)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Layers with parameters
//===----------------------------------------------------------------------===//

def NN_Conv2DOp : NN_LayerOp<"conv2d"> {
  let summary = "2-D convolution (NCHW input, OIHW weight, optional bias)";
  let arguments = (ins F32Tensor:$input, F32Tensor:$weight,
                   Optional<F32Tensor>:$bias,
                   DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$pad,
                   DenseI64ArrayAttr:$dilation, I64Attr:$groups);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def NN_DenseOp : NN_LayerOp<"dense"> {
  let summary = "Fully connected layer: y = x W^T + b";
  let arguments = (ins F32Tensor:$input, F32Tensor:$weight,
                   Optional<F32Tensor>:$bias);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def NN_RbfOp : NN_LayerOp<"rbf"> {
  let summary = "Euclidean RBF units: y_i = sum_j (x_j - w_ij)^2";
  let arguments = (ins F32Tensor:$input, F32Tensor:$weight);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def NN_BatchNormOp : NN_LayerOp<"batchnorm"> {
  let summary = "Batch normalization over the channel axis";
  let arguments = (ins F32Tensor:$input, F32Tensor:$weight, F32Tensor:$bias,
                   F32Tensor:$running_mean, F32Tensor:$running_var,
                   F64Attr:$eps, F64Attr:$momentum);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $running_mean `,` $running_var attr-dict
    `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Pooling and normalization
//===----------------------------------------------------------------------===//

def NN_MaxPool2DOp : NN_LayerOp<"maxpool2d"> {
  let summary = "Maximum over each window";
  let arguments = (ins F32Tensor:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$pad,
                   BoolAttr:$ceil_mode);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_AvgPool2DOp : NN_LayerOp<"avgpool2d"> {
  let summary = "Average over each window";
  let arguments = (ins F32Tensor:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$pad,
                   BoolAttr:$ceil_mode, BoolAttr:$count_include_pad);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_GlobalAvgPoolOp : NN_LayerOp<"global_avgpool"> {
  let summary = "Average over height and width, keeping 1x1";
  let arguments = (ins F32Tensor:$input);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_LRNOp : NN_LayerOp<"lrn"> {
  let summary = "Local response normalization across channels";
  let description = [{
    y = x / (k + alpha / size * sum of x^2 over `size` neighbouring
    channels)^beta, as PyTorch's LocalResponseNorm.
  }];
  let arguments = (ins F32Tensor:$input, I64Attr:$size, F64Attr:$alpha,
                   F64Attr:$beta, F64Attr:$k);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_DropoutOp : NN_LayerOp<"dropout"> {
  let summary = "Zeroes elements with probability p in training";
  let arguments = (ins F32Tensor:$input, F64Attr:$p);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Elementwise and structural ops
//===----------------------------------------------------------------------===//

class NN_UnaryOp<string mnemonic, string summaryText>
    : NN_LayerOp<mnemonic> {
  let summary = summaryText;
  let arguments = (ins F32Tensor:$input);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_ReluOp : NN_UnaryOp<"relu", "max(x, 0)">;
def NN_TanhOp : NN_UnaryOp<"tanh", "Hyperbolic tangent">;
def NN_SigmoidOp : NN_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def NN_SoftmaxOp : NN_UnaryOp<"softmax", "Softmax over the channel axis">;
def NN_FlattenOp : NN_UnaryOp<"flatten", "Collapse all but the batch axis">;

def NN_AddOp : NN_LayerOp<"add", [Commutative]> {
  let summary = "Elementwise sum of two tensors of the same shape";
  let arguments = (ins F32Tensor:$lhs, F32Tensor:$rhs);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def NN_ConcatOp : NN_LayerOp<"concat"> {
  let summary = "Concatenation along the channel axis";
  let arguments = (ins Variadic<F32Tensor>:$inputs);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def NN_ChannelPadOp : NN_LayerOp<"channel_pad"> {
  let summary = "Zero channels added before and after";
  let arguments = (ins F32Tensor:$input, I64Attr:$before, I64Attr:$after);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Parameter transforms (computed once, when weights are loaded)
//===----------------------------------------------------------------------===//

def NN_FoldBatchNormWeightOp : NN_LayerOp<"fold_bn_weight"> {
  let summary = "A weight scaled per output channel by a following batch norm";
  let description = [{
    `w'[o, …] = w[o, …] * gamma[o] / sqrt(running_var[o] + eps)`: with it and
    `nn.fold_bn_bias`, a convolution or dense layer followed by batch norm in
    inference becomes one layer. Its operands are parameters, so programs
    compute it once after loading the weights.
  }];
  let arguments = (ins F32Tensor:$weight, F32Tensor:$gamma,
                   F32Tensor:$running_var, F64Attr:$eps);
  let assemblyFormat = [{
    $weight `,` $gamma `,` $running_var attr-dict `:` functional-type(operands, results)
  }];
}

def NN_FoldBatchNormBiasOp : NN_LayerOp<"fold_bn_bias"> {
  let summary = "The bias of a layer with a following batch norm folded in";
  let description = [{
    `b'[o] = (b[o] - running_mean[o]) * gamma[o] / sqrt(running_var[o] + eps)
    + beta[o]`, with `b = 0` when the layer has no bias.
  }];
  let arguments = (ins F32Tensor:$gamma, F32Tensor:$beta,
                   F32Tensor:$running_mean, F32Tensor:$running_var,
                   Optional<F32Tensor>:$bias, F64Attr:$eps);
  let assemblyFormat = [{
    $gamma `,` $beta `,` $running_mean `,` $running_var (`,` $bias^)? attr-dict
    `:` functional-type(operands, results)
  }];
}

include "NNGradOps.td"

#endif // NETC_NN_OPS
