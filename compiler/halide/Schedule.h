//===- Schedule.h - How a kernel is computed --------------------*- C++ -*-===//
//
// A schedule is data carried per kernel, so tuning can replace it without
// touching the algorithm. These are the defaults chosen for the target.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/halide/OpLowering.h"

#include <string>

namespace netc::halide {

struct Schedule {
  int vectorWidth = 8; // floats per vector: 16 with AVX-512, 8 with AVX2
  // conv2d with packed weights: a register tile of `tileColumns` output
  // columns by `channelVectors` vectors of output channels.
  int tileColumns = 8;
  int channelVectors = 1;
  bool rowsPerTask = false; // each thread task sweeps all rows of a block
  // When nonzero: a task keeps the sums of `bandRows` rows in memory and
  // its tiles sweep them `reductionBlock` input channels at a time, so
  // those channels' weights and input rows stay in the L1 cache.
  int reductionBlock = 0;
  int bandRows = 1;
  // conv2d on plain weights (depthwise-like): `channelBlock` channels by
  // `columnVectors` vectors of columns (of pixels, on flattened planes).
  int channelBlock = 4;
  int columnVectors = 1;
  // ... by `rowBlock` output rows (depthwise: the rows reuse the weights
  // held in registers, and their sums are independent chains).
  int rowBlock = 1;
  // A thread task of it: `taskRows` rows (tiles of pixels, on flattened
  // planes) by `taskBlocks` channel blocks, enough work to outweigh
  // handing out a task.
  int taskRows = 1;
  int taskBlocks = 1;
  bool parallel = true; // spread channels and batch over threads
  // Weight gradients (Pattern::OuterProduct): the register tile holds
  // every kernel row, not one (channelVectors vectors of output channels).
  bool tileRows = false;
  // ... and that many input channels of the task's block at once.
  int inputsInRegisters = 1;
  // ... into one partial gradient per sample, one row at a time.
  bool samplePartials = false;
  // The target has a GPU (cuda, opencl): the kernel runs there
  // (GpuSchedule.cpp), and the fields above do not apply.
  bool gpu = false;

  /// A short text that becomes part of the kernel's cache key.
  std::string key() const;
};

/// The default schedule for `op` on `target`, chosen for batches of
/// `batch` samples (it is correct for any).
Schedule defaultSchedule(const LoweredOp &op, const Halide::Target &target,
                         int64_t batch = 1);

/// Applies `schedule` to the kernel's Funcs.
void applySchedule(LoweredOp &op, const Schedule &schedule);

/// Every Func of the kernel on the GPU (GpuSchedule.cpp).
void applyGpuSchedule(LoweredOp &op);

} // namespace netc::halide
