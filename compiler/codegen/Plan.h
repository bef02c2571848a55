//===- Plan.h - What a generated program does, step by step -----*- C++ -*-===//
//
// The planner (Planner.cpp) turns the nn module into a plan; the driver
// emitter (DriverEmitter.cpp) turns the plan into C++, and is the only
// place that names tensors in text. Tensors are referred to by TensorRef:
// a kind (input, parameter, prepared from parameters, activation, result)
// and an index.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dsl/Graph.h"

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace netc::codegen {

/// A tensor of a generated function.
struct TensorRef {
  enum class Kind {
    None,
    Input,    // the function's inputs: images, labels, dropout's key
    Param,    // ProgramPlan::params[index]
    Prepared, // a tensor derived from parameters alone (a packed weight)
    Temp,     // an activation: the result of FunctionPlan::steps[index]
    Output,   // the function's result `index`, written in place
  };
  Kind kind = Kind::None;
  int index = -1;

  static TensorRef of(Kind kind, size_t index) { return {kind, int(index)}; }
  /// Computed from parameters alone: steps reading only these run once,
  /// in prepare().
  bool fromParams() const {
    return kind == Kind::Param || kind == Kind::Prepared;
  }
  bool operator==(const TensorRef &o) const {
    return kind == o.kind && index == o.index;
  }
  bool operator!=(const TensorRef &o) const { return !(*this == o); }
  bool operator<(const TensorRef &o) const {
    return std::tie(kind, index) < std::tie(o.kind, o.index);
  }
};

struct PlanTensor {
  std::string name;
  std::vector<int64_t> shape; // PyTorch order; per sample for activations
  bool used = false;          // parameters: read by some kernel
  /// Parameters: how a training program initializes it (the layer's choice,
  /// dsl/Layers.cpp), and whether gradient descent trains it.
  dsl::ParamInit init = dsl::ParamInit::Normal;
  int64_t fanIn = 1;
  bool trainable = true; // not a buffer (running statistics)
};

struct PlanStep {
  enum class Kind { Kernel, Alias, Reshape };
  Kind kind = Kind::Kernel;
  std::string layer; // the layer's name in the model file
  std::string op;    // conv2d, relu, conv2d_grad_input, …
  /// Training steps: the forward pass, a loss of `layer`'s output, or the
  /// backward pass (the step differentiates `layer`).
  enum class Pass { Forward, Loss, Backward };
  Pass pass = Pass::Forward;
  std::string symbol; // the kernel function (Kind::Kernel)
  std::vector<TensorRef> args;
  TensorRef result;
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
/// (prepareSteps, whose results are the Prepared tensors) and the steps of
/// a run.
struct FunctionPlan {
  std::vector<PlanStep> prepareSteps;
  std::vector<PlanStep> steps;
  std::vector<TensorRef> results; // what each result of the function is
  /// Activation memory per sample, shared by liveness, and what it would be
  /// without sharing.
  int64_t arenaFloatsPerSample = 0;
  int64_t unplannedFloatsPerSample = 0;
};

/// What a result of the training step holds.
enum class ResultKind {
  Loss,      // per sample, of a model output
  Scores,    // the first loss term's output, for training accuracy
  Gradient,  // of a trained parameter
  BatchMean, // a batch norm's batch statistics, for its running_mean
  BatchVar,  // … and its running_var
};

struct TrainResult {
  ResultKind kind = ResultKind::Loss;
  std::string of; // the output (Loss, Scores) or parameter it belongs to
  int param = -1; // that parameter's index in ProgramPlan::params
  std::vector<int64_t> shape; // per sample for Loss and Scores
};

/// The optimizer's update kernel: its buffers are (weight, grad, state…),
/// its scalars named as the runtime's OptimizerStep fields.
struct OptimizerPlan {
  std::string kind; // sgd, adam, adamw, rmsprop
  std::string symbol;
  int states = 0;
  std::vector<std::string> scalars;
};

/// The training side of a program: @train's results and the train section.
struct TrainPlan {
  FunctionPlan step;
  std::vector<TrainResult> results;
  std::vector<double> lossWeights;
  /// Running statistics: momentum and values per channel per sample (H W).
  struct RunningStat {
    std::string name;
    double momentum;
    int64_t perSample;
  };
  std::vector<RunningStat> runningStats;
  OptimizerPlan optimizer;
  bool takesRng = false; // dropout: the step's last input is (seed, step)
  dsl::TrainConfig settings;
};

struct ProgramPlan {
  std::string model, source, target, netcVersion;
  std::vector<PlanTensor> params, inputs, outputs;
  std::vector<std::string> droppedOutputs; // training-only heads
  std::vector<double> mean, std;           // image normalization
  bool scoresAreDistances = false;         // the first output is rbf-like
  FunctionPlan forward;
  bool training = false;
  bool mpi = false; // links Open MPI: data-parallel training under mpirun
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
