//===- ThreadPool.h - The threads that run the kernels' parallel loops ----===//
//
// Every kernel's parallel loop goes through halide_do_par_for. Halide's own
// pool puts its workers to sleep as soon as a loop ends, so each of the
// dozens of kernels in a forward pass waited for the operating system to
// wake a worker again. This pool's workers spin for a while between loops
// (as oneDNN's and ONNX Runtime's do), then sleep.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>

namespace netc::rt {

/// Routes Halide's parallel loops to a pool of `threads` threads (the
/// calling thread and threads - 1 workers). Call once, before any kernel
/// runs; with one thread, loops run on the calling thread.
void useThreadPool(int threads);

/// The pool's threads (1 without a pool).
int poolThreads();

/// Runs body(i) for i in [0, n), one task each, on the pool's threads; the
/// kernels a task calls run their parallel loops on the task's thread.
/// Rethrows on the calling thread the first exception a task threw.
void parallelFor(int n, const std::function<void(int)> &body);

} // namespace netc::rt
