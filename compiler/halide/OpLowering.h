//===- OpLowering.h - nn ops as Halide pipelines ----------------*- C++ -*-===//
//
// Each nn op becomes a Halide algorithm over buffers whose dimensions are the
// tensor's reversed: NCHW activations are (x, y, c, n), OIHW weights
// (kx, ky, i, o). Shapes are static except the batch. The schedule is chosen
// separately (Schedule.h) so that tuning can replace it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <Halide.h>

#include "mlir/IR/Operation.h"
#include "llvm/ADT/ArrayRef.h"

#include <string>
#include <vector>

namespace netc::halide {

/// How the default schedule treats a kernel (Schedule.cpp).
enum class Pattern {
  Default, // by op: convolutions, dot products (dense), elementwise
  Gather,  // vectors along the output's first dimension, each summing its
           // `reduction` (transposed convolutions, gradients of dense)
  Reduce,  // a small output summed over the batch and the image: the
           // reduction's first dimension split into vector lanes (rfactor)
  Scatter, // sums(f(r)) += … (the accumulator), one plane at a time: each
           // reduction point adds where it points; the output copies it
  OuterProduct, // conv weight gradients: the accumulator is (o, kx, ky, i),
                // vectors of o times each kx's input value, summed over the
                // reduction; the output is its transpose (kx, ky, i, o)
};

/// One kernel: its argument buffers in operand order and its output.
struct LoweredOp {
  std::string opName; // "conv2d", "relu", …
  std::vector<Halide::ImageParam> args;
  /// Scalar arguments after the buffers (optimizer hyper-parameters).
  std::vector<Halide::Param<float>> scalars;
  Pattern pattern = Pattern::Default;
  Halide::Func output;
  std::vector<Halide::Var> vars;    // the output's dimensions, x first
  std::vector<int64_t> outputShape; // PyTorch order, batch first (-1)
  /// Reductions and intermediate stages the schedule may place.
  std::vector<Halide::Func> stages;
  /// conv2d, dense, rbf: the accumulation the output reads (its update
  /// step reduces over `reduction`), and for conv2d the input with its zero
  /// border when there is padding.
  Halide::Func accumulator;
  Halide::RDom reduction;
  Halide::Func paddedInput;
  int64_t paddedPlane = 0; // values per plane of that input (w * h)
  int64_t paddedRows = 0;  // conv2d: the rows of the border it reads
  /// conv2d: the weight argument is packed by a lowerWeightPack kernel,
  /// output channels in blocks of kChannelBlock, innermost. The accumulator
  /// is then blocked too, (o % 16, x, y, o / 16, n), and `result` reads it
  /// at the output's coordinates.
  bool packedWeight = false;
  Halide::Expr result;
  int64_t outputsPerGroup = 0; // conv2d: output channels per group
  /// Input gradients of strided convolutions: the accumulator has a last
  /// dimension of phases, and its columns are the output's every
  /// `phaseColumns`-th (the stride).
  int phaseColumns = 1;
  /// When the output's dimensions are not NCHW's (x, y, c, n): the NCHW
  /// coordinates in terms of `vars`, and the shape (PyTorch order) of the
  /// view of the NCHW buffer that the kernel writes.
  std::vector<Halide::Expr> coords;
  std::vector<int64_t> outputView;
  /// For each argument: the view (PyTorch order, batch first) of its
  /// buffer that the kernel reads; absent or empty: the tensor's own shape.
  std::vector<std::vector<int64_t>> argViews;
  /// conv2d on flattened planes: a pointwise convolution at stride 1
  /// without padding is a matrix product over the `flatPixels` pixels of a
  /// plane, so its input, output and fused operands are viewed as
  /// (pixel, c, n) and vars are (p, c, n).
  int64_t flatPixels = 0;
  /// Multiply-adds per sample, for choosing how to split work.
  int64_t work = 0;
};

/// Packed convolution weights hold the output channels in blocks of this
/// many, innermost: [ceil(O / 16), I, KH, KW, 16] in PyTorch order, zero
/// past O. A register tile of output channels streams its weights in order.
constexpr int kChannelBlock = 16;

/// Whether this conv2d is computed on flattened planes (LoweredOp::
/// flatPixels): 1x1, stride 1, no padding, one group, planes of 256
/// pixels or more (on smaller planes, tiles of pixels waste too much).
bool convIsFlatPointwise(mlir::Operation *conv);

/// Whether the kernel of this conv2d wants its weight packed (output
/// channels innermost, so they can be the vector dimension).
bool convUsesPackedWeight(mlir::Operation *conv);

/// The kernel that packs an OIHW weight for convUsesPackedWeight kernels;
/// programs run it once, after loading the weights.
LoweredOp lowerWeightPack(mlir::Value weight);

/// Declares a buffer dense (strides follow the extents) with the static
/// extents of `shape` (PyTorch order; -1 for a free batch dimension).
void constrainDense(const Halide::OutputImageParam &buffer,
                    const std::vector<int64_t> &shape);

/// The algorithm of a training op (NNGradOps.td): losses, batch statistics
/// and vector-Jacobian products. Returns false for other ops.
bool lowerGradOp(mlir::Operation *op, LoweredOp &k);

/// The in-place update kernel of an optimizer ("sgd", "adam", "adamw",
/// "rmsprop") over a flattened parameter: buffers (weight, grad, state…),
/// then its scalar hyper-parameters; outputs the new weight and state.
LoweredOp lowerOptimizer(const std::string &kind);

/// One kernel for a fusion group (nn-fuse-epilogues): a conv2d or dense
/// followed by elementwise ops, each applied as the output is written.
LoweredOp lowerGroup(llvm::ArrayRef<mlir::Operation *> ops);

/// A text that is equal for two groups exactly when they compile to the
/// same kernel: the ops, their attributes, operand and result types.
std::string kernelKey(llvm::ArrayRef<mlir::Operation *> ops);
/// The same for the packing kernel of a weight.
std::string packKey(mlir::Value weight);

} // namespace netc::halide
