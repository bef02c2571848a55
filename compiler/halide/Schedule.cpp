//===- Schedule.cpp - How a kernel is computed ----------------------------===//

#include "compiler/halide/Schedule.h"

using namespace Halide;

namespace netc::halide {

std::string Schedule::key() const {
  return "v" + std::to_string(vectorWidth) + (parallel ? "p" : "s");
}

Schedule defaultSchedule(const LoweredOp &op, const Target &target) {
  Schedule schedule;
  schedule.vectorWidth = target.has_feature(Target::AVX512) ? 16
                         : target.has_feature(Target::AVX)  ? 8
                                                            : 4;
  return schedule;
}

void applySchedule(LoweredOp &op, const Schedule &schedule) {
  for (Func &stage : op.stages)
    stage.compute_root();
  Func &out = op.output;
  std::vector<Var> &v = op.vars;
  // Outer dimensions (channels and batch) in parallel, the innermost one in
  // vectors; the update step of a reduction likewise.
  auto place = [&](auto &&stage) {
    if (v.size() == 4) {
      Var cn("cn");
      stage.fuse(v[2], v[3], cn);
      if (schedule.parallel)
        stage.parallel(cn);
    } else if (schedule.parallel) {
      stage.parallel(v.back());
    }
    stage.vectorize(v[0], schedule.vectorWidth, TailStrategy::GuardWithIf);
  };
  place(out);
  if (out.has_update_definition())
    place(out.update());
}

} // namespace netc::halide
