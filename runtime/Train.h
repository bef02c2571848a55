//===- Train.h - The train command of training programs ---------*- C++ -*-===//
#pragma once

#include "Distributed.h"
#include "Program.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace netc::rt {

/// `train`'s flags, and the settings to train with: the model's train
/// section with the flags that override it applied (Commands.cpp).
struct TrainOptions {
  TrainSettings settings;
  std::string data;   // MNIST IDX or CIFAR-10 folder, or "synthetic"
  std::string save;   // checkpoint after every epoch (empty: NAME.safetensors)
  std::string resume; // a checkpoint to continue from
  std::string init;   // pretrained weights, loaded by name
  std::string log;    // metrics CSV
  int64_t maxBatches = 0;    // per epoch, for quick runs; 0: all
  double saveMinutes = 10;   // checkpoints within an epoch this often
  ParallelSettings parallel; // under mpirun, or --deterministic
};

int train(const ModelSpec &spec, const TrainOptions &options);

/// One full training step (forward, backward, optimizer update) on a fixed
/// random batch, starting from `params`, with the parameters under the
/// `freeze` prefixes fixed: for `bench`. Under mpirun, each process runs its
/// share of the batch and `parallel` says where the time went.
struct TrainingStep {
  std::function<void()> run;
  std::shared_ptr<DataParallel> parallel; // under mpirun
};
TrainingStep makeTrainingStep(const ModelSpec &spec,
                              const std::vector<Buffer> &params, int64_t batch,
                              const std::vector<std::string> &freeze = {},
                              double bucketMiB = ParallelSettings().bucketMiB);

/// One training step on given tensors, for checking gradients against other
/// frameworks: writes every result (gradients, batch statistics, losses)
/// and the updated weights.
struct StepOptions {
  TrainSettings settings; // the model's, with --lr applied
  std::string weights, input, labels, results, updated;
  /// Under mpirun or with --deterministic: the step of the whole batch,
  /// computed in shares (process 0 writes the files; the losses and scores
  /// in them are its share's).
  ParallelSettings parallel;
};

int trainStep(const ModelSpec &spec, const StepOptions &options);

} // namespace netc::rt
