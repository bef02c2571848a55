//===- Batches.h - Shuffled, augmented training batches ---------*- C++ -*-===//
//
// Every random choice comes from a counter-based generator keyed by (seed,
// epoch, the sample's position in the epoch), so a resumed run sees exactly
// the batches an uninterrupted one would, and processes that share a batch
// draw what one process alone would.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Datasets.h"
#include "Program.h"

#include <cstdint>
#include <vector>

namespace netc::rt {

/// A 64-bit hash of a few words (SplitMix64 steps): the seed of every
/// random stream.
uint64_t mixSeed(uint64_t a, uint64_t b = 0, uint64_t c = 0);

/// A small generator: uniform floats and integers from a 64-bit state.
class Random {
public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next();
  float uniform(); // [0, 1)
  int64_t below(int64_t n);
  float normal();

private:
  uint64_t state_;
};

struct Augmentation {
  int64_t cropSize = 0, cropPad = 0;
  bool hflip = false;
  std::vector<float> mean, std; // per channel; empty: none
};

struct Batch {
  Buffer images; // the model's input, [n, C, H, W]
  Buffer labels; // [n], class indices as floats
  std::vector<int32_t> classes;
};

/// The order of the samples in `epoch`.
std::vector<int64_t> shuffled(int64_t count, uint64_t seed, int64_t epoch);

/// Samples order[first .. first + n) as the model's input (shape `input`),
/// each augmented with randomness keyed by (seed, epoch, its position in
/// `order`); without augmentation when `augment` is null (validation).
Batch makeBatch(const Dataset &data, const std::vector<int64_t> &order,
                int64_t first, int64_t n, const std::vector<int64_t> &input,
                const Augmentation *augment, const Augmentation &normalize,
                uint64_t seed, int64_t epoch);

/// Random images with labels that depend on them (a fixed projection), for
/// trying a program without data.
Dataset syntheticDataset(const std::vector<int64_t> &input, int64_t classes,
                         int64_t count, uint64_t seed);

} // namespace netc::rt
