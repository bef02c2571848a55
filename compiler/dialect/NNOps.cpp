//===- NNOps.cpp - Shape rules and verifiers of the nn ops ----------------===//
//
// Shapes here include the batch dimension first; the per-sample arithmetic
// is shared with the front end (dsl/ShapeRules.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/dialect/NNOps.h"
#include "compiler/dialect/ShapeChecks.h"

#include "dsl/ShapeRules.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace netc::nn;

#include "compiler/dialect/ShapeInferenceInterface.cpp.inc"

#define GET_OP_CLASSES
#include "compiler/dialect/NNOps.cpp.inc"

using Shape = llvm::SmallVector<int64_t>;
using namespace netc::nn::detail;

namespace netc::nn::detail {

std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      ", ");
  os << "]";
  return text;
}

/// The operand's shape with the given rank, or an error naming it.
FailureOr<ArrayRef<int64_t>> operandShape(Operation *op, Value value,
                                          int64_t rank, StringRef what) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type)
    return op->emitOpError()
           << what << " has no shape yet; run shape inference";
  if (rank >= 0 && type.getRank() != rank)
    return op->emitOpError() << what << " must have rank " << rank << ", got "
                             << formatShape(type.getShape());
  for (int64_t i = 1; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      return op->emitOpError()
             << what << " must be static except for the batch dimension, got "
             << formatShape(type.getShape());
  return type.getShape();
}

/// A parameter operand: fully static with exactly `expected` shape.
LogicalResult expectParam(Operation *op, Value value,
                          ArrayRef<int64_t> expected, StringRef what) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getShape() != expected)
    return op->emitOpError()
           << what << " must have shape " << formatShape(expected) << ", got "
           << (type ? formatShape(type.getShape())
                    : std::string("an unranked tensor"));
  return success();
}

LogicalResult checkPairs(Operation *op, ArrayRef<int64_t> values, size_t size,
                         StringRef name, int64_t minimum) {
  if (values.size() != size)
    return op->emitOpError() << "'" << name << "' must have " << size
                             << " values, got " << values.size();
  for (int64_t v : values)
    if (v < minimum)
      return op->emitOpError()
             << "'" << name << "' values must be at least " << minimum;
  return success();
}

} // namespace netc::nn::detail

LogicalResult netc::nn::verifyInferredShape(Operation *op) {
  // Before shape inference, results may be unranked and operands too.
  for (Value operand : op->getOperands())
    if (!isa<RankedTensorType>(operand.getType()))
      return success();
  auto shaped = cast<ShapeInference>(op);
  FailureOr<Shape> expected = shaped.inferResultShape();
  if (failed(expected))
    return failure();
  auto result = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!result)
    return success();
  if (result.getShape() != ArrayRef<int64_t>(*expected))
    return op->emitOpError()
           << "result shape " << formatShape(result.getShape())
           << " does not match the inferred shape " << formatShape(*expected);
  return success();
}

//===----------------------------------------------------------------------===//
// nn.param
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  auto type = dyn_cast<RankedTensorType>(getValue().getType());
  if (!type || !type.hasStaticShape())
    return emitOpError("parameter '")
           << getName() << "' must have a static shape";
  if (getName().empty())
    return emitOpError("parameter must have a name");
  return success();
}

//===----------------------------------------------------------------------===//
// Layers with parameters
//===----------------------------------------------------------------------===//

FailureOr<Shape> Conv2DOp::inferResultShape() {
  Operation *op = getOperation();
  auto in = operandShape(op, getInput(), 4, "input");
  if (failed(in))
    return failure();
  if (failed(checkPairs(op, getStride(), 2, "stride", 1)) ||
      failed(checkPairs(op, getDilation(), 2, "dilation", 1)) ||
      failed(checkPairs(op, getPad(), 4, "pad", 0)))
    return failure();
  int64_t groups = getGroups();
  auto weight = dyn_cast<RankedTensorType>(getWeight().getType());
  if (!weight || weight.getRank() != 4 || !weight.hasStaticShape())
    return emitOpError(
        "weight must be a static [out, in/groups, kh, kw] tensor");
  ArrayRef<int64_t> w = weight.getShape();
  int64_t channels = (*in)[1];
  if (groups < 1 || channels % groups != 0 || w[0] % groups != 0)
    return emitOpError() << "groups " << groups
                         << " must divide the input channels " << channels
                         << " and output channels " << w[0];
  if (failed(expectParam(op, getWeight(), {w[0], channels / groups, w[2], w[3]},
                         "weight")))
    return failure();
  if (getBias() && failed(expectParam(op, getBias(), {w[0]}, "bias")))
    return failure();
  auto stride = getStride(), dilation = getDilation(), pad = getPad();
  int64_t oh = netc::shape::convOutput((*in)[2], w[2], stride[0], pad[0],
                                       pad[1], dilation[0]);
  int64_t ow = netc::shape::convOutput((*in)[3], w[3], stride[1], pad[2],
                                       pad[3], dilation[1]);
  if (oh < 1 || ow < 1)
    return emitOpError() << "kernel " << w[2] << "x" << w[3]
                         << " does not fit the padded input";
  return Shape{(*in)[0], w[0], oh, ow};
}

