//===- Plan.h - What a generated program does, step by step -----*- C++ -*-===//
//
// The program builder turns the nn module into a plan; the driver emitter
// turns the plan into C++. Tensor references are C++ expressions of the
// generated code: `in[0]` (inputs), `p[3]` (parameters), `t5` (activations).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netc::codegen {

struct PlanTensor {
  std::string name;
  std::vector<int64_t> shape; // PyTorch order; per sample for activations
  bool used = false;          // parameters: read by some kernel
};

struct PlanStep {
  enum class Kind { Kernel, Alias, Reshape };
  Kind kind = Kind::Kernel;
  std::string layer;  // the layer's name in the model file
  std::string op;     // conv2d, relu, …
  std::string symbol; // the kernel function (Kind::Kernel)
  std::vector<std::string> args;
  std::string result;                  // "t5"
  std::vector<int64_t> shape;          // result, per sample
  std::vector<std::string> argShapes; // for the comment: [N, …] or [O, I, …]
  int64_t arenaOffset = -1; // kernels in forward: floats per sample
};

struct ProgramPlan {
  std::string model, source, target, netcVersion;
  std::vector<PlanTensor> params, inputs, outputs;
  std::vector<std::string> droppedOutputs; // training-only heads
  std::vector<double> mean, std;           // image normalization
  bool scoresAreDistances = false;         // the first output is rbf-like
  /// Run once after loading; their results are q[0], q[1], ….
  std::vector<PlanStep> prepareSteps;
  std::vector<PlanStep> steps;
  std::vector<std::string> outputRefs; // what each output copies from
  std::vector<std::string> kernelHeaders;
  /// Activation memory per sample, shared by liveness, and what it would be
  /// without sharing.
  int64_t arenaFloatsPerSample = 0;
  int64_t unplannedFloatsPerSample = 0;
};

/// Places every kernel result of `forward` in one arena (planMemory sets
/// arenaOffset and the totals).
void planMemory(ProgramPlan &plan);

/// "[N, 6, 28, 28]" for activations, "[6, 1, 5, 5]" for parameters.
std::string batchedShape(const std::vector<int64_t> &shape);
std::string fullShape(const std::vector<int64_t> &shape);

/// The C++ source of the program's main file.
std::string emitDriver(const ProgramPlan &plan);

} // namespace netc::codegen
