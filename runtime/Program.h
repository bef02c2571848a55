//===- Program.h - The command line of a generated program ------*- C++ -*-===//
//
// A generated program describes its model (parameters, inputs, outputs) and
// provides a forward function; runProgram gives it the subcommands `info`
// and `infer`, weight loading with clear errors, and --threads.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <HalideBuffer.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace netc::rt {

/// Tensors in programs are Halide buffers whose dimensions are those of the
/// PyTorch tensor reversed: NCHW is (w, h, c, n), OIHW is (kw, kh, i, o).
using Buffer = Halide::Runtime::Buffer<float>;

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape; // PyTorch order; per sample for inputs/outputs
  /// Parameters of heads the program leaves out (training-only outputs):
  /// loaded when present, not required.
  bool unused = false;
  /// Parameters: how training initializes them ("kaiming": uniform in
  /// +-1/sqrt(fanIn); "zeros", "ones", "normal"), and whether gradient
  /// descent trains them (not running statistics).
  std::string init;
  int64_t fanIn = 1;
  bool trainable = true;
};

/// The model file's train section; command-line flags override it.
struct TrainSettings {
  std::string optimizer = "sgd"; // sgd, adam, adamw, rmsprop
  double lr = 0.01, momentum = 0, weightDecay = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, rmsAlpha = 0.99, eps = 1e-8;
  std::string schedule = "constant"; // constant, step, plateau, cosine
  std::vector<int64_t> milestones;
  int64_t stepEvery = 0;
  double gamma = 0.1;
  int64_t patience = 10;
  double minLr = 0;
  int64_t warmup = 0; // epochs of linear warm-up
  int64_t batch = 32, epochs = 10, seed = 0;
  int64_t cropSize = 0, cropPad = 0; // random_crop(size, pad)
  bool hflip = false;
  std::vector<std::string> freeze; // parameter-name prefixes
};

/// A result of the training step: "loss:OUT" (per sample), "scores:OUT",
/// "grad:PARAM", "mean:BUFFER" / "var:BUFFER" (batch statistics).
struct TrainResultSpec {
  std::string name;
  std::vector<int64_t> shape; // per sample for loss and scores
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
  void (*trainStep)(std::vector<Buffer> &params, std::vector<Buffer> &prepared,
                    std::vector<Buffer> &inputs, std::vector<Buffer> &results,
                    const std::vector<bool> &needed) = nullptr;
  /// For each step of trainStep, the steps whose results it reads, and for
  /// each of trainResults the step that writes it.
  std::vector<std::vector<int>> trainStepReads;
  std::vector<int> trainResultSteps;
  void *optimizerKernel = nullptr;
};

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
/// `src` must outlive it.
Buffer reshape(Buffer &src, const std::vector<int64_t> &shape, int64_t batch);

/// Throws Error naming the layer when a kernel returns a Halide error code.
void checkKernel(int status, const char *layer);

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
