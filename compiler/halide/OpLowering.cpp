//===- OpLowering.cpp - nn ops as Halide pipelines ------------------------===//

#include "compiler/halide/OpLowering.h"
#include "compiler/halide/LoweringUtil.h"

#include "compiler/dialect/NNOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/raw_ostream.h"

using namespace Halide;
using namespace netc::nn;

namespace netc::halide {

namespace detail {

std::vector<int64_t> shapeOf(mlir::Value value) {
  auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
  std::vector<int64_t> shape;
  for (int64_t d : type.getShape())
    shape.push_back(mlir::ShapedType::isDynamic(d) ? -1 : d);
  return shape;
}

} // namespace detail

using namespace detail;

void constrainDense(const Halide::OutputImageParam &buffer,
                    const std::vector<int64_t> &shape) {
  int dims = static_cast<int>(shape.size());
  int64_t stride = 1;
  for (int i = 0; i < dims; ++i) {
    int64_t extent = shape[dims - 1 - i];
    Halide::Internal::Dimension dim = buffer.dim(i);
    if (extent >= 0)
      dim.set_bounds(0, static_cast<int>(extent));
    else
      dim.set_min(0);
    dim.set_stride(static_cast<int>(stride));
    stride *= extent;
  }
}

namespace detail {

void defineOutput(LoweredOp &k, const char *name, std::vector<Var> vars,
                  Expr value) {
  k.output = Func(name);
  k.output(vars) = value;
  k.vars = std::move(vars);
}

ImageParam bufferFor(mlir::Value value, const std::string &name) {
  std::vector<int64_t> shape = shapeOf(value);
  int dims = static_cast<int>(shape.size());
  ImageParam param(Float(32), dims, name);
  constrainDense(param, shape);
  return param;
}

std::vector<Var> varsFor(size_t dims) {
  static const char *names[] = {"x", "y", "c", "n"};
  std::vector<Var> vars;
  for (size_t i = 0; i < dims; ++i)
    vars.emplace_back(dims == 2 ? (i == 0 ? "f" : "n") : names[i]);
  return vars;
}

Func zeroPadded(ImageParam &in, int64_t w, int64_t h, float value) {
  Region bounds = {Range(0, static_cast<int>(w)), Range(0, static_cast<int>(h)),
                   Range(), Range()};
  return BoundaryConditions::constant_exterior(in, value, bounds);
}

} // namespace detail

namespace {

/// A pointwise convolution as a matrix product over flattened planes:
/// out(p, c, n) = bias(c) + sum over i of input(p, i, n) * weight(c, i).
LoweredOp lowerFlatPointwise(Conv2DOp op) {
  LoweredOp k;
  std::vector<int64_t> in = shapeOf(op.getInput()), w = shapeOf(op.getWeight());
  int64_t pixels = in[2] * in[3];
  k.flatPixels = pixels;
  std::vector<int64_t> inView = {in[0], in[1], pixels};
  ImageParam input(Float(32), 3, "input");
  constrainDense(input, inView);
  ImageParam weight = bufferFor(op.getWeight(), "weight");
  k.args = {input, weight};
  k.argViews = {inView, {}};
  Var p("p"), c("c"), n("n");
  RDom r(0, static_cast<int>(w[1]), "r");
  Func conv("conv");
  if (op.getBias()) {
    ImageParam bias = bufferFor(op.getBias(), "bias");
    k.args.push_back(bias);
    conv(p, c, n) = bias(c);
  } else {
    conv(p, c, n) = 0.0f;
  }
  conv(p, c, n) += input(p, r, n) * weight(0, 0, r, c);
  k.accumulator = conv;
  k.reduction = r;
  k.vars = {p, c, n};
  k.outputView = {in[0], w[0], pixels};
  k.outputsPerGroup = w[0];
  k.work = pixels * w[0] * w[1];
  return k;
}

LoweredOp lowerConv(Conv2DOp op) {
  if (convIsFlatPointwise(op.getOperation()))
    return lowerFlatPointwise(op);
  LoweredOp k;
  std::vector<int64_t> in = shapeOf(op.getInput()), w = shapeOf(op.getWeight());
  ImageParam input = bufferFor(op.getInput(), "input");
  k.packedWeight = convUsesPackedWeight(op.getOperation());
  k.outputsPerGroup = w[0] / int64_t(op.getGroups());
  const int B = kChannelBlock;
  int64_t blocks = (w[0] + B - 1) / B;
  // PyTorch-order shapes: OIHW, or packed [O / 16, I, KH, KW, 16].
  ImageParam weight(Float(32), k.packedWeight ? 5 : 4, "weight");
  constrainDense(weight, k.packedWeight
                             ? std::vector<int64_t>{blocks, w[1], w[2], w[3], B}
                             : w);
  k.args = {input, weight};
  auto stride = op.getStride(), dilation = op.getDilation(), pad = op.getPad();
  int64_t groups = op.getGroups();
  int64_t outPerGroup = w[0] / groups, inPerGroup = w[1];

  Var x("x"), y("y"), c("c"), n("n");
  // The unpacked schedule computes whole vectors of columns: rows narrower
  // than the widest vector (16) go past the right edge, so they read the
  // input through a zero border.
  int64_t outWidth = shapeOf(op.getResult())[3];
  bool hasPadding = pad[0] || pad[1] || pad[2] || pad[3] ||
                    (!k.packedWeight && outWidth < 16);
  Func padded = hasPadding ? zeroPadded(input, in[3], in[2]) : Func(input);
  RDom r(0, static_cast<int>(w[3]), 0, static_cast<int>(w[2]), 0,
         static_cast<int>(inPerGroup), "r");
  Expr ix = x * static_cast<int>(stride[1]) +
            r.x * static_cast<int>(dilation[1]) - static_cast<int>(pad[2]);
  Expr iy = y * static_cast<int>(stride[0]) +
            r.y * static_cast<int>(dilation[0]) - static_cast<int>(pad[0]);
  ImageParam bias;
  if (op.getBias()) {
    bias = bufferFor(op.getBias(), "bias");
    k.args.push_back(bias);
  }

  Func conv("conv");
  if (k.packedWeight) {
    // Blocked: output channel cb * 16 + ci. A group holds whole blocks, and
    // with one group the input channel must not depend on the output
    // channel: that would make every vector of output channels gather.
    Var ci("ci"), cb("cb");
    Expr group = groups == 1 ? Expr(0) : cb / static_cast<int>(outPerGroup / B);
    Expr ic = group * static_cast<int>(inPerGroup) + r.z;
    Expr channel = min(cb * B + ci, static_cast<int>(w[0]) - 1);
    conv(ci, x, y, cb, n) = bias.defined() ? bias(channel) : Expr(0.0f);
    conv(ci, x, y, cb, n) +=
        padded(ix, iy, ic, n) * weight(ci, r.x, r.y, r.z, cb);
    k.result = conv(c % B, x, y, c / B, n);
  } else {
    Expr group = groups == 1 ? Expr(0) : c / static_cast<int>(outPerGroup);
    Expr ic = group * static_cast<int>(inPerGroup) + r.z;
    conv(x, y, c, n) = bias.defined() ? bias(c) : Expr(0.0f);
    conv(x, y, c, n) += padded(ix, iy, ic, n) * weight(r.x, r.y, r.z, c);
  }
  k.accumulator = conv;
  k.reduction = r;
  if (hasPadding)
    k.paddedInput = padded;
  k.paddedPlane = in[2] * in[3];
  k.vars = {x, y, c, n};
  std::vector<int64_t> o = shapeOf(op.getResult());
  k.paddedRows = (o[2] - 1) * stride[0] + (w[2] - 1) * dilation[0] + 1;
  k.work = o[1] * o[2] * o[3] * inPerGroup * w[2] * w[3];
  return k;
}

LoweredOp lowerDenseLike(mlir::Operation *op, bool rbf) {
  LoweredOp k;
  mlir::Value inputValue = op->getOperand(0), weightValue = op->getOperand(1);
  std::vector<int64_t> in = shapeOf(inputValue);
  ImageParam input = bufferFor(inputValue, "input");
  ImageParam weight = bufferFor(weightValue, "weight");
  k.args = {input, weight};
  Var f("f"), n("n");
  RDom r(0, static_cast<int>(in[1]), "r");
  Func out(rbf ? "rbf" : "dense");
  if (!rbf && op->getNumOperands() == 3) {
    ImageParam bias = bufferFor(op->getOperand(2), "bias");
    k.args.push_back(bias);
    out(f, n) = bias(f);
  } else {
    out(f, n) = 0.0f;
  }
  if (rbf) {
    Expr d = input(r, n) - weight(r, f);
    out(f, n) += d * d;
  } else {
    out(f, n) += input(r, n) * weight(r, f);
  }
  k.accumulator = out;
  k.reduction = r;
  k.vars = {f, n};
  k.work = in[1] * shapeOf(op->getResult(0))[1];
  return k;
}

LoweredOp lowerPool(mlir::Operation *op, bool isMax) {
  LoweredOp k;
  mlir::Value inputValue = op->getOperand(0);
  std::vector<int64_t> in = shapeOf(inputValue);
  ImageParam input = bufferFor(inputValue, "input");
  k.args = {input};
  llvm::ArrayRef<int64_t> kernel, stride, pad;
  bool countPad = true;
  if (auto maxPool = mlir::dyn_cast<MaxPool2DOp>(op)) {
    kernel = maxPool.getKernel(), stride = maxPool.getStride(),
    pad = maxPool.getPad();
  } else {
    auto avgPool = mlir::cast<AvgPool2DOp>(op);
    kernel = avgPool.getKernel(), stride = avgPool.getStride(),
    pad = avgPool.getPad();
    countPad = avgPool.getCountIncludePad();
  }
  int kh = int(kernel[0]), kw = int(kernel[1]);
  int sh = int(stride[0]), sw = int(stride[1]);
  int pt = int(pad[0]), pl = int(pad[2]);
  int height = int(in[2]), width = int(in[3]);

  Var x("x"), y("y"), c("c"), n("n");
  RDom r(0, kw, 0, kh, "r");
  Expr ix = x * sw - pl + r.x, iy = y * sh - pt + r.y;
  Func out(isMax ? "maxpool" : "avgpool");
  if (isMax) {
    Func padded = zeroPadded(input, width, height,
                             -std::numeric_limits<float>::infinity());
    out(x, y, c, n) = maximum(padded(ix, iy, c, n));
    if (pt || pl || pad[1] || pad[3])
      k.paddedInput = padded;
  } else {
    Func padded = zeroPadded(input, width, height);
    Func total("total");
    total(x, y, c, n) = sum(padded(ix, iy, c, n));
    // PyTorch's divisor: the window clipped to the padded input (with
    // count_pad) or to the input itself (without).
    Expr x0 = x * sw - pl, y0 = y * sh - pt;
    Expr count;
    if (countPad) {
      Expr x1 = min(x0 + kw, width + int(pad[3])),
           y1 = min(y0 + kh, height + int(pad[1]));
      count = (x1 - x0) * (y1 - y0);
    } else {
      Expr x1 = min(x0 + kw, width), y1 = min(y0 + kh, height);
      count = (x1 - max(x0, 0)) * (y1 - max(y0, 0));
    }
    out(x, y, c, n) = total(x, y, c, n) / cast<float>(count);
  }
  k.output = out;
  k.vars = {x, y, c, n};
  return k;
}

Expr tanhOf(Expr v) {
  // sign(v) (1 - e) / (1 + e) with e = exp(-2|v|): no overflow, and it
  // vectorizes (libm's tanhf does not).
  Expr e = exp(-2.0f * abs(v));
  Expr t = (1.0f - e) / (1.0f + e);
  return select(v < 0.0f, -t, t);
}

Expr sigmoidOf(Expr v) {
  // 1 / (1 + e^-v) for v >= 0, e^v / (1 + e^v) below: no overflow.
  Expr e = exp(-abs(v));
  return select(v >= 0.0f, 1.0f / (1.0f + e), e / (1.0f + e));
}

/// x^beta for x > 0: square roots for the usual exponents (LRN's 0.75),
/// which vectorize, where pow would call the C library lane by lane.
Expr powerOf(Expr x, float beta) {
  if (beta == 1.0f)
    return x;
  if (beta == 0.5f)
    return sqrt(x);
  if (beta == 0.75f) {
    Expr root = sqrt(x);
    return root * sqrt(root);
  }
  return pow(x, beta);
}

/// Batch norm with running statistics on `v` at channel `c`; its four
/// parameter buffers are added to the kernel's arguments.
Expr batchNormOf(BatchNormOp op, Expr v, Var c, LoweredOp &k) {
  ImageParam gamma = bufferFor(op.getWeight(), "bn_weight");
  ImageParam beta = bufferFor(op.getBias(), "bn_bias");
  ImageParam mean = bufferFor(op.getRunningMean(), "bn_mean");
  ImageParam var = bufferFor(op.getRunningVar(), "bn_var");
  k.args.insert(k.args.end(), {gamma, beta, mean, var});
  float eps = float(op.getEps().convertToDouble());
  return (v - mean(c)) * (gamma(c) / sqrt(var(c) + eps)) + beta(c);
}

LoweredOp lowerUnary(mlir::Operation *op) {
  LoweredOp k;
  mlir::Value inputValue = op->getOperand(0);
  std::vector<int64_t> in = shapeOf(inputValue);
  ImageParam input = bufferFor(inputValue, "input");
  k.args = {input};
  std::vector<Var> vars = varsFor(in.size());
  std::vector<Expr> at(vars.begin(), vars.end());
  Func out(op->getName().stripDialect().str());
  Expr v = input(at);
  if (mlir::isa<ReluOp>(op)) {
    out(vars) = max(v, 0.0f);
  } else if (mlir::isa<TanhOp>(op)) {
    out(vars) = tanhOf(v);
  } else if (mlir::isa<SigmoidOp>(op)) {
    out(vars) = sigmoidOf(v);
  } else if (mlir::isa<SoftmaxOp>(op)) {
    // Over channels: dimension size-2 in Halide order (c of xycn, f of fn).
    size_t axis = in.size() - 2;
    int channels = int(in[1]);
    RDom r(0, channels, "r");
    std::vector<Expr> atR = at;
    atR[axis] = r;
    Func peak("peak"), total("total");
    std::vector<Var> rest = vars;
    peak(vars) = maximum(input(atR));
    std::vector<Expr> reduced = at;
    reduced[axis] = 0;
    total(vars) = sum(exp(input(atR) - peak(reduced)));
    out(vars) = exp(v - peak(reduced)) / total(reduced);
    k.stages = {peak, total};
  } else if (auto lrn = mlir::dyn_cast<LRNOp>(op)) {
    int size = int(lrn.getSize());
    int channels = int(in[1]);
    float alpha = float(lrn.getAlpha().convertToDouble());
    float beta = float(lrn.getBeta().convertToDouble());
    float kk = float(lrn.getK().convertToDouble());
    // PyTorch: the window holds size/2 channels before and (size-1)/2 after.
    // The window's taps are spelled out, so the whole kernel is one pure
    // expression that vectorizes over columns.
    Expr windowSum = 0.0f;
    for (int d = -(size / 2); d <= (size - 1) / 2; ++d) {
      Expr cc = vars[2] + d;
      Expr u = input(vars[0], vars[1], clamp(cc, 0, channels - 1), vars[3]);
      windowSum += select(cc >= 0 && cc < channels, u * u, 0.0f);
    }
    out(vars) = v / powerOf(kk + alpha / size * windowSum, beta);
  } else {
    throw std::runtime_error("no Halide lowering for " +
                             op->getName().getStringRef().str());
  }
  k.output = out;
  k.vars = vars;
  return k;
}

LoweredOp lowerBatchNorm(BatchNormOp op) {
  LoweredOp k;
  std::vector<int64_t> in = shapeOf(op.getInput());
  ImageParam input = bufferFor(op.getInput(), "input");
  k.args = {input};
  std::vector<Var> vars = varsFor(in.size());
  std::vector<Expr> at(vars.begin(), vars.end());
  defineOutput(k, "batchnorm", vars,
               batchNormOf(op, input(at), vars[in.size() - 2], k));
  return k;
}

/// w'[o, …] = w[o, …] * gamma[o] / sqrt(var[o] + eps); o is the outermost
/// dimension of the weight, the last in Halide's order.
LoweredOp lowerFoldWeight(FoldBatchNormWeightOp op) {
  LoweredOp k;
  std::vector<int64_t> w = shapeOf(op.getWeight());
  ImageParam weight = bufferFor(op.getWeight(), "weight");
  ImageParam gamma = bufferFor(op.getGamma(), "gamma");
  ImageParam var = bufferFor(op.getRunningVar(), "running_var");
  k.args = {weight, gamma, var};
  std::vector<Var> vars = varsFor(w.size());
  std::vector<Expr> at(vars.begin(), vars.end());
  float eps = float(op.getEps().convertToDouble());
  Var o = vars.back();
  defineOutput(k, "fold_bn_weight", vars,
               weight(at) * (gamma(o) / sqrt(var(o) + eps)));
  return k;
}

/// b'[o] = (b[o] - mean[o]) * gamma[o] / sqrt(var[o] + eps) + beta[o].
LoweredOp lowerFoldBias(FoldBatchNormBiasOp op) {
  LoweredOp k;
  ImageParam gamma = bufferFor(op.getGamma(), "gamma");
  ImageParam beta = bufferFor(op.getBeta(), "beta");
  ImageParam mean = bufferFor(op.getRunningMean(), "running_mean");
  ImageParam var = bufferFor(op.getRunningVar(), "running_var");
  k.args = {gamma, beta, mean, var};
  Var o("o");
  Expr bias = 0.0f;
  if (op.getBias()) {
    ImageParam b = bufferFor(op.getBias(), "bias");
    k.args.push_back(b);
    bias = b(o);
  }
  float eps = float(op.getEps().convertToDouble());
  defineOutput(k, "fold_bn_bias", {o},
               (bias - mean(o)) * (gamma(o) / sqrt(var(o) + eps)) + beta(o));
  return k;
}

LoweredOp lowerGlobalAvgPool(GlobalAvgPoolOp op) {
  LoweredOp k;
  std::vector<int64_t> in = shapeOf(op.getInput());
  ImageParam input = bufferFor(op.getInput(), "input");
  k.args = {input};
  Var x("x"), y("y"), c("c"), n("n");
  RDom r(0, int(in[3]), 0, int(in[2]), "r");
  Func total("total");
  total(c, n) = sum(input(r.x, r.y, c, n));
  defineOutput(k, "global_avgpool", {x, y, c, n},
               total(c, n) / float(in[2] * in[3]));
  k.stages = {total};
  return k;
}

LoweredOp lowerAdd(AddOp op) {
  LoweredOp k;
  std::vector<int64_t> shape = shapeOf(op.getLhs());
  ImageParam lhs = bufferFor(op.getLhs(), "lhs");
  ImageParam rhs = bufferFor(op.getRhs(), "rhs");
  k.args = {lhs, rhs};
  std::vector<Var> vars = varsFor(shape.size());
  std::vector<Expr> at(vars.begin(), vars.end());
  defineOutput(k, "add", vars, lhs(at) + rhs(at));
  return k;
}

LoweredOp lowerConcat(ConcatOp op) {
  LoweredOp k;
  size_t rank = shapeOf(op.getInputs()[0]).size();
  std::vector<Var> vars = varsFor(rank);
  Var c = vars[rank - 2];
  Expr value;
  int offset = 0;
  std::vector<std::pair<Expr, Expr>> pieces;
  for (auto [i, input] : llvm::enumerate(op.getInputs())) {
    ImageParam param = bufferFor(input, "input" + std::to_string(i));
    k.args.push_back(param);
    int channels = int(shapeOf(input)[1]);
    std::vector<Expr> at(vars.begin(), vars.end());
    at[rank - 2] = clamp(c - offset, 0, channels - 1);
    pieces.push_back({c < offset + channels, param(at)});
    offset += channels;
  }
  value = pieces.back().second;
  for (auto it = pieces.rbegin() + 1; it != pieces.rend(); ++it)
    value = select(it->first, it->second, value);
  defineOutput(k, "concat", vars, value);
  return k;
}

LoweredOp lowerChannelPad(ChannelPadOp op) {
  LoweredOp k;
  std::vector<int64_t> in = shapeOf(op.getInput());
  ImageParam input = bufferFor(op.getInput(), "input");
  k.args = {input};
  Var x("x"), y("y"), c("c"), n("n");
  int before = int(op.getBeforeAttr().getInt()), channels = int(in[1]);
  defineOutput(k, "channel_pad", {x, y, c, n},
               select(c >= before && c < before + channels,
                      input(x, y, clamp(c - before, 0, channels - 1), n),
                      0.0f));
  return k;
}

} // namespace

bool convIsFlatPointwise(mlir::Operation *operation) {
  auto op = mlir::cast<Conv2DOp>(operation);
  auto weight = mlir::cast<mlir::RankedTensorType>(op.getWeight().getType());
  auto result = mlir::cast<mlir::RankedTensorType>(op.getResult().getType());
  auto stride = op.getStride(), pad = op.getPad();
  return op.getGroups() == 1 && weight.getShape()[2] == 1 &&
         weight.getShape()[3] == 1 && stride[0] == 1 && stride[1] == 1 &&
         !llvm::any_of(pad, [](int64_t p) { return p != 0; }) &&
         result.getShape()[2] * result.getShape()[3] >= 256;
}

bool convUsesPackedWeight(mlir::Operation *operation) {
  if (convIsFlatPointwise(operation))
    return false;
  auto op = mlir::cast<Conv2DOp>(operation);
  auto weight = mlir::cast<mlir::RankedTensorType>(op.getWeight().getType());
  int64_t outPerGroup = weight.getShape()[0] / int64_t(op.getGroups());
  // Output channels are the vector dimension: a group must hold whole
  // vectors (16 lanes with AVX-512), so that every vector reads one group's
  // input channels.
  // At stride 1 over rows of a vector or more, vectors along the columns
  // load fewer values per multiply-add when there are fewer than two
  // vectors of output channels, and store whole rows when a pointwise
  // convolution has too few input channels to hide its output's transpose.
  auto stride = op.getStride();
  auto result = mlir::cast<mlir::RankedTensorType>(op.getResult().getType());
  // A first layer on a few color channels with a small kernel sums too few
  // products per output to hide the transpose of a packed tile: vectors
  // along the columns store whole rows instead.
  bool pointwise = weight.getShape()[2] == 1 && weight.getShape()[3] == 1;
  if (op.getGroups() == 1 && weight.getShape()[1] <= 4 &&
      weight.getShape()[2] * weight.getShape()[3] <= 9)
    return false;
  if (op.getGroups() == 1 && stride[0] == 1 && stride[1] == 1 &&
      result.getShape()[3] >= 16 &&
      (outPerGroup < 32 || (pointwise && weight.getShape()[1] <= 64)))
    return false;
  return op.getGroups() == 1 ? outPerGroup >= 16 : outPerGroup % 16 == 0;
}

LoweredOp lowerWeightPack(mlir::Value weight) {
  LoweredOp k;
  std::vector<int64_t> w = shapeOf(weight);
  ImageParam input = bufferFor(weight, "weight");
  k.args = {input};
  const int B = kChannelBlock;
  int outputs = int(w[0]);
  Var oi("oi"), kx("kx"), ky("ky"), i("i"), ob("ob");
  Expr o = ob * B + oi;
  defineOutput(
      k, "pack", {oi, kx, ky, i, ob},
      select(o < outputs, input(kx, ky, i, clamp(o, 0, outputs - 1)), 0.0f));
  k.opName = "pack";
  k.outputShape = {(w[0] + B - 1) / B, w[1], w[2], w[3], B};
  k.work = w[0] * w[1] * w[2] * w[3];
  return k;
}

namespace {

/// Adds a fused operand shaped like the kernel's output, read through the
/// same view as the output (flattened planes).
ImageParam operandAsOutput(LoweredOp &k, mlir::Value value,
                           const std::string &name) {
  std::vector<int64_t> shape = shapeOf(value);
  if (k.flatPixels)
    shape = {shape[0], shape[1], k.flatPixels};
  ImageParam param(Float(32), static_cast<int>(shape.size()), name);
  constrainDense(param, shape);
  k.argViews.resize(k.args.size());
  k.argViews.push_back(k.flatPixels ? shape : std::vector<int64_t>{});
  k.args.push_back(param);
  return param;
}

} // namespace

LoweredOp lowerGroup(llvm::ArrayRef<mlir::Operation *> ops) {
  mlir::Operation *op = ops.front();
  LoweredOp k;
  if (auto conv = mlir::dyn_cast<Conv2DOp>(op))
    k = lowerConv(conv);
  else if (mlir::isa<DenseOp>(op))
    k = lowerDenseLike(op, /*rbf=*/false);
  else if (mlir::isa<RbfOp>(op))
    k = lowerDenseLike(op, /*rbf=*/true);
  else if (mlir::isa<MaxPool2DOp>(op))
    k = lowerPool(op, /*isMax=*/true);
  else if (mlir::isa<AvgPool2DOp>(op))
    k = lowerPool(op, /*isMax=*/false);
  else if (auto bn = mlir::dyn_cast<BatchNormOp>(op))
    k = lowerBatchNorm(bn);
  else if (auto gap = mlir::dyn_cast<GlobalAvgPoolOp>(op))
    k = lowerGlobalAvgPool(gap);
  else if (auto add = mlir::dyn_cast<AddOp>(op))
    k = lowerAdd(add);
  else if (auto concat = mlir::dyn_cast<ConcatOp>(op))
    k = lowerConcat(concat);
  else if (auto pad = mlir::dyn_cast<ChannelPadOp>(op))
    k = lowerChannelPad(pad);
  else if (auto fold = mlir::dyn_cast<FoldBatchNormWeightOp>(op))
    k = lowerFoldWeight(fold);
  else if (auto fold = mlir::dyn_cast<FoldBatchNormBiasOp>(op))
    k = lowerFoldBias(fold);
  else if (!lowerGradOp(op, k))
    k = lowerUnary(op);
  k.opName = op->getName().stripDialect().str();

  bool fused = k.accumulator.defined() || ops.size() > 1;
  if (fused && k.pattern == Pattern::Default) {
    // The layer's output is its accumulation (or an elementwise root's
    // value) followed by the group's elementwise tail, computed as each
    // output element is written.
    std::vector<Expr> at(k.vars.begin(), k.vars.end());
    if (!k.coords.empty())
      at = k.coords;
    Expr value = k.result.defined()        ? k.result
                 : k.accumulator.defined() ? k.accumulator(at)
                                           : k.output(at);
    Var c = k.vars[k.vars.size() - 2];
    mlir::Value chain = op->getResult(0);
    for (mlir::Operation *tail : ops.drop_front()) {
      if (mlir::isa<ReluOp>(tail)) {
        value = max(value, 0.0f);
      } else if (mlir::isa<TanhOp>(tail)) {
        value = tanhOf(value);
      } else if (mlir::isa<SigmoidOp>(tail)) {
        value = sigmoidOf(value);
      } else if (auto bn = mlir::dyn_cast<BatchNormOp>(tail)) {
        value = batchNormOf(bn, value, c, k);
      } else if (mlir::isa<ReluGradOp, TanhGradOp, SigmoidGradOp>(tail)) {
        ImageParam forward = operandAsOutput(
            k, tail->getOperand(1), "forward" + std::to_string(k.args.size()));
        Expr y = forward(at);
        value = mlir::isa<ReluGradOp>(tail)   ? select(y > 0.0f, value, 0.0f)
                : mlir::isa<TanhGradOp>(tail) ? value * (1.0f - y * y)
                                              : value * y * (1.0f - y);
      } else if (auto add = mlir::dyn_cast<AddOp>(tail)) {
        mlir::Value other = add.getLhs() == chain ? add.getRhs() : add.getLhs();
        ImageParam residual = operandAsOutput(
            k, other, "residual" + std::to_string(k.args.size()));
        value = value + residual(at);
      } else {
        throw std::runtime_error("cannot fuse " +
                                 tail->getName().getStringRef().str() +
                                 " into a layer");
      }
      k.opName += "_" + tail->getName().stripDialect().str();
      chain = tail->getResult(0);
    }
    k.output = Func(k.opName);
    k.output(k.vars) = value;
  } else if (ops.size() > 1) {
    throw std::runtime_error(k.opName + " takes no fused tail");
  }
  k.outputShape = shapeOf(ops.back()->getResult(0));
  if (!k.work) {
    k.work = 1;
    for (size_t i = 1; i < k.outputShape.size(); ++i)
      k.work *= k.outputShape[i];
  }
  return k;
}

std::string packKey(mlir::Value weight) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << "pack " << weight.getType();
  return key;
}

std::string kernelKey(llvm::ArrayRef<mlir::Operation *> ops) {
  std::string key;
  llvm::raw_string_ostream os(key);
  for (mlir::Operation *op : ops) {
    os << op->getName() << " {";
    // Attributes that change the computation; not bookkeeping like nn.group.
    for (mlir::NamedAttribute attr : op->getAttrs())
      if (!attr.getName().strref().starts_with("nn."))
        os << attr.getName().strref() << "=" << attr.getValue() << " ";
    os << "}";
    for (mlir::Type type : op->getOperandTypes())
      os << " " << type;
    os << " -> " << op->getResult(0).getType() << "; ";
  }
  return key;
}

} // namespace netc::halide
