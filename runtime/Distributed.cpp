//===- Distributed.cpp - Data-parallel training steps ---------------------===//

#include "Distributed.h"

#include "Error.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

namespace netc::rt {

namespace {

bool powerOfTwo(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

/// Where chunk k of a batch of n cut into K chunks begins: the first n % K
/// chunks have one sample more.
int64_t chunkBegin(int64_t n, int64_t K, int64_t k) {
  return k * (n / K) + std::min(k, n % K);
}

/// Samples [first, first + count) of a batched buffer (the batch is the
/// last dimension), sharing its memory.
Buffer batchSlice(Buffer &b, int64_t first, int64_t count) {
  int d = b.dimensions() - 1;
  std::vector<halide_dimension_t> dims(b.raw_buffer()->dim,
                                       b.raw_buffer()->dim + b.dimensions());
  dims[d].extent = int32_t(count);
  return Buffer(b.data() + first * b.dim(d).stride(), b.dimensions(),
                dims.data());
}

void scale(float *v, int64_t count, float w) {
  for (int64_t i = 0; i < count; ++i)
    v[i] *= w;
}

} // namespace

struct DataParallel::Impl {
  const ModelSpec &spec;
  Comm &comm;
  ParallelSettings settings;
  int processes, rank;
  int64_t K, W; // chunks per batch, and per process

  std::vector<std::vector<int>> resultsOfStep; // results each step writes
  std::vector<bool> inStep; // combined as soon as written (--sync-bn)
  std::vector<bool> summed; // gradients combined after the step

  // Buckets of gradients summed while the backward pass goes on (not
  // deterministic). Gradients enter buckets in the order the backward pass
  // writes them.
  struct Bucket {
    std::vector<int> results;
    std::vector<float> data;
    int pending = 0, handle = -1;
  };
  std::vector<Bucket> buckets;
  std::vector<int> bucketOf; // per result, -1: none

  // The current step.
  std::vector<float> weights; // of this process's chunks
  ParallelTimes *times = nullptr;

  // Deterministic: this process's chunks meet at each combination.
  std::mutex mutex;
  std::condition_variable met;
  int arrived = 0;
  int64_t generation = 0;
  bool failed = false;
  std::vector<float *> slots;
  std::vector<float> exchangeBuffer;

  Impl(const ModelSpec &spec, Comm &comm, const ParallelSettings &settings)
      : spec(spec), comm(comm), settings(settings), processes(comm.size()),
        rank(comm.rank()) {}

  /// Sums the chunks' weighted values (slots[w]: this process's chunk w,
  /// already weighted) into every slot: a pairwise tree over this
  /// process's chunks, then partial sums exchanged pairwise between
  /// processes, which extends the same tree over all K chunks.
  void treeSum(int64_t count) {
    for (int64_t stride = 1; stride < W; stride *= 2)
      for (int64_t i = 0; i + stride < W; i += 2 * stride) {
        float *a = slots[i];
        const float *b = slots[i + stride];
        for (int64_t j = 0; j < count; ++j)
          a[j] = a[j] + b[j];
      }
    exchangeBuffer.resize(size_t(count));
    for (int bit = 1; bit < processes; bit *= 2) {
      comm.exchange(rank ^ bit, slots[0], exchangeBuffer.data(), count);
      float *a = slots[0];
      for (int64_t j = 0; j < count; ++j)
        a[j] = a[j] + exchangeBuffer[size_t(j)];
    }
    for (int64_t w = 1; w < W; ++w)
      std::memcpy(slots[w], slots[0], size_t(count) * sizeof(float));
  }

  /// The weighted sum over every chunk of a value each chunk computed,
  /// into each chunk's `value`; called by every chunk of this process.
  void combine(int64_t worker, float *value, int64_t count) {
    scale(value, count, weights[size_t(worker)]);
    if (!settings.deterministic) {
      // One chunk per process: MPI sums in its own order.
      double start = now();
      comm.finish(comm.startSum(value, count));
      times->synchronizing += now() - start;
      return;
    }
    std::unique_lock<std::mutex> lock(mutex);
    slots[size_t(worker)] = value;
    int64_t mine = generation;
    if (++arrived == W) {
      double start = now();
      try {
        treeSum(count);
      } catch (...) {
        failed = true;
        met.notify_all();
        throw;
      }
      times->synchronizing += now() - start;
      arrived = 0;
      ++generation;
      met.notify_all();
      return;
    }
    met.wait(lock, [&] { return generation != mine || failed; });
    if (failed)
      throw Error("another chunk of the batch failed");
  }

  /// done(k) of chunk `worker`: combines what step k wrote as needed.
  void stepDone(int64_t worker, int k, std::vector<Buffer> &results) {
    if (size_t(k) >= resultsOfStep.size())
      return;
    for (int r : resultsOfStep[size_t(k)]) {
      if (inStep[size_t(r)]) {
        combine(worker, results[size_t(r)].data(),
                int64_t(results[size_t(r)].number_of_elements()));
      } else if (bucketOf[size_t(r)] >= 0 && !settings.deterministic) {
        Bucket &bucket = buckets[size_t(bucketOf[size_t(r)])];
        if (--bucket.pending == 0)
          startBucket(bucket, results);
      }
    }
    comm.progress();
  }

