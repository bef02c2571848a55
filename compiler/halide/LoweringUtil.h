//===- LoweringUtil.h - Pieces shared by the op lowerings -------*- C++ -*-===//
#pragma once

#include "compiler/halide/OpLowering.h"

namespace netc::halide::detail {

/// The static shape of a value, batch first (dynamic batch as -1).
std::vector<int64_t> shapeOf(mlir::Value value);

/// The kernel's output: `name`(vars) = value.
void defineOutput(LoweredOp &k, const char *name, std::vector<Halide::Var> vars,
                  Halide::Expr value);

/// An input buffer for `value`, its static extents declared so Halide can
/// specialize on them; a dynamic batch stays free.
Halide::ImageParam bufferFor(mlir::Value value, const std::string &name);

/// x, y, c, n for rank 4; f, n for rank 2; x first (Halide order).
std::vector<Halide::Var> varsFor(size_t dims);

/// `in` with `value` outside [0, W) x [0, H) in the first two dimensions.
Halide::Func zeroPadded(Halide::ImageParam &in, int64_t w, int64_t h,
                        float value = 0.0f);

} // namespace netc::halide::detail
