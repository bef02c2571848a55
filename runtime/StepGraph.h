//===- StepGraph.h - Which steps of a training step must run ----*- C++ -*-===//
//
// Header-only: the compiler uses it to mark the steps that always run, and
// programs use it to skip the steps that lead only to gradients of
// parameters frozen at run time.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <vector>

namespace netc::rt {

/// The steps that the wanted results depend on: the step that writes each
/// (`resultSteps[r]`, -1 for none) and, transitively, the steps whose
/// results those read (`reads[k]`: the earlier steps that step k reads).
inline std::vector<bool>
stepsLeadingTo(const std::vector<std::vector<int>> &reads,
               const std::vector<int> &resultSteps,
               const std::vector<bool> &wanted) {
  std::vector<bool> needed(reads.size());
  std::vector<int> pending;
  for (size_t r = 0; r < resultSteps.size(); ++r)
    if (wanted[r] && resultSteps[r] >= 0)
      pending.push_back(resultSteps[r]);
  while (!pending.empty()) {
    int k = pending.back();
    pending.pop_back();
    if (needed[k])
      continue;
    needed[k] = true;
    pending.insert(pending.end(), reads[k].begin(), reads[k].end());
  }
  return needed;
}

} // namespace netc::rt
