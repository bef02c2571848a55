//===- ThreadPoolTest.cpp - The pool that runs kernels' parallel loops ----===//
//
// The pool installs itself as Halide's do_par_for handler; this test
// provides that hook itself, so it can call the handler like a kernel does.

#include "ThreadPool.h"
#include "Error.h"
#include "Program.h"

#include <HalideRuntime.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {
halide_do_par_for_t installed = nullptr;
halide_error_handler_t installedErrors = nullptr;
} // namespace

// Halide's runtime is not linked into these tests: its hooks are recorded.
extern "C" halide_do_par_for_t
halide_set_custom_do_par_for(halide_do_par_for_t handler) {
  halide_do_par_for_t previous = installed;
  installed = handler;
  return previous;
}

extern "C" halide_error_handler_t
halide_set_error_handler(halide_error_handler_t handler) {
  halide_error_handler_t previous = installedErrors;
  installedErrors = handler;
  return previous;
}

namespace {

/// A loop's record: how often each index ran, and on which threads.
struct Record {
  std::vector<std::atomic<int>> runs;
  std::atomic<int> failAt{-1};
  std::chrono::microseconds busy; // each task's time
  std::mutex mutex;
  std::set<std::thread::id> threads;
  explicit Record(int size, int busyMicroseconds = 20)
      : runs(size), busy(busyMicroseconds) {}
};

int countTask(void *, int index, uint8_t *closure) {
  auto *record = reinterpret_cast<Record *>(closure);
  record->runs[index - 100].fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(record->mutex);
    record->threads.insert(std::this_thread::get_id());
  }
  // Long enough that the other threads take some of the tasks.
  auto until = std::chrono::steady_clock::now() + record->busy;
  while (std::chrono::steady_clock::now() < until) {
  }
  return index - 100 == record->failAt.load() ? -7 : 0;
}

int parFor(Record &record) {
  return installed(nullptr, countTask, 100, int(record.runs.size()),
                   reinterpret_cast<uint8_t *>(&record));
}

TEST(ThreadPool, RunsEveryTaskOnceOnSeveralThreads) {
  netc::rt::useThreadPool(4);
  ASSERT_NE(installed, nullptr);
  // Many loops in a row, of varied sizes: a worker must never run a task of
  // a loop that has ended, nor miss one of the next.
  for (int loop = 0; loop < 2000; ++loop) {
    int size = 1 + loop % 37;
    Record record(size);
    ASSERT_EQ(parFor(record), 0);
    for (int i = 0; i < size; ++i)
      ASSERT_EQ(record.runs[i].load(), 1) << "loop " << loop << " task " << i;
  }
  Record wide(200, 100);
  ASSERT_EQ(parFor(wide), 0);
  EXPECT_GT(wide.threads.size(), 1u);
}

/// Which thread ran the first task of the worker, in a loop whose task 0
/// (on the calling thread) waits until the worker has started one.
struct Order {
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> workerFirst{-1};
  std::atomic<bool> workerStarted{false};
  std::thread::id firstTaskThread;
};

int orderTask(void *, int index, uint8_t *closure) {
  auto *order = reinterpret_cast<Order *>(closure);
  if (std::this_thread::get_id() != order->caller) {
    int none = -1;
    order->workerFirst.compare_exchange_strong(none, index);
    order->workerStarted = true;
  }
  if (index == 0) {
    order->firstTaskThread = std::this_thread::get_id();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!order->workerStarted && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  }
  return 0;
}

TEST(ThreadPool, GivesEachThreadAContiguousShare) {
  // Kernels rely on it: the first half of a loop's tasks (the top rows of
  // a layer) runs on the calling thread, the second half on the worker, so
  // the next layer's same rows find their inputs in the same cache.
  netc::rt::useThreadPool(2);
  for (int loop = 0; loop < 3; ++loop) {
    Order order;
    ASSERT_EQ(installed(nullptr, orderTask, 0, 8,
                        reinterpret_cast<uint8_t *>(&order)),
              0);
    EXPECT_EQ(order.firstTaskThread, order.caller) << "loop " << loop;
    // Not task 1, as it would be if tasks went first come, first served.
    EXPECT_EQ(order.workerFirst.load(), 4) << "loop " << loop;
  }
}

TEST(ThreadPool, ReturnsTheErrorOfAFailedTask) {
  netc::rt::useThreadPool(3);
  Record record(50);
  record.failAt = 17;
  EXPECT_EQ(parFor(record), -7);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(record.runs[i].load(), 1);
}

int nestedTask(void *, int index, uint8_t *closure) {
  auto *inner = reinterpret_cast<std::vector<Record *> *>(closure);
  return installed(nullptr, countTask, 100, int((*inner)[index]->runs.size()),
                   reinterpret_cast<uint8_t *>((*inner)[index]));
}

TEST(ThreadPool, RunsALoopInsideATaskOnItsThread) {
  netc::rt::useThreadPool(2);
  std::deque<Record> records;
  std::vector<Record *> inner;
  for (int i = 0; i < 8; ++i)
    inner.push_back(&records.emplace_back(5));
  ASSERT_EQ(
      installed(nullptr, nestedTask, 0, 8, reinterpret_cast<uint8_t *>(&inner)),
      0);
  for (Record &record : records) {
    EXPECT_EQ(record.threads.size(), 1u);
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(record.runs[i].load(), 1);
  }
}

TEST(ThreadPool, WakesSleepingWorkers) {
  netc::rt::useThreadPool(2);
  Record first(16);
  ASSERT_EQ(parFor(first), 0);
  // Past the spinning time: the worker sleeps and must be woken.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Record second(200, 100);
  ASSERT_EQ(parFor(second), 0);
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(second.runs[i].load(), 1);
  EXPECT_EQ(second.threads.size(), 2u);
}

} // namespace

// A kernel's failure names its layer and Halide's own message (a GPU
// program without a driver says so), and does not abort the program.
TEST(Kernels, FailuresCarryHalideMessage) {
  netc::rt::catchHalideErrors();
  ASSERT_NE(installedErrors, nullptr);
  installedErrors(nullptr, "Could not find cuda system libraries\n");
  try {
    netc::rt::checkKernel(-1, "c1");
    FAIL() << "checkKernel accepted an error";
  } catch (const netc::rt::Error &e) {
    EXPECT_STREQ(e.what(), "the kernel of layer 'c1' failed: Could not find "
                           "cuda system libraries");
  }
  try {
    netc::rt::checkKernel(-3, "c2");
    FAIL() << "checkKernel accepted an error";
  } catch (const netc::rt::Error &e) {
    EXPECT_STREQ(e.what(), "the kernel of layer 'c2' failed: Halide error -3");
  }
}
