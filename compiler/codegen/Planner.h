//===- Planner.h - From the nn module to a program plan ---------*- C++ -*-===//
#pragma once

#include "compiler/codegen/Plan.h"
#include "compiler/halide/KernelCompiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <ostream>

namespace netc::codegen {

/// Turns functions of the module into plans, compiling each kernel once per
/// build (and once ever, through the kernel cache).
class Planner {
public:
  Planner(ProgramPlan &plan, halide::KernelCompiler &compiler, bool verbose,
          std::ostream &log);

  /// The plan of `func`: every op one step (a fusion group one kernel),
  /// ops on parameters alone in prepareSteps. Results without a batch
  /// dimension are written in place; the others are copied out.
  bool planFunction(mlir::func::FuncOp func, FunctionPlan &fplan);

  /// Plans @train of a training module: its steps, what each of its
  /// results holds, and the optimizer's update kernel.
  bool planTraining(mlir::ModuleOp module, const dsl::Graph &graph);

  const std::vector<std::string> &objects() const { return objects_; }
  size_t kernelCount() const { return kernels_.size(); }
  int compiled() const { return compiled_; }
  int cached() const { return cached_; }

private:
  /// Compiles `lowered` unless a kernel with the same key was compiled in
  /// this build; returns its symbol.
  std::string compileKernel(const std::string &key, halide::LoweredOp &lowered);

  ProgramPlan &plan_;
  halide::KernelCompiler &compiler_;
  bool verbose_;
  std::ostream &log_;
  /// The batch that the schedules of the kernels compiled from now on are
  /// chosen for (they are correct for any).
  int64_t batch_ = 1;
  std::map<std::string, size_t> paramIndex_;
  std::vector<std::string> objects_;
  std::map<std::string, halide::CompiledKernel> kernels_; // by key
  int compiled_ = 0, cached_ = 0;
};

} // namespace netc::codegen
