//===- NNGradOps.cpp - Shape rules of the training ops --------------------===//
//
// A gradient has the shape of what it is the gradient of; batch statistics
// and parameter gradients have no batch dimension.
//
//===----------------------------------------------------------------------===//

#include "compiler/dialect/NNOps.h"
#include "compiler/dialect/ShapeChecks.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace netc::nn;
using namespace netc::nn::detail;

using Shape = llvm::SmallVector<int64_t>;

namespace {

/// [N, …] of `batchFrom` with the per-sample shape `perSample`.
FailureOr<Shape> batchedLike(Operation *op, Value batchFrom,
                             ArrayRef<int64_t> perSample) {
  auto in = operandShape(op, batchFrom, -1, "grad");
  if (failed(in))
    return failure();
  Shape shape = {(*in)[0]};
  shape.append(perSample.begin(), perSample.end());
  return shape;
}

FailureOr<Shape> sameAs(Operation *op, Value value, StringRef what,
                        int64_t rank = -1) {
  auto in = operandShape(op, value, rank, what);
  if (failed(in))
    return failure();
  return Shape(in->begin(), in->end());
}

/// The channel count of an [N, C, …] operand.
FailureOr<int64_t> channelsOf(Operation *op, Value value, StringRef what) {
  auto in = operandShape(op, value, -1, what);
  if (failed(in))
    return failure();
  if (in->size() < 2)
    return op->emitOpError() << what << " needs a channel axis";
  return (*in)[1];
}

/// [N, K] scores with [N] labels.
LogicalResult checkLoss(Operation *op, Value scores, Value labels) {
  auto s = operandShape(op, scores, 2, "scores");
  auto l = operandShape(op, labels, 1, "labels");
  if (failed(s) || failed(l))
    return failure();
  return success();
}

} // namespace

FailureOr<Shape> BatchMeanOp::inferResultShape() {
  FailureOr<int64_t> c = channelsOf(*this, getInput(), "input");
  if (failed(c))
    return failure();
  return Shape{*c};
}

FailureOr<Shape> BatchVarOp::inferResultShape() {
  FailureOr<int64_t> c = channelsOf(*this, getInput(), "input");
  if (failed(c) || failed(expectParam(*this, getMean(), {*c}, "mean")))
    return failure();
  return Shape{*c};
}

FailureOr<Shape> SoftmaxCrossEntropyOp::inferResultShape() {
  if (failed(checkLoss(*this, getScores(), getLabels())))
    return failure();
  return Shape{cast<RankedTensorType>(getScores().getType()).getShape()[0]};
}

FailureOr<Shape> SoftmaxCrossEntropyGradOp::inferResultShape() {
  if (failed(checkLoss(*this, getScores(), getLabels())))
    return failure();
  return sameAs(*this, getScores(), "scores");
}

FailureOr<Shape> MseLossOp::inferResultShape() {
  if (failed(checkLoss(*this, getScores(), getLabels())))
    return failure();
  return Shape{cast<RankedTensorType>(getScores().getType()).getShape()[0]};
}

FailureOr<Shape> MseLossGradOp::inferResultShape() {
  if (failed(checkLoss(*this, getScores(), getLabels())))
    return failure();
  return sameAs(*this, getScores(), "scores");
}

FailureOr<Shape> Conv2DGradInputOp::inferResultShape() {
  auto w = dyn_cast<RankedTensorType>(getWeight().getType());
  if (!w || w.getRank() != 4 || !w.hasStaticShape())
    return emitOpError(
        "weight must be a static [out, in/groups, kh, kw] tensor");
  ArrayRef<int64_t> in = getInputShape();
  if (in.size() != 3 || in[0] != w.getShape()[1] * int64_t(getGroups()))
    return emitOpError("input_shape must be [C, H, W] with C = ")
           << w.getShape()[1] * int64_t(getGroups());
  if (failed(operandShape(*this, getGrad(), 4, "grad")))
    return failure();
  return batchedLike(*this, getGrad(), in);
}

FailureOr<Shape> Conv2DGradWeightOp::inferResultShape() {
  auto g = operandShape(*this, getGrad(), 4, "grad");
  auto in = operandShape(*this, getInput(), 4, "input");
  if (failed(g) || failed(in))
    return failure();
  if (failed(checkPairs(*this, getKernel(), 2, "kernel", 1)))
    return failure();
  int64_t groups = getGroups();
  if (groups < 1 || (*in)[1] % groups || (*g)[1] % groups)
    return emitOpError("groups must divide the channels");
  return Shape{(*g)[1], (*in)[1] / groups, getKernel()[0], getKernel()[1]};
}

