//===- NNGradOps.td - Training ops of the nn dialect -------*- tablegen -*-===//
//
// What the autodiff pass (nn-autodiff) emits: batch statistics, losses, and
// one vector-Jacobian product per forward op and operand. `grad` is always
// the gradient of the loss with respect to the forward op's result.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_NN_GRAD_OPS
#define NETC_NN_GRAD_OPS

//===----------------------------------------------------------------------===//
// Batch statistics and losses
//===----------------------------------------------------------------------===//

def NN_BatchMeanOp : NN_LayerOp<"batch_mean"> {
  let summary = "Mean of each channel over the batch (and height, width)";
  let arguments = (ins F32Tensor:$input);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_BatchVarOp : NN_LayerOp<"batch_var"> {
  let summary = "Biased variance of each channel over the batch";
  let arguments = (ins F32Tensor:$input, F32Tensor:$mean);
  let assemblyFormat = "$input `,` $mean attr-dict `:` functional-type(operands, results)";
}

def NN_SoftmaxCrossEntropyOp : NN_LayerOp<"softmax_cross_entropy"> {
  let summary = "Per-sample softmax cross-entropy of scores [N, K] and labels [N]";
  let description = [{
    `loss[n] = logsumexp(s[n, :]) - s[n, label[n]]` with `s = scores`, or
    `s = -scores` with `negate` (distances of an RBF layer). Labels are
    class indices stored as floats.
  }];
  let arguments = (ins F32Tensor:$scores, F32Tensor:$labels, BoolAttr:$negate);
  let assemblyFormat = [{
    $scores `,` $labels attr-dict `:` functional-type(operands, results)
  }];
}

def NN_SoftmaxCrossEntropyGradOp : NN_LayerOp<"softmax_cross_entropy_grad"> {
  let summary = "Gradient of the batch-mean cross-entropy, times `weight`";
  let description = [{
    `(softmax(s) - onehot(label)) * weight / N`, negated with `negate`.
  }];
  let arguments = (ins F32Tensor:$scores, F32Tensor:$labels, BoolAttr:$negate,
                   F64Attr:$weight);
  let assemblyFormat = [{
    $scores `,` $labels attr-dict `:` functional-type(operands, results)
  }];
}

def NN_DropoutTrainOp : NN_LayerOp<"dropout_train"> {
  let summary = "Dropout in training: a counter-based mask, scaled by 1/(1-p)";
  let description = [{
    Keeps element i when hash(seed, step, salt, i) >= p 2^32, where `rng`
    holds the run's seed, the step and the index in the whole batch of this
    batch's first sample (floats below 2^24; i counts from that sample, so
    that a batch split over processes draws the masks of the whole), and
    `salt` tells the dropout layers of a model apart. The mask is a function of these
    alone, so the backward pass recomputes it: the gradient of
    `dropout_train(x)` is `dropout_train(grad)` with the same operands.
  }];
  let arguments = (ins F32Tensor:$input, F32Tensor:$rng, F64Attr:$p,
                   I64Attr:$salt);
  let assemblyFormat = [{
    $input `,` $rng attr-dict `:` functional-type(operands, results)
  }];
}

def NN_MseLossOp : NN_LayerOp<"mse_loss"> {
  let summary = "Per-sample mean squared error of outputs [N, K] to one-hot labels";
  let description = [{
    `loss[n] = mean over k of (x[n, k] - onehot(label[n])[k])^2`: PyTorch's
    MSELoss against one-hot targets, per sample.
  }];
  let arguments = (ins F32Tensor:$scores, F32Tensor:$labels);
  let assemblyFormat = [{
    $scores `,` $labels attr-dict `:` functional-type(operands, results)
  }];
}

