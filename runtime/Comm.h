//===- Comm.h - The processes a training run is spread over -----*- C++ -*-===//
//
// Training programs talk to their peers only through this interface: one
// process alone by default, Open MPI's processes in programs built with
// `netc build --train --mpi` and started by mpirun (MpiComm.cpp, a library
// of its own so that other programs do not link MPI).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace netc::rt {

class Comm {
public:
  virtual ~Comm() = default;
  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  /// "process 2 of 4 on HOST" (empty alone).
  virtual std::string where() const { return ""; }

  /// Starts summing `count` floats over all processes, in place (in an
  /// order MPI chooses); returns a handle for finish().
  virtual int startSum(float *data, int64_t count) {
    (void)data, (void)count;
    return 0;
  }
  /// Waits for a sum started by startSum.
  virtual void finish(int handle) { (void)handle; }
  /// Whether a sum started by startSum has finished (then finish() returns
  /// at once).
  virtual bool finished(int handle) {
    (void)handle;
    return true;
  }
  /// Lets started sums move on while the caller computes.
  virtual void progress() {}
  /// Sums doubles over all processes, in place, now.
  virtual void sum(double *data, int64_t count) { (void)data, (void)count; }
  /// The largest of every process's `value`.
  virtual int64_t max(int64_t value) { return value; }
  /// Process 0's bytes, to every process.
  virtual void broadcast(void *data, int64_t bytes) { (void)data, (void)bytes; }
  /// Sends `count` floats to `partner` and receives as many from it.
  virtual void exchange(int partner, const float *send, float *receive,
                        int64_t count) {
    (void)partner, (void)send, (void)receive, (void)count;
  }
};

/// The process's peers: alone unless a program built with --mpi was
/// started by mpirun.
Comm &comm();
void setComm(std::unique_ptr<Comm> comm);

} // namespace netc::rt
