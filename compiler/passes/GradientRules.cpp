//===- GradientRules.cpp - One vector-Jacobian product per nn op ----------===//

#include "compiler/passes/GradientRules.h"

#include "compiler/dialect/NNOps.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace netc::nn {

namespace {

/// [C, H, W] of an NCHW value.
SmallVector<int64_t> perSample(Value value) {
  auto shape = cast<RankedTensorType>(value.getType()).getShape();
  return SmallVector<int64_t>(shape.drop_front());
}

} // namespace

bool isGradientStop(Operation *op) { return isa<BatchMeanOp, BatchVarOp>(op); }

FailureOr<SmallVector<Value>> emitGradients(OpBuilder &b, Operation *op,
                                            Value grad, ArrayRef<bool> want) {
  Location loc = op->getLoc();
  SmallVector<Value> out(op->getNumOperands());
  auto typeOf = [&](unsigned i) { return op->getOperand(i).getType(); };

  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    // dx: the transposed convolution; dw: input (x) grad correlation.
    if (want[0])
      out[0] = b.create<Conv2DGradInputOp>(
          loc, typeOf(0), grad, conv.getWeight(), conv.getStrideAttr(),
          conv.getPadAttr(), conv.getDilationAttr(), conv.getGroupsAttr(),
          b.getDenseI64ArrayAttr(perSample(conv.getInput())));
    if (want[1]) {
      auto w = cast<RankedTensorType>(typeOf(1)).getShape();
      out[1] = b.create<Conv2DGradWeightOp>(
          loc, typeOf(1), grad, conv.getInput(), conv.getStrideAttr(),
          conv.getPadAttr(), conv.getDilationAttr(), conv.getGroupsAttr(),
          b.getDenseI64ArrayAttr({w[2], w[3]}));
    }
    if (op->getNumOperands() > 2 && want[2])
      out[2] = b.create<BiasGradOp>(loc, typeOf(2), grad);
    return out;
  }
  if (auto dense = dyn_cast<DenseOp>(op)) {
    if (want[0])
      out[0] =
          b.create<DenseGradInputOp>(loc, typeOf(0), grad, dense.getWeight());
    if (want[1])
      out[1] =
          b.create<DenseGradWeightOp>(loc, typeOf(1), grad, dense.getInput());
    if (op->getNumOperands() > 2 && want[2])
      out[2] = b.create<BiasGradOp>(loc, typeOf(2), grad);
    return out;
  }
  if (auto rbf = dyn_cast<RbfOp>(op)) {
    if (want[0])
      out[0] = b.create<RbfGradInputOp>(loc, typeOf(0), grad, rbf.getInput(),
                                        rbf.getWeight());
    if (want[1])
      out[1] = b.create<RbfGradWeightOp>(loc, typeOf(1), grad, rbf.getInput(),
                                         rbf.getWeight());
    return out;
  }
  if (auto bn = dyn_cast<BatchNormOp>(op)) {
    // Training mode: operands 3 and 4 are the batch's own statistics. The
    // input's gradient needs the other two's channel sums (CSE merges them
    // with the parameters' gradients).
    Value gradSum, gradXhatSum;
    if (want[0] || want[1])
      gradXhatSum = b.create<BatchNormGradWeightOp>(
          loc, typeOf(1), grad, bn.getInput(), bn.getRunningMean(),
          bn.getRunningVar(), bn.getEpsAttr());
    if (want[0] || want[2])
      gradSum = b.create<BiasGradOp>(loc, typeOf(2), grad);
    if (want[0])
      out[0] = b.create<BatchNormGradInputOp>(
          loc, typeOf(0), grad, bn.getInput(), bn.getWeight(),
          bn.getRunningMean(), bn.getRunningVar(), gradSum, gradXhatSum,
          bn.getEpsAttr());
    if (want[1])
      out[1] = gradXhatSum;
    if (want[2])
      out[2] = gradSum;
    return out;
  }
  if (auto pool = dyn_cast<MaxPool2DOp>(op)) {
    if (want[0])
      out[0] = b.create<MaxPool2DGradOp>(
          loc, typeOf(0), grad, pool.getInput(), pool.getKernelAttr(),
          pool.getStrideAttr(), pool.getPadAttr(), pool.getCeilModeAttr());
    return out;
  }
  if (auto pool = dyn_cast<AvgPool2DOp>(op)) {
    if (want[0])
      out[0] = b.create<AvgPool2DGradOp>(
          loc, typeOf(0), grad, pool.getKernelAttr(), pool.getStrideAttr(),
          pool.getPadAttr(), pool.getCeilModeAttr(),
          pool.getCountIncludePadAttr(),
          b.getDenseI64ArrayAttr(perSample(pool.getInput())));
    return out;
  }
  if (auto pool = dyn_cast<GlobalAvgPoolOp>(op)) {
    if (want[0])
      out[0] = b.create<GlobalAvgPoolGradOp>(
          loc, typeOf(0), grad,
          b.getDenseI64ArrayAttr(perSample(pool.getInput())));
    return out;
  }
  if (auto drop = dyn_cast<DropoutTrainOp>(op)) {
    // The same mask, recomputed from the same seed, step and salt.
    if (want[0])
      out[0] = b.create<DropoutTrainOp>(loc, typeOf(0), grad, drop.getRng(),
                                        drop.getPAttr(), drop.getSaltAttr());
    return out;
  }
  if (auto lrn = dyn_cast<LRNOp>(op)) {
    if (want[0])
      out[0] = b.create<LRNGradOp>(loc, typeOf(0), grad, lrn.getInput(),
                                   lrn.getSizeAttr(), lrn.getAlphaAttr(),
                                   lrn.getBetaAttr(), lrn.getKAttr());
    return out;
  }
  Value result = op->getResult(0);
  if (isa<ReluOp>(op)) {
    if (want[0])
      out[0] = b.create<ReluGradOp>(loc, typeOf(0), grad, result);
    return out;
  }
  if (isa<TanhOp>(op)) {
    if (want[0])
      out[0] = b.create<TanhGradOp>(loc, typeOf(0), grad, result);
    return out;
  }
  if (isa<SigmoidOp>(op)) {
    if (want[0])
      out[0] = b.create<SigmoidGradOp>(loc, typeOf(0), grad, result);
    return out;
  }
  if (isa<SoftmaxOp>(op)) {
    if (want[0])
      out[0] = b.create<SoftmaxGradOp>(loc, typeOf(0), grad, result);
    return out;
  }
  if (isa<FlattenOp>(op)) {
    if (want[0])
      out[0] = b.create<ReshapeOp>(
          loc, typeOf(0), grad,
          b.getDenseI64ArrayAttr(perSample(op->getOperand(0))));
    return out;
  }
  if (isa<AddOp>(op)) {
    for (unsigned i = 0; i < 2; ++i)
      if (want[i])
        out[i] = grad;
    return out;
  }
  if (auto concat = dyn_cast<ConcatOp>(op)) {
    int64_t begin = 0;
    for (unsigned i = 0; i < op->getNumOperands(); ++i) {
      int64_t size = perSample(op->getOperand(i))[0];
      if (want[i])
        out[i] = b.create<ChannelSliceOp>(loc, typeOf(i), grad,
                                          b.getI64IntegerAttr(begin),
                                          b.getI64IntegerAttr(size));
      begin += size;
    }
    return out;
  }
  if (auto pad = dyn_cast<ChannelPadOp>(op)) {
    if (want[0])
      out[0] = b.create<ChannelSliceOp>(
          loc, typeOf(0), grad, pad.getBeforeAttr(),
          b.getI64IntegerAttr(perSample(pad.getInput())[0]));
    return out;
  }
  return op->emitOpError("has no gradient rule yet: netc cannot train "
                         "through it");
}

} // namespace netc::nn
