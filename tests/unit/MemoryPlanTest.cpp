//===- MemoryPlanTest.cpp - Tensors alive together never share memory -----===//
//
// A property test of planMemory over random graphs: kernels, aliases and
// reshapes reading earlier results, some results of the function. Liveness
// is recomputed here independently: an activation lives from the step that
// writes it to the last step that reads it or any view of it (to the end
// when the function returns it).
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Plan.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace {

using netc::codegen::FunctionPlan;
using netc::codegen::PlanStep;
using netc::codegen::TensorRef;
using Kind = TensorRef::Kind;

FunctionPlan randomPlan(std::mt19937 &rng) {
  FunctionPlan plan;
  int steps = std::uniform_int_distribution<int>(1, 40)(rng);
  for (int k = 0; k < steps; ++k) {
    PlanStep step;
    int r = std::uniform_int_distribution<int>(0, 9)(rng);
    step.kind = k == 0 || r < 7 ? PlanStep::Kind::Kernel
                : r < 8         ? PlanStep::Kind::Alias
                                : PlanStep::Kind::Reshape;
    step.batched = step.kind != PlanStep::Kind::Kernel || r != 6;
    step.shape = {std::uniform_int_distribution<int64_t>(1, 3000)(rng)};
    int args = step.kind == PlanStep::Kind::Kernel
                   ? std::uniform_int_distribution<int>(1, 3)(rng)
                   : 1;
    for (int a = 0; a < args; ++a) {
      if (k == 0 || std::uniform_int_distribution<int>(0, 4)(rng) == 0) {
        step.args.push_back(TensorRef::of(Kind::Input, 0));
        continue;
      }
      // Mostly recent results, sometimes one from far back.
      int back =
          std::uniform_int_distribution<int>(0, 3)(rng) == 0
              ? std::uniform_int_distribution<int>(1, k)(rng)
              : std::uniform_int_distribution<int>(1, std::min(k, 3))(rng);
      step.args.push_back(TensorRef::of(Kind::Temp, k - back));
    }
    step.result = TensorRef::of(Kind::Temp, k);
    plan.steps.push_back(step);
  }
  int results = std::uniform_int_distribution<int>(1, 2)(rng);
  for (int i = 0; i < results; ++i)
    plan.results.push_back(TensorRef::of(
        Kind::Temp, std::uniform_int_distribution<int>(0, steps - 1)(rng)));
  return plan;
}

/// The step whose kernel result holds step k's memory (-1: none in the
/// arena).
int owner(const FunctionPlan &plan, int k) {
  const PlanStep &step = plan.steps[k];
  if (step.kind == PlanStep::Kind::Kernel)
    return step.batched ? k : -1;
  const TensorRef &src = step.args[0];
  return src.kind == Kind::Temp ? owner(plan, src.index) : -1;
}

TEST(MemoryPlan, TensorsAliveTogetherNeverOverlap) {
  std::mt19937 rng(20261206);
  for (int trial = 0; trial < 2000; ++trial) {
    FunctionPlan plan = randomPlan(rng);
    netc::codegen::planMemory(plan);
    int n = int(plan.steps.size());
    // Each arena tensor's live range [first, last].
    std::map<int, std::pair<int, int>> live;
    for (int k = 0; k < n; ++k)
      if (owner(plan, k) == k)
        live[k] = {k, k};
    auto use = [&](int k, int at) {
      int o = owner(plan, k);
      if (o >= 0)
        live[o].second = std::max(live[o].second, at);
    };
    for (int k = 0; k < n; ++k)
      for (const TensorRef &arg : plan.steps[k].args)
        if (arg.kind == Kind::Temp)
          use(arg.index, k);
    for (const TensorRef &ref : plan.results)
      use(ref.index, n);

    int64_t highest = 0;
    for (auto &[a, rangeA] : live) {
      const PlanStep &sa = plan.steps[a];
      int64_t sizeA = (sa.shape[0] + 15) / 16 * 16;
      ASSERT_GE(sa.arenaOffset, 0) << "trial " << trial << " step " << a;
      EXPECT_EQ(sa.arenaOffset % 16, 0);
      highest = std::max(highest, sa.arenaOffset + sizeA);
      for (auto &[b, rangeB] : live) {
        if (b <= a || rangeB.first > rangeA.second ||
            rangeA.first > rangeB.second)
          continue;
        const PlanStep &sb = plan.steps[b];
        int64_t sizeB = (sb.shape[0] + 15) / 16 * 16;
        bool apart = sa.arenaOffset + sizeA <= sb.arenaOffset ||
                     sb.arenaOffset + sizeB <= sa.arenaOffset;
        ASSERT_TRUE(apart) << "trial " << trial << ": steps " << a << " and "
                           << b << " are alive together in [" << rangeB.first
                           << ", " << rangeA.second << "] and overlap";
      }
    }
    EXPECT_LE(highest, plan.arenaFloatsPerSample);
    EXPECT_LE(plan.arenaFloatsPerSample, plan.unplannedFloatsPerSample);
  }
}

} // namespace
