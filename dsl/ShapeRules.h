//===- ShapeRules.h - Output-size arithmetic of the layers ------*- C++ -*-===//
//
// Pure functions shared by the front end (which reports errors at source
// locations) and the `nn` dialect's verifiers and shape inference. Shapes are
// per sample: [C, H, W] for images, [N] for flat features; the batch
// dimension is not part of them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <utility>

namespace netc::shape {

/// Spatial extent covered by a kernel of size `k` with dilation `d`.
inline int64_t dilatedKernel(int64_t k, int64_t d) { return d * (k - 1) + 1; }

/// Output size of a convolution along one axis (floor division, as PyTorch).
/// Non-positive when the padded input is smaller than the kernel.
inline int64_t convOutput(int64_t in, int64_t k, int64_t stride,
                          int64_t padBefore, int64_t padAfter,
                          int64_t dilation) {
  int64_t span = in + padBefore + padAfter - dilatedKernel(k, dilation);
  if (span < 0)
    return 0;
  return span / stride + 1;
}

/// Output size of a pooling window along one axis. With `ceil` the last,
/// partial window is kept, but never one that starts in the padding
/// (PyTorch's ceil_mode rule).
inline int64_t poolOutput(int64_t in, int64_t k, int64_t stride,
                          int64_t padBefore, int64_t padAfter, bool ceil) {
  int64_t span = in + padBefore + padAfter - k;
  if (span < 0)
    return 0;
  int64_t out = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil && (out - 1) * stride >= in + padBefore)
    --out;
  return out;
}

/// Padding for "same" output size: ceil(in / stride) outputs, the extra
/// padding row (if the total is odd) at the end, as TensorFlow and Keras do.
inline std::pair<int64_t, int64_t>
samePadding(int64_t in, int64_t k, int64_t stride, int64_t dilation) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = (out - 1) * stride + dilatedKernel(k, dilation) - in;
  if (total < 0)
    total = 0;
  return {total / 2, total - total / 2};
}

/// Padding for "full" convolution: every partial overlap produces an output.
inline int64_t fullPadding(int64_t k, int64_t dilation) {
  return dilatedKernel(k, dilation) - 1;
}

} // namespace netc::shape