def NN_MseLossGradOp : NN_LayerOp<"mse_loss_grad"> {
  let summary = "Gradient of the batch-mean squared error, times `weight`";
  let description = [{ `2 (x - onehot(label)) * weight / (N K)`. }];
  let arguments = (ins F32Tensor:$scores, F32Tensor:$labels, F64Attr:$weight);
  let assemblyFormat = [{
    $scores `,` $labels attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Layers with parameters
//===----------------------------------------------------------------------===//

def NN_Conv2DGradInputOp : NN_LayerOp<"conv2d_grad_input"> {
  let summary = "Gradient of conv2d with respect to its input";
  let description = [{
    The transposed convolution of `grad` with the weight; `input_shape` is
    the forward input's [C, H, W], which stride cannot recover.
  }];
  let arguments = (ins F32Tensor:$grad, F32Tensor:$weight,
                   DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$pad,
                   DenseI64ArrayAttr:$dilation, I64Attr:$groups,
                   DenseI64ArrayAttr:$input_shape);
  let assemblyFormat = [{
    $grad `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def NN_Conv2DGradWeightOp : NN_LayerOp<"conv2d_grad_weight"> {
  let summary = "Gradient of conv2d with respect to its weight";
  let description = [{
    `dw[o, i, ky, kx] = sum over n, y, x of grad[n, o, y, x] *
    input[n, g*I + i, y*sy + ky*dy - pt, x*sx + kx*dx - pl]` (zero outside).
  }];
  let arguments = (ins F32Tensor:$grad, F32Tensor:$input,
                   DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$pad,
                   DenseI64ArrayAttr:$dilation, I64Attr:$groups,
                   DenseI64ArrayAttr:$kernel);
  let assemblyFormat = [{
    $grad `,` $input attr-dict `:` functional-type(operands, results)
  }];
}

def NN_BiasGradOp : NN_LayerOp<"bias_grad"> {
  let summary = "Sum of the gradient over all axes but channels";
  let arguments = (ins F32Tensor:$grad);
  let assemblyFormat = "$grad attr-dict `:` functional-type(operands, results)";
}

def NN_DenseGradInputOp : NN_LayerOp<"dense_grad_input"> {
  let summary = "grad W: gradient of dense with respect to its input";
  let arguments = (ins F32Tensor:$grad, F32Tensor:$weight);
  let assemblyFormat = "$grad `,` $weight attr-dict `:` functional-type(operands, results)";
}

def NN_DenseGradWeightOp : NN_LayerOp<"dense_grad_weight"> {
  let summary = "grad^T x: gradient of dense with respect to its weight";
  let arguments = (ins F32Tensor:$grad, F32Tensor:$input);
  let assemblyFormat = "$grad `,` $input attr-dict `:` functional-type(operands, results)";
}

def NN_RbfGradInputOp : NN_LayerOp<"rbf_grad_input"> {
  let summary = "dx[n, j] = sum_k grad[n, k] * 2 (x[n, j] - w[k, j])";
  let arguments = (ins F32Tensor:$grad, F32Tensor:$input, F32Tensor:$weight);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def NN_RbfGradWeightOp : NN_LayerOp<"rbf_grad_weight"> {
  let summary = "dw[k, j] = sum_n grad[n, k] * 2 (w[k, j] - x[n, j])";
  let arguments = (ins F32Tensor:$grad, F32Tensor:$input, F32Tensor:$weight);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def NN_BatchNormGradInputOp : NN_LayerOp<"batchnorm_grad_input"> {
  let summary = "Gradient of training-mode batch norm with respect to its input";
  let description = [{
    With x^ = (x - mean) / sqrt(var + eps), the batch statistics' own
    dependence on x included: `dx = weight / sqrt(var + eps) * (grad -
    mean_c(grad) - x^ * mean_c(grad * x^))`, where the channel sums of
    grad and grad * x^ are the operands `grad_sum` (nn.bias_grad) and
    `grad_xhat_sum` (nn.batchnorm_grad_weight).
  }];
  let arguments = (ins F32Tensor:$grad, F32Tensor:$input, F32Tensor:$weight,
                   F32Tensor:$mean, F32Tensor:$var, F32Tensor:$grad_sum,
                   F32Tensor:$grad_xhat_sum, F64Attr:$eps);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight `,` $mean `,` $var `,` $grad_sum `,`
    $grad_xhat_sum attr-dict `:` functional-type(operands, results)
  }];
}

def NN_BatchNormGradWeightOp : NN_LayerOp<"batchnorm_grad_weight"> {
  let summary = "sum of grad * x^ per channel: the gradient of batch norm's scale";
  let arguments = (ins F32Tensor:$grad, F32Tensor:$input, F32Tensor:$mean,
                   F32Tensor:$var, F64Attr:$eps);
  let assemblyFormat = [{
    $grad `,` $input `,` $mean `,` $var attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

def NN_MaxPool2DGradOp : NN_LayerOp<"maxpool2d_grad"> {
  let summary = "Routes each window's gradient to its (first) maximum";
  let arguments = (ins F32Tensor:$grad, F32Tensor:$input,
                   DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                   DenseI64ArrayAttr:$pad, BoolAttr:$ceil_mode);
  let assemblyFormat = [{
    $grad `,` $input attr-dict `:` functional-type(operands, results)
  }];
}

def NN_AvgPool2DGradOp : NN_LayerOp<"avgpool2d_grad"> {
  let summary = "Spreads each window's gradient evenly over it";
  let arguments = (ins F32Tensor:$grad, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$pad,
                   BoolAttr:$ceil_mode, BoolAttr:$count_include_pad,
                   DenseI64ArrayAttr:$input_shape);
  let assemblyFormat = "$grad attr-dict `:` functional-type(operands, results)";
}

def NN_GlobalAvgPoolGradOp : NN_LayerOp<"global_avgpool_grad"> {
  let summary = "grad / (H W) at every position";
  let arguments = (ins F32Tensor:$grad, DenseI64ArrayAttr:$input_shape);
  let assemblyFormat = "$grad attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Elementwise and structural
//===----------------------------------------------------------------------===//

class NN_ActivationGradOp<string mnemonic, string summaryText>
    : NN_LayerOp<mnemonic> {
  let summary = summaryText;
  let description = [{ `forward` is the forward op's result. }];
  let arguments = (ins F32Tensor:$grad, F32Tensor:$forward);
  let assemblyFormat = [{
    $grad `,` $forward attr-dict `:` functional-type(operands, results)
  }];
}

def NN_ReluGradOp : NN_ActivationGradOp<"relu_grad", "grad where output > 0">;
def NN_TanhGradOp : NN_ActivationGradOp<"tanh_grad", "grad * (1 - output^2)">;
def NN_SigmoidGradOp
    : NN_ActivationGradOp<"sigmoid_grad", "grad * output * (1 - output)">;
def NN_SoftmaxGradOp : NN_ActivationGradOp<
    "softmax_grad", "output * (grad - sum over channels of grad * output)">;

def NN_LRNGradOp : NN_LayerOp<"lrn_grad"> {
  let summary = "Gradient of local response normalization";
  let description = [{
    With d_c = k + alpha / size * (sum of x^2 over c's window):
    `dx_c = grad_c d_c^-beta - 2 alpha beta / size * x_c * (sum over the
    channels j whose window holds c of grad_j x_j d_j^(-beta-1))`.
  }];
  let arguments = (ins F32Tensor:$grad, F32Tensor:$input, I64Attr:$size,
                   F64Attr:$alpha, F64Attr:$beta, F64Attr:$k);
  let assemblyFormat = [{
    $grad `,` $input attr-dict `:` functional-type(operands, results)
  }];
}

def NN_ChannelSliceOp : NN_LayerOp<"channel_slice"> {
  let summary = "Channels [begin, begin + size) of the input";
  let arguments = (ins F32Tensor:$input, I64Attr:$begin, I64Attr:$size);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_ReshapeOp : NN_LayerOp<"reshape"> {
  let summary = "The same elements with another per-sample shape";
  let arguments = (ins F32Tensor:$input, DenseI64ArrayAttr:$shape);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

#endif // NETC_NN_GRAD_OPS