  void startBucket(Bucket &bucket, std::vector<Buffer> &results) {
    float *to = bucket.data.data();
    for (int r : bucket.results) {
      const Buffer &g = results[size_t(r)];
      int64_t count = int64_t(g.number_of_elements());
      const float *from = g.data();
      for (int64_t i = 0; i < count; ++i)
        to[i] = from[i] * weights[0];
      to += count;
    }
    bucket.handle =
        comm.startSum(bucket.data.data(), int64_t(bucket.data.size()));
  }

  void finishBuckets(std::vector<Buffer> &results) {
    for (Bucket &bucket : buckets) {
      if (bucket.pending != 0) // a frozen gradient's step did not run
        startBucket(bucket, results);
      times->summed += double(bucket.data.size());
      if (comm.finished(bucket.handle))
        times->hidden += double(bucket.data.size());
    }
    for (Bucket &bucket : buckets) {
      comm.finish(bucket.handle);
      const float *from = bucket.data.data();
      for (int r : bucket.results) {
        Buffer &g = results[size_t(r)];
        std::memcpy(g.data(), from, g.number_of_elements() * sizeof(float));
        from += g.number_of_elements();
      }
    }
  }
};

DataParallel::DataParallel(const ModelSpec &spec, Comm &comm,
                           const ParallelSettings &settings,
                           const std::vector<bool> &trained)
    : impl_(std::make_unique<Impl>(spec, comm, settings)) {
  Impl &m = *impl_;
  m.settings.syncBn = settings.syncBn || settings.deterministic;
  syncBn_ = m.settings.syncBn;
  int N = m.processes;
  if (settings.deterministic) {
    // A process runs its chunks as threads.
    if (settings.chunks > 256)
      throw Error("--chunks " + std::to_string(settings.chunks) +
                  ": at most 256");
    if (!powerOfTwo(settings.chunks))
      throw Error("--chunks " + std::to_string(settings.chunks) +
                  ": --deterministic needs a power of two");
    if (!powerOfTwo(N) || settings.chunks % N != 0)
      throw Error("--deterministic: " + std::to_string(N) +
                  " processes cannot share " + std::to_string(settings.chunks) +
                  " chunks equally; start a power of two processes up to "
                  "--chunks");
    m.K = settings.chunks;
  } else {
    m.K = N;
  }
  m.W = m.K / N;
  chunks_ = m.K;
  m.slots.resize(size_t(m.W));

  using Kind = TrainResultSpec::Kind;
  size_t results = spec.trainResults.size();
  m.resultsOfStep.resize(spec.trainStepReads.size());
  m.inStep.assign(results, false);
  m.summed.assign(results, false);
  m.bucketOf.assign(results, -1);
  // Steps whose results later steps read: batch norm's statistics and the
  // gradient sums of its backward pass.
  std::vector<bool> read(spec.trainStepReads.size());
  for (const std::vector<int> &reads : spec.trainStepReads)
    for (int k : reads)
      read[size_t(k)] = true;
  std::vector<std::pair<int, int>> gradients; // (step, result)
  for (size_t r = 0; r < results; ++r) {
    const TrainResultSpec &result = spec.trainResults[r];
    int k = spec.trainResultSteps[r];
    if (k < 0)
      continue;
    m.resultsOfStep[size_t(k)].push_back(int(r));
    bool stat = result.kind == Kind::BatchMean || result.kind == Kind::BatchVar;
    bool gradient = result.kind == Kind::Gradient;
    if (m.settings.syncBn && (stat || (gradient && read[size_t(k)])))
      m.inStep[r] = true;
    else if (gradient && trained[size_t(result.param)])
      m.summed[r] = true, gradients.push_back({k, int(r)});
  }
  // Buckets in the order the backward pass writes the gradients.
  std::sort(gradients.begin(), gradients.end(),
            [](auto a, auto b) { return a.first > b.first; });
  int64_t bucketFloats =
      std::max<int64_t>(1, int64_t(settings.bucketMiB * 262144.0));
  for (auto [k, r] : gradients) {
    int64_t count = elementCount(spec.trainResults[size_t(r)].shape);
    if (m.buckets.empty() ||
        int64_t(m.buckets.back().data.size()) >= bucketFloats)
      m.buckets.emplace_back();
    Impl::Bucket &bucket = m.buckets.back();
    bucket.results.push_back(r);
    bucket.data.resize(bucket.data.size() + size_t(count));
    m.bucketOf[size_t(r)] = int(m.buckets.size() - 1);
  }
}

DataParallel::~DataParallel() = default;

DataParallel::Share DataParallel::share(int64_t n) const {
  const Impl &m = *impl_;
  int64_t first = chunkBegin(n, m.K, m.rank * m.W);
  return {first, chunkBegin(n, m.K, (m.rank + 1) * m.W) - first};
}

void DataParallel::step(std::vector<Buffer> &params,
                        std::vector<Buffer> &prepared,
                        std::vector<Buffer> &inputs,
                        std::vector<Buffer> &results, int64_t n,
                        const std::vector<bool> &needed) {
  Impl &m = *impl_;
  if (n < m.K)
    throw Error("a batch of " + std::to_string(n) + " cannot be cut into " +
                std::to_string(m.K) + " chunks");
  double start = now();
  m.times = &times_;
  m.failed = false;
  m.arrived = 0;
  Share mine = share(n);
  m.weights.clear();
  for (int64_t w = 0; w < m.W; ++w) {
    int64_t k = m.rank * m.W + w;
    int64_t count = chunkBegin(n, m.K, k + 1) - chunkBegin(n, m.K, k);
    m.weights.push_back(float(double(count) / double(n)));
  }
  for (Impl::Bucket &bucket : m.buckets)
    bucket.pending = int(bucket.results.size()), bucket.handle = -1;

  if (m.W == 1) {
    StepDone done = [&](int k) { m.stepDone(0, k, results); };
    m.spec.trainStep(params, prepared, inputs, results, needed, done);
    if (m.settings.deterministic) {
      for (size_t r = 0; r < results.size(); ++r)
        if (m.summed[r])
          m.combine(0, results[r].data(),
                    int64_t(results[r].number_of_elements()));
    } else {
      double waiting = now();
      m.finishBuckets(results);
      times_.waiting += now() - waiting;
    }
    times_.total += now() - start;
    times_.steps += 1;
    return;
  }

  // Deterministic with several chunks here: one thread per chunk, each
  // with the results of its own samples; the batched ones (losses, scores)
  // are views of the caller's.
  bool rng = m.spec.trainTakesRng;
  std::vector<std::vector<Buffer>> chunkResults(size_t(m.W));
  std::vector<std::vector<Buffer>> chunkInputs(size_t(m.W));
  for (int64_t w = 0; w < m.W; ++w) {
    int64_t k = m.rank * m.W + w;
    int64_t first = chunkBegin(n, m.K, k) - mine.first;
    int64_t count = chunkBegin(n, m.K, k + 1) - chunkBegin(n, m.K, k);
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (rng && i + 1 == inputs.size()) {
        Buffer key = inputs[i].copy();
        key.data()[2] += float(first);
        chunkInputs[size_t(w)].push_back(key);
      } else {
        chunkInputs[size_t(w)].push_back(batchSlice(inputs[i], first, count));
      }
    }
    for (size_t r = 0; r < results.size(); ++r) {
      if (m.spec.trainResults[r].batched())
        chunkResults[size_t(w)].push_back(batchSlice(results[r], first, count));
      else if (w == 0)
        chunkResults[size_t(w)].push_back(results[r]);
      else
        chunkResults[size_t(w)].push_back(results[r].copy());
    }
  }
  std::vector<std::exception_ptr> errors(size_t(m.W));
  auto work = [&](int64_t w) {
    try {
      std::vector<Buffer> &out = chunkResults[size_t(w)];
      StepDone done = [&](int k) { m.stepDone(w, k, out); };
      m.spec.trainStep(params, prepared, chunkInputs[size_t(w)], out, needed,
                       done);
      for (size_t r = 0; r < out.size(); ++r)
        if (m.summed[r])
          m.combine(w, out[r].data(), int64_t(out[r].number_of_elements()));
    } catch (...) {
      errors[size_t(w)] = std::current_exception();
      std::lock_guard<std::mutex> lock(m.mutex);
      m.failed = true;
      m.met.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int64_t w = 1; w < m.W; ++w)
    threads.emplace_back(work, w);
  work(0);
  for (std::thread &t : threads)
    t.join();
  for (std::exception_ptr &e : errors)
    if (e)
      std::rethrow_exception(e);
  times_.total += now() - start;
  times_.steps += 1;
}

double DataParallel::timeGradientSum() {
  Impl &m = *impl_;
  int64_t floats = 0;
  for (const Impl::Bucket &bucket : m.buckets)
    floats += int64_t(bucket.data.size());
  std::vector<float> all(size_t(std::max<int64_t>(floats, 1)));
  std::vector<double> times;
  for (int i = 0; i < 5; ++i) {
    double start = now();
    m.comm.finish(m.comm.startSum(all.data(), floats));
    times.push_back(now() - start);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

uint64_t modelFingerprint(const ModelSpec &spec) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto add = [&](const std::string &text) {
    for (unsigned char c : text)
      h = (h ^ c) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
  };
  add(spec.name);
  add(spec.target);
  for (const TensorSpec &p : spec.params)
    add(p.name + shapeText(p.shape));
  for (const TrainResultSpec &r : spec.trainResults)
    add(r.label() + shapeText(r.shape));
  add(std::to_string(spec.trainStepReads.size()));
  return h;
}

} // namespace netc::rt
