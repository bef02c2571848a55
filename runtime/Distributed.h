//===- Distributed.h - Data-parallel training steps -------------*- C++ -*-===//
//
// A global batch of n samples is cut into K chunks of about n / K samples;
// each process trains on a run of whole chunks, and the chunks' results are
// combined, each weighted by its share of the batch:
//   - batch-norm batch statistics, and the per-channel gradient sums that
//     batch norm's backward pass reads, as soon as a step writes them when
//     they are synchronized (--sync-bn): the step then equals one
//     process's step on the whole batch;
//   - parameter gradients in buckets of contiguous gradients, each summed
//     over the processes (MPI_Iallreduce) as soon as the backward pass has
//     written it, while the rest of the backward pass runs.
// Alone, K is 1 and nothing is combined. --deterministic instead fixes K
// (a power of two) whatever the number of processes, runs a process's
// chunks as threads of their own, and adds the chunks' values in one fixed
// order (a pairwise tree over the chunks; across processes by exchanging
// partial sums pairwise), so that the weights after any number of steps do
// not depend on the number of processes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Comm.h"
#include "Program.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace netc::rt {

struct ParallelSettings {
  bool syncBn = false;
  bool deterministic = false; // implies syncBn
  int64_t chunks = 8;         // --deterministic: chunks per batch
  double bucketMiB = 25;      // gradients summed together
};

/// Where the time of the distributed steps went (bench --train).
struct ParallelTimes {
  int64_t steps = 0;
  double total = 0;         // in step(), seconds
  double waiting = 0;       // of it, waiting for gradient sums after the step
  double synchronizing = 0; // of it, in --sync-bn's sums within the step
  /// Gradient floats summed, and of them those whose sums had finished
  /// when the process's backward pass ended: what the overlap hid.
  double summed = 0, hidden = 0;
};

class DataParallel {
public:
  /// `trained`: the parameters whose gradients are used.
  DataParallel(const ModelSpec &spec, Comm &comm,
               const ParallelSettings &settings,
               const std::vector<bool> &trained);
  ~DataParallel();

  /// The chunks a batch is cut into (1 for one process alone).
  int64_t chunks() const { return chunks_; }
  /// This process's samples of a batch of n: [first, first + count).
  struct Share {
    int64_t first, count;
  };
  Share share(int64_t n) const;

  /// Runs the training step on this process's share of a batch of n
  /// (`inputs` as spec.trainStep takes them, for share(n).count samples).
  /// `results` (allocated for the share) then hold this process's losses
  /// and scores, and the whole batch's gradients and (with --sync-bn)
  /// batch statistics.
  void step(std::vector<Buffer> &params, std::vector<Buffer> &prepared,
            std::vector<Buffer> &inputs, std::vector<Buffer> &results,
            int64_t n, const std::vector<bool> &needed);

  /// Whether batch statistics are those of the whole batch.
  bool syncBn() const { return syncBn_; }
  const ParallelTimes &times() const { return times_; }
  void resetTimes() { times_ = ParallelTimes(); }
  /// Seconds to sum every gradient across the processes with nothing else
  /// running: what the buckets' overlap hides (bench).
  double timeGradientSum();

  /// The chunks, buckets and the combining of their values
  /// (Distributed.cpp).
  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
  int64_t chunks_ = 1;
  bool syncBn_ = false;
  ParallelTimes times_;
};

/// A hash of what every process must agree on (the model's tensors, its
/// training results, the kernels' target); compared across processes at
/// the start of training.
uint64_t modelFingerprint(const ModelSpec &spec);

} // namespace netc::rt
