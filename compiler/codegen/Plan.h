//===- Plan.h - What a generated program does, step by step -----*- C++ -*-===//
//
// The program builder turns the nn module into a plan; the driver emitter
// turns the plan into C++. Tensor references are C++ expressions of the
// generated code: `in[0]` (inputs), `p[3]` (parameters), `q[2]` (tensors
// derived from parameters), `t5` (activations), `out[1]` (results).
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
  /// Parameters: how a training program initializes it, as PyTorch does by
  /// default: "kaiming" (uniform +-1/sqrt(fan_in)), "zeros", "ones",
  /// "normal" (N(0, 1)).
  std::string init;
  int64_t fanIn = 1;
  bool trainable = true; // not a buffer (running statistics)
};

struct PlanStep {
  enum class Kind { Kernel, Alias, Reshape };
  Kind kind = Kind::Kernel;
  std::string layer;  // the layer's name in the model file
  std::string op;     // conv2d, relu, …
  std::string symbol; // the kernel function (Kind::Kernel)
  std::vector<std::string> args;
  std::string result;                 // "t5"
  std::vector<int64_t> shape;         // result, per sample when batched
  std::vector<std::string> argShapes; // for the comment: [N, …] or [O, I, …]
  /// Whether the result has a batch dimension; those without (gradients of
  /// parameters, batch statistics) get their own buffers.
  bool batched = true;
  int64_t arenaOffset = -1; // batched kernels: floats per sample
  /// The kernel writes its result through this view (per sample), e.g.
  /// columns split into stride phases; empty: the result's own shape.
  std::vector<int64_t> resultView;
  /// The same for each argument (absent or empty: the argument's shape).
  std::vector<std::vector<int64_t>> argViews;
};

/// One function of the program: steps run once per set of parameters
/// (prepareSteps, whose results are q[0], q[1], …) and the steps of a run.
struct FunctionPlan {
  std::vector<PlanStep> prepareSteps;
  std::vector<PlanStep> steps;
  std::vector<std::string> outputRefs; // what each result copies from
  /// Activation memory per sample, shared by liveness, and what it would be
  /// without sharing.
  int64_t arenaFloatsPerSample = 0;
  int64_t unplannedFloatsPerSample = 0;
};

/// The training side of a program: @train's results and the train section.
struct TrainPlan {
  FunctionPlan step;
  /// @train's results in order: "loss:OUT", "scores:OUT", "grad:PARAM",
  /// "mean:BUFFER", "var:BUFFER".
  std::vector<std::string> results;
  std::vector<std::vector<int64_t>> resultShapes; // per sample when batched
  std::vector<std::string> labelInputs;           // the outputs they score
  std::vector<double> lossWeights;
  /// Running statistics: momentum and values per channel per sample (H W).
  std::vector<std::pair<std::string, double>> momentum;
  std::vector<std::pair<std::string, int64_t>> perSample;
  std::string optimizerSymbol, optimizerHeader;
  bool takesRng = false; // dropout: the step's last input is (seed, step)
  std::string settings;  // the train section, as C++ statements on `t`
};

struct ProgramPlan {
  std::string model, source, target, netcVersion;
  std::vector<PlanTensor> params, inputs, outputs;
  std::vector<std::string> droppedOutputs; // training-only heads
  std::vector<double> mean, std;           // image normalization
  bool scoresAreDistances = false;         // the first output is rbf-like
  FunctionPlan forward;
  bool training = false;
  TrainPlan train;
  std::vector<std::string> kernelHeaders;
};

/// Places every batched kernel result of `function` in one arena (sets
/// arenaOffset and the totals).
void planMemory(FunctionPlan &function);

/// "[N, 6, 28, 28]" for activations, "[6, 1, 5, 5]" for parameters.
std::string batchedShape(const std::vector<int64_t> &shape);
std::string fullShape(const std::vector<int64_t> &shape);

/// A C++ string literal of `text`.
std::string quoted(const std::string &text);

/// The C++ source of the program's main file.
std::string emitDriver(const ProgramPlan &plan);

} // namespace netc::codegen