FailureOr<Shape> BiasGradOp::inferResultShape() {
  FailureOr<int64_t> c = channelsOf(*this, getGrad(), "grad");
  if (failed(c))
    return failure();
  return Shape{*c};
}

FailureOr<Shape> DenseGradInputOp::inferResultShape() {
  auto w = dyn_cast<RankedTensorType>(getWeight().getType());
  if (!w || w.getRank() != 2 || !w.hasStaticShape())
    return emitOpError("weight must be a static [out, in] tensor");
  if (failed(operandShape(*this, getGrad(), 2, "grad")))
    return failure();
  return batchedLike(*this, getGrad(), {w.getShape()[1]});
}

FailureOr<Shape> DenseGradWeightOp::inferResultShape() {
  auto g = operandShape(*this, getGrad(), 2, "grad");
  auto in = operandShape(*this, getInput(), 2, "input");
  if (failed(g) || failed(in))
    return failure();
  return Shape{(*g)[1], (*in)[1]};
}

FailureOr<Shape> RbfGradInputOp::inferResultShape() {
  return sameAs(*this, getInput(), "input", 2);
}

FailureOr<Shape> RbfGradWeightOp::inferResultShape() {
  return sameAs(*this, getWeight(), "weight", 2);
}

FailureOr<Shape> BatchNormGradInputOp::inferResultShape() {
  return sameAs(*this, getInput(), "input");
}

FailureOr<Shape> BatchNormGradWeightOp::inferResultShape() {
  FailureOr<int64_t> c = channelsOf(*this, getInput(), "input");
  if (failed(c))
    return failure();
  return Shape{*c};
}

FailureOr<Shape> MaxPool2DGradOp::inferResultShape() {
  if (failed(operandShape(*this, getGrad(), 4, "grad")))
    return failure();
  return sameAs(*this, getInput(), "input", 4);
}

FailureOr<Shape> AvgPool2DGradOp::inferResultShape() {
  if (failed(operandShape(*this, getGrad(), 4, "grad")))
    return failure();
  if (getInputShape().size() != 3)
    return emitOpError("input_shape must be [C, H, W]");
  return batchedLike(*this, getGrad(), getInputShape());
}

FailureOr<Shape> GlobalAvgPoolGradOp::inferResultShape() {
  if (failed(operandShape(*this, getGrad(), 4, "grad")))
    return failure();
  if (getInputShape().size() != 3)
    return emitOpError("input_shape must be [C, H, W]");
  return batchedLike(*this, getGrad(), getInputShape());
}

FailureOr<Shape> ReluGradOp::inferResultShape() {
  return sameAs(*this, getGrad(), "grad");
}
FailureOr<Shape> TanhGradOp::inferResultShape() {
  return sameAs(*this, getGrad(), "grad");
}
FailureOr<Shape> SigmoidGradOp::inferResultShape() {
  return sameAs(*this, getGrad(), "grad");
}
FailureOr<Shape> SoftmaxGradOp::inferResultShape() {
  return sameAs(*this, getGrad(), "grad");
}

FailureOr<Shape> ChannelSliceOp::inferResultShape() {
  auto in = operandShape(*this, getInput(), -1, "input");
  if (failed(in))
    return failure();
  int64_t begin = getBeginAttr().getInt(), size = getSizeAttr().getInt();
  if (in->size() < 2 || begin < 0 || size < 1 || begin + size > (*in)[1])
    return emitOpError() << "channels [" << begin << ", " << begin + size
                         << ") are not in " << formatShape(*in);
  Shape shape(in->begin(), in->end());
  shape[1] = size;
  return shape;
}

FailureOr<Shape> ReshapeOp::inferResultShape() {
  auto in = operandShape(*this, getInput(), -1, "input");
  if (failed(in))
    return failure();
  int64_t from = 1, to = 1;
  for (int64_t d : in->drop_front())
    from *= d;
  for (int64_t d : getShape())
    to *= d;
  if (from != to)
    return emitOpError() << "cannot reshape " << formatShape(*in) << " to "
                         << formatShape(getShape()) << " per sample";
  return batchedLike(*this, getInput(), getShape());
}

FailureOr<Shape> DropoutTrainOp::inferResultShape() {
  if (failed(expectParam(*this, getRng(), {3}, "rng")))
    return failure();
  double p = getP().convertToDouble();
  if (!(p >= 0 && p < 1))
    return emitOpError("p must be in [0, 1)");
  return sameAs(*this, getInput(), "input");
}

FailureOr<Shape> LRNGradOp::inferResultShape() {
  if (failed(operandShape(*this, getGrad(), 4, "grad")))
    return failure();
  return sameAs(*this, getInput(), "input", 4);
}
