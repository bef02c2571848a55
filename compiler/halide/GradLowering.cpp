//===- GradLowering.cpp - Training ops as Halide pipelines ----------------===//
//
// Losses, batch statistics and the vector-Jacobian products of the autodiff
// pass. Dimensions are Halide's (reversed): NCHW is (x, y, c, n), OIHW is
// (kx, ky, i, o), [N, F] is (f, n). Sums over the batch use the batch
// extent of the buffer they read, so kernels work for any batch size.
//
//===----------------------------------------------------------------------===//

#include "compiler/dialect/NNOps.h"
#include "compiler/halide/LoweringUtil.h"

using namespace Halide;
using namespace netc::nn;
using namespace netc::halide::detail;

namespace netc::halide {

namespace {

/// The batch extent of a buffer: its last (outermost) dimension.
Expr batchOf(ImageParam &buffer) {
  return buffer.dim(buffer.dimensions() - 1).extent();
}

/// out = acc, summed over `r`, and remembered for the schedule.
void setAccumulation(LoweredOp &k, Func acc, RDom r, Pattern pattern) {
  k.accumulator = acc;
  k.reduction = r;
  k.pattern = pattern;
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Softmax cross-entropy of scores (k, n) against labels (n): the shared
/// max and sum of exponentials, and the label index.
struct SoftmaxParts {
  Func scores, peak, total;
  Expr label;
};

SoftmaxParts softmaxParts(LoweredOp &k, ImageParam &scores, ImageParam &labels,
                          int classes, bool negate, Var n) {
  SoftmaxParts p;
  Var f("f");
  p.scores = Func("s");
  p.scores(f, n) = negate ? -scores(f, n) : scores(f, n);
  RDom r(0, classes, "r");
  p.peak = Func("peak");
  p.peak(n) = maximum(p.scores(r, n));
  p.total = Func("total");
  p.total(n) = sum(exp(p.scores(r, n) - p.peak(n)));
  p.label = clamp(cast<int>(labels(n)), 0, classes - 1);
  k.stages = {p.peak, p.total};
  return p;
}

void lowerCrossEntropy(SoftmaxCrossEntropyOp op, LoweredOp &k) {
  ImageParam scores = bufferFor(op.getScores(), "scores");
  ImageParam labels = bufferFor(op.getLabels(), "labels");
  k.args = {scores, labels};
  int classes = int(shapeOf(op.getScores())[1]);
  Var n("n");
  SoftmaxParts p = softmaxParts(k, scores, labels, classes, op.getNegate(), n);
  defineOutput(k, "loss", {n},
               log(p.total(n)) + p.peak(n) - p.scores(p.label, n));
}

void lowerCrossEntropyGrad(SoftmaxCrossEntropyGradOp op, LoweredOp &k) {
  ImageParam scores = bufferFor(op.getScores(), "scores");
  ImageParam labels = bufferFor(op.getLabels(), "labels");
  k.args = {scores, labels};
  int classes = int(shapeOf(op.getScores())[1]);
  Var f("f"), n("n");
  SoftmaxParts p = softmaxParts(k, scores, labels, classes, op.getNegate(), n);
  // d(mean loss)/d(scores): (softmax - onehot) / N, negated with the scores.
  Expr scale = float(op.getWeight().convertToDouble()) *
               (op.getNegate() ? -1.0f : 1.0f) / cast<float>(batchOf(scores));
  Expr probability = exp(p.scores(f, n) - p.peak(n)) / p.total(n);
  defineOutput(k, "loss_grad", {f, n},
               scale * (probability - select(f == p.label, 1.0f, 0.0f)));
}

void lowerMseLoss(mlir::Operation *op, bool gradient, double weight,
                  LoweredOp &k) {
  ImageParam scores = bufferFor(op->getOperand(0), "scores");
  ImageParam labels = bufferFor(op->getOperand(1), "labels");
  k.args = {scores, labels};
  int classes = int(shapeOf(op->getOperand(0))[1]);
  Var f("f"), n("n");
  Expr label = clamp(cast<int>(labels(n)), 0, classes - 1);
  auto diff = [&](Expr c) {
    return scores(c, n) - select(c == label, 1.0f, 0.0f);
  };
  if (gradient) {
    Expr scale = float(2.0 * weight / classes) / cast<float>(batchOf(scores));
    defineOutput(k, "mse_loss_grad", {f, n}, scale * diff(f));
    return;
  }
  RDom r(0, classes, "r");
  Func total("squares");
  total(n) = sum(diff(r) * diff(r));
  defineOutput(k, "mse_loss", {n}, total(n) / float(classes));
  k.stages = {total};
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

/// An OIHW weight read transposed into the packed convolution's blocks,
/// (i % 16, kx, ky, o, i / 16): input channels innermost, zero past the
/// last one. Taps past the kernel read as zeros too: bounds inference
/// cannot see which taps a stride phase skips.
Func blockedTransposedWeight(ImageParam &weight, int channels, int kw, int kh) {
  const int B = kChannelBlock;
  Var wc("wc"), wx("wx"), wy("wy"), wo("wo"), wb("wb");
  Func transposed("weight_transposed");
  Expr wi = wb * B + wc;
  transposed(wc, wx, wy, wo, wb) = select(
      wi < channels && wx < kw && wy < kh,
      weight(min(wx, kw - 1), min(wy, kh - 1), clamp(wi, 0, channels - 1), wo),
      0.0f);
  return transposed;
}

/// The input gradient of a strided convolution, one phase at a time: input
/// column x = sx * xq + px receives only from kernel columns kx = k0 + sx *
/// j with k0 = (px + pad) % sx, at gradient column xq + (px + pad) / sx -
/// j (rows alike). The accumulator is (o % 16, xq, yq, o / 16, n, phase),
/// so no tap is spent on the zeros between strided outputs.
bool lowerConvGradInputPhased(Conv2DGradInputOp op, LoweredOp &k) {
  std::vector<int64_t> g = shapeOf(op.getGrad()), w = shapeOf(op.getWeight());
  std::vector<int64_t> in = shapeOf(op.getResult());
  auto stride = op.getStride(), pad = op.getPad(), dilation = op.getDilation();
  int sy = int(stride[0]), sx = int(stride[1]);
  int channels = int(w[1]), outputs = int(w[0]);
  if (op.getGroups() != 1 || channels < kChannelBlock || sx * sy == 1 ||
      dilation[0] != 1 || dilation[1] != 1 || in[3] % sx != 0 ||
      in[2] % sy != 0)
    return false;
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam weight = bufferFor(op.getWeight(), "weight");
  k.args = {grad, weight};
  const int B = kChannelBlock;
  int kw = int(w[3]), kh = int(w[2]);
  Func padded = zeroPadded(grad, g[3], g[2]);

  Func transposed = blockedTransposedWeight(weight, channels, kw, kh);
  k.stages.push_back(transposed);

  Var ci("ci"), xq("xq"), yq("yq"), cb("cb"), n("n"), phase("phase");
  Expr px = phase % sx, py = phase / sx;
  Expr k0x = (px + int(pad[2])) % sx, k0y = (py + int(pad[0])) % sy;
  RDom r(0, (kw + sx - 1) / sx, 0, (kh + sy - 1) / sy, 0, outputs, "r");
  r.where(k0x + sx * r.x < kw && k0y + sy * r.y < kh);
  Expr gx = xq + (px + int(pad[2])) / sx - r.x;
  Expr gy = yq + (py + int(pad[0])) / sy - r.y;
  Func acc("conv_grad_input");
  acc(ci, xq, yq, cb, n, phase) = 0.0f;
  acc(ci, xq, yq, cb, n, phase) +=
      padded(gx, gy, r.z, n) *
      transposed(ci, k0x + sx * r.x, k0y + sy * r.y, r.z, cb);

  // The output as (px, xq, py, yq, c, n): rows and columns split into
  // phases, so that a tile of one phase has constant bounds. The program
  // passes the NCHW buffer reshaped to [N, C, H / sy, sy, W / sx, sx].
  Var px0("px"), py0("py"), c("c");
  k.result = acc(c % B, xq, yq, c / B, n, py0 * sx + px0);
  defineOutput(k, "conv2d_grad_input", {px0, xq, py0, yq, c, n}, k.result);
  k.coords = {xq * sx + px0, yq * sy + py0, c, n};
  k.outputView = {in[0], in[1], in[2] / sy, sy, in[3] / sx, sx};
  k.accumulator = acc;
  k.reduction = r;
  k.paddedInput = padded;
  k.paddedPlane = g[2] * g[3];
  k.packedWeight = true;
  k.outputsPerGroup = channels;
  k.phaseColumns = sx;
  k.work = in[1] * in[2] * in[3] * outputs * w[2] * w[3] / (sx * sy);
  return true;
}

void lowerConvGradInput(Conv2DGradInputOp op, LoweredOp &k) {
  if (lowerConvGradInputPhased(op, k))
    return;
  std::vector<int64_t> g = shapeOf(op.getGrad()), w = shapeOf(op.getWeight());
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam weight = bufferFor(op.getWeight(), "weight");
  k.args = {grad, weight};
  auto stride = op.getStride(), pad = op.getPad(), dilation = op.getDilation();
  int groups = int(op.getGroups());
  int outPerGroup = int(w[0]) / groups, inPerGroup = int(w[1]);
  Var x("x"), y("y"), c("c"), n("n");
  // A 1x1 kernel at stride 1 without padding reads the gradient where it
  // is; the packed schedule then needs no bordered copy of it.
  int channels = inPerGroup * groups;
  // Fewer than two blocks of channels at stride 1, rows of a vector or
  // more: vectors along the columns load fewer values per multiply-add
  // than one block of channels (as for the forward convolution).
  std::vector<int64_t> in = shapeOf(op.getResult());
  bool packed = groups == 1 && channels >= kChannelBlock &&
                !(channels < 2 * kChannelBlock && stride[0] == 1 &&
                  stride[1] == 1 && in[3] >= 16);
  bool pointwise = w[2] == 1 && w[3] == 1 && stride[0] == 1 && stride[1] == 1 &&
                   !pad[0] && !pad[1] && !pad[2] && !pad[3];
  bool bordered = !(packed && pointwise);
  Func padded = bordered ? zeroPadded(grad, g[3], g[2]) : Func(grad);
  RDom r(0, int(w[3]), 0, int(w[2]), 0, outPerGroup, "r");
  Expr group = groups == 1 ? Expr(0) : c / inPerGroup;
  Expr o = group * outPerGroup + r.z;
  // Output column ox reads input column ox * stride + kx * dilation - pad:
  // input column x receives from ox = (x + pad - kx * dilation) / stride.
  Expr ox = x + int(pad[2]) - r.x * int(dilation[1]);
  Expr oy = y + int(pad[0]) - r.y * int(dilation[0]);
  // Kernel rows that reach no gradient row are skipped (the bound becomes
  // the loop's); columns read the zero border, as vectors.
  r.where(oy >= 0 && oy <= int((g[2] - 1) * stride[0]));
  Expr value;
  if (stride[0] == 1 && stride[1] == 1) {
    value = padded(ox, oy, o, n);
  } else {
    value =
        select(ox % int(stride[1]) == 0 && oy % int(stride[0]) == 0,
               padded(ox / int(stride[1]), oy / int(stride[0]), o, n), 0.0f);
  }
  // With one group and a vector of input channels or more, the kernel is a
  // convolution whose output channels are the input's: the weight is read
  // transposed into the packed convolution's blocks (input channels
  // innermost, 16 at a time), so the packed convolution schedule applies.
  Func acc("conv_grad_input");
  if (packed) {
    const int B = kChannelBlock;
    Func transposed =
        blockedTransposedWeight(weight, channels, int(w[3]), int(w[2]));
    k.stages.push_back(transposed);
    k.packedWeight = true;
    k.outputsPerGroup = channels;
    Var ci("ci"), cb("cb");
    acc(ci, x, y, cb, n) = 0.0f;
    acc(ci, x, y, cb, n) += value * transposed(ci, r.x, r.y, r.z, cb);
    k.result = acc(c % B, x, y, c / B, n);
  } else {
    k.outputsPerGroup = inPerGroup;
    acc(x, y, c, n) = 0.0f;
    // c % inPerGroup, not c - group * inPerGroup: Halide's bounds of the
    // latter over a range of c reach below zero (the GPU schedule's fused
    // loops read the weight by those bounds).
    acc(x, y, c, n) += value * weight(r.x, r.y, c % inPerGroup, o);
  }
  defineOutput(k, "conv2d_grad_input", {x, y, c, n},
               k.result.defined() ? k.result : acc(x, y, c, n));
  k.accumulator = acc;
  k.reduction = r;
  if (bordered)
    k.paddedInput = padded;
  k.paddedPlane = g[2] * g[3];
  k.work = in[1] * in[2] * in[3] * outPerGroup * w[2] * w[3];
}

void lowerConvGradWeight(Conv2DGradWeightOp op, LoweredOp &k) {
  std::vector<int64_t> g = shapeOf(op.getGrad()), in = shapeOf(op.getInput());
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam input = bufferFor(op.getInput(), "input");
  k.args = {grad, input};
  auto stride = op.getStride(), pad = op.getPad(), dilation = op.getDilation();
  int groups = int(op.getGroups());
  int outPerGroup = int(g[1]) / groups, inPerGroup = int(in[1]) / groups;
  bool hasPadding = pad[0] || pad[1] || pad[2] || pad[3];
  Func padded = hasPadding ? zeroPadded(input, in[3], in[2]) : Func(input);
  Var kx("kx"), ky("ky"), i("i"), o("o");
  RDom r(0, int(g[3]), 0, int(g[2]), 0, batchOf(grad), "r");
  Expr group = groups == 1 ? Expr(0) : o / outPerGroup;
  auto tapOf = [&](Expr kxe, Expr kye, Expr ie) {
    return padded(r.x * int(stride[1]) + kxe * int(dilation[1]) - int(pad[2]),
                  r.y * int(stride[0]) + kye * int(dilation[0]) - int(pad[0]),
                  group * inPerGroup + ie, r.z);
  };
  if (groups == 1 && g[1] >= 8) {
    // Vectors along the output channels: the gradient transposed so that
    // they are innermost, then for every position of the batch and image
    // one vector of it times each kernel column's input value, into a row
    // of accumulators (Pattern::OuterProduct).
    int outputs = int(g[1]);
    Var to("to"), tx("tx"), ty("ty"), tn("tn");
    Func transposed("grad_transposed");
    transposed(to, tx, ty, tn) = grad(tx, ty, clamp(to, 0, outputs - 1), tn);
    Var ko("ko");
    Func acc("conv_grad_weight");
    acc(ko, kx, ky, i) = 0.0f;
    acc(ko, kx, ky, i) += transposed(ko, r.x, r.y, r.z) * tapOf(kx, ky, i);
    defineOutput(k, "conv2d_grad_weight", {kx, ky, i, o}, acc(o, kx, ky, i));
    setAccumulation(k, acc, r, Pattern::OuterProduct);
    k.stages.push_back(transposed);
  } else {
    Func acc("conv_grad_weight");
    acc(kx, ky, i, o) = 0.0f;
    acc(kx, ky, i, o) += grad(r.x, r.y, o, r.z) * tapOf(kx, ky, i);
    defineOutput(k, "conv2d_grad_weight", {kx, ky, i, o}, acc(kx, ky, i, o));
    setAccumulation(k, acc, r, Pattern::Reduce);
  }
  if (hasPadding)
    k.paddedInput = padded;
  k.paddedPlane = in[2] * in[3];
  std::vector<int64_t> w = shapeOf(op.getResult());
  k.work = w[0] * w[1] * w[2] * w[3] * g[2] * g[3];
}

/// Sum over everything but channels of `value(x, y, c, n)` (rank 4) or
/// `value(f, n)` (rank 2), for each channel; `batchFrom` gives N.
void channelSum(LoweredOp &k, const char *name, std::vector<int64_t> shape,
                ImageParam &batchFrom,
                const std::function<Expr(Expr, Expr, Expr, Expr)> &value,
                Expr scale = Expr(1.0f)) {
  Var c("c");
  Func acc(std::string(name) + "_sum");
  acc(c) = 0.0f;
  if (shape.size() == 4) {
    RDom r(0, int(shape[3]), 0, int(shape[2]), 0, batchOf(batchFrom), "r");
    acc(c) += value(r.x, r.y, c, r.z);
    setAccumulation(k, acc, r, Pattern::Reduce);
    k.work = shape[2] * shape[3];
  } else {
    RDom r(0, batchOf(batchFrom), "r");
    acc(c) += value(Expr(), Expr(), c, r);
    setAccumulation(k, acc, r, Pattern::Gather);
  }
  defineOutput(k, name, {c}, acc(c) * scale);
}

/// 1 / (number of values per channel): N, times H W for images.
Expr perChannelMean(const std::vector<int64_t> &shape, ImageParam &buffer) {
  Expr count = cast<float>(batchOf(buffer));
  if (shape.size() == 4)
    count = count * float(shape[2] * shape[3]);
  return 1.0f / count;
}

/// value(x, y, c, n) of a rank-4 buffer or value(f, n) of a rank-2 one.
Expr at(ImageParam &buffer, Expr x, Expr y, Expr c, Expr n) {
  if (buffer.dimensions() == 4)
    return buffer(x, y, c, n);
  return buffer(c, n);
}

void lowerBiasGrad(BiasGradOp op, LoweredOp &k) {
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  k.args = {grad};
  channelSum(
      k, "bias_grad", shapeOf(op.getGrad()), grad,
      [&](Expr x, Expr y, Expr c, Expr n) { return at(grad, x, y, c, n); });
}

//===----------------------------------------------------------------------===//
// Batch normalization
//===----------------------------------------------------------------------===//

void lowerBatchMean(BatchMeanOp op, LoweredOp &k) {
  std::vector<int64_t> shape = shapeOf(op.getInput());
  ImageParam input = bufferFor(op.getInput(), "input");
  k.args = {input};
  channelSum(
      k, "batch_mean", shape, input,
      [&](Expr x, Expr y, Expr c, Expr n) { return at(input, x, y, c, n); },
      perChannelMean(shape, input));
}

void lowerBatchVar(BatchVarOp op, LoweredOp &k) {
  std::vector<int64_t> shape = shapeOf(op.getInput());
  ImageParam input = bufferFor(op.getInput(), "input");
  ImageParam mean = bufferFor(op.getMean(), "mean");
  k.args = {input, mean};
  channelSum(
      k, "batch_var", shape, input,
      [&](Expr x, Expr y, Expr c, Expr n) {
        Expr d = at(input, x, y, c, n) - mean(c);
        return d * d;
      },
      perChannelMean(shape, input));
}

void lowerBatchNormGradWeight(BatchNormGradWeightOp op, LoweredOp &k) {
  std::vector<int64_t> shape = shapeOf(op.getInput());
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam input = bufferFor(op.getInput(), "input");
  ImageParam mean = bufferFor(op.getMean(), "mean");
  ImageParam var = bufferFor(op.getVar(), "var");
  k.args = {grad, input, mean, var};
  float eps = float(op.getEps().convertToDouble());
  channelSum(k, "batchnorm_grad_weight", shape, grad,
             [&](Expr x, Expr y, Expr c, Expr n) {
               return at(grad, x, y, c, n) * (at(input, x, y, c, n) - mean(c)) /
                      sqrt(var(c) + eps);
             });
}

void lowerBatchNormGradInput(BatchNormGradInputOp op, LoweredOp &k) {
  std::vector<int64_t> shape = shapeOf(op.getInput());
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam input = bufferFor(op.getInput(), "input");
  ImageParam gamma = bufferFor(op.getWeight(), "weight");
  ImageParam mean = bufferFor(op.getMean(), "mean");
  ImageParam var = bufferFor(op.getVar(), "var");
  ImageParam gradSum = bufferFor(op.getGradSum(), "grad_sum");
  ImageParam gradXhatSum = bufferFor(op.getGradXhatSum(), "grad_xhat_sum");
  k.args = {grad, input, gamma, mean, var, gradSum, gradXhatSum};
  float eps = float(op.getEps().convertToDouble());
  std::vector<Var> vars = varsFor(shape.size());
  std::vector<Expr> here(vars.begin(), vars.end());
  Var c = vars[shape.size() - 2];
  Expr inverseCount = perChannelMean(shape, grad);
  Expr rstd = 1.0f / sqrt(var(c) + eps);
  Expr xhat = (input(here) - mean(c)) * rstd;
  defineOutput(k, "batchnorm_grad_input", vars,
               gamma(c) * rstd *
                   (grad(here) - gradSum(c) * inverseCount -
                    xhat * gradXhatSum(c) * inverseCount));
}

//===----------------------------------------------------------------------===//
// Dense and RBF
//===----------------------------------------------------------------------===//

/// A [rows, n]-shaped result whose element (j, m) sums `term(j, m, r)` over
/// `r` in [0, extent): vectors along j.
void gather2d(LoweredOp &k, const char *name, Expr extent,
              const std::function<Expr(Var, Var, RVar)> &term) {
  Var j("j"), m("m");
  RDom r(0, extent, "r");
  Func acc(std::string(name) + "_sum");
  acc(j, m) = 0.0f;
  acc(j, m) += term(j, m, r.x);
  defineOutput(k, name, {j, m}, acc(j, m));
  setAccumulation(k, acc, r, Pattern::Gather);
}

void lowerDenseGradInput(DenseGradInputOp op, LoweredOp &k) {
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam weight = bufferFor(op.getWeight(), "weight");
  k.args = {grad, weight};
  int outputs = int(shapeOf(op.getWeight())[0]);
  // dx[n, i] = sum_o grad[n, o] w[o, i]
  gather2d(k, "dense_grad_input", outputs,
           [&](Var i, Var n, RVar o) { return grad(o, n) * weight(i, o); });
  k.work = outputs * shapeOf(op.getWeight())[1];
}

void lowerDenseGradWeight(DenseGradWeightOp op, LoweredOp &k) {
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam input = bufferFor(op.getInput(), "input");
  k.args = {grad, input};
  // dw[o, i] = sum_n grad[n, o] x[n, i]
  gather2d(k, "dense_grad_weight", batchOf(grad),
           [&](Var i, Var o, RVar n) { return grad(o, n) * input(i, n); });
  std::vector<int64_t> w = shapeOf(op.getResult());
  k.work = w[0] * w[1] * 32;
}

void lowerRbfGradInput(RbfGradInputOp op, LoweredOp &k) {
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam input = bufferFor(op.getInput(), "input");
  ImageParam weight = bufferFor(op.getWeight(), "weight");
  k.args = {grad, input, weight};
  int units = int(shapeOf(op.getWeight())[0]);
  gather2d(k, "rbf_grad_input", units, [&](Var j, Var n, RVar u) {
    return grad(u, n) * 2.0f * (input(j, n) - weight(j, u));
  });
  k.work = units * shapeOf(op.getWeight())[1];
}

void lowerRbfGradWeight(RbfGradWeightOp op, LoweredOp &k) {
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam input = bufferFor(op.getInput(), "input");
  ImageParam weight = bufferFor(op.getWeight(), "weight");
  k.args = {grad, input, weight};
  gather2d(k, "rbf_grad_weight", batchOf(grad), [&](Var j, Var u, RVar n) {
    return grad(u, n) * 2.0f * (weight(j, u) - input(j, n));
  });
  std::vector<int64_t> w = shapeOf(op.getResult());
  k.work = w[0] * w[1] * 32;
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct Window {
  int kh, kw, sh, sw, pt, pl;
};

Window windowOf(llvm::ArrayRef<int64_t> kernel, llvm::ArrayRef<int64_t> stride,
                llvm::ArrayRef<int64_t> pad) {
  return {int(kernel[0]), int(kernel[1]), int(stride[0]),
          int(stride[1]), int(pad[0]),    int(pad[2])};
}

/// dx(x, y, c, n) = sum over the windows (ox, oy) that hold (x, y) of
/// `share(ox, oy, kx, ky)`, (kx, ky) being (x, y)'s place in the window.
void poolGradient(LoweredOp &k, const char *name, const Window &w,
                  const std::vector<int64_t> &out,
                  const std::function<Expr(Expr, Expr, Expr, Expr, Var, Var,
                                           RVar, RVar)> &share) {
  Var x("x"), y("y"), c("c"), n("n");
  RDom r(0, w.kw, 0, w.kh, "r");
  Expr ox = x + w.pl - r.x, oy = y + w.pt - r.y;
  Expr valid = ox >= 0 && oy >= 0 && ox % w.sw == 0 && oy % w.sh == 0 &&
               ox / w.sw < int(out[3]) && oy / w.sh < int(out[2]);
  Expr cx = clamp(ox / w.sw, 0, int(out[3]) - 1);
  Expr cy = clamp(oy / w.sh, 0, int(out[2]) - 1);
  Func acc(std::string(name) + "_sum");
  acc(x, y, c, n) = 0.0f;
  acc(x, y, c, n) += select(valid, share(cx, cy, c, n, c, n, r.x, r.y), 0.0f);
  defineOutput(k, name, {x, y, c, n}, acc(x, y, c, n));
  setAccumulation(k, acc, r, Pattern::Gather);
}

void lowerMaxPoolGrad(MaxPool2DGradOp op, LoweredOp &k) {
  std::vector<int64_t> in = shapeOf(op.getInput()), out = shapeOf(op.getGrad());
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam input = bufferFor(op.getInput(), "input");
  k.args = {grad, input};
  Window w = windowOf(op.getKernel(), op.getStride(), op.getPad());
  if (w.kw == 1 && w.kh == 1) {
    // One-value windows (a subsampling shortcut): every input value is its
    // window's maximum or in none; each reads its gradient.
    Var x("x"), y("y"), c("c"), n("n");
    Expr ox = (x + w.pl) / w.sw, oy = (y + w.pt) / w.sh;
    Expr hit = (x + w.pl) % w.sw == 0 && (y + w.pt) % w.sh == 0 &&
               ox < int(out[3]) && oy < int(out[2]);
    defineOutput(
        k, "maxpool2d_grad", {x, y, c, n},
        select(hit,
               grad(min(ox, int(out[3]) - 1), min(oy, int(out[2]) - 1), c, n),
               0.0f));
    return;
  }
  Func padded =
      zeroPadded(input, in[3], in[2], -std::numeric_limits<float>::infinity());
  // The first maximum of each window (row by row), as PyTorch picks it,
  // found for a vector of windows at a time; each window then adds its
  // gradient there (Pattern::Scatter: one plane at a time, in cache).
  Var ox("ox"), oy("oy"), c("c"), n("n"), x("x"), y("y");
  RDom rw(0, w.kw, 0, w.kh, "rw");
  Func place("argmax");
  Expr v = padded(ox * w.sw - w.pl + rw.x, oy * w.sh - w.pt + rw.y, c, n);
  place(ox, oy, c, n) = {-std::numeric_limits<float>::infinity(), 0, 0};
  Expr better = v > place(ox, oy, c, n)[0];
  place(ox, oy, c, n) = {select(better, v, place(ox, oy, c, n)[0]),
                         select(better, rw.x, place(ox, oy, c, n)[1]),
                         select(better, rw.y, place(ox, oy, c, n)[2])};
  k.stages.push_back(place);
  RDom r(0, int(out[3]), 0, int(out[2]), "r");
  Tuple found = place(r.x, r.y, c, n);
  Expr best[] = {found[1], found[2]};
  Expr ix = clamp(r.x * w.sw - w.pl + best[0], 0, int(in[3]) - 1);
  Expr iy = clamp(r.y * w.sh - w.pt + best[1], 0, int(in[2]) - 1);
  Func dx("maxpool2d_grad_sum");
  dx(x, y, c, n) = 0.0f;
  dx(ix, iy, c, n) += grad(r.x, r.y, c, n);
  defineOutput(k, "maxpool2d_grad", {x, y, c, n}, dx(x, y, c, n));
  k.accumulator = dx;
  k.pattern = Pattern::Scatter;
}

void lowerAvgPoolGrad(AvgPool2DGradOp op, LoweredOp &k) {
  std::vector<int64_t> out = shapeOf(op.getGrad());
  llvm::ArrayRef<int64_t> in = op.getInputShape(), pad = op.getPad();
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  k.args = {grad};
  Window w = windowOf(op.getKernel(), op.getStride(), op.getPad());
  int height = int(in[1]), width = int(in[2]);
  bool noPad = !pad[0] && !pad[1] && !pad[2] && !pad[3];
  if (noPad && w.kh == w.sh && w.kw == w.sw) {
    // Windows that tile the input: each position is in at most one.
    Var x("x"), y("y"), c("c"), n("n");
    Expr ox = x / w.sw, oy = y / w.sh;
    defineOutput(
        k, "avgpool2d_grad", {x, y, c, n},
        select(ox < int(out[3]) && oy < int(out[2]),
               grad(min(ox, int(out[3]) - 1), min(oy, int(out[2]) - 1), c, n),
               0.0f) /
            float(w.kh * w.kw));
    return;
  }
  bool countPad = op.getCountIncludePad();
  poolGradient(k, "avgpool2d_grad", w, out,
               [&](Expr cx, Expr cy, Expr, Expr, Var c, Var n, RVar, RVar) {
                 // The forward's divisor for window (cx, cy).
                 Expr x0 = cx * w.sw - w.pl, y0 = cy * w.sh - w.pt, count;
                 if (countPad) {
                   Expr x1 = min(x0 + w.kw, width + int(pad[3]));
                   Expr y1 = min(y0 + w.kh, height + int(pad[1]));
                   count = (x1 - x0) * (y1 - y0);
                 } else {
                   Expr x1 = min(x0 + w.kw, width), y1 = min(y0 + w.kh, height);
                   count = (x1 - max(x0, 0)) * (y1 - max(y0, 0));
                 }
                 return grad(cx, cy, c, n) / cast<float>(count);
               });
}

void lowerGlobalAvgPoolGrad(GlobalAvgPoolGradOp op, LoweredOp &k) {
  llvm::ArrayRef<int64_t> in = op.getInputShape();
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  k.args = {grad};
  Var x("x"), y("y"), c("c"), n("n");
  defineOutput(k, "global_avgpool_grad", {x, y, c, n},
               grad(0, 0, c, n) / float(in[1] * in[2]));
}

//===----------------------------------------------------------------------===//
// Elementwise and structural
//===----------------------------------------------------------------------===//

void lowerActivationGrad(mlir::Operation *op, LoweredOp &k) {
  std::vector<int64_t> shape = shapeOf(op->getOperand(0));
  ImageParam grad = bufferFor(op->getOperand(0), "grad");
  ImageParam y = bufferFor(op->getOperand(1), "output");
  k.args = {grad, y};
  std::vector<Var> vars = varsFor(shape.size());
  std::vector<Expr> here(vars.begin(), vars.end());
  Expr g = grad(here), v = y(here), value;
  if (mlir::isa<ReluGradOp>(op)) {
    value = select(v > 0.0f, g, 0.0f);
  } else if (mlir::isa<TanhGradOp>(op)) {
    value = g * (1.0f - v * v);
  } else if (mlir::isa<SigmoidGradOp>(op)) {
    value = g * v * (1.0f - v);
  } else {
    // softmax: y * (g - sum over channels of g * y)
    size_t axis = shape.size() - 2;
    RDom r(0, int(shape[1]), "r");
    std::vector<Expr> along = here;
    along[axis] = r;
    std::vector<Var> rest = vars;
    Func dot("dot");
    dot(vars) = sum(grad(along) * y(along));
    std::vector<Expr> reduced = here;
    reduced[axis] = 0;
    value = v * (g - dot(reduced));
    k.stages = {dot};
  }
  defineOutput(k, op->getName().stripDialect().str().c_str(), vars, value);
}

/// lowbias32: a 32-bit integer hash with good avalanche.
Expr mix32(Expr h) {
  h = h ^ (h >> 16);
  h = h * Expr(uint32_t(0x7feb352du));
  h = h ^ (h >> 15);
  h = h * Expr(uint32_t(0x846ca68bu));
  return h ^ (h >> 16);
}

void lowerDropoutTrain(DropoutTrainOp op, LoweredOp &k) {
  std::vector<int64_t> shape = shapeOf(op.getInput());
  ImageParam input = bufferFor(op.getInput(), "input");
  ImageParam rng = bufferFor(op.getRng(), "rng");
  k.args = {input, rng};
  std::vector<Var> vars = varsFor(shape.size());
  std::vector<Expr> here(vars.begin(), vars.end());
  // The element's index in the whole batch, NCHW order: this batch may be
  // one process's share, starting at sample rng(2).
  Expr index = cast<uint32_t>(vars.back() + cast<int>(rng(2)));
  for (size_t d = 1; d < shape.size(); ++d)
    index = index * Expr(uint32_t(shape[d])) +
            cast<uint32_t>(vars[shape.size() - 1 - d]);
  Expr seed = cast<uint32_t>(rng(0)), step = cast<uint32_t>(rng(1));
  Expr salt = Expr(uint32_t(op.getSaltAttr().getInt()));
  Expr key = mix32(seed ^ mix32(step ^ mix32(salt)));
  Expr h = mix32(mix32(index ^ key) + key);
  double p = op.getP().convertToDouble();
  Expr threshold = Expr(uint32_t(p * 4294967296.0));
  defineOutput(
      k, "dropout_train", vars,
      select(h >= threshold, input(here) * float(1.0 / (1.0 - p)), 0.0f));
}

void lowerLRNGrad(LRNGradOp op, LoweredOp &k) {
  std::vector<int64_t> shape = shapeOf(op.getInput());
  ImageParam grad = bufferFor(op.getGrad(), "grad");
  ImageParam input = bufferFor(op.getInput(), "input");
  k.args = {grad, input};
  int size = int(op.getSize()), channels = int(shape[1]);
  float alpha = float(op.getAlpha().convertToDouble());
  float beta = float(op.getBeta().convertToDouble());
  float kk = float(op.getK().convertToDouble());
  Var x("x"), y("y"), c("c"), n("n");
  // d_c over the window [c - size/2, c + (size-1)/2], as the forward.
  RDom w(-(size / 2), size, "w");
  Expr cw = c + w;
  Func d("denominator");
  d(x, y, c, n) =
      kk +
      alpha / size *
          sum(select(cw >= 0 && cw < channels,
                     pow(input(x, y, clamp(cw, 0, channels - 1), n), 2), 0.0f));
  Func t("scaled");
  t(x, y, c, n) =
      grad(x, y, c, n) * input(x, y, c, n) * pow(d(x, y, c, n), -beta - 1.0f);
  // Channel c is in the window of j for j in [c - (size-1)/2, c + size/2].
  RDom u(-((size - 1) / 2), size, "u");
  Expr cu = c + u;
  Func back("window_back");
  back(x, y, c, n) = sum(select(cu >= 0 && cu < channels,
                                t(x, y, clamp(cu, 0, channels - 1), n), 0.0f));
  defineOutput(k, "lrn_grad", {x, y, c, n},
               grad(x, y, c, n) * pow(d(x, y, c, n), -beta) -
                   2.0f * alpha * beta / size * input(x, y, c, n) *
                       back(x, y, c, n));
  k.stages = {d, t};
}

void lowerChannelSlice(ChannelSliceOp op, LoweredOp &k) {
  std::vector<int64_t> shape = shapeOf(op.getInput());
  ImageParam input = bufferFor(op.getInput(), "input");
  k.args = {input};
  std::vector<Var> vars = varsFor(shape.size());
  std::vector<Expr> from(vars.begin(), vars.end());
  size_t axis = shape.size() - 2;
  from[axis] = from[axis] + int(op.getBeginAttr().getInt());
  defineOutput(k, "channel_slice", vars, input(from));
}

} // namespace

bool lowerGradOp(mlir::Operation *op, LoweredOp &k) {
  if (auto ce = mlir::dyn_cast<SoftmaxCrossEntropyOp>(op))
    lowerCrossEntropy(ce, k);
  else if (auto ceg = mlir::dyn_cast<SoftmaxCrossEntropyGradOp>(op))
    lowerCrossEntropyGrad(ceg, k);
  else if (mlir::isa<MseLossOp>(op))
    lowerMseLoss(op, /*gradient=*/false, 1.0, k);
  else if (auto mse = mlir::dyn_cast<MseLossGradOp>(op))
    lowerMseLoss(op, /*gradient=*/true, mse.getWeight().convertToDouble(), k);
  else if (auto cgi = mlir::dyn_cast<Conv2DGradInputOp>(op))
    lowerConvGradInput(cgi, k);
  else if (auto cgw = mlir::dyn_cast<Conv2DGradWeightOp>(op))
    lowerConvGradWeight(cgw, k);
  else if (auto bg = mlir::dyn_cast<BiasGradOp>(op))
    lowerBiasGrad(bg, k);
  else if (auto bm = mlir::dyn_cast<BatchMeanOp>(op))
    lowerBatchMean(bm, k);
  else if (auto bv = mlir::dyn_cast<BatchVarOp>(op))
    lowerBatchVar(bv, k);
  else if (auto bgw = mlir::dyn_cast<BatchNormGradWeightOp>(op))
    lowerBatchNormGradWeight(bgw, k);
  else if (auto bgi = mlir::dyn_cast<BatchNormGradInputOp>(op))
    lowerBatchNormGradInput(bgi, k);
  else if (auto dgi = mlir::dyn_cast<DenseGradInputOp>(op))
    lowerDenseGradInput(dgi, k);
  else if (auto dgw = mlir::dyn_cast<DenseGradWeightOp>(op))
    lowerDenseGradWeight(dgw, k);
  else if (auto rgi = mlir::dyn_cast<RbfGradInputOp>(op))
    lowerRbfGradInput(rgi, k);
  else if (auto rgw = mlir::dyn_cast<RbfGradWeightOp>(op))
    lowerRbfGradWeight(rgw, k);
  else if (auto mpg = mlir::dyn_cast<MaxPool2DGradOp>(op))
    lowerMaxPoolGrad(mpg, k);
  else if (auto apg = mlir::dyn_cast<AvgPool2DGradOp>(op))
    lowerAvgPoolGrad(apg, k);
  else if (auto gpg = mlir::dyn_cast<GlobalAvgPoolGradOp>(op))
    lowerGlobalAvgPoolGrad(gpg, k);
  else if (mlir::isa<ReluGradOp, TanhGradOp, SigmoidGradOp, SoftmaxGradOp>(op))
    lowerActivationGrad(op, k);
  else if (auto drop = mlir::dyn_cast<DropoutTrainOp>(op))
    lowerDropoutTrain(drop, k);
  else if (auto lrn = mlir::dyn_cast<LRNGradOp>(op))
    lowerLRNGrad(lrn, k);
  else if (auto slice = mlir::dyn_cast<ChannelSliceOp>(op))
    lowerChannelSlice(slice, k);
  else
    return false;
  return true;
}

} // namespace netc::halide
