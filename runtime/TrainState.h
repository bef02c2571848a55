//===- TrainState.h - Weights, optimizer state and checkpoints --*- C++ -*-===//
//
// Everything a training run carries from step to step, and its checkpoint
// files: the weights by name (PyTorch's layout), the optimizer's state as
// `optimizer.state1.NAME` (and `state2`), the position and the schedule's
// state in the safetensors metadata.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Program.h"

#include <string>
#include <vector>

namespace netc::rt {

/// What the training loop carries from step to step, all of it in
/// checkpoints.
struct State {
  std::vector<Buffer> params;
  std::vector<std::vector<Buffer>> optimizer; // per parameter (trained ones)
  int64_t epoch = 0;                          // epochs completed
  int64_t batch = 0; // batches of the next epoch already trained
  int64_t step = 0;  // optimizer steps taken
  double plateauLr = -1, best = 1e300;
  int64_t badEpochs = 0;
};

/// PyTorch's default initialization of each layer type, from the seed.
std::vector<Buffer> initialParams(const ModelSpec &spec, uint64_t seed);

/// Zeroed optimizer state for every trainable parameter: as many tensors
/// as the program's update kernel keeps (one for SGD, two for Adam, AdamW
/// and RMSprop).
void allocateOptimizer(const ModelSpec &spec, State &s);

/// Writes a checkpoint atomically.
void saveCheckpoint(const ModelSpec &spec, const TrainSettings &t,
                    const State &s, const std::string &path);

/// Weights, optimizer state and position from a checkpoint of this model;
/// the seed comes from the checkpoint too.
void loadCheckpoint(const ModelSpec &spec, TrainSettings &t, State &s,
                    const std::string &path);

/// Pretrained weights by name; reports what was loaded and what not.
void loadPretrained(const ModelSpec &spec, State &s, const std::string &path);

} // namespace netc::rt
