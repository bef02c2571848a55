//===- Program.h - The command line of a generated program ------*- C++ -*-===//
//
// A generated program describes its model (parameters, inputs, outputs) and
// provides its functions (forward, and for training programs the training
// step and the optimizer's update); runProgram gives it the subcommands
// (info, infer, eval, bench, and train and train-step), weight loading with
// clear errors, and --threads.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "TrainSettings.h"

#include <HalideBuffer.h>

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace netc::rt {

/// Tensors in programs are Halide buffers whose dimensions are those of the
/// PyTorch tensor reversed: NCHW is (w, h, c, n), OIHW is (kw, kh, i, o).
using Buffer = Halide::Runtime::Buffer<float>;

/// How training initializes a parameter (PyTorch's defaults, chosen by the
/// layer that declares it).
enum class Init {
  Uniform, // uniform in +-1/sqrt(fanIn)
  Zeros,
  Ones,
  Normal, // N(0, 1)
};

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape; // PyTorch order; per sample for inputs/outputs
  /// Parameters of heads the program leaves out (training-only outputs):
  /// loaded when present, not required.
  bool unused = false;
  /// Parameters: how training initializes them, and whether gradient
  /// descent trains them (not running statistics).
  Init init = Init::Normal;
  int64_t fanIn = 1;
  bool trainable = true;
};

/// A result of the training step.
struct TrainResultSpec {
  enum class Kind {
    Loss,      // per sample, of the output `of`
    Scores,    // the output `of`, for training accuracy
    Gradient,  // of the parameter `param`
    BatchMean, // batch statistics for the running_mean `param`
    BatchVar,  // … and for the running_var `param`
  };
  Kind kind = Kind::Loss;
  std::string of; // the output's or the parameter's name
  int param = -1; // Gradient, BatchMean, BatchVar: index in ModelSpec::params
  std::vector<int64_t> shape; // per sample for Loss and Scores
  bool batched() const { return kind == Kind::Loss || kind == Kind::Scores; }
  /// "loss:OUT", "scores:OUT", "grad:PARAM", "mean:PARAM", "var:PARAM": the
  /// tensor's name in the results file of `train-step`.
  std::string label() const;
};

/// Called by a training step after step k has written results (the step
/// numbers of ModelSpec::trainResultSteps): they are final from then on.
using StepDone = std::function<void(int step)>;

/// The hyper-parameters of one optimizer step, named as the update
/// kernel's scalar arguments; each optimizer reads those it needs.
struct OptimizerStep {
  float lr = 0, momentum = 0, weight_decay = 0, nesterov = 0;
  float beta1 = 0, beta2 = 0, eps = 0, correction1 = 1, correction2 = 1;
  float alpha = 0;
};

/// A batch norm's running statistic: its momentum, and how many values
/// each sample contributes per channel (H W).
struct RunningStat {
  std::string name;
  double momentum;
  int64_t perSample;
};

struct ModelSpec {
  std::string name;
  std::string source; // the .nn file it was compiled from
  std::string target; // the Halide target its kernels were compiled for
  std::vector<TensorSpec> params; // definition order, as in weight files
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<std::string> droppedOutputs; // training-only heads left out
  /// How images are normalized (the train section's normalize), and whether
  /// the first output is a distance, lower meaning more likely (rbf).
  std::vector<float> mean, std;
  bool scoresAreDistances = false;
  /// Derives the tensors the kernels want from the loaded parameters (e.g.
  /// weights repacked into another layout); run once, after loading.
  void (*prepare)(std::vector<Buffer> &params,
                  std::vector<Buffer> &prepared) = nullptr;
  /// Runs the network: `outputs` are allocated by the caller for the batch.
  void (*forward)(std::vector<Buffer> &params, std::vector<Buffer> &prepared,
                  std::vector<Buffer> &inputs,
                  std::vector<Buffer> &outputs) = nullptr;
  /// The most samples a call of forward takes (runForward splits larger
  /// batches): their activations then stay in the cache from layer to layer.
  int64_t forwardChunk = 0; // 0: any batch at once
  /// GPU targets: Halide's interface to the device the kernels run on.
  const halide_device_interface_t *(*device)() = nullptr;

  /// Training programs (netc build --train): the step's inputs are the
  /// model's inputs then one label vector per loss term; its outputs are
  /// `trainResults`. The optimizer kernel updates one flattened parameter.
  TrainSettings train;
  std::vector<TrainResultSpec> trainResults;
  std::vector<double> lossWeights;
  std::vector<RunningStat> runningStats;
  bool trainTakesRng = false; // dropout: the last input is {seed, step}
  void (*trainPrepare)(std::vector<Buffer> &params,
                       std::vector<Buffer> &prepared) = nullptr;
  /// `needed[k]`: whether step k runs. Steps that only lead to gradients
  /// of frozen parameters are skipped (their results are left unwritten).
  /// `done(k)` follows each step k that writes results.
  void (*trainStep)(std::vector<Buffer> &params, std::vector<Buffer> &prepared,
                    std::vector<Buffer> &inputs, std::vector<Buffer> &results,
                    const std::vector<bool> &needed,
                    const StepDone &done) = nullptr;
  /// For each step of trainStep, the steps whose results it reads, and for
  /// each of trainResults the step that writes it.
  std::vector<std::vector<int>> trainStepReads;
  std::vector<int> trainResultSteps;
  /// The optimizer: `optimizerStates` tensors per trained parameter, and an
  /// update of every parameter with `trained[i]` by its gradient (one of
  /// the step's results), in place.
  int optimizerStates = 0;
  void (*optimizerUpdate)(std::vector<Buffer> &params,
                          std::vector<Buffer> &results,
                          std::vector<std::vector<Buffer>> &state,
                          const OptimizerStep &step,
                          const std::vector<bool> &trained) = nullptr;
};

