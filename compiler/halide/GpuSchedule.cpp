//===- GpuSchedule.cpp - Kernels on a GPU (CUDA, OpenCL) ------------------===//
//
// The first GPU schedule: every computed Func runs on the device, one GPU
// thread per element of each definition's pure dimensions (fused into one
// index, in blocks of kThreads), its reduction serial within the thread.
// Nothing runs on the host, whatever the op. It is a correct baseline for
// every kernel; shared-memory tiles, register tiles and tree reductions
// are for the schedules that replace it per pattern.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/Schedule.h"

#include <vector>

namespace netc::halide {

using namespace Halide;

namespace {

constexpr int kThreads = 64;

/// One definition of `f` (pure: -1) on the device: its pure dimensions
/// fused into one index over blocks of threads; none: a single thread.
void onDevice(Func &f, int update) {
  std::vector<Var> pure;
  std::vector<Var> args = f.args();
  if (update < 0) {
    pure = args;
  } else {
    std::vector<Expr> lhs = f.update_args(update);
    for (size_t i = 0; i < lhs.size() && i < args.size(); ++i)
      if (const auto *v = lhs[i].as<Internal::Variable>();
          v && v->name == args[i].name())
        pure.push_back(args[i]);
  }
  Stage stage = update < 0 ? static_cast<Stage>(f) : f.update(update);
  if (pure.empty()) {
    stage.gpu_single_thread();
    return;
  }
  Var all = pure[0];
  for (size_t i = 1; i < pure.size(); ++i) {
    Var fused(pure[i].name() + "_f");
    stage.fuse(all, pure[i], fused);
    all = fused;
  }
  Var block("block"), thread("thread");
  stage.gpu_tile(all, block, thread, kThreads, TailStrategy::GuardWithIf);
}

void allOnDevice(Func &f) {
  onDevice(f, -1);
  for (int i = 0; i < f.num_update_definitions(); ++i)
    onDevice(f, i);
}

} // namespace

void applyGpuSchedule(LoweredOp &op) {
  // The stages and the accumulator are buffers of their own on the device;
  // everything else is computed inline where it is used.
  for (Func &stage : op.stages) {
    stage.compute_root();
    allOnDevice(stage);
  }
  if (op.accumulator.defined() && op.accumulator.name() != op.output.name()) {
    op.accumulator.compute_root();
    allOnDevice(op.accumulator);
  }
  allOnDevice(op.output);
}

} // namespace netc::halide
