//===- ThreadPool.cpp - The threads that run the kernels' parallel loops --===//
//
// One loop runs at a time. The thread that calls halide_do_par_for publishes
// the loop (its fields, then a new generation number), takes tasks itself,
// waits until every task is done, then closes the loop and waits until no
// worker is inside it, so the next loop can reuse the fields. A worker that
// sees a new generation registers as active, then joins only if that loop
// is still the open one.
//
// Each thread owns a contiguous share of every loop's tasks, the same share
// from kernel to kernel: the k-th of T threads takes tasks [k*n/T,
// (k+1)*n/T) from the front, so the rows (or channels) a thread writes in
// one layer are those it reads in the next, from its own cache. A thread
// that finishes its share takes the last tasks of the others' from the back.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include <HalideRuntime.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void spinPause() { _mm_pause(); }
#else
static inline void spinPause() { std::this_thread::yield(); }
#endif

namespace netc::rt {
namespace {

/// How long an idle worker spins before it sleeps: longer than the gaps
/// between the kernels of a pass and between passes.
constexpr std::chrono::milliseconds kSpin(2);

/// Set while a thread runs tasks: a parallel loop inside a task runs on that
/// thread alone.
thread_local bool inTask = false;

/// One thread's share of the open loop: the tasks [front, back), taken by
/// its owner from the front and by the other threads from the back. Both
/// ends are one atomic word, so a task is taken exactly once.
struct alignas(64) Share {
  std::atomic<uint64_t> ends{0};

  void set(uint32_t front, uint32_t back) {
    ends.store(uint64_t(back) << 32 | front, std::memory_order_relaxed);
  }