/// [N, in] x weight [out, in] (+ bias [out]) -> [N, out].
static FailureOr<Shape> denseShape(Operation *op, Value input, Value weight,
                                   Value bias) {
  auto in = operandShape(op, input, 2, "input");
  if (failed(in))
    return failure();
  auto type = dyn_cast<RankedTensorType>(weight.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape())
    return op->emitOpError("weight must be a static [out, in] tensor");
  int64_t out = type.getShape()[0];
  if (failed(expectParam(op, weight, {out, (*in)[1]}, "weight")))
    return failure();
  if (bias && failed(expectParam(op, bias, {out}, "bias")))
    return failure();
  return Shape{(*in)[0], out};
}

FailureOr<Shape> DenseOp::inferResultShape() {
  return denseShape(getOperation(), getInput(), getWeight(), getBias());
}

FailureOr<Shape> RbfOp::inferResultShape() {
  return denseShape(getOperation(), getInput(), getWeight(), Value());
}

FailureOr<Shape> BatchNormOp::inferResultShape() {
  Operation *op = getOperation();
  auto in = operandShape(op, getInput(), -1, "input");
  if (failed(in))
    return failure();
  if (in->size() != 4 && in->size() != 2)
    return emitOpError() << "input must be [N, C, H, W] or [N, C], got "
                         << formatShape(*in);
  int64_t c = (*in)[1];
  if (failed(expectParam(op, getWeight(), {c}, "weight")) ||
      failed(expectParam(op, getBias(), {c}, "bias")) ||
      failed(expectParam(op, getRunningMean(), {c}, "running_mean")) ||
      failed(expectParam(op, getRunningVar(), {c}, "running_var")))
    return failure();
  if (!(getEps().convertToDouble() > 0))
    return emitOpError("eps must be positive");
  return Shape(in->begin(), in->end());
}

//===----------------------------------------------------------------------===//
// Pooling and normalization
//===----------------------------------------------------------------------===//

static FailureOr<Shape> poolShape(Operation *op, Value input,
                                  ArrayRef<int64_t> kernel,
                                  ArrayRef<int64_t> stride,
                                  ArrayRef<int64_t> pad, bool ceil) {
  auto in = operandShape(op, input, 4, "input");
  if (failed(in))
    return failure();
  if (failed(checkPairs(op, kernel, 2, "kernel", 1)) ||
      failed(checkPairs(op, stride, 2, "stride", 1)) ||
      failed(checkPairs(op, pad, 4, "pad", 0)))
    return failure();
  for (int i = 0; i < 4; ++i)
    if (pad[i] > kernel[i / 2] / 2)
      return op->emitOpError("padding must be at most half the window");
  int64_t oh = netc::shape::poolOutput((*in)[2], kernel[0], stride[0], pad[0],
                                       pad[1], ceil);
  int64_t ow = netc::shape::poolOutput((*in)[3], kernel[1], stride[1], pad[2],
                                       pad[3], ceil);
  if (oh < 1 || ow < 1)
    return op->emitOpError("window does not fit the padded input");
  return Shape{(*in)[0], (*in)[1], oh, ow};
}

FailureOr<Shape> MaxPool2DOp::inferResultShape() {
  return poolShape(getOperation(), getInput(), getKernel(), getStride(),
                   getPad(), getCeilMode());
}

FailureOr<Shape> AvgPool2DOp::inferResultShape() {
  return poolShape(getOperation(), getInput(), getKernel(), getStride(),
                   getPad(), getCeilMode());
}

FailureOr<Shape> GlobalAvgPoolOp::inferResultShape() {
  auto in = operandShape(getOperation(), getInput(), 4, "input");
  if (failed(in))
    return failure();
  return Shape{(*in)[0], (*in)[1], 1, 1};
}

FailureOr<Shape> LRNOp::inferResultShape() {
  auto in = operandShape(getOperation(), getInput(), 4, "input");
  if (failed(in))
    return failure();
  if (getSize() < 1)
    return emitOpError("size must be positive");
  return Shape(in->begin(), in->end());
}

