//===- MemoryPlan.cpp - Activation memory shared by liveness --------------===//
//
// Every kernel result gets a place in one arena. Walking the steps in
// order, a result takes the first free block that fits (or the end of the
// arena), and a tensor's block is freed after its last use: a result never
// overlaps the inputs of the kernel that writes it. Sizes are per sample;
// the program multiplies offsets by the batch.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Plan.h"

#include <algorithm>
#include <map>

namespace netc::codegen {

namespace {

int64_t elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Free blocks of the arena, merged when adjacent.
class FreeList {
public:
  int64_t take(int64_t size) {
    for (auto it = blocks_.begin(); it != blocks_.end(); ++it) {
      if (it->second < size)
        continue;
      int64_t offset = it->first, left = it->second - size;
      blocks_.erase(it);
      if (left > 0)
        blocks_[offset + size] = left;
      return offset;
    }
    int64_t offset = end_;
    end_ += size;
    return offset;
  }

  void give(int64_t offset, int64_t size) {
    auto [it, inserted] = blocks_.emplace(offset, size);
    auto next = std::next(it);
    if (next != blocks_.end() && offset + size == next->first) {
      it->second += next->second;
      blocks_.erase(next);
    }
    if (it != blocks_.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == offset) {
        prev->second += it->second;
        blocks_.erase(it);
      }
    }
  }

  int64_t end() const { return end_; }

private:
  std::map<int64_t, int64_t> blocks_; // offset -> size
  int64_t end_ = 0;
};

} // namespace

void planMemory(FunctionPlan &plan) {
  // Aliases and reshapes share the memory of the tensor they view: `root`
  // maps each activation to the kernel result that holds its memory (None
  // for memory of its own outside the arena).
  std::map<TensorRef, TensorRef> root;
  std::map<TensorRef, size_t> lastUse;
  size_t end = plan.steps.size();
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    PlanStep &step = plan.steps[i];
    for (const TensorRef &arg : step.args)
      if (root.count(arg))
        lastUse[root[arg]] = i;
    if (step.kind == PlanStep::Kind::Kernel)
      root[step.result] = step.batched ? step.result : TensorRef();
    else
      root[step.result] =
          root.count(step.args[0]) ? root[step.args[0]] : TensorRef();
  }
  for (const TensorRef &ref : plan.results)
    if (root.count(ref) && root[ref].kind != TensorRef::Kind::None)
      lastUse[root[ref]] = end;

  FreeList arena;
  std::map<TensorRef, std::pair<int64_t, int64_t>> placed; // offset, size
  plan.unplannedFloatsPerSample = 0;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    PlanStep &step = plan.steps[i];
    if (step.kind == PlanStep::Kind::Kernel && step.batched) {
      // Whole cache lines, so that vectors stay aligned.
      int64_t size = (elements(step.shape) + 15) / 16 * 16;
      step.arenaOffset = arena.take(size);
      placed[step.result] = {step.arenaOffset, size};
      plan.unplannedFloatsPerSample += size;
    }
    for (auto it = placed.begin(); it != placed.end();) {
      auto use = lastUse.find(it->first);
      bool dead =
          use == lastUse.end() ? it->first != step.result : use->second <= i;
      if (dead && it->first != step.result) {
        arena.give(it->second.first, it->second.second);
        it = placed.erase(it);
      } else {
        ++it;
      }
    }
  }
  plan.arenaFloatsPerSample = arena.end();
}

} // namespace netc::codegen