  /// The index of a task taken from the front (or back), or -1 when the
  /// share is empty.
  int take(bool fromBack) {
    uint64_t ends = this->ends.load(std::memory_order_relaxed);
    for (;;) {
      uint32_t front = uint32_t(ends), back = uint32_t(ends >> 32);
      if (front >= back)
        return -1;
      uint64_t next = fromBack ? uint64_t(back - 1) << 32 | front
                               : uint64_t(back) << 32 | (front + 1);
      if (this->ends.compare_exchange_weak(ends, next,
                                           std::memory_order_relaxed))
        return int(fromBack ? back - 1 : front);
    }
  }
};

class Pool {
public:
  explicit Pool(int workers) : shares_(workers + 1) {
    for (int i = 0; i < workers; ++i)
      workers_.emplace_back([this, i] { work(i + 1); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(sleep_);
      stop_.store(true);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (std::thread &worker : workers_)
      worker.join();
  }

  /// Runs task(context, min + i, closure) for i in [0, size); returns zero,
  /// or the result of a task that failed.
  int run(void *context, halide_task_t task, int min, int size,
          uint8_t *closure) {
    if (inTask || workers_.empty() || size <= 1)
      return runSerially(context, task, min, size, closure);
    std::lock_guard<std::mutex> oneLoop(submit_);
    task_ = task;
    context_ = context;
    closure_ = closure;
    min_ = min;
    size_ = size;
    error_.store(0, std::memory_order_relaxed);
    int threads = int(shares_.size());
    for (int k = 0; k < threads; ++k)
      shares_[k].set(uint32_t(int64_t(size) * k / threads),
                     uint32_t(int64_t(size) * (k + 1) / threads));
    done_.store(0, std::memory_order_relaxed);
    open_.store(true);
    generation_.fetch_add(1);
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(sleep_);
      wake_.notify_all();
    }
    share(0);
    waitUntil([&] { return done_.load(std::memory_order_acquire) == size; });
    open_.store(false);
    waitUntil([&] { return active_.load() == 0; });
    return error_.load();
  }

private:
  static int runSerially(void *context, halide_task_t task, int min, int size,
                         uint8_t *closure) {
    for (int i = 0; i < size; ++i)
      if (int result = task(context, min + i, closure))
        return result;
    return 0;
  }

  /// Spins until `done`; yields the core now and then, in case a worker
  /// that holds a task waits for it.
  template <typename Done> static void waitUntil(Done done) {
    for (unsigned spins = 1; !done(); ++spins) {
      spinPause();
      if (spins % 1024 == 0)
        std::this_thread::yield();
    }
  }

  /// Takes the tasks of thread `self`'s share of the open loop, then those
  /// left in the other threads' shares, until none is left.
  void share(int self) {
    inTask = true;
    int threads = int(shares_.size());
    for (int k = 0; k < threads; ++k) {
      Share &share = shares_[(self + k) % threads];
      for (int i; (i = share.take(k > 0)) >= 0;) {
        if (int result = task_(context_, min_ + i, closure_)) {
          int none = 0;
          error_.compare_exchange_strong(none, result);
        }
        done_.fetch_add(1, std::memory_order_release);
      }
    }
    inTask = false;
  }

  void work(int self) {
    // Generation 0 is the pool's before any loop: a worker that starts
    // after the first loop was published still joins it.
    uint64_t seen = 0;
    for (;;) {
      uint64_t generation = awaitNewGeneration(seen);
      if (stop_.load())
        return;
      seen = generation;
      active_.fetch_add(1);
      // The loop may have closed (and the next one not yet opened) since
      // the generation changed: join only the loop that is still open.
      if (generation_.load() == generation && open_.load())
        share(self);
      active_.fetch_sub(1);
    }
  }

  /// Spins for kSpin, then sleeps, until the generation is not `seen`.
  uint64_t awaitNewGeneration(uint64_t seen) {
    auto start = std::chrono::steady_clock::now();
    for (unsigned spins = 1;; ++spins) {
      uint64_t generation = generation_.load(std::memory_order_acquire);
      if (generation != seen || stop_.load())
        return generation;
      spinPause();
      if (spins % 256 == 0 && std::chrono::steady_clock::now() - start > kSpin)
        break;
    }
    // Counted as a sleeper before the last look at the generation: a loop
    // published after that look sees the sleeper and wakes it.
    std::unique_lock<std::mutex> lock(sleep_);
    sleepers_.fetch_add(1);
    uint64_t generation;
    // A worker that starts after the pool began to stop has seen the last
    // generation: it must still notice the stop.
    while ((generation = generation_.load()) == seen && !stop_.load())
      wake_.wait(lock);
    sleepers_.fetch_sub(1);
    return generation;
  }

public:
  int threads() const { return int(workers_.size()) + 1; }

private:
  std::vector<Share> shares_; // one per thread; the calling thread's first
  std::vector<std::thread> workers_;
  std::mutex submit_;
  // The open loop, written only while no worker is active in it.
  halide_task_t task_ = nullptr;
  void *context_ = nullptr;
  uint8_t *closure_ = nullptr;
  int min_ = 0, size_ = 0;
  std::atomic<int> done_{0}, error_{0}, active_{0};
  std::atomic<bool> open_{false}, stop_{false};
  std::atomic<uint64_t> generation_{0};
  // Sleeping workers.
  std::mutex sleep_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
};

std::unique_ptr<Pool> pool;

int doParFor(void *context, halide_task_t task, int min, int size,
             uint8_t *closure) {
  return pool->run(context, task, min, size, closure);
}

} // namespace

void useThreadPool(int threads) {
  pool = std::make_unique<Pool>(threads > 1 ? threads - 1 : 0);
  halide_set_custom_do_par_for(doParFor);
}

int poolThreads() { return pool ? pool->threads() : 1; }

void parallelFor(int n, const std::function<void(int)> &body) {
  struct Loop {
    const std::function<void(int)> &body;
    std::mutex mutex;
    std::exception_ptr failure;
  } loop{body, {}, nullptr};
  halide_task_t task = [](void *, int i, uint8_t *closure) {
    auto *loop = reinterpret_cast<Loop *>(closure);
    try {
      loop->body(i);
      return 0;
    } catch (...) {
      std::lock_guard<std::mutex> lock(loop->mutex);
      if (!loop->failure)
        loop->failure = std::current_exception();
      return -1;
    }
  };
  auto *closure = reinterpret_cast<uint8_t *>(&loop);
  if (pool)
    pool->run(nullptr, task, 0, n, closure);
  else
    for (int i = 0; i < n && !loop.failure; ++i)
      task(nullptr, i, closure);
  if (loop.failure)
    std::rethrow_exception(loop.failure);
}

} // namespace netc::rt
