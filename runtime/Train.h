//===- Train.h - The train command of training programs ---------*- C++ -*-===//
#pragma once

#include "Program.h"

#include <functional>
#include <string>
#include <vector>

namespace netc::rt {

/// `train`'s flags; negative numbers and empty strings keep the model's
/// train section (or the default).
struct TrainOptions {
  std::string data;   // MNIST IDX or CIFAR-10 folder, or "synthetic"
  std::string save;   // checkpoint written after every epoch
  std::string resume; // a checkpoint to continue from
  std::string init;   // pretrained weights, loaded by name
  std::string log;    // metrics CSV
  int64_t epochs = -1, batch = -1, seed = -1;
  double lr = -1;
  std::vector<std::string> freeze;
  int64_t maxBatches = -1; // per epoch, for quick runs
  double saveMinutes = 10; // checkpoints within an epoch this often
  int threads = 0;
};

int train(const ModelSpec &spec, const TrainOptions &options);

/// A closure that runs one full training step (forward, backward, optimizer
/// update) on a fixed random batch, starting from `params`, with the
/// parameters under the `freeze` prefixes fixed: for `bench`.
std::function<void()>
makeTrainingStep(const ModelSpec &spec, const std::vector<Buffer> &params,
                 int64_t batch, const std::vector<std::string> &freeze = {});

/// One training step on given tensors, for checking gradients against other
/// frameworks: writes every result (gradients, batch statistics, losses)
/// and the updated weights.
struct StepOptions {
  std::string weights, input, labels, results, updated;
  double lr = -1;
};

int trainStep(const ModelSpec &spec, const StepOptions &options);

} // namespace netc::rt