/// Whether the program's kernels run on a GPU (target with cuda or opencl).
bool runsOnDevice(const ModelSpec &spec);

/// "[2, 3]".
std::string shapeText(const std::vector<int64_t> &shape);
int64_t elementCount(const std::vector<int64_t> &shape);

/// A buffer for a tensor of PyTorch shape `shape` with `batch` in front
/// (batch < 0: no batch dimension).
Buffer makeBuffer(const std::vector<int64_t> &shape, int64_t batch = -1);

/// A per-thread block of at least `floats` floats, 64-byte aligned, kept
/// from call to call (grown when a larger batch needs more).
float *arena(int64_t floats);

/// A buffer over `data` (not owned) for a tensor of PyTorch shape `shape`
/// with `batch` in front.
Buffer view(float *data, const std::vector<int64_t> &shape, int64_t batch);

/// A view of `src`'s memory with another shape (same number of elements);
/// `src` must outlive it. On a GPU it shares `src`'s device memory too.
Buffer reshape(Buffer &src, const std::vector<int64_t> &shape, int64_t batch);

/// GPU programs: the device their kernels run on (runProgram sets it from
/// ModelSpec::device).
void setDevice(const halide_device_interface_t *device);

/// `dst` = `src` (same shape), from the device when `src` is there.
void copyInto(Buffer &dst, Buffer &src);

/// A kernel's result written through a view of `dst`'s memory with another
/// shape (e.g. a pointwise convolution's (pixels, c, n)). On a GPU the
/// kernel writes `dst`'s device memory through it: when the view goes
/// away, at the end of the kernel's call, `dst` is marked as written there.
class ResultView {
public:
  ResultView(Buffer &dst, const std::vector<int64_t> &shape, int64_t batch);
  ~ResultView();
  ResultView(const ResultView &) = delete;
  ResultView &operator=(const ResultView &) = delete;
  operator halide_buffer_t *() { return view_.raw_buffer(); }

private:
  Buffer &dst_;
  Buffer view_;
};

/// Throws Error naming the layer and Halide's message when a kernel
/// returns an error code.
void checkKernel(int status, const char *layer);

/// Halide's runtime reports errors to checkKernel instead of aborting
/// (runProgram sets this up).
void catchHalideErrors();

/// A one-dimensional view of all of `b`'s elements (on a GPU, of its
/// device memory too, as reshape's).
Buffer flat(Buffer &b);

/// On a GPU: `b` was written by a kernel through a view (flat, reshape),
/// so its device memory is the current one.
void wroteOnDevice(Buffer &b);

/// Per-layer wall-clock times of the kernels that the thread which enabled
/// profiling runs (`bench`).
struct Profile {
  bool enabled = false;
  std::thread::id thread;
  void enable(bool on) {
    enabled = on;
    thread = std::this_thread::get_id();
  }
  bool active() const {
    return enabled && thread == std::this_thread::get_id();
  }
  struct Entry {
    std::string layer, op;
    double seconds = 0;
    int64_t calls = 0;
    std::vector<double> samples; // seconds of each call
    /// The median call, in seconds.
    double median() const;
    /// The fastest call, in seconds.
    double fastest() const;
  };
  std::vector<Entry> entries; // in first-call order
  void add(const char *layer, const char *op, double seconds);
};
Profile &profile();
double now();

/// Runs one kernel of layer `layer`: times it when profiling and checks its
/// status. Generated code calls every kernel through this.
template <typename Kernel, typename... Args>
void run(const char *layer, const char *op, Kernel kernel, Args &&...args) {
  if (!profile().active()) {
    checkKernel(kernel(std::forward<Args>(args)...), layer);
    return;
  }
  double start = now();
  int status = kernel(std::forward<Args>(args)...);
  profile().add(layer, op, now() - start);
  checkKernel(status, layer);
}

/// Runs spec.forward on the batch of `inputs` (the model's inputs) into
/// `outputs`, in chunks of at most spec.forwardChunk samples of about equal
/// size (samples are independent in inference). A batch that splits evenly
/// over the pool's threads (or has at least four samples per thread) runs as
/// one stream of samples per thread, each thread running the kernels alone
/// (in chunks of spec.forwardChunk / threads): a layer's input then comes
/// from the thread's own cache, and no kernel waits for another thread.
void runForward(const ModelSpec &spec, std::vector<Buffer> &params,
                std::vector<Buffer> &prepared, std::vector<Buffer> &inputs,
                std::vector<Buffer> &outputs);

/// Loads parameters by name, checking every shape; names the file and the
/// tensor for anything missing, unexpected or misshapen.
std::vector<Buffer> loadParams(const ModelSpec &spec, const std::string &path);

int runProgram(int argc, char **argv, const ModelSpec &spec);

} // namespace netc::rt