FailureOr<Shape> DropoutOp::inferResultShape() {
  auto in = operandShape(getOperation(), getInput(), -1, "input");
  if (failed(in))
    return failure();
  double p = getP().convertToDouble();
  if (!(p >= 0 && p < 1))
    return emitOpError("p must be in [0, 1)");
  return Shape(in->begin(), in->end());
}

//===----------------------------------------------------------------------===//
// Elementwise and structural ops
//===----------------------------------------------------------------------===//

static FailureOr<Shape> sameShape(Operation *op, Value input) {
  auto in = operandShape(op, input, -1, "input");
  if (failed(in))
    return failure();
  return Shape(in->begin(), in->end());
}

FailureOr<Shape> ReluOp::inferResultShape() {
  return sameShape(getOperation(), getInput());
}
FailureOr<Shape> TanhOp::inferResultShape() {
  return sameShape(getOperation(), getInput());
}
FailureOr<Shape> SigmoidOp::inferResultShape() {
  return sameShape(getOperation(), getInput());
}
FailureOr<Shape> SoftmaxOp::inferResultShape() {
  return sameShape(getOperation(), getInput());
}

FailureOr<Shape> FlattenOp::inferResultShape() {
  auto in = operandShape(getOperation(), getInput(), -1, "input");
  if (failed(in))
    return failure();
  int64_t features = 1;
  for (int64_t d : in->drop_front())
    features *= d;
  return Shape{(*in)[0], features};
}

FailureOr<Shape> AddOp::inferResultShape() {
  auto lhs = operandShape(getOperation(), getLhs(), -1, "lhs");
  auto rhs = operandShape(getOperation(), getRhs(), -1, "rhs");
  if (failed(lhs) || failed(rhs))
    return failure();
  if (lhs->drop_front() != rhs->drop_front())
    return emitOpError() << "operands differ in shape: " << formatShape(*lhs)
                         << " and " << formatShape(*rhs);
  return Shape(lhs->begin(), lhs->end());
}

FailureOr<Shape> ConcatOp::inferResultShape() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  auto first = operandShape(getOperation(), getInputs()[0], -1, "input");
  if (failed(first))
    return failure();
  if (first->size() < 2)
    return emitOpError("inputs need a channel axis");
  Shape result(first->begin(), first->end());
  for (Value input : getInputs().drop_front()) {
    auto shape = operandShape(getOperation(), input, first->size(), "input");
    if (failed(shape))
      return failure();
    if (shape->drop_front(2) != first->drop_front(2))
      return emitOpError() << "inputs differ in shape beyond channels: "
                           << formatShape(*first) << " and "
                           << formatShape(*shape);
    result[1] += (*shape)[1];
  }
  return result;
}

FailureOr<Shape> ChannelPadOp::inferResultShape() {
  auto in = operandShape(getOperation(), getInput(), 4, "input");
  if (failed(in))
    return failure();
  if (getBeforeAttr().getInt() < 0 || getAfterAttr().getInt() < 0)
    return emitOpError("channel padding must not be negative");
  Shape result(in->begin(), in->end());
  result[1] += getBefore() + getAfter();
  return result;
}

//===----------------------------------------------------------------------===//
// Parameter transforms
//===----------------------------------------------------------------------===//

FailureOr<Shape> FoldBatchNormWeightOp::inferResultShape() {
  auto weight = dyn_cast<RankedTensorType>(getWeight().getType());
  if (!weight || !weight.hasStaticShape() || weight.getRank() < 1)
    return emitOpError("weight must be a static tensor");
  int64_t channels = weight.getShape()[0];
  if (failed(expectParam(*this, getGamma(), {channels}, "gamma")) ||
      failed(expectParam(*this, getRunningVar(), {channels}, "running_var")))
    return failure();
  return Shape(weight.getShape().begin(), weight.getShape().end());
}

FailureOr<Shape> FoldBatchNormBiasOp::inferResultShape() {
  auto gamma = dyn_cast<RankedTensorType>(getGamma().getType());
  if (!gamma || !gamma.hasStaticShape() || gamma.getRank() != 1)
    return emitOpError("gamma must be a static [C] tensor");
  int64_t channels = gamma.getShape()[0];
  if (failed(expectParam(*this, getBeta(), {channels}, "beta")) ||
      failed(
          expectParam(*this, getRunningMean(), {channels}, "running_mean")) ||
      failed(expectParam(*this, getRunningVar(), {channels}, "running_var")) ||
      (getBias() && failed(expectParam(*this, getBias(), {channels}, "bias"))))
    return failure();
  return Shape{channels};
}
